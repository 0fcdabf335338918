"""Classification: the rulebook first, a model for what no rule resolves, review when unsure."""

from __future__ import annotations

import pandas as pd

from leadrouter.classify.conversion.routing import Scorer, empty_scores, tiers_by_score
from leadrouter.classify.model import ModelChain
from leadrouter.classify.rules import Rulebook, classify_by_rules
from leadrouter.schema import MODEL_COLUMNS, SCORE_COLUMNS, TIER_PRIORITY, Category

NO_MODEL = "no rule resolved the lead and no model is configured"  # the reason when there is no chain


def classify_leads(
    leads: pd.DataFrame, rulebook: Rulebook, chain: ModelChain | None, scorer: Scorer | None = None
) -> pd.DataFrame:
    """Rules on the whole batch; the model chain on what they left open. A lead the model is unsure of (or
    that trips a guard) keeps tier <NA> and gets `review_reason` and `suggested_tier` for the review queue.

    scorer: the conversion model scores every lead (SCORE_COLUMNS) and gives the tier of each sales lead no
    rule decided (decided_by 'model:conversion-1:…'); rules still win where they fire, and the chain still gives
    the category. Its tier ceiling is not applied: the chain's tier is not used, and the score is counted
    from the company's outcomes, never obeyed (the injection guard still sends such a lead to review)."""
    out = classify_by_rules(leads, rulebook)
    for name, dtype in MODEL_COLUMNS.items():
        out[name] = pd.Series(pd.NA, index=out.index, dtype=dtype)
    scores = scorer.score(out) if scorer is not None else empty_scores(out.index)
    for name in SCORE_COLUMNS:
        out[name] = scores[name]
    open_ = out.index[out["tier"].isna()]
    if not len(open_):
        return out
    if chain is None:
        out.loc[open_, "review_reason"] = NO_MODEL
        out.loc[open_, "suggested_tier"] = out.loc[open_, "score_tier"]
        return out
    if scorer is None:
        answers = chain.classify(out.loc[open_])
        by_score = pd.Series(False, index=answers.index)
    else:
        answers = chain.classify(out.loc[open_], ceiling=False)
        by_score = (answers["category"] == Category.SALES.value).fillna(False)
        answers = tiers_by_score(answers, out.loc[open_, "score_tier"])
    decided = answers["review_reason"].isna() & answers["tier"].notna()
    routed, queued = answers.index[decided], answers.index[~decided]
    out.loc[routed, ["tier", "category"]] = answers.loc[routed, ["tier", "category"]].to_numpy()
    out.loc[routed, "priority"] = answers.loc[routed, "tier"].map(TIER_PRIORITY).astype("Int64")
    decider = ("model:" + answers["model"]).mask(by_score, scorer.decided_by if scorer else "")
    out.loc[routed, "decided_by"] = decider[routed]
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
