"""Classification: the rulebook first, a model for what no rule resolves, review when unsure."""

from __future__ import annotations

import pandas as pd

from leadrouter.classify.model import ModelChain
from leadrouter.classify.rules import Rulebook, classify_by_rules
from leadrouter.schema import MODEL_COLUMNS, TIER_PRIORITY

NO_MODEL = "no rule resolved the lead and no model is configured"  # the reason when there is no chain


def classify_leads(leads: pd.DataFrame, rulebook: Rulebook, chain: ModelChain | None) -> pd.DataFrame:
    """Rules on the whole batch; the model chain on what they left open. A lead the model is unsure of (or
    that trips a guard) keeps tier <NA> and gets `review_reason` and `suggested_tier` for the review queue."""
    out = classify_by_rules(leads, rulebook)
    for name, dtype in MODEL_COLUMNS.items():
        out[name] = pd.Series(pd.NA, index=out.index, dtype=dtype)
    open_ = out.index[out["tier"].isna()]
    if not len(open_):
        return out
    if chain is None:
        out.loc[open_, "review_reason"] = NO_MODEL
        return out
    answers = chain.classify(out.loc[open_])
    decided = answers["review_reason"].isna() & answers["tier"].notna()
    routed, queued = answers.index[decided], answers.index[~decided]
    out.loc[routed, ["tier", "category"]] = answers.loc[routed, ["tier", "category"]].to_numpy()
    out.loc[routed, "priority"] = answers.loc[routed, "tier"].map(TIER_PRIORITY).astype("Int64")
    out.loc[routed, "decided_by"] = "model:" + answers.loc[routed, "model"]
    out.loc[open_, "confidence"] = answers["confidence"]
    out.loc[open_, "urgency"] = answers["urgency"]
    out.loc[open_, "rationale"] = answers["rationale"]
    out.loc[open_, "brief"] = answers["brief"]
    out.loc[open_, "model"] = answers["model"]
    out.loc[open_, "model_input_tokens"] = answers["input_tokens"]
    out.loc[open_, "model_output_tokens"] = answers["output_tokens"]
    out.loc[open_, "model_cost_usd"] = answers["cost_usd"]
    out.loc[open_, "model_outcome"] = answers["outcome"]
    out.loc[open_, "model_error"] = answers["error"]
    out.loc[open_, "model_cache_write_tokens"] = answers["cache_write_tokens"]
    out.loc[open_, "model_cache_read_tokens"] = answers["cache_read_tokens"]
    out.loc[queued, "review_reason"] = answers.loc[queued, "review_reason"].fillna("no model answered")
    out.loc[queued, "suggested_tier"] = answers.loc[queued, "tier"]
    return out
