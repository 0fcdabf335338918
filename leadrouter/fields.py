"""Lead fields from configuration (config/fields.yaml): the custom fields a CRM or an export brings in, typed,
and the lead fields every lead must have. Loaded like the rulebook: every problem names the file and line."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadrouter.config import Settings, load_yaml_model
from leadrouter.schema import (
    CLASSIFIED_COLUMNS,
    ENRICHED_COLUMNS,
    LEAD_COLUMNS,
    MODEL_COLUMNS,
    MODEL_INPUT_COLUMNS,
    UTC_TS,
    conform,
    utc_stamps,
)


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    CATEGORY = "category"


DTYPES = {
    FieldType.TEXT: "string",
    FieldType.NUMBER: "Float64",
    FieldType.BOOLEAN: "boolean",
    FieldType.DATE: UTC_TS,
    FieldType.CATEGORY: "string",
}
# how CRMs and spreadsheets write a checkbox; anything else is unreadable, never guessed
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0", "on", "x", "checked"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0", "off", "unchecked"})
# columns a custom field may not shadow: the canonical frame's, and what the stages add
# and the outcome tables' own dimensions (a custom field is one more)
TAKEN = frozenset(
    {*LEAD_COLUMNS, *ENRICHED_COLUMNS, *CLASSIFIED_COLUMNS, *MODEL_COLUMNS, "owner", "row"}
    | {"rule", "decided_kind", "source", "week", "historical_owner", "hindsight_tier", "hindsight"}
    | {"hindsight_reason", "converted"}
)
# lead columns read from text as a number or a date; a value that cannot be read is kept as written (raw_column)
PARSED_COLUMNS = ("created_at", "employees", "annual_revenue")
PARSED_TYPES = frozenset({FieldType.NUMBER, FieldType.BOOLEAN, FieldType.DATE})
RAW_SUFFIX = ":raw"
# always required, whatever the configuration: a lead without them cannot be routed or written back
ALWAYS_REQUIRED = ("lead_id", "created_at")
REQUIRABLE = frozenset(c for c in LEAD_COLUMNS if c not in ALWAYS_REQUIRED)


class CustomField(BaseModel):
    """One extra lead field: its type, when it is known, and where each source keeps it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    type: FieldType
    known_at: Literal[
        "arrival", "later"
    ]  # later: set after arrival (a rep's status, tags): never a model input
    values: list[str] = []  # a category's known values (others stay as written)
    column: str | None = None  # the export's column header (a backtest map's leads.<name> overrides it)
    salesforce: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$")  # a custom Lead field
    hubspot: str | None = Field(default=None, pattern=r"^[a-z0-9_]+$")  # a contact property's internal name
    description: str = ""

    @field_validator("name")
    @classmethod
    def _new_name(cls, name: str) -> str:
        if name in TAKEN:
            raise ValueError(f"{name!r} is already a lead column: give the custom field another name")
        return name

    @property
    def dtype(self) -> str:
        return DTYPES[self.type]


class LeadFields(BaseModel):
    """config/fields.yaml: which lead fields are required, and the custom fields."""

    model_config = ConfigDict(extra="forbid")

    # the B2B default; an anonymised or B2C source lists fewer (lead_id and created_at are always required)
    required: list[str] = Field(default_factory=lambda: ["email", "company"])
    custom: list[CustomField] = []

    def problems(self) -> list[tuple[tuple, str]]:
        out: list[tuple[tuple, str]] = []
        known = REQUIRABLE | set(self.names)
        for i, name in enumerate(self.required):
            if name not in known:
                out.append((("required", i), f"{name!r} is not a lead field or a custom field of this file"))
        seen: dict[tuple[str, str], int] = {}
        for i, field in enumerate(self.custom):
            for key in ("name", "salesforce", "hubspot", "column"):
                value = getattr(field, key)
                if value is not None and (key, value) in seen:
                    first = seen[key, value]
                    out.append(
                        (("custom", i, key), f"{key} {value!r} is used twice (first at custom[{first}])")
                    )
                seen.setdefault((key, value), i)
            if field.values and field.type != FieldType.CATEGORY:
                out.append((("custom", i, "values"), "only a category field lists values"))
        return out

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.custom]

    @property
    def columns(self) -> dict[str, str]:
        """Custom field -> dtype, in declaration order."""
        return {f.name: f.dtype for f in self.custom}

    @property
    def at_arrival(self) -> list[str]:
        """The custom fields known when a lead arrives: a model may read these, never the later ones."""
        return [f.name for f in self.custom if f.known_at == "arrival"]

    def field(self, name: str) -> CustomField:
        for f in self.custom:
            if f.name == name:
                return f
        raise KeyError(f"{name!r} is not a custom field (declared: {', '.join(self.names) or 'none'})")

    def sources(self, vendor: Literal["salesforce", "hubspot", "column"]) -> dict[str, str]:
        """Custom field -> where `vendor` keeps it, for the fields it has."""
        return {f.name: getattr(f, vendor) for f in self.custom if getattr(f, vendor)}


NO_CUSTOM_FIELDS = LeadFields()


def load_fields(path: Path | str) -> LeadFields:
    """Load and check a fields file; errors name the file and line (ConfigError)."""
    return load_yaml_model(path, LeadFields)


def configured_fields(settings: Settings | None = None) -> LeadFields:
    """The fields file the settings name (LEADROUTER_FIELDS_PATH); the B2B default when there is none."""
    path = Path((settings or Settings()).fields_path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return NO_CUSTOM_FIELDS
    return _load_cached(path, stamp)


@lru_cache(maxsize=8)
def _load_cached(path: Path, _stamp: int) -> LeadFields:
    return load_fields(path)


def model_input_columns(fields: LeadFields) -> list[str]:
    """The lead columns a model may read: the canonical ones, then the custom fields known at arrival."""
    return [*MODEL_INPUT_COLUMNS, *fields.at_arrival]


def read_values(values: pd.Series, field: CustomField) -> pd.Series:
    """Raw values (text from a file or a CRM's JSON) as the field's dtype; a value that cannot be read is null
    (`unreadable` finds them)."""
    kind = values.dtype
    if (
        field.type == FieldType.NUMBER
        and pd.api.types.is_numeric_dtype(kind)
        and not pd.api.types.is_bool_dtype(kind)
    ):
        return values.astype("Float64")
    if field.type == FieldType.BOOLEAN and pd.api.types.is_bool_dtype(kind):
        return values.astype("boolean")
    if field.type == FieldType.DATE and isinstance(kind, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype(UTC_TS)
    text = values.astype("string[pyarrow]").str.strip()  # Arrow's string kernels: the fast ones
    text = text.mask(text.eq(""))
    if field.type == FieldType.NUMBER:
        digits = text.str.replace(",", "", regex=False).astype("float64[pyarrow]", errors="ignore")
        return pd.to_numeric(digits, errors="coerce").astype("Float64")
    if field.type == FieldType.BOOLEAN:
        lower = text.str.lower()
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        return out.mask(lower.isin(TRUE_WORDS), True).mask(lower.isin(FALSE_WORDS), False)
    if field.type == FieldType.DATE:
        return utc_stamps(text)
    return text.astype("string")


def unreadable(raw: pd.Series, typed: pd.Series) -> pd.Series:
    """Where a value was given but could not be read as its type."""
    given = raw.notna()
    # only text can be blank: a date or number already read (the backtest's cleaning) is given when not null,
    # and writing a million of them out as text to check cost seconds
    types = pd.api.types
    if not (types.is_numeric_dtype(raw.dtype) or types.is_datetime64_any_dtype(raw.dtype)):
        given &= raw.astype("string").str.strip().ne("").fillna(False)
    return given & typed.isna()


def raw_column(name: str) -> str:
    """The column that keeps `name`'s values as written where they could not be read (<NA> elsewhere), until
    validation has reported them; a name no custom field can take."""
    return f"{name}{RAW_SUFFIX}"


def with_raw(out: pd.DataFrame, name: str, raw: pd.Series) -> pd.DataFrame:
    """out plus raw_column(name): each value of `raw` (positionally aligned) that out[name] could not read,
    joined to any kept before; the column is added only when some value is unreadable."""
    raw = raw.reset_index(drop=True).set_axis(out.index)
    lost = unreadable(raw, out[name]).to_numpy(dtype=bool)
    if not lost.any():
        return out
    text = raw.astype("string").where(lost)
    before = out.get(raw_column(name))
    out[raw_column(name)] = text if before is None else before.fillna(text)
    return out


def conform_leads(frame: pd.DataFrame, fields: LeadFields) -> pd.DataFrame:
    """The canonical lead frame (schema.conform) plus the custom fields, each as its type (null when absent).
    A value that cannot be read as its type is null, and kept as written in its raw_column."""
    out = conform(frame)
    for name in [n for n in frame.columns if isinstance(n, str) and n.endswith(RAW_SUFFIX)]:
        out[name] = frame[name].astype("string").to_numpy()  # kept by the adapter, which read the value first
    for field in fields.custom:
        raw = frame[field.name] if field.name in frame else pd.Series(pd.NA, index=frame.index)
        out[field.name] = read_values(raw.reset_index(drop=True), field).array
    for name in [*PARSED_COLUMNS, *(f.name for f in fields.custom if f.type in PARSED_TYPES)]:
        if name in frame:
            out = with_raw(out, name, frame[name])
    return out


def stored_values(frame: pd.DataFrame, fields: LeadFields) -> list[dict[str, object] | None]:
    """Each lead's custom field values as JSON (dates as ISO 8601 text, missing as null), to keep with its
    decision; None for every lead when no custom field is declared."""
    if not fields.custom:
        return [None] * len(frame)
    columns = []
    for field in fields.custom:
        column = frame[field.name] if field.name in frame else pd.Series(pd.NA, index=frame.index)
        typed = read_values(column, field)
        if field.type == FieldType.DATE:  # ISO 8601 text, as Timestamp.isoformat() writes a UTC stamp
            typed = typed.dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00").str.replace(".000000+", "+", regex=False)
        columns.append(typed.astype(object).where(typed.notna(), None).tolist())
    # zipped lists: DataFrame.to_dict(orient="records") took 2.4 s per 100,000 leads of five fields
    return [dict(zip(fields.names, row, strict=True)) for row in zip(*columns, strict=True)]
