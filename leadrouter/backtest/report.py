"""A backtest's output folder (`leadrouter backtest --out`) as the outcome report: each rulebook's replayed
leads read back from its leads.csv, the replay's tables (by lead source, by historical owner) and the leads
left for review with the model's suggestion and confidence, as HTML with PNG charts and CSVs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadrouter.backtest.outcome_frame import replay_tables
from leadrouter.backtest.replay import LEAD_EXTRAS, REVIEW_COLUMNS
from leadrouter.outcomes.display import amount, metric_table
from leadrouter.outcomes.join import LEAD_OUTCOME_COLUMNS
from leadrouter.outcomes.notes import EMPTY
from leadrouter.outcomes.report import Section, write_report
from leadrouter.schema import UTC_TS

LEADS_FILE = "leads.csv"
REVIEW_ROWS = 50  # leads left for review listed on the page (review.csv has them all)
# the replay's columns beside the outcome frame's (leadrouter.backtest.replay.Replay.leads)
REPLAY_COLUMNS = {
    **LEAD_OUTCOME_COLUMNS,
    "row": "Int64",
    "historical_owner": "string",
    "historical_owner_id": "string",
    "hindsight": "string",
    "hindsight_reason": "string",
    "deal_state": "string",
    **LEAD_EXTRAS,
}


class BacktestFolderError(ValueError):
    """The folder holds no backtest output; the message names the folder and the fix."""


def replay_folders(folder: Path) -> list[Path]:
    """The rulebook folders of a backtest output folder (or the folder itself when it is one), by name."""
    if (folder / LEADS_FILE).is_file():
        return [folder]
    found = sorted(p.parent for p in folder.glob(f"*/{LEADS_FILE}"))
    if not found:
        raise BacktestFolderError(
            f"{folder} has no {LEADS_FILE} in it or in a sub-folder: give the folder "
            "`leadrouter backtest --out` wrote"
        )
    return found


def read_replay(folder: Path) -> pd.DataFrame:
    """A rulebook folder's leads.csv as the replay's lead frame, in REPLAY_COLUMNS' types."""
    path = folder / LEADS_FILE
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in REPLAY_COLUMNS if c not in raw.columns]
    if missing:
        raise BacktestFolderError(
            f"{path} has no column {missing[0]!r}: write it again with this version's `leadrouter backtest --out`"
        )
    text = raw[list(REPLAY_COLUMNS)].replace("", None)
    out = pd.DataFrame(index=text.index)
    for name, dtype in REPLAY_COLUMNS.items():
        out[name] = _typed(text[name], dtype)
    return out


def _typed(values: pd.Series, dtype: str) -> pd.Series:
    if dtype == "bool":
        return values.eq("True").fillna(False).astype(bool)
    if dtype == UTC_TS:
        return pd.to_datetime(values, utc=True, format="ISO8601").astype(UTC_TS)
    if dtype == "object":  # the week: a date
        return pd.to_datetime(values, format="ISO8601").dt.date.where(values.notna(), None)
    if dtype in ("float64", "Float64", "Int64"):
        return pd.to_numeric(values).astype(dtype)
    return values.astype(dtype)


def review_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Leads left for review, in display strings: the model's suggested tier and confidence, and the outcome."""
    shown = frame[frame["tier"].isna()].sort_values("row").head(REVIEW_ROWS)
    return pd.DataFrame(
        {
            "lead": shown["lead_id"].astype(str),
            "row": shown["row"].map(lambda r: EMPTY if pd.isna(r) else f"{r}"),
            "lead source": shown["lead_source"].fillna(EMPTY).astype(str),
            "suggested tier": shown["suggested_tier"].fillna(EMPTY).astype(str),
            "confidence": shown["confidence"].map(lambda c: EMPTY if pd.isna(c) else f"{c:.2f}"),
            "why review": shown["review_reason"].fillna("").astype(str),
            "outcome": shown["deal_state"].fillna(EMPTY).astype(str).where(shown["opportunity"], "no deal"),
            "pipeline": shown["pipeline"].map(amount),
        }
    )


def backtest_sections(
    tables: dict[str, pd.DataFrame], frame: pd.DataFrame
) -> tuple[tuple[Section, pd.DataFrame | None], ...]:
    """The replay's own sections: outcomes by historical owner, and the leads left for review."""
    owners = tables["historical_owner"]
    off_roster = int(owners["roster_id"].isna().sum())
    review = frame[frame["tier"].isna()]
    confident = review["confidence"].dropna()
    review_note = (
        f"{len(review):,} leads were left for review; the model suggested a tier for "
        f"{int(review['suggested_tier'].notna().sum()):,}"
        + (f" (median confidence {confident.median():.2f})" if len(confident) else "")
        + (f". The first {REVIEW_ROWS} are listed." if len(review) > REVIEW_ROWS else ".")
    )
    owner_note = (
        f"Outcomes of the leads as they were owned then: {len(owners):,} historical owners, {off_roster:,} of "
        "them not on the roster (roster id empty)."
    )
    shown = metric_table(owners.drop(columns="roster_id"))
    shown.insert(1, "roster id", owners["roster_id"].fillna("").astype(str))
    return (
        (Section("By historical owner", owner_note, table=shown, csv=["by_historical_owner.csv"]), None),
        (
            Section("Leads left for review", review_note, table=review_table(frame), csv=["review.csv"]),
            review.sort_values("row")[REVIEW_COLUMNS],
        ),
    )


def write_backtest_report(folder: Path, out: Path) -> list[tuple[Path, int]]:
    """One report per rulebook of a backtest output folder: out/<rulebook>/index.html (out/index.html for a
    single rulebook folder). Returns each page and its lead count."""
    folders = replay_folders(folder)
    pages = []
    for replay in folders:
        frame = read_replay(replay)
        tables = replay_tables(frame)
        target = out if folders == [folder] else out / replay.name
        title = f"Backtest report: {replay.name}"
        extra = backtest_sections(tables, frame)
        pages.append((write_report(tables, frame, target, title=title, extra=extra), len(frame)))
    return pages
