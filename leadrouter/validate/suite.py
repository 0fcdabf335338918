"""Batch validation of the lead frame with Great Expectations: split rows into valid and quarantined.

The suite is declared in `validate.checklist`, as code versioned with the project. `validate.prepare` first
builds the checked copy (normalised and derived columns: email verdicts, E.164 phones, ISO countries, lengths,
junk flags); GX then runs one expectation per check on it, except that a check of a verdict column worked out
there is read off that column as GX would read it (gx.known_outcomes). Every failure is in the outcomes, and from
there in the report and the quarantine reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadrouter.fields import RAW_SUFFIX, configured_fields
from leadrouter.validate.checklist import checks_for
from leadrouter.validate.gx import Check, Outcome, prepare, run_checks
from leadrouter.validate.prepare import CONTACT_COLUMNS, TEXT_LIMITS, PreparedLeads
from leadrouter.validate.repairs import repair_leads

EXCERPT_LIMIT = 60
REPORT_COLUMNS = ["check", "column", "severity", "evaluated", "passed", "failed", "sample_failures", "error"]
REPAIRED_COLUMNS = ["lead_id", "field", "raw", "new", "method"]  # ValidationResult.repairs
SAMPLE_SIZE = 5


@dataclass
class ValidationResult:
    """valid: rows that may route, + phone_e164, "warnings" (the checks they fail) and "warning_reason" (each
    with field, value and fix); quarantined: one row per blocked lead; report: one row per check
    (REPORT_COLUMNS)."""

    valid: pd.DataFrame
    quarantined: pd.DataFrame
    report: pd.DataFrame
    # one row per value of a routed lead repaired before the checks (REPAIRED_COLUMNS)
    repairs: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REPAIRED_COLUMNS))

    @property
    def errors(self) -> dict[str, str]:
        """Checks that could not be evaluated (their rows were not quarantined): check name -> error."""
        failed = self.report[self.report["error"].notna()]
        return dict(zip(failed["check"], failed["error"], strict=True))


# angle brackets as escapes too: an excerpt shown in the Prefect UI, a report or Slack can open no HTML tag
# and no Slack mention (<!channel>)
_MARKUP = {"<": "\\x3c", ">": "\\x3e"}


def excerpt(value: Any, limit: int = EXCERPT_LIMIT) -> str:
    """A printable excerpt of an untrusted value: control chars and angle brackets escaped, at most `limit`
    chars."""
    if isinstance(value, str):
        text, quote = value, "'"
    elif value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return "<NA>"
    else:
        text, quote = str(value), ""
    if text.isascii() and text.isprintable() and "\\" not in text and "<" not in text and ">" not in text:
        # plain text (most values): each char is its own escape, so the excerpt is a slice
        if len(text) + 2 * len(quote) <= limit:
            return quote + text + quote
        return quote + text[: max(limit - len(quote) - 1, 0)] + "…"
    # escape per char (repr-style) so a cut can never split an escape sequence
    pieces = [_MARKUP.get(ch) or repr(ch)[1:-1] for ch in text[: limit + 1]]
    if len(text) <= limit and sum(map(len, pieces)) + 2 * len(quote) <= limit:
        return quote + "".join(pieces) + quote
    out, size = [], len(quote) + 1  # room for the opening quote and the ellipsis
    for piece in pieces:
        if size + len(piece) > limit:
            break
        out.append(piece)
        size += len(piece)
    return quote + "".join(out) + "…"


def warm_up() -> None:
    """Load Great Expectations and build the suite, so a long-lived worker's first batch routes as fast as
    the rest."""
    prepare(checks_for(configured_fields().required))


def validate_leads(frame: pd.DataFrame, required: Sequence[str] | None = None) -> ValidationResult:
    """Run the suite on a lead frame; rows failing a blocking check are quarantined, the rest may route.
    `required`: the fields a lead must have (config/fields.yaml's by default).

    Harmless formatting is repaired first (validate.repairs) and listed; reasons quote values as written,
    an unreadable one as the CRM gave it. Nothing a lead contains fails the batch: every row ends up in
    exactly one of valid and quarantined.
    """
    required = configured_fields().required if required is None else required
    checks, unread = checks_for(required), {}
    repaired, repairs = repair_leads(frame)
    if len(frame):
        prepared = PreparedLeads(repaired)
        unread = prepared.unread
        checks = checks_for(required, list(unread))
        # while worker processes check emails and phones, GX checks everything else
        early = (
            tuple(c for c in checks if c.checked_column not in CONTACT_COLUMNS) if prepared.in_workers else ()
        )
        outcomes = run_checks(_columns(prepared.early, early, repaired, unread), early) if early else {}
        checked = prepared.complete()
        late = tuple(c for c in checks if c not in early)
        outcomes |= run_checks(_columns(checked, late, repaired, unread), late)
    else:  # nothing to check: skip the slow GX import
        checked, outcomes = pd.DataFrame(index=pd.RangeIndex(0)), {c.name: Outcome() for c in checks}
    failing = {name: np.asarray(outcome.rows, dtype=np.int64) for name, outcome in outcomes.items()}
    blocked = np.zeros(len(frame), dtype=bool)
    for check in checks:
        if check.severity == "blocking":
            blocked[failing[check.name]] = True
    quote = _Quoter(frame, checked, unread)
    return ValidationResult(
        valid=_valid_rows(repaired, checked, checks, failing, ~blocked, quote),
        quarantined=_quarantined_rows(frame, checks, failing, blocked, quote),
        report=_report(frame, checks, outcomes, quote),
        repairs=_repairs_of(repairs, frame, ~blocked),
    )


def _repairs_of(repairs: pd.DataFrame, frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The repairs of the leads that route (REPAIRED_COLUMNS), values as excerpts."""
    kept = repairs[keep[repairs["position"].to_numpy(dtype=np.int64)]] if len(repairs) else repairs
    ids = _ids(frame).to_numpy()[kept["position"].to_numpy(dtype=np.int64)]
    return pd.DataFrame(
        {
            "lead_id": pd.array([_id_text(v) for v in ids], dtype="string"),
            "field": pd.array(kept["field"], dtype="string"),
            "raw": pd.array([excerpt(v) for v in kept["raw"]], dtype="string"),
            "new": pd.array([excerpt(v) for v in kept["new"]], dtype="string"),
            "method": pd.array(kept["method"], dtype="string"),
        },
        columns=REPAIRED_COLUMNS,
    )


def _columns(
    checked: pd.DataFrame, checks: tuple[Check, ...], frame: pd.DataFrame, unread: dict[str, pd.Series]
) -> pd.DataFrame:
    """Only the columns the checks test: GX copies every column each time it filters rows. A column the checked
    copy lacks (a field required only by config/fields.yaml) comes from the frame, a blank as missing. A value
    given but unreadable is not missing: its readable check reports it, its presence check passes."""
    out = checked[list(dict.fromkeys(c.checked_column for c in checks if c.checked_column in checked))]
    extra = [c.column for c in checks if c.checked_column not in checked and c.column in frame]
    for name in dict.fromkeys(extra):
        values = frame[name].reset_index(drop=True)
        blank = values.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        out = out.assign(**{name: values.mask(blank).set_axis(out.index)})
    present = {c.checked_column for c in checks if c.expectation == "ExpectColumnValuesToNotBeNull"}
    for name in [n for n in present if n in unread and n in out]:
        given = unread[name].notna().to_numpy()
        out = out.assign(**{name: out[name].astype(object).mask(given, "unreadable")})
    return out


class _Quoter:
    """Excerpts of the values reasons and samples quote, from the lead frame (or the checked copy for a derived
    column such as full_name), each made once; a value that could not be read as the CRM gave it."""

    def __init__(self, frame: pd.DataFrame, checked: pd.DataFrame, unread: dict[str, pd.Series]) -> None:
        self.frame, self.checked, self.unread = frame, checked, unread
        self.columns: dict[str, np.ndarray] = {}
        self.made: dict[tuple[str, int], str] = {}

    def __call__(self, column: str, pos: int) -> str:
        if (column, pos) not in self.made:
            self.made[column, pos] = excerpt(self._values(column)[pos])
        return self.made[column, pos]

    def _values(self, column: str) -> np.ndarray:
        if column not in self.columns:
            source = self.frame if column in self.frame.columns else self.checked
            values = source[column] if column in source.columns else pd.Series(None, index=source.index)
            values = values.to_numpy(dtype=object)
            if column in self.unread:
                written = self.unread[column].to_numpy(dtype=object, na_value=None)
                values = np.where(pd.notna(written), written, values)
            self.columns[column] = values
        return self.columns[column]


def _ids(frame: pd.DataFrame) -> pd.Series:
    return frame["lead_id"] if "lead_id" in frame else pd.Series(pd.NA, index=frame.index, dtype="string")


def _id_text(value: Any) -> str | None:
    """A lead id as text, whatever type the adapter gave it."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    return value if isinstance(value, str) else str(value)


def _valid_rows(
    frame: pd.DataFrame,
    checked: pd.DataFrame,
    checks: tuple[Check, ...],
    failing: dict,
    keep: np.ndarray,
    quote: _Quoter,
) -> pd.DataFrame:
    """The rows that may route, with phone_e164, over-long text cut to its limit, and the warnings they carry
    (check names, and each with its field, value and fix); values kept as written for validation to report
    (fields.raw_column) are left behind, reported."""
    raw = [c for c in frame.columns if isinstance(c, str) and c.endswith(RAW_SUFFIX)]
    valid = frame[keep].drop(columns=raw).reset_index(drop=True)
    e164 = checked["phone_e164"] if "phone_e164" in checked else pd.Series(pd.NA, index=checked.index)
    valid["phone_e164"] = pd.array(e164[keep], dtype="string")
    for column, limit in TEXT_LIMITS.items():
        lengths = checked.get(f"{column}_length")
        if lengths is not None and (over := (lengths[keep] > limit).to_numpy()).any():
            cut = [v[:limit] if isinstance(v, str) else v for v in valid.loc[over, column]]
            valid.loc[over, column] = pd.Series(cut, index=valid.index[over], dtype=valid[column].dtype)
    found: dict[int, list[tuple[Check, int]]] = {}
    at = np.cumsum(keep) - 1  # position in valid of each kept row
    for check in checks:
        for pos in failing[check.name][keep[failing[check.name]]]:
            found.setdefault(int(at[pos]), []).append((check, int(pos)))
    names, reasons = [pd.NA] * len(valid), [pd.NA] * len(valid)
    for row, failed in found.items():
        names[row] = "; ".join(check.name for check, _ in failed)
        reasons[row] = "; ".join(_summary(_reason(c, quote(c.column, pos)), c) for c, pos in failed)
    valid["warnings"] = pd.array(names, dtype="string")
    valid["warning_reason"] = pd.array(reasons, dtype="string")
    return valid


def _quarantined_rows(
    frame: pd.DataFrame, checks: tuple[Check, ...], failing: dict, blocked: np.ndarray, quote: _Quoter
) -> pd.DataFrame:
    """One row per blocked lead: its id, every check it failed (warnings too) and a readable summary."""
    found: dict[int, list[Check]] = {int(pos): [] for pos in np.flatnonzero(blocked)}
    for check in checks:
        for pos in failing[check.name][blocked[failing[check.name]]]:
            found[int(pos)].append(check)
    reasons = [[_reason(c, quote(c.column, pos)) for c in cs] for pos, cs in found.items()]
    summaries = ["; ".join(_summary(r, c) for r, c in zip(rs, found[pos], strict=True)) for pos, rs in
                 zip(found, reasons, strict=True)]  # fmt: skip
    return pd.DataFrame(
        {
            "lead_id": pd.array([_id_text(v) for v in _ids(frame).to_numpy()[list(found)]], dtype="string"),
            "reasons": pd.Series(reasons, dtype=object),
            "reason": pd.array(summaries, dtype="string"),
        }
    )


def _report(frame: pd.DataFrame, checks: tuple[Check, ...], outcomes: dict, quote: _Quoter) -> pd.DataFrame:
    """One row per check: how many rows it saw, passed and failed, and a few failures to look at."""
    ids, rows = _ids(frame), []
    for check in checks:
        outcome = outcomes[check.name]
        samples = [
            {"lead_id": _id_text(ids.iat[p]), "value": quote(check.column, p)}
            for p in outcome.rows[:SAMPLE_SIZE]
        ]
        n, failed = outcome.evaluated, len(outcome.rows)
        rows.append((check.name, check.column, check.severity, n, n - failed, failed, samples, outcome.error))
    report = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    report["error"] = report["error"].astype("string")
    return report


def _reason(check: Check, value: str) -> dict[str, str]:
    return dict(check=check.name, column=check.column, value=value, fix=check.fix, severity=check.severity)


def _summary(reason: dict[str, str], check: Check) -> str:
    label = check.name if check.severity == "blocking" else f"{check.name} (warning)"
    return f"{label}: {check.column}={reason['value']} {check.problem} — fix: {check.fix}"
