"""The rulebook: ordered rules, first match wins, evaluated on the whole batch at once."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from leadrouter.classify.expressions import Condition, ExpressionError, named_column
from leadrouter.config import line_of, load_yaml_model
from leadrouter.fields import LeadFields, configured_fields
from leadrouter.schema import ENRICHED_COLUMNS, LEAD_COLUMNS, Category, Tier, conform

RULE_COLUMNS = [*LEAD_COLUMNS, *ENRICHED_COLUMNS]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    when: str
    tier: Tier
    category: Category = Category.SALES
    priority: int = Field(default=3, ge=1, le=5)
    pool: str | None = None
    owner: str | None = None  # a roster rep or queue that takes every lead the rule decides (no round robin)
    description: str = ""
    _condition: Condition | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_destination(self) -> Rule:
        if self.pool and self.owner:
            raise ValueError("name a pool or an owner, not both: the owner would take every lead")
        return self

    @property
    def condition(self) -> Condition:
        if self._condition is None:
            raise RuntimeError(f"rule {self.id!r} was not compiled: load rulebooks with load_rulebook")
        return self._condition

    def matches(self, frame: pd.DataFrame) -> pd.Series:
        return self.condition(frame)


class ReviewPolicy(BaseModel):
    """When a model's answer is not enough, and how long a person has to decide."""

    model_config = ConfigDict(extra="forbid")

    confidence_threshold: float = Field(default=0.7, ge=0, le=1)  # below it, a model's answer goes to review
    sla_minutes: int = Field(default=60, gt=0)  # a review item is due this long after it was queued

    @property
    def sla(self) -> timedelta:
        return timedelta(minutes=self.sla_minutes)


class ResponseSla(BaseModel):
    """How fast the owner must first touch a lead of a tier."""

    model_config = ConfigDict(extra="forbid")

    minutes: int = Field(gt=0)
    around_the_clock: bool = False  # the clock runs outside the owner's working hours too
    escalate_after: int = Field(default=2, ge=1)  # breaches of one lead before its pool's manager is told

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.minutes)


# seed 000: VIP 5 minutes (a breach re-routes and tells the VP), Standard 30; Nurture and Other have no clock
DEFAULT_SLA = {Tier.VIP: ResponseSla(minutes=5, escalate_after=1), Tier.STANDARD: ResponseSla(minutes=30)}


class Rulebook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    define: dict[str, str] = Field(default_factory=dict)  # named conditions, usable in `when` like a column
    rules: list[Rule] = Field(min_length=1)
    review: ReviewPolicy = Field(default_factory=ReviewPolicy)
    sla: dict[Tier, ResponseSla] = Field(default_factory=lambda: dict(DEFAULT_SLA))  # a tier left out: none
    version: str = ""  # the file's content hash, set by load_rulebook
    _lines: dict[tuple, int | None] = PrivateAttr(default_factory=dict)
    _errors: list[tuple[tuple, str]] = PrivateAttr(default_factory=list)
    _named: dict[str, Condition] = PrivateAttr(default_factory=dict)
    _custom: dict[str, str] = PrivateAttr(default_factory=dict)  # custom field -> dtype (config/fields.yaml)

    def model_post_init(self, context: object) -> None:
        fields = (context or {}).get("fields") if isinstance(context, dict) else None
        self._custom = (fields or configured_fields()).columns
        empty = conform(pd.DataFrame(), {**LEAD_COLUMNS, **ENRICHED_COLUMNS, **self._custom})
        for name, text in self.define.items():
            if not name.isidentifier() or name in self.columns:
                self._errors.append((("define", name), f"{name!r} must be a new name, not a column"))
                continue
            try:
                self._named[name] = _compile(text, self._named, empty)
            except ValueError as exc:
                self._errors.append((("define", name), str(exc)))
        for i, rule in enumerate(self.rules):
            try:
                rule._condition = _compile(rule.when, self._named, empty)
            except ValueError as exc:
                self._errors.append((("rules", i, "when"), str(exc)))

    @property
    def columns(self) -> list[str]:
        """The columns a condition may name: the lead's, enrichment's and the custom fields'."""
        return [*RULE_COLUMNS, *self._custom]

    @property
    def custom_fields(self) -> dict[str, str]:
        """The custom fields the rulebook was loaded with: name -> dtype."""
        return dict(self._custom)

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The batch as the rules read it fastest: text that regexes read as Arrow strings (converted once,
        not once per rule), and each named condition evaluated once into a column of its own. A custom field
        the batch lacks (a thin frame) is null."""
        text = {c for r in self.rules for c in r.condition.text_columns} & set(frame.columns)
        view = self.complete(frame.astype(dict.fromkeys(text, "string[pyarrow]")))
        for name, condition in self._named.items():  # in definition order: later ones may use earlier ones
            view[named_column(name)] = condition(view)
        return view

    def complete(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with each custom field it lacks (a thin frame, a probe) as a null column of its type."""
        missing = {
            n: pd.Series(pd.NA, index=frame.index, dtype=t) for n, t in self._custom.items() if n not in frame
        }
        return frame.assign(**missing) if missing else frame

    @property
    def named(self) -> dict[str, Condition]:
        return dict(self._named)

    def line_of(self, loc: tuple) -> int | None:
        return self._lines.get(loc)

    def problems(self) -> list[tuple[tuple, str]]:
        seen: dict[str, int] = {}
        out = list(self._errors)
        for i, rule in enumerate(self.rules):
            if rule.id in seen:
                out.append(
                    (("rules", i, "id"), f"duplicate rule id {rule.id!r} (first at rules[{seen[rule.id]}])")
                )
            seen.setdefault(rule.id, i)
        return out


def _compile(text: str, named: dict[str, Condition], empty: pd.DataFrame) -> Condition:
    """Parse a condition and run it on an empty typed batch, so a type mismatch fails at load, not on a run."""
    try:
        condition = Condition(text, list(empty.columns), named)
        condition(empty)
    except ExpressionError:
        raise
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{text!r} compares values of the wrong type: {exc}") from exc
    return condition


def load_rulebook(path: Path | str, fields: LeadFields | None = None) -> Rulebook:
    """Load and check a rulebook against the custom fields (the configured ones by default); its version is
    the hash of the file's bytes."""
    book = load_yaml_model(path, Rulebook, context={"fields": fields or configured_fields()})
    book.version = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    book._lines = {
        ("rules", i, key): line_of(root, ("rules", i, key))
        for i in range(len(book.rules))
        for key in ("pool", "owner", "when", "id")
    }
    return book


def classify_by_rules(frame: pd.DataFrame, book: Rulebook) -> pd.DataFrame:
    """Add tier, category, priority, pool, rule_owner and decided_by ('rule:<id>') where a rule matched;
    <NA> elsewhere.

    Each rule is evaluated once over the batch; the first match wins and is written once at the end."""
    view = book.prepare(frame)
    winner = np.full(len(frame), -1)
    for i, rule in enumerate(book.rules):
        winner[rule.matches(view).to_numpy(dtype=bool) & (winner < 0)] = i
    out = frame.copy(deep=False)  # copy-on-write: the batch itself is never changed
    decided = winner >= 0
    pick = np.where(decided, winner, 0)

    def column(values: list, dtype: str) -> pd.Series:
        return pd.Series(
            pd.array(np.asarray(values, dtype=object)[pick], dtype=dtype), index=out.index
        ).where(decided)

    rules = book.rules
    out["tier"] = column([r.tier.value for r in rules], "string")
    out["category"] = column([r.category.value for r in rules], "string")
    out["priority"] = column([r.priority for r in rules], "Int64")
    out["decided_by"] = column([f"rule:{r.id}" for r in rules], "string")
    out["confidence"] = pd.Series(np.where(decided, 1.0, np.nan), index=out.index, dtype="Float64")
    out["pool"] = column([r.pool for r in rules], "string")
    out["rule_owner"] = column([r.owner for r in rules], "string")
    return out
