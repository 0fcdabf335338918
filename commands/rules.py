"""`leadrouter rules check` and `leadrouter rules explain`: lint a rulebook, follow one lead through it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from commands.console import console, fail
from commands.leads import read_lead
from leadrouter.config import ConfigError, Settings
from leadrouter.inert import terminal

rules_app = typer.Typer(help="Check a rulebook; explain which rule decides a lead and why.")


@rules_app.command("check")
def rules_check(
    path: Annotated[Path, typer.Argument(help="The rulebook to check")],
    probe: Annotated[int, typer.Option(help="Generated leads to try the rules on (0: proofs only)")] = 3000,
) -> None:
    """Lint a rulebook: load errors, rules that can never fire, rules that match nothing, unreachable tiers,
    unknown territories. Exits 1 when a rule is dead or the file does not load."""
    from leadrouter.assign.roster import load_roster
    from leadrouter.classify.rules import load_rulebook
    from leadrouter.classify.rules_check import check_rulebook
    from leadrouter.enrich.territory import load_territories
    from leadrouter.router import check_rule_pools

    settings = Settings()
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
    if errors:
        raise typer.Exit(1)


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
    from leadrouter.router import open_chain

    chain = open_chain(settings, book)
    if chain is None:
        console.print("no rule fired and no model is configured: the lead goes to review")
        return
    answer = chain.classify(frame).iloc[0]
    remote = " (routing asks Claude first; explain never calls it)" if settings.model == "claude" else ""
    console.print(f"no rule fired: the local model {terminal(str(answer['model']))} answers{remote}")
    for key in ("tier", "category", "confidence", "urgency", "rationale", "brief", "review_reason"):
        console.print(f"  {key:<14} {terminal(str(answer[key]))}")
