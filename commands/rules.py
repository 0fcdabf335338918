"""`leadrouter rules check`, `rules mine` and `rules explain`: lint a rulebook and measure it on an export's
history, mine candidate rules from that history, follow one lead through a rulebook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from commands.console import console, fail
from commands.leads import read_lead
from leadrouter.config import PROJECT_ROOT, ConfigError, Settings
from leadrouter.inert import terminal

rules_app = typer.Typer(help="Check a rulebook; mine rules from history; explain which rule decides a lead.")
DEFAULT_MAP = PROJECT_ROOT / "config" / "backtest-map.yaml"
HistoryOption = Annotated[
    Path | None, typer.Option("--history", help="A leads export (CSV or .xlsx) whose outcomes to measure on")
]
DealsOption = Annotated[Path | None, typer.Option(help="The deals export: what the leads became")]
MapOption = Annotated[Path, typer.Option("--map", help="The column map (see config/backtest-map.yaml)")]


@rules_app.command("check")
def rules_check(
    path: Annotated[Path | None, typer.Argument(help="The rulebook to check (default: configured)")] = None,
    probe: Annotated[int, typer.Option(help="Generated leads to try the rules on (0: proofs only)")] = 3000,
    history: HistoryOption = None,
    deals: DealsOption = None,
    map_path: MapOption = DEFAULT_MAP,
) -> None:
    """Lint a rulebook: load errors, rules that can never fire, rules that match nothing, unreachable tiers,
    unknown territories; with --history and --deals, each rule's coverage and conversion on that export.
    Exits 1 when a rule is dead or the file does not load."""
    from leadrouter.assign.roster import load_roster
    from leadrouter.classify.rules import load_rulebook
    from leadrouter.classify.rules_check import check_rulebook
    from leadrouter.enrich.territory import load_territories
    from leadrouter.router import check_rule_pools

    settings = Settings()
    path = path or settings.rulebook_path
    if history is not None and deals is None:
        fail("--history needs --deals: conversion is read from the deals the leads became", code=2)
    try:
        book = load_rulebook(path)
        check_rule_pools(book, load_roster(settings.roster_path), path)
        territories = load_territories(settings.territories_path)
    except ConfigError as exc:
        fail(str(exc))
    sample = None
    if probe:
        from leadrouter.classify.history import labelled_history

        sample = labelled_history(seed=3, leads=probe, territories=territories)
    names = [t.name for t in territories.territories]
    findings = check_rulebook(book, sample, names)
    for f in findings:
        line = book.line_of(f.loc) if f.rule else None
        where = f"{path}:{line}" if line else str(path)
        colour = "red" if f.severity == "error" else "yellow"
        rule = f" rule {terminal(repr(f.rule))}" if f.rule else ""  # a space terminal() would trim
        console.print(
            f"{terminal(where, urls=True)}: [{colour}]{f.severity}[/{colour}]{rule}: {terminal(f.message)}",
            soft_wrap=True,
        )
    errors = sum(f.severity == "error" for f in findings)
    console.print(
        f"{len(book.rules)} rules, version {book.version}: {errors} errors, {len(findings) - errors} warnings"
    )
    if history is not None and deals is not None:
        _measure_on_history(path, history, deals, map_path, territories)
    if errors:
        raise typer.Exit(1)


def _measure_on_history(path: Path, history: Path, deals: Path, map_path: Path, territories) -> None:
    """Each rule of the book at `path`, read with the map's custom fields, on the export's real outcomes."""
    from leadrouter.classify.rules import load_rulebook
    from leadrouter.classify.rules_check import NO_RULE, rule_outcomes

    loaded = _history(history, deals, map_path, territories)
    try:
        book = load_rulebook(path, loaded.fields)
    except ConfigError as exc:
        fail(str(exc), code=2)
    table = rule_outcomes(book, loaded.known)
    title = f"each rule on {history.name}: the leads it decides (first match wins) and what they became"
    columns = ["rule", "tier", "matched", "decided", "share", "conversion", "95% interval", "fits tier"]
    _table(title, columns, [
        (r.rule, r.tier, r.matched, r.decided, _pct(r.share), _pct(r.conversion),
         _interval(r.conversion_low, r.conversion_high), _pct(r.fits)) for r in table.itertuples()
    ])  # fmt: skip
    ruled = table[table["rule"].ne(NO_RULE).to_numpy()]
    decided = int(ruled["decided"].sum())
    fits = (ruled["fits"] * ruled["decided"]).sum() / decided if decided else float("nan")
    console.print(
        f"rules decide {decided:,} of {len(loaded.known):,} leads ({_pct(decided / max(len(loaded.known), 1))}); "
        f"their outcome fits the rule's tier for {_pct(fits)} (VIP and Standard: an opportunity within 90 days; "
        "Nurture and Other: none)"
    )


def _history(history: Path, deals: Path, map_path: Path, territories):
    """The export read with its outcomes, or a failure naming what is wrong (2: bad map or file, 1: unusable)."""
    from leadrouter.backtest.history import describe, read_history
    from leadrouter.backtest.importer import MostRowsRejected

    try:
        loaded = read_history(history, deals, map_path, territories)
    except ConfigError as exc:
        fail(str(exc), code=2)
    except MostRowsRejected as exc:
        fail(f"stopped: {exc} (leadrouter backtest lists the rows and why)", code=1)
    console.print(f"[bold]history[/bold] {terminal(history.name, urls=True)}: {terminal(describe(loaded))}")
    return loaded


@rules_app.command("mine")
def rules_mine(
    history: Annotated[Path, typer.Option("--history", help="The leads export (CSV or .xlsx)")],
    deals: Annotated[Path, typer.Option(help="The deals export: what the leads became")],
    map_path: MapOption = DEFAULT_MAP,
    out: Annotated[Path | None, typer.Option(help="Write the proposed rules here as YAML")] = None,
    min_leads: Annotated[int, typer.Option(min=10, help="Fewest older leads a rule may cover")] = 50,
    test_share: Annotated[
        float, typer.Option(min=0.1, max=0.5, help="Share of the newest leads kept for measuring only")
    ] = 0.25,
    coverage: Annotated[
        float,
        typer.Option(
            min=0.05, max=1.0, help="Propose rules, most accurate first, until they cover this share"
        ),
    ] = 0.6,
) -> None:
    """Mine candidate rules from an export's history: a shallow tree over the fields known at arrival, each
    rule with its support and conversion on older and newer leads, and the clear ones as a YAML fragment to
    paste into the rulebook. Exits 1 when the history is too small or one-sided."""
    from leadrouter.classify.rule_mining import NothingToMine, mine_rules, proposal_yaml
    from leadrouter.enrich.territory import load_territories

    settings = Settings()
    try:
        territories = load_territories(settings.territories_path)
    except ConfigError as exc:
        fail(str(exc), code=2)
    loaded = _history(history, deals, map_path, territories)
    later = [f.name for f in loaded.fields.custom if f.known_at == "later"]
    try:
        mining = mine_rules(loaded.known, loaded.fields, min_leads, test_share, coverage=coverage)
    except NothingToMine as exc:
        fail(str(exc), code=1)
    console.print(
        f"reads the fields known at arrival that have values: {terminal(', '.join(mining.columns))}"
    )
    if later:
        console.print(f"never reads (known_at: later): {terminal(', '.join(later))}")
    title = (
        f"candidate rules: older {mining.train_leads:,} leads ({_pct(mining.train_rate)} converted), "
        f"newer {mining.test_leads:,} ({_pct(mining.test_rate)})"
    )
    columns = [
        "id",
        "when",
        "tier",
        "leads",
        "share",
        "older",
        "95% interval",
        "newer",
        "95% interval",
        "verdict",
    ]
    _table(title, columns, [
        (r.id, r.when, r.tier, r.leads, _pct(r.share), _pct(r.train_conversion), _interval(r.train_low, r.train_high),
         _pct(r.test_conversion), _interval(r.test_low, r.test_high), r.verdict) for r in mining.rules.itertuples()
    ])  # fmt: skip
    console.print(
        f"proposed: {len(mining.proposed)} rules deciding {_pct(mining.coverage)} of the leads "
        f"({_pct(mining.test_coverage)} of the newer)"
    )
    fragment = proposal_yaml(mining, history.name)
    if out is None:
        console.print(terminal(fragment), soft_wrap=True, highlight=False)
    else:
        out.write_text(fragment, encoding="utf-8")
        console.print(f"proposal written to {terminal(str(out), urls=True)}")


def _table(title: str, columns: list[str], rows) -> None:
    table = Table(title=terminal(title, urls=True))
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(terminal("-" if v is None or v is pd.NA else str(v)) for v in row))
    console.print(table)


def _pct(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.1%}"


def _interval(low: float, high: float) -> str:
    return "-" if pd.isna(low) else f"{low:.1%}-{high:.1%}"


@rules_app.command("explain")
def rules_explain(
    lead: Annotated[str, typer.Argument(help="A lead as JSON (inline or a file), or a lead id in the CRM")],
    rulebook: Annotated[Path | None, typer.Option(help="Rulebook (default: the configured one)")] = None,
) -> None:
    """Which rule decides this lead, and why each earlier rule did not (or what the model says)."""
    from leadrouter.classify.rules import load_rulebook
    from leadrouter.classify.rules_check import explain_lead
    from leadrouter.pipeline import enriched_lead

    settings = Settings()
    book = load_rulebook(rulebook or settings.rulebook_path)
    frame = enriched_lead(read_lead(lead, settings), settings)
    table = Table(title=f"rulebook {book.version}")
    for column in ("rule", "tier", "verdict", "why"):
        table.add_column(column, overflow="fold")
    steps = explain_lead(book, frame)
    for step in steps:
        verdict = "[green]fired[/green]" if step.matched else "passed by"
        table.add_row(step.rule, step.tier, verdict, terminal(step.why))
    console.print(table)
    if not any(s.matched for s in steps):
        _explain_model(frame, book, settings)


def _explain_model(frame: pd.DataFrame, book, settings: Settings) -> None:
    from leadrouter.pipeline import local_answer

    answer = local_answer(frame, book, settings)
    if answer is None:
        console.print("no rule fired and no model is configured: the lead goes to review")
        return
    remote = " (routing asks Claude first; explain never calls it)" if settings.model == "claude" else ""
    console.print(f"no rule fired: the local model {terminal(str(answer['model']))} answers{remote}")
    for key in ("tier", "category", "confidence", "urgency", "rationale", "brief", "review_reason"):
        console.print(f"  {key:<14} {terminal(str(answer[key]))}")
