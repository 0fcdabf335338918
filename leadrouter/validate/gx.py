"""The validation suite's engine: each Check becomes one Great Expectations expectation, and GX evaluates them
on the checked copy of a batch, in an ephemeral context (nothing written to disk) built once per process; a check
whose answer is known without GX (a verdict column's, a uniqueness check's) is read off (known_outcomes)."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

Severity = Literal["blocking", "warning"]


@dataclass(frozen=True)
class Check:
    """One expectation of the suite: a GX expectation on one column, with what to tell the fixer."""

    name: str
    column: str  # the lead column the reason names and quotes
    severity: Severity
    fix: str
    expectation: str  # class name in great_expectations.expectations
    params: tuple[tuple[str, Any], ...] = ()  # extra expectation kwargs, as pairs so Check stays hashable
    problem: str = "fails the check"  # reads after "column=value" in the reason
    target: str = ""  # the column of the checked copy GX tests, when it is not `column` itself

    @property
    def checked_column(self) -> str:
        return self.target or self.column


@dataclass
class Outcome:
    """What GX found for one check: rows evaluated, the failing ones, or why it could not evaluate."""

    evaluated: int = 0
    rows: list[int] = field(default_factory=list)  # positions of failing rows
    error: str | None = None


_LOCK = threading.Lock()  # one shared GX context; it is not documented as thread-safe
# GX copies an expectation's whole value set dozens of times per run (its configuration is rebuilt on every
# access), so a long set costs more than the data: membership in one is worked out here, with pandas, and GX
# checks the verdict column instead (the same rows fail, nulls are still not evaluated)
_SET_EXPECTATIONS = {"ExpectColumnValuesToBeInSet": True, "ExpectColumnValuesToNotBeInSet": False}
LONG_SET = 8
# expectations whose verdict on a row depends on that row's value alone: GX evaluates each distinct value once
# (a million-row export holds a few thousand per column) and the verdict holds for every row with that value
PER_VALUE = frozenset(
    {
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeInSet",
        "ExpectColumnValuesToNotBeInSet",
        "ExpectColumnValuesToBeBetween",
    }
)


@functools.cache
def _batch_definition() -> Any:
    """The in-memory GX context and whole-dataframe batch definition, built once per process."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")  # ephemeral: nothing is written to disk
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (
        ctx.data_sources.add_pandas("leadrouter")
        .add_dataframe_asset("leads")
        .add_batch_definition_whole_dataframe("batch")
    )


def _long_set(check: Check) -> tuple[frozenset, bool] | None:
    """(the values, whether a row must be in them) for a set check whose value set is long, else None."""
    values = dict(check.params).get("value_set")
    if check.expectation in _SET_EXPECTATIONS and values is not None and len(values) > LONG_SET:
        return frozenset(values), _SET_EXPECTATIONS[check.expectation]
    return None


def _verdict_column(check: Check) -> str:
    return f"{check.checked_column}__{check.name}"


def _with_set_verdicts(data: pd.DataFrame, checks: tuple[Check, ...]) -> pd.DataFrame:
    """data plus, for each long set check, whether each value passes it (<NA> where the value is null)."""
    verdicts = {}
    for check in checks:
        if (long_set := _long_set(check)) is not None and check.checked_column in data.columns:
            values, must_be_in = long_set
            column = data[check.checked_column]
            passed = column.isin(values) if must_be_in else ~column.isin(values)
            verdicts[_verdict_column(check)] = pd.array(passed, dtype="boolean").copy()
            verdicts[_verdict_column(check)][column.isna().to_numpy()] = pd.NA
    return data.assign(**verdicts) if verdicts else data


def _expectation(gxe: Any, check: Check) -> Any:
    """The GX expectation of one check; a long set check tests its verdict column."""
    kind = getattr(gxe, check.expectation)
    if _long_set(check) is not None:
        kind, column, params = gxe.ExpectColumnValuesToBeInSet, _verdict_column(check), {"value_set": [True]}
    else:
        column = check.checked_column
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in check.params}
    return kind(column=column, meta={"check": check.name}, **params)


@functools.lru_cache(maxsize=8)
def _suite(checks: tuple[Check, ...]) -> tuple[Any, dict[str, str]]:
    """The GX suite for `checks`, plus the checks whose expectation could not be built."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite, broken = gx.ExpectationSuite(name="leads"), {}
    for check in checks:
        try:
            suite.add_expectation(_expectation(gxe, check))
        except Exception as exc:  # a bad check definition must not take the other checks down
            broken[check.name] = f"{type(exc).__name__}: {exc}"
    return suite, broken


def prepare(checks: tuple[Check, ...]) -> None:
    """Build the GX context and the suite now: seconds, once per process, that no batch should wait for."""
    with _LOCK:
        _batch_definition()
        _suite(checks)


def _exception(result: Any) -> str | None:
    """The error message GX caught while evaluating one expectation, if any."""
    info = result.exception_info or {}
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "unknown error")
    return None


def run_checks(data: pd.DataFrame, checks: tuple[Check, ...]) -> dict[str, Outcome]:
    """Evaluate every check on the checked copy; an expectation that raises becomes an error outcome.

    data has a positional index, which GX hands back for the failing rows: asking it for index columns
    instead costs a Python loop per failing row. A per-value check (PER_VALUE) is evaluated by GX on each
    distinct value of its column once (distinct_rows), and its verdict spread to every row holding the value.
    """
    data = _with_set_verdicts(data, checks)
    known = known_outcomes(data, checks)
    checks = tuple(c for c in checks if c.name not in known)
    per_value = tuple(c for c in checks if c.expectation in PER_VALUE) if len(data) else ()
    compact, rows_of = distinct_rows(data, per_value)
    if len(compact) >= len(data):
        # nothing repeats (a webhook's one lead): one GX validation of the whole frame, not two of one row each
        per_value = ()
    whole = tuple(c for c in checks if c not in per_value)
    outcomes: dict[str, Outcome] = {}
    with _LOCK:  # also makes the first, cached build of context and suite happen once
        definition = _batch_definition()  # first: building a suite needs an active GX context
        if per_value:
            for name, outcome in _validate(definition, per_value, compact).items():
                if outcome.error is None:
                    outcome = Outcome(len(data), rows_of[_gx_column(per_value, name)](outcome.rows))
                outcomes[name] = outcome
        if whole:
            outcomes |= _validate(definition, whole, data)
    outcomes |= known
    for name, outcome in outcomes.items():
        if outcome.error:
            log.warning("validation check %s could not be evaluated: %s", name, outcome.error)
    return outcomes


def known_outcomes(data: pd.DataFrame, checks: tuple[Check, ...]) -> dict[str, Outcome]:
    """The outcomes GX would find that are known without it, each found as GX finds it (nulls not evaluated):
    a check of a verdict column (a boolean that must be True: prepare_leads's and the long sets') fails the rows
    holding False, and a uniqueness check on a column with no value twice fails none. GX spends a metric graph
    per check (most of a one-lead run) to find the same rows; any other check, or one on a column that is
    missing or of another type, is left to GX, which reports it as before."""
    known = {}
    for check in checks:
        column = data.get(_gx_column(checks, check.name))
        if not isinstance(column, pd.Series):
            continue
        if _tests_verdict(check) and (column.dtype == bool or isinstance(column.dtype, pd.BooleanDtype)):
            failed = ~column.to_numpy(dtype=bool, na_value=True)
            known[check.name] = Outcome(len(data), np.flatnonzero(failed).tolist())
        elif check.expectation == "ExpectColumnValuesToBeUnique" and not check.params and _no_repeats(column):
            known[check.name] = Outcome(len(data), [])
    return known


def _no_repeats(column: pd.Series) -> bool:
    """Whether no present value appears twice, by GX's own test (pandas' duplicated); unsure is no."""
    try:
        return not column.dropna().duplicated().any()
    except Exception:  # an unhashable value: GX says what it makes of it
        return False


def _tests_verdict(check: Check) -> bool:
    """Whether GX would test a verdict column for being True (a long set check tests the one it adds)."""
    (key, values), *others = check.params or (("", ()),)
    only_true = key == "value_set" and isinstance(values, tuple) and len(values) == 1 and values[0] is True
    plain = check.expectation == "ExpectColumnValuesToBeInSet" and only_true and not others
    return plain or _long_set(check) is not None


def _gx_column(checks: tuple[Check, ...], name: str) -> str:
    """The column of the frame GX gets that the check `name` tests."""
    check = next(c for c in checks if c.name == name)
    return _verdict_column(check) if _long_set(check) is not None else check.checked_column


def distinct_rows(
    data: pd.DataFrame, checks: tuple[Check, ...]
) -> tuple[pd.DataFrame, dict[str, Callable[[list[int]], list[int]]]]:
    """The frame GX evaluates the per-value checks on: for each column they test, one row per distinct value
    (null included; for a column only checked for nulls, one null and one non-null row), padded to the longest
    column by repeating its first row; and per column, a function from failing rows of that frame to the rows
    of data holding the same values."""
    tested: dict[str, list[Check]] = {}
    for check in checks:
        tested.setdefault(_gx_column(checks, check.name), []).append(check)
    picks, spread = {}, {}
    for name, on in tested.items():
        if name not in data:  # GX reports the missing column, as on the whole frame
            continue
        if all(c.expectation == "ExpectColumnValuesToNotBeNull" for c in on):
            codes = data[name].isna().to_numpy().astype(np.int64)
        else:
            codes = pd.factorize(data[name], use_na_sentinel=False)[0]
        classes, first = np.unique(codes, return_index=True)
        picks[name] = first
        spread[name] = functools.partial(_rows_of, codes, classes)
    length = max((len(p) for p in picks.values()), default=0)
    compact = pd.DataFrame(
        {
            name: data[name].take(np.concatenate([first, np.repeat(first[:1], length - len(first))])).array
            for name, first in picks.items()
        },
        index=pd.RangeIndex(length),
    )
    return compact, spread


def _rows_of(codes: np.ndarray, classes: np.ndarray, failing: list[int]) -> list[int]:
    """Rows of data whose class is that of a failing row of the compact frame (a padding row is its first)."""
    at = np.asarray(failing, dtype=np.int64)
    hit = classes[np.where(at < len(classes), at, 0)]
    return np.flatnonzero(np.isin(codes, hit)).tolist()


def _validate(definition: Any, checks: tuple[Check, ...], data: pd.DataFrame) -> dict[str, Outcome]:
    """GX's verdict on each check over data: failing rows as positions, or why it could not evaluate."""
    fmt = {"result_format": "COMPLETE"}
    suite, broken = _suite(checks)
    outcomes = {name: Outcome(error=msg) for name, msg in broken.items()}
    batch = definition.get_batch(batch_parameters={"dataframe": data})
    try:
        results = batch.validate(suite, result_format=fmt).results
    except Exception:  # the suite run itself failed: fall back to one expectation at a time
        results = []
        for expectation in suite.expectations:
            try:
                results.append(batch.validate(expectation, result_format=fmt))
            except Exception as exc:
                outcomes[expectation.meta["check"]] = Outcome(error=f"{type(exc).__name__}: {exc}")
    for result in results:
        name, error = result.expectation_config.meta["check"], _exception(result)
        if error is None:
            rows = sorted({int(i) for i in result.result.get("unexpected_index_list") or []})
            if result.success or rows:
                outcomes[name] = Outcome(
                    evaluated=int(result.result.get("element_count", len(data))), rows=rows
                )
                continue
            error = (
                "failed without per-row results"  # a failure we cannot place on rows must not pass silently
            )
        outcomes[name] = Outcome(error=error)
    for check in checks:
        outcomes.setdefault(check.name, Outcome(error="no result from great expectations"))
    return outcomes
