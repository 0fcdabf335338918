"""Plausible values for the configured custom fields (config/fields.yaml) on sandbox leads, one typed column per
field, so that `make run` shows them pulled, routed and stored end to end. A field known at arrival is filled
when the lead comes in; one known later (a rep's status, tags) when a rep first works the lead."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from leadrouter.fields import CustomField, FieldType
from leadrouter.schema import UTC_TS

P_BLANK = 0.1  # a share of leads leave an optional field empty, as real forms do
TEXT = np.array(
    [
        "Asked for a call back next week",
        "Comparing us with two other vendors",
        "Referred by a partner",
        "Wants a quote for the whole team",
        "Evaluating for next quarter",
        "Budget approved",
    ],
    dtype=object,
)
CATEGORIES = ["Low", "Medium", "High"]  # for a category that lists no values of its own
DATE_SPAN_DAYS = 180  # a date field (a last visit, a renewal) falls in the half year before the lead arrives


def custom_values(
    rng: np.random.Generator, fields: Sequence[CustomField], created_at: pd.Series
) -> pd.DataFrame:
    """A column of `field.dtype` per field, a value per lead (created_at's index), some left empty."""
    out = pd.DataFrame(index=created_at.index)
    for field in fields:
        out[field.name] = _blank_some(rng, _values(rng, field, created_at))
    return out


def _values(rng: np.random.Generator, field: CustomField, created_at: pd.Series) -> pd.Series:
    n, index = len(created_at), created_at.index
    if field.type == FieldType.NUMBER:  # counts and amounts: positive, skewed, whole
        return pd.Series(np.round(rng.lognormal(4.0, 1.0, n)), index=index, dtype="Float64")
    if field.type == FieldType.BOOLEAN:
        return pd.Series(rng.random(n) < 0.4, index=index, dtype="boolean")
    if field.type == FieldType.DATE:
        before = pd.to_timedelta(rng.integers(0, DATE_SPAN_DAYS * 86_400, n), unit="s").to_numpy()
        return (pd.to_datetime(created_at, utc=True) - before).dt.floor("s").astype(UTC_TS)
    words = np.array(field.values or CATEGORIES, dtype=object) if field.type == FieldType.CATEGORY else TEXT
    return pd.Series(rng.choice(words, n), index=index, dtype="string")


def _blank_some(rng: np.random.Generator, values: pd.Series) -> pd.Series:
    return values.mask(rng.random(len(values)) < P_BLANK)
