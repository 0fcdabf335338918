"""Linting a rulebook and explaining one lead's path through it.

`check_rulebook` finds what a load cannot: rules that can never fire because an earlier rule takes every lead
they match (proved from the conditions where one rule's `and`-parts contain an earlier rule's, else observed
on probe leads), rules that match no probe lead at all, tiers no rule can reach, and territory or region
names that do not exist. `rule_outcomes` measures each rule on a real export's history (leadrouter.backtest.
history): what it covers and how its leads converted. `explain_lead` shows, rule by rule, why each
earlier rule passed the lead by and which one took it.
"""

from __future__ import annotations

import ast
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadrouter.assign.skills import LANGUAGE_CODES
from leadrouter.classify.expressions import Condition
from leadrouter.classify.rules import Rule, Rulebook
from leadrouter.outcomes.feedback import wilson_interval
from leadrouter.schema import TIERS, Tier

REGIONS = ("NA", "EMEA", "APAC", "LATAM")


@dataclass(frozen=True)
class Finding:
    rule: str | None  # the rule's id; None for the whole book
    loc: tuple  # where in the file (for the line number)
    severity: str  # "error" | "warning"
    message: str


def check_rulebook(
    book: Rulebook, probe: pd.DataFrame | None = None, territories: list[str] | None = None
) -> list[Finding]:
    """Everything suspicious about a loaded rulebook, earliest rule first."""
    findings = _proved_shadows(book)
    proved = {f.rule for f in findings}
    if probe is not None and len(probe):
        findings += _observed(book, book.complete(probe), proved)
    findings += _unknown_places(book, territories)
    dead = {f.rule for f in findings if f.severity == "error"}
    for tier in TIERS:
        live = [r for r in book.rules if r.tier.value == tier and r.id not in dead]
        if not live:
            findings.append(
                Finding(
                    None, ("rules",), "warning", f"no rule can reach tier {tier}: only the model decides it"
                )
            )
    order = {r.id: i for i, r in enumerate(book.rules)}
    return sorted(findings, key=lambda f: order.get(f.rule, len(order)))


def _conjuncts(text: str) -> list[str]:
    """The top-level `and` parts of a condition, each in one canonical spelling."""
    node = ast.parse(text.strip(), mode="eval").body
    parts = node.values if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) else [node]
    return [ast.unparse(p) for p in parts]


def _proved_shadows(book: Rulebook) -> list[Finding]:
    """Rule B is dead when an earlier rule A's `and`-parts are a subset of B's: every lead B matches, A took."""
    parts = [frozenset(_conjuncts(r.when)) for r in book.rules]
    out = []
    for j, later in enumerate(book.rules):
        for i in range(j):
            if parts[i] <= parts[j]:
                earlier = book.rules[i].id
                message = f"can never fire: every lead it matches is taken first by rule {earlier!r}"
                out.append(Finding(later.id, ("rules", j, "when"), "error", message))
                break
    return out


def _observed(book: Rulebook, probe: pd.DataFrame, proved: set[str | None]) -> list[Finding]:
    """Rules that matched no probe lead, or matched some but lost every one to earlier rules."""
    out = []
    taken = pd.Series(False, index=probe.index)
    for j, rule in enumerate(book.rules):
        hit = rule.matches(probe)
        first = hit & ~taken
        if rule.id not in proved:
            if not hit.any():
                message = f"matched none of {len(probe):,} probe leads: is the condition right?"
                out.append(Finding(rule.id, ("rules", j, "when"), "warning", message))
            elif not first.any():
                earlier = _takers(book.rules[:j], probe[hit])
                message = f"shadowed on all {int(hit.sum()):,} probe leads it matched, taken by {earlier}"
                out.append(Finding(rule.id, ("rules", j, "when"), "warning", message))
        taken |= hit
    return out


def _takers(rules: list[Rule], leads: pd.DataFrame) -> str:
    counts = {}
    open_ = pd.Series(True, index=leads.index)
    for rule in rules:
        hit = open_ & rule.matches(leads)
        if hit.any():
            counts[rule.id] = int(hit.sum())
        open_ &= ~hit
    return ", ".join(f"{rid!r} ({n})" for rid, n in counts.items())


def _unknown_places(book: Rulebook, territories: list[str] | None) -> list[Finding]:
    """A territory, region or language that does not exist matches nothing, silently: flag it."""
    known = {
        "territory": set(territories or []) | set(REGIONS),
        "region": set(REGIONS),
        "language": set(LANGUAGE_CODES),  # ISO 639-1, as enrichment writes it
    }
    out = []
    texts = [(("define", name), None, text) for name, text in book.define.items()]
    texts += [(("rules", i, "when"), r.id, r.when) for i, r in enumerate(book.rules)]
    for loc, rule, text in texts:
        for column, value in _compared_literals(text):
            checkable = column in ("region", "language") or (
                column == "territory" and territories is not None
            )
            if checkable and value not in known[column]:
                listed = sorted(known[column]) if column != "language" else ["two-letter ISO 639-1 codes"]
                message = f"{column} {value!r} does not exist (known: {', '.join(listed)})"
                out.append(Finding(rule, loc, "error", message))
    return out


def _compared_literals(text: str) -> list[tuple[str, object]]:
    """(column, literal) for every `column == literal` and `column in (...)` in a condition."""
    out = []
    for node in ast.walk(ast.parse(text.strip(), mode="eval")):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name):
            for right in node.comparators:
                values = right.elts if isinstance(right, ast.Tuple | ast.List | ast.Set) else [right]
                out += [(node.left.id, v.value) for v in values if isinstance(v, ast.Constant)]
    return out


NO_RULE = "(no rule)"  # the leads no rule decides: the model's, or review's
SALES_TIERS = (Tier.VIP.value, Tier.STANDARD.value)  # a lead of these tiers should become an opportunity
OUTCOME_COLUMNS = {
    "rule": "string",
    "tier": "string",
    "matched": "int64",  # leads its condition matches, earlier rules or not
    "decided": "int64",  # leads it decides (first match wins)
    "share": "float64",  # decided / all leads
    "opportunities": "int64",  # decided leads with an opportunity within 90 days
    "conversion": "float64",
    "conversion_low": "float64",  # its 95 % Wilson interval
    "conversion_high": "float64",
    "fits": "float64",  # share of decided leads whose outcome fits the tier (see rule_outcomes)
}


def rule_outcomes(book: Rulebook, leads: pd.DataFrame) -> pd.DataFrame:
    """Each rule on leads with a known outcome (a bool `converted`: an opportunity within 90 days), in rulebook
    order, then NO_RULE for the leads none decides: OUTCOME_COLUMNS. A lead's outcome fits its tier when a VIP or
    Standard lead became an opportunity, or a Nurture or Other lead did not."""
    view = book.prepare(leads)
    converted = leads["converted"].to_numpy(dtype=bool)
    taken = np.zeros(len(leads), dtype=bool)
    rows = []
    for rule in book.rules:
        hit = rule.matches(view).to_numpy(dtype=bool)
        first = hit & ~taken
        taken |= hit
        rows.append((rule.id, rule.tier.value, int(hit.sum()), first))
    rows.append((NO_RULE, None, int((~taken).sum()), ~taken))
    decided = np.array([int(r[3].sum()) for r in rows], dtype=float)
    won = np.array([int(converted[r[3]].sum()) for r in rows], dtype=float)
    sales = np.array([t in SALES_TIERS for t in (r[1] for r in rows)])
    fitting = np.where(sales, won, decided - won)
    low, high = wilson_interval(won, decided)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame(
            {
                "rule": [r[0] for r in rows],
                "tier": [r[1] for r in rows],
                "matched": [r[2] for r in rows],
                "decided": decided,
                "share": decided / max(len(leads), 1),
                "opportunities": won,
                "conversion": won / decided,
                "conversion_low": low,
                "conversion_high": high,
                "fits": np.where([r[0] != NO_RULE for r in rows], fitting / decided, np.nan),
            }
        )
    return table.astype(OUTCOME_COLUMNS)


@dataclass(frozen=True)
class Step:
    rule: str
    matched: bool
    tier: str
    why: str


def explain_lead(book: Rulebook, lead: pd.DataFrame) -> list[Step]:
    """One lead (a one-row enriched frame) through the rules: each earlier rule and the part of its condition
    that failed, then the rule that fired (or nothing: the model decides)."""
    steps, lead = [], book.complete(lead)
    for rule in book.rules:
        if bool(rule.matches(lead).iloc[0]):
            steps.append(Step(rule.id, True, rule.tier.value, f"matched: {_values(rule.condition, lead)}"))
            break
        steps.append(Step(rule.id, False, rule.tier.value, _failed_parts(rule, book, lead)))
    return steps


def _failed_parts(rule: Rule, book: Rulebook, lead: pd.DataFrame) -> str:
    failed = []
    for part in _conjuncts(rule.when):
        condition = Condition(part, book.columns, book.named)
        if not bool(condition(lead).iloc[0]):
            failed.append(f"✗ {_short(part)} ({_values(condition, lead)})")
    return "; ".join(failed)


def _values(condition: Condition, lead: pd.DataFrame) -> str:
    """The lead's values of the columns a condition reads, shortened: the evidence for the verdict."""
    shown = []
    for column in sorted(condition.columns):
        value = lead[column].iloc[0] if column in lead else None
        text = "null" if pd.api.types.is_scalar(value) and pd.isna(value) else repr(value)
        text = str(value) if isinstance(value, numbers.Number) and not isinstance(value, bool) else text
        shown.append(f"{column}={_short(text)}")
    return ", ".join(shown) or "no columns"


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
