"""Batch validation of the lead frame with Great Expectations: split rows into valid and quarantined."""

from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

EXCERPT_LIMIT = 60
REPORT_COLUMNS = ["check", "column", "severity", "evaluated", "passed", "failed", "sample_failures", "error"]
_ROW = "_lr_row"  # positional helper column: lead_id alone cannot place rows when ids repeat or are null
# no spaces/control chars, one @, a dot in the domain; \Z because `$` would let "a@b.co\n" pass
_EMAIL_RE = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+\Z"
Severity = Literal["blocking", "warning"]


@dataclass(frozen=True)
class Check:
    """One expectation of the suite: a GX expectation on one column, with what to tell the fixer."""

    name: str
    column: str
    severity: Severity
    fix: str
    expectation: str  # class name in great_expectations.expectations
    params: tuple[tuple[str, Any], ...] = ()  # extra expectation kwargs, as pairs so Check stays hashable
    problem: str = "fails the check"  # reads after "column=value" in the reason


def _present(name: str, column: str, fix: str, severity: Severity = "blocking") -> Check:
    """A not-null check; blanks were already made null in the validated copy."""
    return Check(name, column, severity, fix, "ExpectColumnValuesToNotBeNull", problem="is missing")


SUITE: list[Check] = [
    _present("lead_id_present", "lead_id", "fix the CRM adapter: every lead needs its CRM id"),
    Check(
        "lead_id_unique", "lead_id", "blocking", "remove the duplicate rows or fix the CRM adapter",
        "ExpectColumnValuesToBeUnique", problem="appears more than once in the batch",
    ),
    _present("email_present", "email", "set an email address on the lead in the CRM"),
    Check(
        "email_format", "email", "blocking", "set a valid email address on the lead in the CRM",
        "ExpectColumnValuesToMatchRegex", (("regex", _EMAIL_RE),), problem="is not a valid email address",
    ),
    _present("company_present", "company", "set the company on the lead in the CRM"),
    _present("created_at_present", "created_at", "fix the CRM adapter: leads need a creation time"),
    Check(
        "employees_non_negative", "employees", "blocking", "correct the employee count in the CRM",
        "ExpectColumnValuesToBeBetween", (("min_value", 0),), problem="is negative",
    ),
    Check(
        "message_length", "message", "warning", "none needed: the lead routes; check the form if it recurs",
        "ExpectColumnValueLengthsToBeBetween", (("max_value", 5000),), problem="is over 5000 characters",
    ),
    _present("title_present", "title", "add the job title on the lead in the CRM", severity="warning"),
]  # fmt: skip


@dataclass
class ValidationResult:
    """valid: rows that may route (+ "warnings"); quarantined: one row per blocked lead; report: per check."""

    valid: pd.DataFrame
    quarantined: pd.DataFrame
    report: pd.DataFrame

    @property
    def errors(self) -> dict[str, str]:
        """Checks that could not be evaluated (their rows were not quarantined): check name -> error."""
        failed = self.report[self.report["error"].notna()]
        return dict(zip(failed["check"], failed["error"], strict=True))


@dataclass
class _Outcome:
    evaluated: int = 0
    rows: list[int] = field(default_factory=list)  # positions of failing rows
    error: str | None = None


_LOCK = threading.Lock()  # one shared GX context; it is not documented as thread-safe


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


@functools.lru_cache(maxsize=4)
def _suite(checks: tuple[Check, ...]) -> tuple[Any, dict[str, str]]:
    """The GX suite for `checks`, plus the checks whose expectation could not be built."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite, broken = gx.ExpectationSuite(name="leads"), {}
    for check in checks:
        try:
            kind = getattr(gxe, check.expectation)
            suite.add_expectation(kind(column=check.column, meta={"check": check.name}, **dict(check.params)))
        except Exception as exc:  # a bad check definition must not take the other checks down
            broken[check.name] = f"{type(exc).__name__}: {exc}"
    return suite, broken


def excerpt(value: Any, limit: int = EXCERPT_LIMIT) -> str:
    """A printable excerpt of an untrusted value: control chars escaped, at most `limit` chars."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return "<NA>"
    text, quote = (value, "'") if isinstance(value, str) else (str(value), "")
    # escape per char (repr-style) so a cut can never split an escape sequence
    pieces = [repr(ch)[1:-1] for ch in text[: limit + 1]]
    if len(text) <= limit and sum(map(len, pieces)) + 2 * len(quote) <= limit:
        return quote + "".join(pieces) + quote
    out, size = [], len(quote) + 1  # room for the opening quote and the ellipsis
    for piece in pieces:
        if size + len(piece) > limit:
            break
        out.append(piece)
        size += len(piece)
    return quote + "".join(out) + "…"


def _gx_frame(frame: pd.DataFrame, checks: tuple[Check, ...]) -> pd.DataFrame:
    """The checked columns as GX handles them: numbers as float/NaN, strings as object with blanks as None."""
    out: dict[str, Any] = {}
    wanted = {"lead_id", *(c.column for c in checks)}  # fewer columns: less to copy and for GX to scan
    for name in [c for c in frame.columns if c in wanted]:
        col = frame[name].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(col.dtype) or not (
            pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype)
        ):
            col = col.astype(object)
            blank = col.map(lambda v: isinstance(v, str) and not v.strip()).astype(bool)
            col = col.where(col.notna() & ~blank, None)  # "" and "   " count as missing
        elif pd.api.types.is_numeric_dtype(col.dtype):
            col = col.astype("float64")
        out[name] = col
    out[_ROW] = np.arange(len(frame))
    return pd.DataFrame(out)


def _exception(result: Any) -> str | None:
    """The error message GX caught while evaluating one expectation, if any."""
    info = result.exception_info or {}
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "unknown error")
    return None


def _run(data: pd.DataFrame, checks: tuple[Check, ...]) -> dict[str, _Outcome]:
    """Evaluate every check on the GX copy; an expectation that raises becomes an error outcome."""
    index_columns = [c for c in ("lead_id", _ROW) if c in data.columns]
    fmt = {"result_format": "COMPLETE", "unexpected_index_column_names": index_columns}
    with _LOCK:  # also makes the first, cached build of context and suite happen once
        definition = _batch_definition()  # first: building a suite needs an active GX context
        suite, broken = _suite(checks)
        outcomes = {name: _Outcome(error=msg) for name, msg in broken.items()}
        batch = definition.get_batch(batch_parameters={"dataframe": data})
        try:
            results = batch.validate(suite, result_format=fmt).results
        except Exception:  # the suite run itself failed: fall back to one expectation at a time
            results = []
            for expectation in suite.expectations:
                try:
                    results.append(batch.validate(expectation, result_format=fmt))
                except Exception as exc:
                    outcomes[expectation.meta["check"]] = _Outcome(error=f"{type(exc).__name__}: {exc}")
    for result in results:
        name, error = result.expectation_config.meta["check"], _exception(result)
        if error is None:
            rows = sorted({int(item[_ROW]) for item in result.result.get("unexpected_index_list") or []})
            if result.success or rows:
                evaluated = int(result.result.get("element_count", len(data)))
                outcomes[name] = _Outcome(evaluated=evaluated, rows=rows)
                continue
            error = (
                "failed without per-row results"  # a failure we cannot place on rows must not pass silently
            )
        outcomes[name] = _Outcome(error=error)
    for check in checks:
        outcomes.setdefault(check.name, _Outcome(error="no result from great expectations"))
    for name, outcome in outcomes.items():
        if outcome.error:
            log.warning("validation check %s could not be evaluated: %s", name, outcome.error)
    return outcomes


def validate_leads(frame: pd.DataFrame) -> ValidationResult:
    """Run SUITE on a lead frame; rows failing a blocking check are quarantined, the rest may route."""
    checks = tuple(SUITE)
    # an empty frame has nothing to check: skip the slow GX import
    outcomes = _run(_gx_frame(frame, checks), checks) if len(frame) else {c.name: _Outcome() for c in checks}
    ids = frame.get("lead_id", pd.Series(pd.NA, index=frame.index, dtype="string"))
    failures: dict[int, list[tuple[Check, str]]] = {}
    report = []
    for check in checks:
        outcome = outcomes[check.name]
        values = [excerpt(frame[check.column].iat[pos]) for pos in outcome.rows]
        for pos, value in zip(outcome.rows, values, strict=True):
            failures.setdefault(pos, []).append((check, value))
        samples = [
            {"lead_id": ids.iat[p], "value": v} for p, v in zip(outcome.rows[:5], values[:5], strict=True)
        ]
        n, failed = outcome.evaluated, len(outcome.rows)
        report.append(
            (check.name, check.column, check.severity, n, n - failed, failed, samples, outcome.error)
        )
    blocked = sorted(p for p, found in failures.items() if any(c.severity == "blocking" for c, _ in found))
    keep = sorted(set(range(len(frame))) - set(blocked))
    valid = frame.iloc[keep].reset_index(drop=True)
    warned = ["; ".join(c.name for c, _ in failures[p]) if p in failures else pd.NA for p in keep]
    valid["warnings"] = pd.array(warned, dtype="string")
    reasons = [[_reason(c, v) for c, v in failures[p]] for p in blocked]
    summaries = ["; ".join(_summary(c, v) for c, v in failures[p]) for p in blocked]
    quarantined = pd.DataFrame(
        {
            "lead_id": pd.array([ids.iat[p] for p in blocked], dtype="string"),
            "reasons": pd.Series(reasons, dtype=object),
            "reason": pd.array(summaries, dtype="string"),
        }
    )
    report_frame = pd.DataFrame(report, columns=REPORT_COLUMNS)
    report_frame["error"] = report_frame["error"].astype("string")
    return ValidationResult(valid=valid, quarantined=quarantined, report=report_frame)


def _reason(check: Check, value: str) -> dict[str, str]:
    return dict(check=check.name, column=check.column, value=value, fix=check.fix, severity=check.severity)


def _summary(check: Check, value: str) -> str:
    label = check.name if check.severity == "blocking" else f"{check.name} (warning)"
    return f"{label}: {check.column}={value} {check.problem} — fix: {check.fix}"
