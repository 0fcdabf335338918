"""The rulebook: ordered rules, first match wins, evaluated on the whole batch at once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from leadrouter.classify.expressions import Condition, ExpressionError
from leadrouter.config import line_of, load_yaml_model
from leadrouter.schema import CLASSIFIED_COLUMNS, ENRICHED_COLUMNS, LEAD_COLUMNS, Category, Tier, conform

RULE_COLUMNS = [*LEAD_COLUMNS, *ENRICHED_COLUMNS]
EMPTY_BATCH = conform(pd.DataFrame(), {**LEAD_COLUMNS, **ENRICHED_COLUMNS})


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    when: str
    tier: Tier
    category: Category = Category.SALES
    priority: int = Field(default=3, ge=1, le=5)
    pool: str | None = None
    description: str = ""
    _condition: Condition = PrivateAttr()

    @field_validator("when")
    @classmethod
    def _parses(cls, text: str) -> str:
        try:
            Condition(text, RULE_COLUMNS)(
                EMPTY_BATCH
            )  # a type mismatch fails here, at load, not on every run
        except ExpressionError as exc:
            raise ValueError(str(exc)) from exc
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{text!r} compares values of the wrong type: {exc}") from exc
        return text

    def model_post_init(self, _context: object) -> None:
        self._condition = Condition(self.when, RULE_COLUMNS)

    def matches(self, frame: pd.DataFrame) -> pd.Series:
        return self._condition(frame)


class Rulebook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(min_length=1)
    version: str = ""  # the file's content hash, set by load_rulebook
    _lines: dict[tuple, int | None] = PrivateAttr(default_factory=dict)

    def line_of(self, loc: tuple) -> int | None:
        return self._lines.get(loc)

    def problems(self) -> list[tuple[tuple, str]]:
        seen: dict[str, int] = {}
        out = []
        for i, rule in enumerate(self.rules):
            if rule.id in seen:
                out.append(
                    (("rules", i, "id"), f"duplicate rule id {rule.id!r} (first at rules[{seen[rule.id]}])")
                )
            seen.setdefault(rule.id, i)
        return out


def load_rulebook(path: Path | str) -> Rulebook:
    """Load and check a rulebook; its version is the hash of the file's bytes."""
    book = load_yaml_model(path, Rulebook)
    book.version = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    book._lines = {("rules", i, "pool"): line_of(root, ("rules", i, "pool")) for i in range(len(book.rules))}
    return book


def classify_by_rules(frame: pd.DataFrame, book: Rulebook) -> pd.DataFrame:
    """Add tier, category, priority, pool and decided_by ('rule:<id>') where a rule matched; <NA> elsewhere."""
    out = frame.copy()
    for name, dtype in CLASSIFIED_COLUMNS.items():
        out[name] = pd.Series(pd.NA, index=out.index, dtype=dtype)
    open_ = pd.Series(True, index=out.index)
    for rule in book.rules:
        hit = open_ & rule.matches(out)
        if not hit.any():
            continue
        out.loc[hit, ["tier", "category", "decided_by"]] = [
            rule.tier.value,
            rule.category.value,
            f"rule:{rule.id}",
        ]
        out.loc[hit, "priority"] = rule.priority
        out.loc[hit, "confidence"] = 1.0
        if rule.pool:
            out.loc[hit, "pool"] = rule.pool
        open_ &= ~hit
    return out
