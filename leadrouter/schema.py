"""The canonical lead frame every stage works on, and the tiers and categories a lead is routed by."""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd


class Tier(StrEnum):
    VIP = "VIP"  # senior buyer at a fit account: senior AE, 5-minute SLA
    STANDARD = "Standard"  # qualified fit: tier-1 AE, 30-minute SLA
    NURTURE = "Nurture"  # not ready or not fit yet: automated sequence, no SLA
    OTHER = "Other"  # not sales: routed out of the pipeline


class Category(StrEnum):
    SALES = "sales"
    SUPPORT = "support"
    PARTNERSHIP = "partnership"
    PRESS = "press"
    JOBS = "jobs"
    SPAM = "spam"
    RESEARCH = "research"


class Status(StrEnum):
    """Where a lead's decision stands in the ledger."""

    RECORDED = "recorded"  # decided and committed, owner not yet written
    WRITING = "writing"  # claimed by a router that is writing the owner now
    WRITTEN = "written"
    WRITE_FAILED = "write_failed"
    REVIEW = "review"
    QUARANTINED = "quarantined"
    SHADOW = "shadow"  # decided in shadow mode: nothing written to the CRM


TIERS = [t.value for t in Tier]
# the priority of a lead decided by a model or a reviewer (a rule sets its own)
TIER_PRIORITY = {Tier.VIP.value: 1, Tier.STANDARD.value: 2, Tier.NURTURE.value: 4, Tier.OTHER.value: 5}
CATEGORIES = [c.value for c in Category]

UTC_TS = "datetime64[us, UTC]"
# the longest stamp a CRM writes ("2026-12-05T07:14:47.123456789+05:30" and spelled-out forms) is well under
# this; pandas takes ~20 CPU seconds to refuse a 1 MB string, so longer text is unreadable without parsing it
MAX_STAMP_CHARS = 100

# What every CRM adapter returns from fetch_new_leads, in this order.
LEAD_COLUMNS: dict[str, str] = {
    "lead_id": "string",
    "first_name": "string",
    "last_name": "string",
    "email": "string",
    "phone": "string",
    "title": "string",
    "company": "string",
    "website": "string",
    "country": "string",
    "state": "string",
    "city": "string",
    "industry": "string",
    "employees": "Int64",
    "annual_revenue": "Float64",
    "lead_source": "string",
    "message": "string",
    "crm_owner_id": "string",  # the owner in the CRM when pulled (often a default queue)
    "created_at": UTC_TS,
    "modified_at": UTC_TS,
}

# Added by the stages after pull.
ENRICHED_COLUMNS: dict[str, str] = {
    "email_domain": "string",
    "is_free_mail": "boolean",
    "region": "string",
    "territory": "string",
    "timezone": "string",
    "seniority": "string",  # C-level, VP, Director, Head, Manager, Individual contributor, Student
    "language": "string",  # ISO 639-1, from the message, title and company, else the country's main language
    "language_confidence": "Float64",  # the detector's probability (<NA>: the country's language, or unknown)
    "account_id": "string",  # the matched account
    "match_method": "string",  # domain | name
    "match_score": "Float64",
    "account_owner_id": "string",  # the matched account's owner, when active in the CRM
    "enrichment_failed": "boolean",
}
CLASSIFIED_COLUMNS: dict[str, str] = {
    "tier": "string",
    "category": "string",
    "priority": "Int64",
    "decided_by": "string",
    "confidence": "Float64",
    "pool": "string",
    "rule_owner": "string",  # the owner a rule names, if it names one
}
# What the model layer adds to leads it saw (leadrouter.classify.classify_leads).
MODEL_COLUMNS: dict[str, str] = {
    "urgency": "string",
    "rationale": "string",
    "brief": "string",
    "model": "string",
    "model_input_tokens": "Int64",
    "model_output_tokens": "Int64",
    "model_cost_usd": "Float64",
    # what became of the first model's request (answered, cached, truncated, refused, malformed, unavailable,
    # deadline, stopped: spend limit reached / authentication failed, or its stop reason named), and why it gave no answer; prompt-cache tokens (Claude only)
    "model_outcome": "string",
    "model_error": "string",
    "model_cache_write_tokens": "Int64",
    "model_cache_read_tokens": "Int64",
    "review_reason": "string",  # why the lead waits for a person (<NA>: it routes)
    "suggested_tier": "string",  # the model's (guarded) tier for the reviewer
}
# What the conversion model adds to every lead it scores (leadrouter.classify.conversion.routing), whatever
# decided its tier: its own tier from the score's cut-offs, the score, the expected value and why.
SCORE_COLUMNS: dict[str, str] = {
    "score": "Float64",  # P(an opportunity within 90 days)
    "expected_value": "Float64",  # score times the typical won amount of the lead's size segment
    "score_tier": "string",  # the tier the score's cut-offs give (rules and non-sales categories still win)
    "score_reasons": "string",  # the top reasons, in words ("; "-joined)
}
# the lead fields a model reads; all of them are data from the lead, never instructions
MODEL_INPUT_COLUMNS = [
    "first_name", "last_name", "title", "seniority", "company", "industry", "employees", "country",
    "region", "lead_source", "is_free_mail", "email_domain", "message",
]  # fmt: skip


def column(frame: pd.DataFrame, name: str, dtype: str = "string") -> pd.Series:
    """frame[name] as dtype, or an all-null column when the frame has none (stages tolerate thin frames)."""
    if name in frame:
        return frame[name].astype(dtype)
    return pd.Series(pd.NA, index=frame.index, dtype=dtype)


SIZE_BINS = [float("-inf"), 10, 49, 199, 999, float("inf")]  # company size by employees, right-inclusive
SIZE_NAMES = ["1-10", "11-49", "50-199", "200-999", "1000+"]


def segments(leads: pd.DataFrame) -> pd.Series:
    """Each lead's size segment (by employees): the conversion model's typical won amounts and the fact table's
    size_band; "unknown" where employees is missing."""
    employees = pd.to_numeric(column(leads, "employees", "object"), errors="coerce").astype(float)
    return pd.cut(employees, SIZE_BINS, labels=SIZE_NAMES).astype("string").fillna("unknown")


def empty_leads() -> pd.DataFrame:
    """A lead frame with no rows and the canonical dtypes."""
    return conform(pd.DataFrame(columns=list(LEAD_COLUMNS)))


# just inside int64: a CRM's absurd count (2**63 - 1 read back as a float) still reaches validation's range check
INT64_LIMIT = 9.2e18


def whole_numbers(values: pd.Series) -> pd.Series:
    """values as Int64. One a CRM sent beyond int64 (or with a fraction) must not fail the whole pull: it is
    clipped and rounded, and validation quarantines it by its range."""
    try:
        return values.astype("Int64")
    except (TypeError, ValueError, OverflowError):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        return numbers.clip(-INT64_LIMIT, INT64_LIMIT).round().astype("Int64")


def stamp_text(values: pd.Series) -> pd.Series:
    """values with text too long to be a timestamp blanked, so the parser never reads it (it stays unreadable)."""
    if not pd.api.types.is_object_dtype(values) and not pd.api.types.is_string_dtype(values):
        return values
    too_long = values.astype("string").str.len().gt(MAX_STAMP_CHARS).fillna(False).astype(bool)
    return values.mask(too_long) if too_long.any() else values


def utc_stamps(values: pd.Series) -> pd.Series:
    """Stamps (text, or dates already read) as UTC_TS, NaT where none can be read. ISO 8601 text is parsed at
    once; the rest value by value, as pandas' "mixed" format reads any (it gives ISO 8601 text the same instant,
    one value at a time: 33 ms per 20,000 CRM stamps, against 2)."""
    is_text = np.array([type(v) is str for v in values.to_numpy(dtype=object)], dtype=bool)
    text = values.where(is_text)  # a number is no ISO 8601 text
    stamps = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601").astype(UTC_TS)
    rest = values.notna() & stamps.isna()
    if rest.any():
        stamps[rest] = pd.to_datetime(
            stamp_text(values[rest]), utc=True, errors="coerce", format="mixed"
        ).astype(UTC_TS)
    return stamps


def conform(frame: pd.DataFrame, columns: dict[str, str] = LEAD_COLUMNS) -> pd.DataFrame:
    """Return frame with exactly `columns` (missing ones added as nulls) cast to their dtypes."""
    out = frame.reindex(columns=list(columns))
    for name, dtype in columns.items():
        if dtype == UTC_TS:
            out[name] = utc_stamps(out[name])
        elif dtype == "Int64":
            out[name] = whole_numbers(out[name])
        elif dtype == "Float64":  # a CRM's text in a number field ("lots") is no number: null, not a crash
            out[name] = pd.to_numeric(out[name], errors="coerce").astype(dtype)
        else:
            out[name] = out[name].astype(dtype)
    return out.reset_index(drop=True)


# The outcome loop's contract, shared by its logic (leadrouter.outcomes) and its SQL (leadrouter.store.outcomes).
OUTCOME_KEYS = ["source", "lead_id"]
# decisions that routed a lead or put it before a person; quarantined and shadow ones routed nothing
COUNTED = [
    s.value for s in (Status.RECORDED, Status.WRITING, Status.WRITTEN, Status.WRITE_FAILED, Status.REVIEW)
]
OUTCOME_FIELDS = [
    "deal_id",
    "stage",
    "is_closed",
    "is_won",
    "amount",
    "close_date",
    "currency",  # ISO 4217 (null: the CRM has one currency)
    "deal_created_at",  # the CRM's creation stamp of the deal (UTC)
]  # the CRM protocol's deal
# what the per-lead outcome join reads from each of the store's tables
OUTCOME_INPUTS = {
    "decisions": [*OUTCOME_KEYS, "status", "tier", "decided_by", "owner_id", "lead_created_at", "decided_at",
                  "first_touch_at"],
    "outcomes": [*OUTCOME_KEYS, "deal_id", "is_closed", "is_won", "amount", "currency", "close_date",
                 "first_seen_at"],
    "events": [*OUTCOME_KEYS, "kind", "owner_id", "at"],
    "review": OUTCOME_KEYS,
}  # fmt: skip
