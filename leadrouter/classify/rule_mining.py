"""Candidate rules mined from an export's history, written in the rulebook's own condition language.

A shallow decision tree (scikit-learn) learns on the older leads which arrival-known fields separate the
leads that became opportunities from the rest; each leaf's path becomes a rule of at most three conditions
with round thresholds. The tree only proposes: every figure shown is the rule's own, measured by the
rulebook loader's compiled condition on the leads, on the older part (where it was learnt) and on the
newest leads it never saw. A rule is proposed only when its leads convert clearly apart from the average
(the 95 % Wilson interval excludes it) and the newer leads agree.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.tree import DecisionTreeClassifier

from leadrouter.classify.rule_paths import WHOLE, Split, condition_text, leaf_paths
from leadrouter.classify.rules import Rulebook, load_rulebook
from leadrouter.classify.rules_check import rule_outcomes
from leadrouter.fields import LeadFields, model_input_columns
from leadrouter.outcomes.feedback import MIN_RULE_LEADS
from leadrouter.schema import Tier

MAX_DEPTH = 3  # three conditions at most: a rule a person reads at a glance
MIN_GAIN = 1e-3  # a split must earn its place: noise would split every leaf to the full depth
MIN_LEADS = 50  # a leaf (and so a rule) covers at least this many of the older leads
TEST_SHARE = 0.25  # the newest quarter of leads: measured, never learnt from
COVERAGE = 0.6  # seed 000's week 2: rules for 60-70 % of leads, the model for the ambiguous rest
VIP_LIFT = 2.0  # a rule whose leads convert at least this many times the average proposes VIP
TOP_VALUES = 12  # a text column's most frequent values the tree may name
# free text and identities: a rule naming one person, company or sentence would not generalise
NOT_MINED = frozenset({"first_name", "last_name", "company", "email_domain", "message", "title"})
PRIORITY = {Tier.VIP.value: 1, Tier.STANDARD.value: 2, Tier.NURTURE.value: 4}
MINED_COLUMNS = ["id", "when", "tier", "leads", "share", "train_leads", "train_conversion", "train_low",
                 "train_high", "test_leads", "test_conversion", "test_low", "test_high", "verdict"]  # fmt: skip


class NothingToMine(ValueError):
    """The history is too small or too one-sided to learn a rule from; the message says which."""


@dataclass
class Mining:
    """rules: every candidate (MINED_COLUMNS), proposed ones first; proposal: the rulebook of those proposed
    (parsed back by the loader), or None; figures over the older (train) and newest (test) leads."""

    rules: pd.DataFrame
    proposal: Rulebook | None
    train_leads: int
    test_leads: int
    train_rate: float
    test_rate: float
    coverage: float  # share of all leads the proposed rules decide
    test_coverage: float
    columns: list[str] = field(default_factory=list)  # the columns the tree could read (those with values)

    @property
    def proposed(self) -> pd.DataFrame:
        return self.rules[self.rules["verdict"].eq("proposed").to_numpy()].reset_index(drop=True)


def minable_columns(fields: LeadFields) -> list[str]:
    """The columns rules are mined from: those a model may read at arrival (custom fields declared
    `known_at: later` never), less free text and identities."""
    return [c for c in model_input_columns(fields) if c not in NOT_MINED]


def mine_rules(
    leads: pd.DataFrame,
    fields: LeadFields,
    min_leads: int = MIN_LEADS,
    test_share: float = TEST_SHARE,
    vip_lift: float = VIP_LIFT,
    coverage: float = COVERAGE,
) -> Mining:
    """Candidate rules from leads with a bool `converted`, oldest first (leadrouter.backtest.history's
    History.known); the most accurate are proposed until they cover `coverage` of the leads."""
    cut = round(len(leads) * (1 - test_share))
    train, test = leads.iloc[:cut], leads.iloc[cut:]
    rate = float(train["converted"].mean()) if len(train) else float("nan")
    if len(train) < 2 * min_leads or not 0 < rate < 1:
        raise NothingToMine(
            f"{len(train):,} older leads, {rate:.1%} converted: rules need at least {2 * min_leads:,} older leads "
            "with both outcomes"
        )
    columns = [c for c in minable_columns(fields) if c in leads and leads[c].notna().any()]
    matrix, features = _encode(train, columns, min_leads)
    tree = DecisionTreeClassifier(
        max_depth=MAX_DEPTH, min_samples_leaf=min_leads, min_impurity_decrease=MIN_GAIN, random_state=0
    )
    tree.fit(matrix, train["converted"].to_numpy(dtype=bool))
    whens = list(dict.fromkeys(w for w in (condition_text(p) for p in leaf_paths(tree, features)) if w))
    if not whens:
        raise NothingToMine(
            f"no split of {', '.join(columns)} separates the older leads that converted from the rest "
            f"(each part at least {min_leads:,} leads): nothing to propose, the model decides"
        )
    book = parse_rules([{"id": f"candidate-{i + 1}", "when": w, "tier": "Standard"} for i, w in enumerate(whens)],
                       fields)  # fmt: skip
    test_rate = float(test["converted"].mean()) if len(test) else float("nan")
    table = _until_coverage(_measured(book, train, test, len(leads), (rate, test_rate), vip_lift), coverage)
    kept = table[table["verdict"].eq("proposed").to_numpy()]
    mining = Mining(table, None, len(train), len(test), rate, test_rate, 0.0, 0.0, columns)
    if len(kept):
        mining.proposal = parse_rules(proposal_rules(kept), fields)
        table["id"] = table["when"].map({r.when: r.id for r in mining.proposal.rules}).fillna(table["id"])
        mining.coverage = float(rule_outcomes(mining.proposal, leads)["share"].iloc[:-1].sum())
        if len(test):
            mining.test_coverage = float(rule_outcomes(mining.proposal, test)["share"].iloc[:-1].sum())
    ordered = table.sort_values(["verdict", "train_conversion"], ascending=False, key=_proposed_first)
    mining.rules = ordered.reset_index(drop=True)
    return mining


def _proposed_first(values: pd.Series) -> pd.Series:
    return values.eq("proposed") if values.name == "verdict" else values


def _encode(train: pd.DataFrame, columns: list[str], min_leads: int) -> tuple[np.ndarray, list[Split]]:
    """The tree's inputs: a number as itself (null: NaN, which the tree sends one way), a boolean as 1/0, a text
    value frequent enough to carry a rule (min_leads) as a 1/0 column. Each feature is the split its right
    branch means (`>=` for a number, its value WHOLE for a column of whole numbers; `==` for a value)."""
    blocks, features = [], []
    for name in columns:
        values = train[name]
        if pd.api.types.is_bool_dtype(values.dtype):
            blocks.append(values.astype("Float64").to_numpy(dtype=float, na_value=np.nan))
            features.append(Split(name, "==", True))
        elif pd.api.types.is_numeric_dtype(values.dtype):
            numbers = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            blocks.append(numbers)
            whole = bool(np.all(np.isnan(numbers) | (numbers == np.round(numbers))))
            features.append(Split(name, ">=", WHOLE if whole else None))
        elif pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
            counts = values.value_counts().head(TOP_VALUES)
            for value in counts[counts >= min_leads].index:
                blocks.append(values.eq(value).fillna(False).to_numpy(dtype=float))
                features.append(Split(name, "==", str(value)))
    if not blocks:
        raise NothingToMine(f"no column to mine from: the export maps none of {', '.join(columns)}")
    return np.column_stack(blocks), features


def parse_rules(rules: list[dict], fields: LeadFields) -> Rulebook:
    """Rules written as a rulebook file and read back by the rulebook loader: what it accepts is what a person
    may paste (a condition it refuses raises ConfigError)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mined.yaml"
        path.write_text(yaml.safe_dump({"rules": rules}, sort_keys=False, width=1000), encoding="utf-8")
        return load_rulebook(path, fields)


def _measured(
    book: Rulebook,
    train: pd.DataFrame,
    test: pd.DataFrame,
    total: int,
    rates: tuple[float, float],
    vip_lift: float,
) -> pd.DataFrame:
    """Each candidate on its own (not first-match: the leaves barely overlap) on both parts, its tier and
    verdict; rates: the average conversion of each part."""
    rows = []
    for rule in book.rules:
        alone = book.model_copy(update={"rules": [rule]})
        old = rule_outcomes(alone, train).iloc[0]
        new = rule_outcomes(alone, test).iloc[0] if len(test) else None
        tier, verdict = _judge(old, new, *rates, vip_lift)
        n_new = int(new["decided"]) if new is not None else 0
        rows.append({
            "id": rule.id, "when": rule.when, "tier": tier, "leads": int(old["decided"]) + n_new,
            "share": (int(old["decided"]) + n_new) / total, "train_leads": int(old["decided"]),
            "train_conversion": old["conversion"], "train_low": old["conversion_low"],
            "train_high": old["conversion_high"], "test_leads": n_new,
            "test_conversion": new["conversion"] if new is not None else np.nan,
            "test_low": new["conversion_low"] if new is not None else np.nan,
            "test_high": new["conversion_high"] if new is not None else np.nan, "verdict": verdict,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=MINED_COLUMNS)


def _until_coverage(table: pd.DataFrame, coverage: float) -> pd.DataFrame:
    """The rules fit to propose, most accurate first (on the older leads: conversion for VIP and Standard, its
    complement for Nurture), until they cover `coverage` of the leads; the rest are left to the model."""
    fit = table[table["verdict"].eq("proposed").to_numpy()]
    nurture = fit["tier"].eq(Tier.NURTURE.value).to_numpy()
    accuracy = np.where(nurture, 1 - fit["train_conversion"], fit["train_conversion"])
    ranked = fit.assign(accuracy=accuracy).sort_values(["accuracy", "leads"], ascending=False)
    before = ranked["share"].cumsum() - ranked["share"]  # what the more accurate rules cover already
    left = ranked.index[(before >= coverage - 1e-9).to_numpy()]
    table.loc[left, "verdict"] = f"left to the model: more accurate rules cover {coverage:.0%} already"
    return table


def _judge(old: pd.Series, new: pd.Series | None, rate: float, test_rate: float, vip_lift: float) -> tuple:
    """(tier, verdict): VIP or Standard when the older leads convert clearly above the average (its Wilson
    interval above it), VIP at vip_lift times it; Nurture when clearly below; proposed when the newer leads
    are enough and fall on the same side of their own average."""
    if old["conversion_low"] > rate:
        tier = Tier.VIP.value if old["conversion"] >= vip_lift * rate else Tier.STANDARD.value
    elif old["conversion_high"] < rate:
        tier = Tier.NURTURE.value
    else:
        return pd.NA, "not clearly apart from the average"
    if new is None or new["decided"] < MIN_RULE_LEADS:
        return tier, f"fewer than {MIN_RULE_LEADS} newer leads to confirm it"
    above = tier != Tier.NURTURE.value
    if (new["conversion"] > test_rate) != above:
        return tier, "not confirmed on the newer leads"
    return tier, "proposed"


def proposal_rules(kept: pd.DataFrame) -> list[dict]:
    """The proposed rules as rulebook entries, VIP first, then Standard, then Nurture, each by conversion."""
    order = kept.assign(rank=kept["tier"].map(PRIORITY)).sort_values(["rank", "train_conversion"],
                                                                      ascending=[True, False])  # fmt: skip
    counters: dict[str, int] = {}
    out = []
    for row in order.itertuples(index=False):
        counters[row.tier] = counters.get(row.tier, 0) + 1
        out.append({
            "id": f"mined-{row.tier.lower()}-{counters[row.tier]}", "when": row.when, "tier": row.tier,
            "category": "sales", "priority": PRIORITY[row.tier],
            "description": f"mined: {row.leads:,} leads ({row.share:.1%}); converted {row.train_conversion:.1%} "
            f"[{row.train_low:.1%}-{row.train_high:.1%}] of older leads, {row.test_conversion:.1%} "
            f"[{row.test_low:.1%}-{row.test_high:.1%}] of newer",
        })  # fmt: skip
    return out


def proposal_yaml(mining: Mining, source: str) -> str:
    """The proposed rules as a YAML fragment to paste under a rulebook's `rules:` (after the rules that must win
    first: spam, support, jobs, press)."""
    if mining.proposal is None:
        return f"# no rule mined from {source} was clear enough to propose\n"
    rules = [r.model_dump(include={"id", "when", "tier", "category", "priority", "description"})
             for r in mining.proposal.rules]  # fmt: skip
    for rule in rules:
        rule["tier"] = str(rule["tier"].value)
        rule["category"] = str(rule["category"].value)
    header = (
        f"# rules mined from {source}: paste under `rules:` after the rules that must win first (spam, support,\n"
        f"# jobs, press), then run `leadrouter rules check --history ...` on the result.\n"
        f"# together they decide {mining.coverage:.1%} of the leads ({mining.test_coverage:.1%} of the newest\n"
        f"# {mining.test_leads:,}); average conversion {mining.train_rate:.1%} (older), {mining.test_rate:.1%} (newer)\n"
    )
    return header + yaml.safe_dump(rules, sort_keys=False, width=110, allow_unicode=True)
