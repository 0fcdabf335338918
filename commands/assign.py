"""`leadrouter explain LEAD_ID` (where a lead went and why) and `leadrouter simulate LEAD` (where it would go now)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from commands.console import console, fail
from commands.leads import configured_crm, read_lead
from leadrouter import clock
from leadrouter.config import Settings
from leadrouter.inert import terminal
from leadrouter.schema import Status

if TYPE_CHECKING:  # imported when used: the CLI starts fast
    pass


MEANING = {
    "INACTIVE": "switched off in the roster",
    "OUT_OF_OFFICE": "time off or a public holiday today",
    "OUTSIDE_HOURS": "not at work within the tier's response window",
    "AT_CAPACITY": "daily or open-lead cap reached",
    "WRONG_REGION": "covers other regions or territories",
    "NO_SPECIALISATION": "a specialist in the lead's industry was available",
    "COVERED": "covered by a colleague (roster cover): the colleague takes leads at their own load",
}

# decisions that stopped before an owner, why, and what a person does next
STOPPED = {
    Status.QUARANTINED.value: "quarantined by validation",
    Status.REVIEW.value: "no tier: waiting in the review queue",
}
NEXT_STEP = {
    Status.QUARANTINED.value: "fix the lead in the CRM, then `leadrouter quarantine release {lead}`",
    Status.REVIEW.value: "`leadrouter review set-tier {lead} TIER` or `leadrouter review assign {lead} OWNER`",
}


def explain(
    lead_id: Annotated[str, typer.Argument(help="The CRM id of a routed lead")],
    source: Annotated[str | None, typer.Option(help="Its source (default: the configured CRM)")] = None,
) -> None:
    """Where a lead went and why: the rule or model, the path to its owner, every rep passed over and why."""
    from leadrouter.assign.roster import load_roster
    from leadrouter.store import open_store
    from leadrouter.store.decisions import lead_decisions
    from leadrouter.validate.suite import excerpt

    settings = Settings()
    roster = load_roster(settings.roster_path)
    with open_store(settings.store_url) as store:
        rows = lead_decisions(store, lead_id, source)
    if not rows:
        where = f" in {source}" if source else ""
        fail(f"no decision for lead {lead_id}{where}: not routed yet?")
    for row in rows:
        explanation = row.explanation or {}
        console.print(
            f"[bold]{terminal(row.lead_id)}[/bold] ({terminal(row.source)}, {row.status}, decided "
            f"{row.decided_at:%Y-%m-%d %H:%M} UTC, rulebook {row.rulebook_version or '-'})"
        )
        stopped = STOPPED.get(row.status)
        if stopped:  # no tier, no owner: say why it stopped instead of an empty route
            console.print(f"  stopped    {stopped}: {terminal(explanation.get('summary') or '-')}")
            console.print(f"  next       {NEXT_STEP[row.status].format(lead=terminal(row.lead_id))}")
        else:
            _print_route(
                roster,
                row.tier,
                row.decided_by,
                row.owner_id,
                explanation.get("method"),
                explanation.get("summary") or "",
                explanation.get("excluded") or {},
            )
        if not stopped:
            _print_language(row.language, row.language_confidence, row.skills_matched)
        if explanation.get("warnings"):  # validation's warnings: values quoted as excerpts already
            console.print(f"  warnings   {terminal(explanation['warnings'])}")
        model = explanation.get("model") or {}
        if model.get("model_outcome"):  # what became of the first model's request, and why it gave no answer
            said, error = str(model["model_outcome"]), model.get("model_error")
            if error:  # errors mostly start with their outcome ("refused (…)", "truncated: …")
                said = error if error.startswith(said) else f"{said}: {error}"
            console.print(f"  model      {terminal(str(model['model']))} (first request: {terminal(said)})")
        if model.get("brief"):
            console.print(f"  brief      {terminal(str(model['brief']))}")
        _print_score(row.score, row.score_tier, row.expected_value, row.score_reasons)
        if row.custom_fields:  # lead values: untrusted, excerpted (quoted, control characters escaped)
            shown = ", ".join(f"{name}={excerpt(value)}" for name, value in row.custom_fields.items())
            console.print(f"  fields     {terminal(shown)}")


def simulate(
    lead: Annotated[str, typer.Argument(help="A lead as JSON (inline or a file), or a lead id in the CRM")],
    at: Annotated[
        datetime | None, typer.Option(help="Route as of this moment (ISO, e.g. 2026-12-01T15:00:00+00:00)")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Whose round-robin state (default: the configured CRM)")
    ] = None,
) -> None:
    """Where this lead would go now: the same validation, enrichment, CRM duplicates, rules, model, roster and
    round-robin state as routing, writing nothing (no turn is taken, no decision recorded)."""
    from leadrouter.enrich import accounts_for_matching
    from leadrouter.pipeline import decide, simulated_lead
    from leadrouter.router import open_router

    settings = Settings()
    moment = at or clock.routing_now(settings)
    crm = configured_crm(settings)
    frame = simulated_lead(read_lead(lead, settings, crm), moment)
    with open_router(settings, crm=crm) as router:
        out = decide(router, frame, moment, accounts_for_matching(crm), source).iloc[0]
        roster = router.roster
    if out["status"] == Status.QUARANTINED:
        console.print(f"quarantined: the lead would not route ({terminal(str(out['reason']))})")
        return
    if out["status"] == Status.REVIEW:
        reason = out.get("review_reason")
        console.print(f"no tier: the lead would wait in the review queue ({terminal(str(reason))})")
        return
    console.print(f"[bold]simulated[/bold] at {moment:%Y-%m-%d %H:%M %Z} (nothing written)")
    path = str(out["decided_by"]) + str(out["routing_path"])
    _print_route(
        roster, out["tier"], out["decided_by"], out["owner_id"], out["assign_method"], path, out["excluded"]
    )
    _print_language(out.get("language"), out.get("language_confidence"), out.get("skills_matched"))
    _print_score(out.get("score"), out.get("score_tier"), out.get("expected_value"), out.get("score_reasons"))


def _print_language(language: object, confidence: object, skills: object) -> None:
    """The lead's language (detected, with its confidence, or its country's) and the skills its owner matched."""
    from leadrouter.summary import language_label

    console.print(f"  language   {terminal(language_label(language, confidence))}")
    if isinstance(skills, str) and skills:  # the roster's values the owner matched, not the lead's text
        console.print(f"  skills     {terminal(skills)}")


def _print_score(score: object, tier: object, expected_value: object, reasons: object) -> None:
    """The conversion model's score, tier and reasons, when it scored the lead."""
    from leadrouter.classify.conversion.routing import score_summary

    scored = score_summary(score, tier, expected_value)
    if scored:  # reasons quote the history's values and words: untrusted, made inert
        console.print(f"  score      {scored}")
        console.print(f"  reasons    {terminal(str(reasons) if isinstance(reasons, str) else '-')}")


def _print_route(
    roster, tier: str, decided_by: str, owner_id: str | None, method: str | None, path: str, excluded: dict
) -> None:
    names = {r.key: r.name for r in roster.reps} | roster.queues
    owner = f"{owner_id} ({names.get(owner_id, 'not on the roster')})" if owner_id else "-"
    console.print(f"  tier       {terminal(str(tier))}  by {terminal(str(decided_by))}")
    console.print(f"  owner      {terminal(owner)}  via {terminal(str(method))}")
    console.print("  path")
    for step in path.split(" → "):
        console.print(f"    → {terminal(step)}")
    if excluded:
        table = Table(title="passed over")
        for column in ("rep", "name", "reason", "meaning"):
            table.add_column(column, overflow="fold")
        for rep, code in sorted(excluded.items()):
            table.add_row(terminal(rep), terminal(names.get(rep, "")), code, MEANING.get(code, ""))
        console.print(table)


def reject(
    lead_id: Annotated[str, typer.Argument(help="The CRM id of a routed lead")],
    reason: Annotated[str, typer.Option(help="Why the owner is wrong, e.g. 'wrong territory'")],
    source: Annotated[str | None, typer.Option(help="Its source (default: the configured CRM)")] = None,
) -> None:
    """The owner rejects the lead: it goes at once to the next eligible rep (never back to them), counted as a
    wrong assignment; the next route-inbound or sla-watch run writes the new owner to the CRM."""
    from blocks.load import load_channels
    from leadrouter import notify
    from leadrouter.classify.rules import load_rulebook
    from leadrouter.reroute import RejectError, reject_lead
    from leadrouter.router import routing_roster
    from leadrouter.store import open_store

    settings = Settings()
    source = source or settings.crm
    crm = cache(lambda: configured_crm(settings))  # built once, and only if the roster or a channel needs it
    roster = routing_roster(settings, crm)
    sla = load_rulebook(settings.rulebook_path).sla
    with open_store(settings.store_url) as store:
        at = clock.routing_now(settings)
        try:
            moved = reject_lead(store, source, lead_id, roster, sla, at, note=reason)
        except RejectError as exc:
            fail(str(exc))
        channels = load_channels(settings)
        if channels:
            notify.tell_reroutes(store, crm(), source, moved, roster, channels, settings.crm_link_template)
    row = moved.iloc[0]
    names = {r.key: r.name for r in roster.reps} | roster.queues
    console.print(
        f"{terminal(lead_id)}: {terminal(str(row['old_owner_id']))} rejected it → {terminal(str(row['owner_id']))} "
        f"({terminal(names.get(row['owner_id'], ''))}, pool {terminal(str(row['pool']))}); the next run writes it"
    )
