"""A small, safe condition language over lead columns, compiled to vectorised pandas operations.

    employees >= 500 and matches(title, "(?i)\\bvp\\b|chief") and country in ("US", "CA")

Python's parser reads the text; only the node types below are accepted, so nothing in a rulebook ever runs
as code. Nulls never match a comparison: `employees > 10` is False where employees is null.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

Evaluator = Callable[[pd.DataFrame], pd.Series]

_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


class ExpressionError(ValueError):
    """The condition text is not valid in the rule language."""


class Condition:
    """A compiled condition: call it on a frame to get a boolean mask."""

    def __init__(
        self, text: str, columns: Iterable[str], named: Mapping[str, Condition] | None = None
    ) -> None:
        self.text = text
        self.columns: set[str] = set()
        self.names: set[str] = set()  # the named conditions it uses
        self.text_columns: set[str] = set()  # columns read by matches() and contains()
        self._known = set(columns)
        self._named = dict(named or {})
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"cannot parse {text!r}: {exc.msg}") from exc
        self._evaluate = self._compile(tree.body)

    def __call__(self, frame: pd.DataFrame) -> pd.Series:
        mask = self._evaluate(frame)
        if not isinstance(mask, pd.Series):  # a bare literal such as `True`
            mask = pd.Series(bool(mask), index=frame.index)
        return _mask(mask, frame)

    def _compile(self, node: ast.expr) -> Evaluator:
        if isinstance(node, ast.BoolOp):
            parts = [self._compile(v) for v in node.values]
            combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_
            return lambda f: _reduce(combine, [_mask(p(f), f) for p in parts])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self._compile(node.operand)
            return lambda f: ~_mask(inner(f), f)
        if isinstance(node, ast.Compare):
            return self._compile_compare(node)
        if isinstance(node, ast.Call):
            return self._compile_call(node)
        if isinstance(node, ast.Name):
            return self._column(node.id)
        if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool | None):
            value = node.value
            return lambda f: value
        raise ExpressionError(f"{ast.unparse(node)!r} is not allowed in a condition")

    def _compile_compare(self, node: ast.Compare) -> Evaluator:
        left = self._compile(node.left)
        checks: list[Evaluator] = []
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(right_node, ast.Tuple | ast.List | ast.Set):
                    raise ExpressionError(f"`in` needs a list of values: {ast.unparse(node)!r}")
                values = [_literal(v) for v in right_node.elts]
                negate = isinstance(op, ast.NotIn)
                checks.append(lambda f, lhs=left, vs=values, neg=negate: _isin(lhs(f), vs, neg))
            elif type(op) in _COMPARE:
                right = self._compile(right_node)
                fn = _COMPARE[type(op)]
                checks.append(lambda f, lhs=left, rhs=right, fn=fn: fn(lhs(f), rhs(f)))
                left = right
            else:
                raise ExpressionError(f"operator in {ast.unparse(node)!r} is not allowed")
        return lambda f: _reduce(operator.and_, [_mask(c(f), f) for c in checks])

    def _compile_call(self, node: ast.Call) -> Evaluator:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        args = node.args
        if node.keywords or name not in FUNCTIONS or len(args) != FUNCTIONS[name]:
            raise ExpressionError(
                f"{ast.unparse(node)!r}: functions are {', '.join(f'{k}/{n}' for k, n in FUNCTIONS.items())}"
            )
        column = self._compile(args[0])
        if name in ("matches", "contains") and isinstance(args[0], ast.Name):
            self.text_columns.add(args[0].id)
        if name == "is_null":
            return lambda f: _series(column(f), f).isna()
        if name == "not_null":
            return lambda f: _series(column(f), f).notna()
        pattern = _literal(args[1])
        if not isinstance(pattern, str):
            raise ExpressionError(f"{ast.unparse(node)!r}: the second argument must be a string")
        if name == "contains":
            return lambda f: _arrow_mask(
                pc.match_substring(_arrow(_series(column(f), f)), pattern, ignore_case=True), f.index
            )
        if any(ch in pattern for ch in "\b\f\v"):
            raise ExpressionError(
                f'{ast.unparse(node)!r}: write regular expressions as r"..." so \\b means a word boundary'
            )
        _check_re2(pattern)
        return lambda f: re2_matches(_series(column(f), f), pattern)

    def _column(self, name: str) -> Evaluator:
        if name in self._named:  # a condition the rulebook defined once and named
            condition = self._named[name]
            self.names.add(name)
            self.columns |= condition.columns
            self.text_columns |= condition.text_columns
            key = named_column(name)  # evaluated once per batch when the caller precomputed it
            return lambda f: f[key] if key in f.columns else condition(f)
        if name not in self._known:
            raise ExpressionError(f"unknown column {name!r}")
        self.columns.add(name)
        return lambda f: f[name]


def named_column(name: str) -> str:
    """Where a batch may hold a named condition's precomputed mask."""
    return f"__named__{name}"


FUNCTIONS = {"matches": 2, "contains": 2, "is_null": 1, "not_null": 1}


def _literal(node: ast.expr) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
    ):
        if not isinstance(node.operand.value, int | float):
            raise ExpressionError(f"{ast.unparse(node)!r} is not a number")
        return -node.operand.value
    raise ExpressionError(f"{ast.unparse(node)!r} must be a literal value")


def _series(value: object, frame: pd.DataFrame) -> pd.Series:
    return value if isinstance(value, pd.Series) else pd.Series(value, index=frame.index)


def _check_re2(pattern: str) -> None:
    """Rules match with RE2 (Arrow's engine): linear time whatever the text, so no rule can stall a batch.
    It has no lookarounds or backreferences, and its \\b and \\w are ASCII (use \\pL for any letter)."""
    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except pa.ArrowInvalid as exc:
        problem = str(exc).partition("Invalid regular expression: ")[2] or str(exc)
        raise ExpressionError(
            f"bad regular expression {pattern!r}: {problem} (RE2 syntax: no lookarounds or backreferences)"
        ) from exc


def _arrow(text: pd.Series) -> pa.ChunkedArray | pa.Array:
    """A column as Arrow strings (zero-copy when the frame already holds Arrow-backed strings)."""
    return pa.array(text.astype("string[pyarrow]").array)


def re2_matches(text: pd.Series, pattern: str) -> pd.Series:
    """Which values hold a match of pattern, read by RE2 in linear time (null never matches)."""
    return _arrow_mask(pc.match_substring_regex(_arrow(text), pattern), text.index)


def _arrow_mask(result: pa.ChunkedArray | pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pc.fill_null(result, False).to_numpy(zero_copy_only=False), index=index, dtype=bool)


def _mask(value: object, frame: pd.DataFrame) -> pd.Series:
    """A plain bool mask: null is False (nulls never match), so `not` of a null comparison is True."""
    series = _series(value, frame)
    if series.dtype == bool:
        return series
    if isinstance(series.dtype, pd.BooleanDtype):  # the common case, without two intermediate copies
        return pd.Series(series.to_numpy(dtype=bool, na_value=False), index=series.index)
    return series.astype("boolean").fillna(False).astype(bool)


def _isin(values: pd.Series, options: list[object], negate: bool) -> pd.Series:
    hit = values.isin(options)
    return (~hit & values.notna()) if negate else hit


def _reduce(fn: Callable[[pd.Series, pd.Series], pd.Series], masks: list[pd.Series]) -> pd.Series:
    out = masks[0]
    for m in masks[1:]:
        out = fn(out, m)
    return out
