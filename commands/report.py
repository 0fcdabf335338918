"""`leadrouter report`: the outcome report as an HTML page with PNG charts and CSV tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from commands.console import console, fail
from leadrouter import clock
from leadrouter.config import Settings
from leadrouter.inert import terminal


def report(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write index.html, the PNG charts and CSVs to")
    ],
    backtest: Annotated[
        Path | None,
        typer.Option(
            help="Render this `leadrouter backtest --out` folder instead of the ledger", metavar="FOLDER"
        ),
    ] = None,
    since: Annotated[
        int | None, typer.Option(help="Only leads decided in the last DAYS days", metavar="DAYS")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Ledger source (default: the configured CRM)")] = None,
) -> None:
    """Write the outcome report: tiers against the operating thresholds, conversion and speed to lead,
    VIP precision and recall, Nurture leads that turned hot, rules to re-tier, reps and weeks; for a backtest
    folder also outcomes by historical owner and the leads left for review, one report per rulebook."""
    if backtest is not None:
        _backtest_report(backtest, out)
        return
    from leadrouter.outcomes.join import analyst_tables
    from leadrouter.outcomes.report import write_report
    from leadrouter.outcomes.stored import decided_since, stored_outcomes
    from leadrouter.store import open_store
    from leadrouter.store.outcomes import read_rates

    settings = Settings()
    now = pd.Timestamp(clock.routing_now(settings))
    if since is not None and since <= 0:
        fail(f"--since must be a positive number of days, not {since}", code=2)
    with open_store(settings.store_url) as store:
        frame, origin = stored_outcomes(store, source or settings.crm)
        rates = read_rates(store)
    if since is not None:
        frame = decided_since(frame, now, since)
    if frame.empty:
        window = f" in the last {since} days" if since is not None else ""
        fail(f"no routed leads from {source or settings.crm}{window}: nothing to report")
    page = write_report(analyst_tables(frame, rates=rates), frame, out, as_of=now, rates=rates)
    console.print(
        f"wrote {terminal(str(page), urls=True)}: {len(frame):,} leads, from {terminal(origin, urls=True)}"
    )


def _backtest_report(folder: Path, out: Path) -> None:
    from leadrouter.backtest.report import BacktestFolderError, write_backtest_report

    try:
        pages = write_backtest_report(folder, out)
    except BacktestFolderError as exc:
        fail(str(exc), code=2)
    for page, leads in pages:
        console.print(
            f"wrote {terminal(str(page), urls=True)}: {leads:,} leads, from {terminal(str(folder), urls=True)}"
        )
