"""The model layer: one interface for every model, and the chain that decides what rules left open.

A model sees only leads no rule resolved. It answers tier, category, urgency, confidence, a short rationale
and a two-sentence brief for the rep; it never names an owner (owners come from the roster). The chain asks
each model in turn for the leads the previous one could not answer (down, timed out, malformed), checks the
answers with the guards, and sends what is still unsure to the review queue. The batch never waits on a model
past its deadline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal, Protocol

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from leadrouter.classify.guards import apply_guards
from leadrouter.schema import MODEL_INPUT_COLUMNS, Category, Tier

Urgency = Literal["high", "normal", "low"]
# stops no retry and no other lead gets past (the run summary says each once, with its fix; kept here, not with
# the Claude adapter, so the summary reads them without loading the SDK)
SPEND_STOPPED, AUTH_STOPPED = "stopped: spend limit reached", "stopped: authentication failed"


class Answer(BaseModel):
    """What a model must return for one lead. Anything else (an owner, a tier outside the set) is malformed."""

    model_config = ConfigDict(extra="forbid")

    tier: Tier
    category: Category
    urgency: Urgency
    confidence: float = Field(ge=0, le=1)
    rationale: str = Field(max_length=400)
    brief: str = Field(max_length=600)


ANSWER_SCHEMA = Answer.model_json_schema()

# one row per lead, on the leads' index; tier is <NA> where the model gave no usable answer (error says why)
ANSWER_COLUMNS: dict[str, str] = {
    "tier": "string",
    "category": "string",
    "urgency": "string",
    "confidence": "Float64",
    "rationale": "string",
    "brief": "string",
    "model": "string",
    "input_tokens": "Int64",
    "output_tokens": "Int64",
    "cost_usd": "Float64",
    "error": "string",
    # what became of the request (answered, cached, truncated, refused, malformed, unavailable, deadline, or the
    # stop reason named); prompt-cache tokens, part of input_tokens (Claude only)
    "outcome": "string",
    "cache_write_tokens": "Int64",
    "cache_read_tokens": "Int64",
}

# what a lead's model calls cost, summed over every model asked
BILLED = ["input_tokens", "output_tokens", "cost_usd", "cache_write_tokens", "cache_read_tokens"]
# the outcome of a model that reports none (the local model)
ANSWERED, UNANSWERED = "answered", "unanswered"

MAX_MESSAGE_CHARS = 4000  # a model reads the start of a pasted essay, never a megabyte


class Model(Protocol):
    name: str

    def classify(self, leads: pd.DataFrame, deadline_s: float | None = None) -> pd.DataFrame:
        """ANSWER_COLUMNS for every lead, on leads.index. Must not raise for one bad lead or a slow service:
        rows it could not answer (within deadline_s) come back with tier <NA> and error set."""
        ...


def empty_answers(index: pd.Index, model: str, error: str | None = None) -> pd.DataFrame:
    """Answers frame with no answer on any row (error set when given)."""
    out = pd.DataFrame({c: pd.Series(pd.NA, index=index, dtype=d) for c, d in ANSWER_COLUMNS.items()})
    out["model"] = model
    if error:
        out["error"] = error
    return out


def lead_documents(leads: pd.DataFrame) -> pd.Series:
    """Each lead as a JSON document of its model input fields: the exact text a model is given, and the key
    of the answer cache (identical leads are asked once)."""
    fields = leads.reindex(columns=MODEL_INPUT_COLUMNS).astype(object)
    fields = fields.where(fields.notna(), None)
    fields["message"] = fields["message"].map(lambda m: m[:MAX_MESSAGE_CHARS] if isinstance(m, str) else m)
    return pd.Series(
        [json.dumps(row, ensure_ascii=False, default=str) for row in fields.to_dict(orient="records")],
        index=leads.index,
        dtype=object,
    )


class ModelChain:
    """Models in order of preference (Claude, then the local model); the first usable answer counts."""

    def __init__(self, models: Sequence[Model], threshold: float, deadline_s: float | None = None) -> None:
        self.models = list(models)
        self.threshold = threshold
        self.deadline_s = deadline_s

    def classify(self, leads: pd.DataFrame, ceiling: bool = True) -> pd.DataFrame:
        """ANSWER_COLUMNS plus `review_reason` (<NA> when the answer may route the lead). ceiling: check the
        answers' tiers against what the lead's facts allow (off when the tier comes from a conversion score)."""
        answers = empty_answers(leads.index, "none", "no model is configured")
        open_ = pd.Series(True, index=leads.index)
        for model in self.models:
            if not open_.any():
                break
            got = model.classify(leads[open_], self.deadline_s)
            answered = got["tier"].notna()
            asked, ok = got.index, got.index[answered]
            earlier = answers.loc[asked, ["outcome", "error", *BILLED]].copy()
            answers.loc[ok] = got[answered]
            # the first model's outcome is the lead's (a refusal stays "refused" when the local model answers),
            # with its reason; the last failure's reason when none answered
            own = got["outcome"].fillna(answered.map({True: ANSWERED, False: UNANSWERED}).astype("string"))
            answers.loc[asked, "outcome"] = earlier["outcome"].fillna(own)
            reason = earlier["error"].where(earlier["outcome"].notna())
            answers.loc[asked, "error"] = reason.where(answered, got["error"])
            # a malformed or truncated answer was still billed: its cost stays on the lead whoever answers next
            for column in BILLED:  # unknown (<NA>) only when no model asked knows it
                both = pd.concat([got[column], earlier[column]], axis=1)
                answers.loc[asked, column] = both.sum(axis=1, min_count=1)
            open_.loc[ok] = False
        guarded = apply_guards(leads, answers, ceiling)
        unsure = guarded["tier"].notna() & (guarded["confidence"] < self.threshold)
        reason = guarded["review_reason"].astype("string")
        reason = reason.mask(unsure & reason.isna(), f"confidence below {self.threshold:g}")
        failed = "no model answered: " + guarded["error"].fillna("no answer")
        reason = reason.mask(guarded["tier"].isna() & reason.isna(), failed)
        return guarded.assign(review_reason=reason)
