"""The per-lead outcome frame and the analyst tables as the outcome loop saves them, read back for the report
and retraining."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from leadrouter.outcomes.hindsight import hindsight
from leadrouter.outcomes.join import (
    LEAD_OUTCOME_COLUMNS,
    analyst_tables,
    headline,
    lead_outcomes,
)
from leadrouter.outcomes.tables import long_metrics
from leadrouter.store import Store
from leadrouter.store.outcomes import read_analyst_table, read_inputs, replace_analyst_tables

Tables = dict[str, pd.DataFrame]
Headline = dict[str, float | None]


def save_outcome_tables(
    store: Store, source: str, frame: pd.DataFrame, at: datetime
) -> tuple[Tables, Headline]:
    """The analyst tables and the headline figures of a per-lead outcome frame as of `at`, saved in place of the
    source's last ones (each lead with its hindsight tier, the figures in long form); returned for publishing."""
    tables, figures = analyst_tables(frame), headline(frame, as_of=at)
    leads = frame.assign(hindsight_tier=hindsight(frame)["hindsight"])
    replace_analyst_tables(store, source, leads, long_metrics(tables, figures), at)
    return tables, figures


def stored_outcomes(store: Store, source: str, compute_if_missing: bool = True) -> tuple[pd.DataFrame, str]:
    """The source's per-lead outcome frame (LEAD_OUTCOME_COLUMNS) as the outcome loop last saved it; before
    its first run, built from the ledger now (deals unknown yet) unless compute_if_missing is False (then
    empty). Also says which of the two it is."""
    saved = read_analyst_table(store, source)
    if not saved.empty:
        computed = saved["computed_at"].max()
        frame = saved[list(LEAD_OUTCOME_COLUMNS)].astype(LEAD_OUTCOME_COLUMNS)
        return frame, f"outcome tables of {computed:%Y-%m-%d %H:%M} UTC"
    if not compute_if_missing:
        empty = saved.reindex(columns=list(LEAD_OUTCOME_COLUMNS)).astype(LEAD_OUTCOME_COLUMNS)
        return empty, "no outcome tables"
    computed = lead_outcomes(**read_inputs(store, source))
    return computed, "the ledger (the outcome loop has not run: no deals yet)"


def decided_since(frame: pd.DataFrame, now: datetime, days: int) -> pd.DataFrame:
    """The leads of an outcome frame decided in the last `days` days before `now`."""
    recent = frame["decided_at"] >= pd.Timestamp(now) - timedelta(days=days)
    return frame[recent.to_numpy()].reset_index(drop=True)
