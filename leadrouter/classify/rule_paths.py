"""A fitted decision tree's leaves as conditions of the rulebook's language: each path from the root to a leaf
is one `and` of at most the tree's depth, a column's tests merged, thresholds rounded as a person writes them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from sklearn.tree import DecisionTreeClassifier

WHOLE = "whole"  # a numeric feature whose values are whole numbers: `> 3.5` is `>= 4` exactly


@dataclass(frozen=True)
class Split:
    """One test of a path: `column op value` (op: ">=", "<", "==", "!=")."""

    column: str
    op: str
    value: object


def leaf_paths(tree: DecisionTreeClassifier, features: list[Split]) -> list[list[Split]]:
    """Each leaf's path from the root, as the splits the rule language writes."""
    inner = tree.tree_
    out: list[list[Split]] = []

    def walk(node: int, path: list[Split]) -> None:
        left, right = inner.children_left[node], inner.children_right[node]
        if left == right:  # a leaf
            out.append(path)
            return
        feature = features[inner.feature[node]]
        if feature.op == ">=":
            threshold = float(inner.threshold[node])  # the tree's right branch is `> threshold`
            bound = round_threshold(math.ceil(threshold) if feature.value == WHOLE else threshold)
            walk(left, [*path, Split(feature.column, "<", bound)])
            walk(right, [*path, Split(feature.column, ">=", bound)])
        else:
            walk(left, [*path, Split(feature.column, "!=", feature.value)])
            walk(right, [*path, Split(feature.column, "==", feature.value)])

    walk(0, [])
    return out


def round_threshold(value: float) -> float | int:
    """A round number near value, in steps of half its leading digit's place (187.5 -> 200, 0.37 -> 0.35,
    10.5 -> 10), so a threshold reads as a person would write it."""
    if value == 0 or not math.isfinite(value):
        return 0
    step = 10 ** math.floor(math.log10(abs(value))) / 2
    rounded = round(round(value / step) * step, 10)
    return int(rounded) if float(rounded).is_integer() else rounded


def condition_text(path: list[Split]) -> str:
    """A path as one condition of the rule language: a column's bounds merged, its excluded values listed
    once (`not col == v`, `not col in (...)`: these keep blank values, as the tree did), a value named with `==` dropping the
    excluded ones."""
    parts: list[str] = []
    for column in dict.fromkeys(s.column for s in path):
        splits = [s for s in path if s.column == column]
        equal = [s.value for s in splits if s.op == "=="]
        low = [s.value for s in splits if s.op == ">="]
        high = [s.value for s in splits if s.op == "<"]
        if equal:
            parts.append(f"{column} == {_literal(equal[0])}")
        elif len(excluded := [s.value for s in splits if s.op == "!="]) == 1:
            parts.append(f"not {column} == {_literal(excluded[0])}")
        elif excluded:
            parts.append(f"not {column} in ({', '.join(_literal(v) for v in excluded)})")
        if low:
            parts.append(f"{column} >= {_literal(max(low))}")
        if high:
            parts.append(f"{column} < {_literal(min(high))}")
    return " and ".join(parts)


def _literal(value: object) -> str:
    """A value as the rule language writes it: a string quoted with every quote, backslash and control
    character escaped (lead data may hold any), else Python's spelling (True, 3.5)."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
