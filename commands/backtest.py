"""`leadrouter backtest`: replay a CRM export through one or two rulebooks, writing nothing, and compare."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.progress import Progress as RichProgress
from rich.table import Table

from commands.console import console, fail
from leadrouter.backtest.files import Progress
from leadrouter.config import PROJECT_ROOT, ConfigError, Settings
from leadrouter.inert import terminal

SHOWN_REJECTS = 15  # rejected rows printed; --out has them all
SIDE_BY_SIDE = ["leads", "opportunities", "conversion", "win_rate", "pipeline"]  # printed; --out: all


def backtest(
    leads: Annotated[
        Path, typer.Option(help="The leads export (CSV in any common encoding and separator, or .xlsx)")
    ],
    map_path: Annotated[
        Path, typer.Option("--map", help="The column map (see config/backtest-map.yaml)")
    ] = PROJECT_ROOT / "config" / "backtest-map.yaml",
    deals: Annotated[Path | None, typer.Option(help="The deals export (CSV): what the leads became")] = None,
    rulebook: Annotated[
        list[Path] | None,
        typer.Option(help="A rulebook to replay; twice for side by side (default: configured)"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write every table as CSV and a summary.json here")] = None,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress", help="A progress bar while reading (default: on a terminal)"
        ),
    ] = None,
) -> None:
    """Replay a CRM export through the rulebook(s), the local model and the roster, writing nothing: rows it
    could not use and why, predicted tier against outcome, owner changes, and two rulebooks side by side.
    Exits 2 on a bad map or unreadable file, 1 when one reason rejects most rows or none is usable."""
    from leadrouter.backtest.importer import MostRowsRejected
    from leadrouter.backtest.replay import run_backtest

    settings = Settings()
    books = rulebook or [settings.rulebook_path]
    if len(books) > 2:
        fail("give at most two rulebooks (--rulebook A.yaml --rulebook B.yaml)", code=2)
    try:
        with _reading_bar(console.is_terminal if progress is None else progress) as bar:
            result = run_backtest(leads, map_path, books, settings, deals, bar)
    except ConfigError as exc:
        fail(str(exc), code=2)
    except MostRowsRejected as exc:
        _print_import(exc.result)
        if out is not None:
            write_import(exc.result, out)
        fail(f"stopped: {exc}", code=1)
    _print_import(result.imported, result.deals)
    for replay in result.replays:
        _print_replay(replay)
    if (comparison := result.comparison) is not None:
        _print_comparison(comparison)
    if out is not None:
        write_tables(result, out)
        console.print(f"tables and summary.json written to {terminal(str(out), urls=True)}")


@contextmanager
def _reading_bar(shown: bool) -> Iterator[Progress | None]:
    """A rich progress bar over the export's reading (bytes of a CSV, rows of a sheet), or nothing."""
    if not shown:
        yield None
        return
    with RichProgress(*RichProgress.get_default_columns(), console=console, transient=True) as bar:
        task = bar.add_task("reading the export", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total or None)


def _print_import(imported, deals=None) -> None:
    summary = imported.summary()
    console.print(f"[bold]file[/bold] {terminal(str(summary['file']), urls=True)}")
    for note in summary["file_notes"]:
        console.print(f"  {terminal(note, urls=True)}")
    console.print(
        f"[bold]import[/bold] {summary['rows']} rows: {summary['usable']} usable ({summary['clean']} clean, "
        f"{summary['cleaned']} cleaned), {summary['rejected']} not usable"
    )
    rejected = imported.rejected
    fixes = rejected.drop_duplicates("reason").set_index("reason")["fix"]
    reasons = [(r, n, fixes.get(r, "")) for r, n in summary["rejected_by_reason"].items()]
    _table("rows not usable, by reason", ["reason", "rows", "fix"], reasons)
    rows = rejected.head(SHOWN_REJECTS)[["row", "lead_id", "reason", "field", "value"]]
    _table(
        f"first {len(rows)} of {len(rejected)} rows not usable",
        list(rows.columns),
        rows.itertuples(index=False),
    )
    _table("cleaned cells (each listed in --out's cleaned.csv)", ["field: method", "cells"],
           summary["cleaned_by_change"].items())  # fmt: skip
    outside = imported.outside
    shown = outside.head(SHOWN_REJECTS)
    _table(f"{len(shown)} of {len(outside)} values in no vocabulary, kept as written", list(outside.columns),
           shown.itertuples(index=False))  # fmt: skip
    if deals is not None:
        d = deals
        console.print(
            f"[bold]deals[/bold] {d.rows} rows: {len(d.deals)} leads with a deal, {len(d.rejected)} deals name no "
            f"usable lead, {d.extra} later deals of a lead ignored (its earliest counts)"
        )
        deal_summary = d.summary()
        _table("deals by outcome", ["outcome", "deals"], deal_summary["by_outcome"].items())
        fixes = d.issues.drop_duplicates("issue").set_index("issue")["fix"]
        issues = [(i, n, fixes.get(i, "")) for i, n in deal_summary["issues"].items()]
        _table("deal rows kept with an issue", ["issue", "rows", "fix"], issues)
        _table("stages that fit no list", ["stage", "deals"], d.unknown_stages.items())


def _print_replay(replay) -> None:
    console.print(f"\n[bold]rulebook {terminal(replay.name, urls=True)}[/bold] (version {replay.version})")
    tiers = replay.tiers
    _table("predicted tier against outcome", list(tiers.columns), tiers.itertuples(index=False))
    confusion = replay.confusion.reset_index()
    _table(
        "predicted (rows) against tier in hindsight",
        list(confusion.columns),
        confusion.itertuples(index=False),
    )
    by_hindsight = replay.by_hindsight
    _table("routed tier against hindsight tier (VIP: a top share of won deals), with conversion",
           list(by_hindsight.columns), by_hindsight.itertuples(index=False))  # fmt: skip
    owners = replay.owners
    _table("owner against the historical owner", list(owners.columns), owners.itertuples(index=False))


def _print_comparison(comparison) -> None:
    a, b = comparison.names
    console.print(
        f"\n[bold]{terminal(a, urls=True)} (a) against {terminal(b, urls=True)} (b)[/bold]: {len(comparison.changed)} leads change tier"
    )
    tiers = comparison.tiers[["tier", *(f"{c}{s}" for c in SIDE_BY_SIDE for s in ("_a", "_b"))]]
    _table("per tier under each (changed in yellow)", list(tiers.columns), tiers.itertuples(index=False),
           highlight=_differs(tiers))  # fmt: skip
    moved = comparison.changed.groupby(["tier_a", "tier_b"], dropna=False).size().reset_index(name="leads")
    _table("tier changes", ["tier_a", "tier_b", "leads"], moved.itertuples(index=False))


def _differs(tiers: pd.DataFrame) -> pd.Series:
    """Tiers whose lead count differs between the two rulebooks."""
    return tiers["leads_a"].fillna(0).ne(tiers["leads_b"].fillna(0))


def _table(title: str, columns: list[str], rows, highlight: pd.Series | None = None) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(terminal(str(column)), overflow="fold")
    for i, row in enumerate(rows):
        style = "bold yellow" if highlight is not None and bool(highlight.iat[i]) else None
        table.add_row(*(terminal(_cell(v)) for v in row), style=style)
    console.print(table)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if pd.isna(value):
            return "-"
        return f"{value:,.0f}" if value.is_integer() or abs(value) >= 10 else f"{value:.3f}"
    return "-" if value is None or value is pd.NA else str(value)


def write_import(imported, out: Path) -> dict:
    """rejected.csv and cleaned.csv; the summary so far (also when the import stopped)."""
    out.mkdir(parents=True, exist_ok=True)
    imported.rejected.to_csv(out / "rejected.csv", index=False)
    imported.changes.to_csv(out / "cleaned.csv", index=False)
    imported.outside.to_csv(out / "outside_vocabulary.csv", index=False)
    summary: dict = {"import": imported.summary(), "rulebooks": []}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return summary


def write_tables(result, out: Path) -> None:
    """Every table as CSV, one folder per rulebook, and summary.json with the import's and replays' figures."""
    summary = write_import(result.imported, out)
    if result.deals is not None:
        result.deals.rejected.to_csv(out / "deals_rejected.csv", index=False)
        result.deals.issues.to_csv(out / "deals_issues.csv", index=False)
        summary["deals"] = result.deals.summary()
    for replay in result.replays:
        folder = out / replay.name.replace(":", "-").replace("/", "-")
        folder.mkdir(exist_ok=True)
        replay.leads.to_csv(folder / "leads.csv", index=False)
        replay.tiers.to_csv(folder / "tiers.csv", index=False)
        replay.confusion.to_csv(folder / "confusion.csv")
        replay.by_hindsight.to_csv(folder / "hindsight.csv", index=False)
        replay.owners.to_csv(folder / "owners.csv", index=False)
        replay.review.to_csv(folder / "review.csv", index=False)
        for dimension, table in replay.tables.items():
            table.to_csv(folder / f"by_{dimension}.csv", index=False)
        summary["rulebooks"].append(
            {
                "name": replay.name,
                "version": replay.version,
                "tiers": _records(replay.tiers),
                "owners": _records(replay.owners),
            }
        )
    if (comparison := result.comparison) is not None:
        comparison.changed.to_csv(out / "tier_changes.csv", index=False)
        comparison.tiers.to_csv(out / "tiers_side_by_side.csv", index=False)
        summary["comparison"] = {
            "names": list(comparison.names),
            "leads_changing_tier": len(comparison.changed),
        }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))
