"""The per-lead outcome frame and the analyst tables as the outcome loop saves them, read back for the report
and retraining."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

import pandas as pd

from leadrouter.outcomes.hindsight import hindsight
from leadrouter.outcomes.join import (
    DIMENSIONS,
    LEAD_OUTCOME_COLUMNS,
    analyst_tables,
    headline,
    lead_outcomes,
)
from leadrouter.outcomes.reps import owner_stints, owner_tables
from leadrouter.outcomes.tables import long_metrics
from leadrouter.store import Store
from leadrouter.store.outcomes import read_analyst_table, read_inputs, read_rates, replace_analyst_tables

Tables = dict[str, pd.DataFrame]
Headline = dict[str, float | None]
LOOP_DIMENSIONS = [d for d in DIMENSIONS if d != "owner_id"]  # owners: the rep and queue tables instead


def build_outcomes(store: Store, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The source's per-lead outcome frame (lead_outcomes) and its owners' stints (reps.owner_stints: each lead
    once for every owner who had it), from one read of the ledger."""
    inputs = read_inputs(store, source)
    frame = lead_outcomes(**inputs)
    return frame, owner_stints(frame, inputs["decisions"], inputs["events"])


def fx_rates(store: Store) -> pd.DataFrame:
    """The user's fx_rates rows: what converts deal amounts into the base currency (leadrouter.outcomes.money)."""
    return read_rates(store)


def loop_tables(
    frame: pd.DataFrame, stints: pd.DataFrame, queues: Collection[str], rates: pd.DataFrame | None = None
) -> Tables:
    """The outcome loop's analyst tables: the per-lead dimensions but the owner (a lead's routing choice, queues
    and reps mixed), then the rep and queue tables of the stints (reps.owner_tables); amounts across currencies
    through rates (fx_rates' rows: read_rates)."""
    return analyst_tables(frame, LOOP_DIMENSIONS, rates) | owner_tables(stints, queues, rates)


def save_outcome_tables(
    store: Store,
    source: str,
    frame: pd.DataFrame,
    tables: Tables,
    at: datetime,
    minutes: Mapping[str, float],
    rates: pd.DataFrame,
) -> Headline:
    """The analyst tables (loop_tables) and the headline figures of a per-lead outcome frame as of `at`, saved in
    place of the source's last ones (each lead with its hindsight tier, the figures in long form, judged with
    minutes: tier -> response SLA; one VIP cut across currencies through rates, fx_rates' rows, as the fact
    table's); the headline returned for publishing."""
    figures = headline(frame, as_of=at, rates=rates)
    leads = frame.assign(hindsight_tier=hindsight(frame, reasons=False, rates=rates)["hindsight"])
    replace_analyst_tables(store, source, leads, long_metrics(tables, figures, minutes), at)
    return figures


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
