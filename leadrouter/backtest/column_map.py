"""The column map of a CRM export (config/backtest-map.yaml): which column feeds each lead field, the historical
owner, the deal columns, how dates are written, value fixes and extra placeholders. Loaded like the rulebook:
every problem names the file and the line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from leadrouter.assign.schedule import known_zone
from leadrouter.config import ConfigError, line_of, load_yaml_model, raise_all
from leadrouter.fields import FieldType, LeadFields, configured_fields, read_values, unreadable
from leadrouter.outcomes.deals import EXPORT_STAGES, DealStages
from leadrouter.schema import LEAD_COLUMNS
from leadrouter.validate import vocabularies

# what a date cell may look like, tried in order: the first is the export's own format (a row that needs
# another one counts as cleaned); "iso" is any ISO 8601 stamp, "excel" a spreadsheet's day serial
DEFAULT_DATE_FORMATS = [
    "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y", "iso", "%d.%m.%Y %H:%M", "%d.%m.%Y", "excel",
]  # fmt: skip
# the values categorical fields are corrected to (fuzzy), unless the map names its own
DEFAULT_VOCABULARY = {
    "industry": list(vocabularies.INDUSTRIES),
    "lead_source": list(vocabularies.LEAD_SOURCES),
}
AMOUNT_SCALES = {"units": 1.0, "thousands": 1e3, "millions": 1e6, "billions": 1e9}
COLUMN_FIELDS = (
    "lead_id",
    "email",
    "deal_id",
    "amount",
    "stage",
    "won",
    "closed",
    "close_date",
    "created_at",
)
VALUE_FIELDS = frozenset(c for c, dtype in LEAD_COLUMNS.items() if dtype == "string") | {"owner"}


class LeadColumns(BaseModel):
    """Export column header per canonical lead field (schema.LEAD_COLUMNS); owner: the historical owner. Any
    other key names a custom field of config/fields.yaml (checked by ExportMap.problems)."""

    model_config = ConfigDict(extra="allow")

    lead_id: str
    email: str | None = None  # required unless config/fields.yaml's `required` leaves it out
    company: str | None = None
    created_at: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    title: str | None = None
    website: str | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    industry: str | None = None
    employees: str | None = None
    annual_revenue: str | None = None
    lead_source: str | None = None
    message: str | None = None
    owner: str | None = None  # who owned the lead then: a rep's name, email or CRM id, or a queue


class DealColumns(BaseModel):
    """Export column header per deal field; a deal links to its lead by lead id, else by email. won and closed
    are yes/no columns; stages says which stage names mean won, lost and open (a list given replaces that
    default list); amount_scale what the amounts are counted in."""

    model_config = ConfigDict(extra="forbid")

    lead_id: str | None = None
    email: str | None = None
    deal_id: str | None = None
    amount: str | None = None
    stage: str | None = None
    won: str | None = None
    closed: str | None = None
    close_date: str | None = None
    created_at: str | None = None  # when the opportunity opened (days to opportunity)
    amount_scale: float = Field(1.0, gt=0)  # "thousands", "millions" or a factor: an amount's worth in units
    stages: DealStages = Field(default_factory=lambda: EXPORT_STAGES.model_copy())

    @field_validator("amount_scale", mode="before")
    @classmethod
    def _scale(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().replace(".", "", 1).isdigit():
            if value.strip().casefold() not in AMOUNT_SCALES:
                raise ValueError(
                    f"{value!r} is not a scale: use one of {', '.join(AMOUNT_SCALES)} or a number"
                )
            return AMOUNT_SCALES[value.strip().casefold()]
        return value

    @field_validator("stages", mode="before")
    @classmethod
    def _stage_defaults(cls, value: object) -> object:
        # a list left out keeps its default: naming the won stages must not forget the lost ones
        return {**EXPORT_STAGES.model_dump(), **value} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _linked(self) -> DealColumns:
        if not (self.lead_id or self.email):
            raise ValueError("name the column that links a deal to its lead: lead_id or email")
        return self

    def columns(self) -> dict[str, str | None]:
        """Deal field -> export column header (the fields that name a column)."""
        return {f: getattr(self, f) for f in COLUMN_FIELDS}


class Dates(BaseModel):
    model_config = ConfigDict(extra="forbid")

    formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS), min_length=1)
    timezone: str = "UTC"  # the wall clock of stamps written without an offset

    _zone = field_validator("timezone")(lambda v: known_zone(v))

    @field_validator("formats")
    @classmethod
    def _formats(cls, formats: list[str]) -> list[str]:
        for fmt in formats:
            if fmt not in ("iso", "excel") and "%" not in fmt:
                raise ValueError(f"{fmt!r} is not a date format: use strftime codes (%d.%m.%Y), iso or excel")
        return formats


class ExportMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leads: LeadColumns
    deals: DealColumns | None = None
    dates: Dates = Field(default_factory=Dates)
    values: dict[str, dict[str, str]] = {}  # field -> {as written: what it means}, case-insensitive
    placeholders: list[str] = []  # more values that mean "nothing here" (besides N/A, Select, -, ...)
    vocabulary: dict[str, list[str]] = {}  # field -> known values that typos are corrected to
    _root: yaml.Node | None = PrivateAttr(default=None)
    _fields: LeadFields = PrivateAttr(default_factory=LeadFields)

    def model_post_init(self, context: object) -> None:
        fields = (context or {}).get("fields") if isinstance(context, dict) else None
        self._fields = fields or configured_fields()
        # a custom field the map does not name comes from the column config/fields.yaml gives it
        extra = self.leads.__pydantic_extra__
        for name, header in self._fields.sources("column").items():
            extra.setdefault(name, header)

    @property
    def fields(self) -> LeadFields:
        """The custom and required fields the map was loaded with (config/fields.yaml)."""
        return self._fields

    def problems(self) -> list[tuple[tuple, str]]:
        out = []
        text_fields = VALUE_FIELDS | {
            f.name for f in self._fields.custom if f.type in (FieldType.TEXT, FieldType.CATEGORY)
        }
        for field in [*self.values, *self.vocabulary]:
            if field not in text_fields:
                out.append(((field,), f"{field!r} is not a text field of a lead: use one of leads' fields"))
        out += _custom_keys_problems(self.leads.__pydantic_extra__, self._fields)
        for name in self._fields.required:
            if name in LeadColumns.model_fields and getattr(self.leads, name) is None:
                message = f"config/fields.yaml requires {name}: name its export column here"
                out.append((("leads",), message))
        return out

    @classmethod
    def raw_problems(cls, data: object, context: dict | None) -> list[tuple[tuple, str]]:
        """The leads keys that name no field, found in the file's text: listed with pydantic's errors."""
        leads = data.get("leads") if isinstance(data, dict) else None
        if not isinstance(leads, dict):
            return []
        extra = {k: v for k, v in leads.items() if k not in LeadColumns.model_fields}
        return _custom_keys_problems(extra, (context or {}).get("fields") or configured_fields())

    def known_values(self, field: str) -> list[str]:
        if field in self.vocabulary:
            return self.vocabulary[field]
        if field in self._fields.names:
            return self._fields.field(field).values
        return DEFAULT_VOCABULARY.get(field, [])

    def custom_fix(self, name: str) -> object | None:
        """A custom field's cleaning step: its text read as its type, a value that cannot be read left empty and
        listed as a change; None for text and category fields (cleaned as text)."""
        field = self._fields.field(name)
        if field.type in (FieldType.TEXT, FieldType.CATEGORY):
            return None

        def fix(text: pd.Series) -> tuple[pd.Series, pd.Series]:
            typed = read_values(text, field)
            change = pd.Series(pd.NA, index=text.index, dtype="string")
            return typed, change.mask(unreadable(text, typed), f"not a {field.type.value}: left empty")

        return fix

    def line(self, *loc: str | int) -> int | None:
        """The line of a key of the map file, for errors about what it names (a column the CSV lacks)."""
        return line_of(self._root, loc)


def _custom_keys_problems(extra: dict, fields: LeadFields) -> list[tuple[tuple, str]]:
    """A leads key that is no custom field, or a custom field not named by a column's text."""
    out = []
    for name, header in extra.items():
        if name not in fields.names:
            declared = ", ".join(fields.names) or "none"
            message = f"{name!r} is not a lead field or a custom field of config/fields.yaml ({declared})"
            out.append((("leads", name), message))
        elif not isinstance(header, str):
            out.append((("leads", name), "name the export column as text"))
    return out


def load_export_map(path: Path | str, fields: LeadFields | None = None) -> ExportMap:
    """Load and check a column map against the custom and required fields (config/fields.yaml by default);
    errors name the file and line (ConfigError)."""
    loaded = load_yaml_model(path, ExportMap, context={"fields": fields or configured_fields()})
    loaded._root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    return loaded


def require_columns(
    header: list[str],
    columns: BaseModel,
    section: str,
    export_map: ExportMap,
    map_path: Path | str,
    csv: Path,
) -> None:
    """Every column the map names must be in the CSV's header: else a ConfigError at the map's line (each
    missing column at once)."""
    shown = ", ".join(repr(h) for h in header[:30])
    raise_all(
        [
            ConfigError(map_path, export_map.line(section, field), f"{section}.{field}",
                        f"column {name!r} is not in {csv.name} (its columns: {shown})")
            for field, name in columns.model_dump().items()
            if isinstance(name, str) and name not in header  # a deal's stages name no column
        ]
    )  # fmt: skip
