"""The conversion model's inputs: every field known when a lead arrives (leadrouter.fields.model_input_columns,
custom fields included), as a dense typed frame for the gradient-boosted trees, and the free text for the
sparse encoder. Fields known only later never appear here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadrouter.fields import FieldType, LeadFields, model_input_columns
from leadrouter.schema import column

TEXT_COLUMNS = ("message", "title")  # read as words by the sparse encoder (title also as a category)
# never model inputs: a person's name says nothing about buying, and ranking by it would be unfair
EXCLUDED = frozenset({"first_name", "last_name", "message"})
NUMERIC_COLUMNS = frozenset({"employees"})


@dataclass(frozen=True)
class Inputs:
    """Which columns the model reads and how: numeric (floats), categorical (text codes), text (words)."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def dense(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def arrival_inputs(fields: LeadFields, leave_out: frozenset[str] = frozenset()) -> Inputs:
    """The arrival-known columns as model inputs (custom fields by their type), less leave_out."""
    numeric, categorical = ["hour", "weekday"], []
    for name in model_input_columns(fields):
        if name in EXCLUDED or name in leave_out:
            continue
        if name in NUMERIC_COLUMNS:
            numeric.append(name)
        elif name in fields.names:
            kind = fields.field(name).type
            target = categorical if kind in (FieldType.TEXT, FieldType.CATEGORY) else numeric
            target.append(name)
        else:
            categorical.append(name)
    return Inputs(tuple(c for c in numeric if c not in leave_out), tuple(categorical))


def dense_frame(leads: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    """Numeric inputs as float64 (NaN: unknown; dates as days since the lead arrived, booleans as 0/1) and
    categorical ones as object text (NaN: unknown), one row per lead."""
    created = pd.to_datetime(column(leads, "created_at", "object"), utc=True, errors="coerce")
    out: dict[str, pd.Series] = {
        "hour": created.dt.hour.astype("float64"),
        "weekday": created.dt.dayofweek.astype("float64"),
    }
    for name in inputs.numeric:
        if name in out:
            continue
        values = column(leads, name, "object")
        if isinstance(leads[name].dtype if name in leads else None, pd.DatetimeTZDtype):
            out[name] = (leads[name] - created).dt.total_seconds() / 86_400
        else:
            out[name] = pd.to_numeric(values.astype("object"), errors="coerce").astype("float64")
    for name in inputs.categorical:
        text = (
            column(leads, name).astype("string[pyarrow]").str.strip().str.lower()
        )  # Arrow: the fast kernels
        out[name] = text.astype(object).where(text.notna(), np.nan)
    return pd.DataFrame(out, index=leads.index)[list(inputs.dense)]


def text_column(leads: pd.DataFrame) -> pd.Series:
    """The words the sparse encoder reads: title and message, cut to a bounded length."""
    title = column(leads, "title").fillna("").str.slice(0, 200)
    message = column(leads, "message").fillna("").str.slice(0, 4000)
    return (title + " | " + message).astype(object)


def usable(inputs: Inputs, dense: pd.DataFrame) -> Inputs:
    """The inputs with at least two distinct known values in the history (an empty or constant column teaches
    nothing, and the trees cannot bin it)."""
    varied = {name for name in inputs.dense if dense[name].nunique(dropna=True) >= 2}
    return Inputs(
        tuple(c for c in inputs.numeric if c in varied), tuple(c for c in inputs.categorical if c in varied)
    )
