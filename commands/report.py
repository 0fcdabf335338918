"""`leadrouter report`: the outcome report as an HTML page with PNG charts and CSV tables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.markup import escape

from commands.console import console, fail
from leadrouter import clock
from leadrouter.config import Settings

if TYPE_CHECKING:
    from leadrouter.store import Store


def stored_outcomes(store: Store, source: str, compute_if_missing: bool = True) -> tuple[pd.DataFrame, str]:
    """The source's per-lead outcome frame (LEAD_OUTCOME_COLUMNS) as the outcome loop last saved it; before
    its first run, built from the ledger now (deals unknown yet) unless compute_if_missing is False (then
    empty). Also says which of the two it is."""
    from leadrouter.outcomes.join import LEAD_OUTCOME_COLUMNS, lead_outcomes
    from leadrouter.store.outcomes import read_analyst_table, read_inputs

    saved = read_analyst_table(store, source)
    if not saved.empty:
        computed = saved["computed_at"].max()
        frame = saved[list(LEAD_OUTCOME_COLUMNS)].astype(LEAD_OUTCOME_COLUMNS)
        return frame, f"outcome tables of {computed:%Y-%m-%d %H:%M} UTC"
    if not compute_if_missing:
        return saved.reindex(columns=list(LEAD_OUTCOME_COLUMNS)).astype(
            LEAD_OUTCOME_COLUMNS
        ), "no outcome tables"
    return lead_outcomes(
        **read_inputs(store, source)
    ), "the ledger (the outcome loop has not run: no deals yet)"


def report(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write index.html, the PNG charts and CSVs to")
    ],
    since: Annotated[
        int | None, typer.Option(help="Only leads decided in the last DAYS days", metavar="DAYS")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Ledger source (default: the configured CRM)")] = None,
) -> None:
    """Write the outcome report: tiers against the operating thresholds, conversion and speed to lead,
    VIP precision and recall, Nurture leads that turned hot, rules to re-tier, reps and weeks."""
    from leadrouter.outcomes.join import analyst_tables
    from leadrouter.outcomes.report import write_report
    from leadrouter.store import open_store

    settings = Settings()
    now = pd.Timestamp(clock.routing_now(settings))
    if since is not None and since <= 0:
        fail(f"--since must be a positive number of days, not {since}", code=2)
    with open_store(settings.store_url) as store:
        frame, origin = stored_outcomes(store, source or settings.crm)
    if since is not None:
        frame = frame[(frame["decided_at"] >= now - timedelta(days=since)).to_numpy()].reset_index(drop=True)
    if frame.empty:
        window = f" in the last {since} days" if since is not None else ""
        fail(f"no routed leads from {source or settings.crm}{window}: nothing to report")
    page = write_report(analyst_tables(frame), frame, out, as_of=now)
    console.print(f"wrote {escape(str(page))}: {len(frame):,} leads, from {escape(origin)}")
