"""`leadrouter explain LEAD_ID` (where a lead went and why) and `leadrouter simulate LEAD` (where it would go now)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from commands.console import console, fail
from commands.leads import configured_crm, read_lead, simulated_lead
from leadrouter import clock
from leadrouter.config import Settings
from leadrouter.schema import Status

if TYPE_CHECKING:  # imported when used: the CLI starts fast
    from leadrouter.assign.roster import Roster
    from leadrouter.store import Store


MEANING = {
    "INACTIVE": "switched off in the roster",
    "OUT_OF_OFFICE": "time off or a public holiday today",
    "OUTSIDE_HOURS": "not at work within the tier's response window",
    "AT_CAPACITY": "daily or open-lead cap reached",
    "WRONG_REGION": "covers other regions or territories",
    "NO_SPECIALISATION": "a specialist in the lead's industry was available",
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
            f"[bold]{escape(row.lead_id)}[/bold] ({escape(row.source)}, {row.status}, decided "
            f"{row.decided_at:%Y-%m-%d %H:%M} UTC, rulebook {row.rulebook_version or '-'})"
        )
        _print_route(
            roster,
            row.tier,
            row.decided_by,
            row.owner_id,
            explanation.get("method"),
            explanation.get("summary") or "",
            explanation.get("excluded") or {},
        )
        model = explanation.get("model") or {}
        if model.get("brief"):
            console.print(f"  brief      {escape(str(model['brief']))}")
        if row.custom_fields:  # lead values: untrusted, so excerpted (control characters escaped)
            shown = ", ".join(f"{name}={excerpt(value)}" for name, value in row.custom_fields.items())
            console.print(f"  fields     {escape(shown)}")


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
    from leadrouter.pipeline import decide
    from leadrouter.router import open_router

    settings = Settings()
    moment = at or clock.routing_now(settings)
    crm = configured_crm(settings)
    frame = simulated_lead(read_lead(lead, settings, crm), moment)
    with open_router(settings, crm=crm) as router:
        out = decide(router, frame, moment, accounts_for_matching(crm), source).iloc[0]
        roster = router.roster
    if out["status"] == Status.QUARANTINED:
        console.print(f"quarantined: the lead would not route ({escape(str(out['reason']))})")
        return
    if out["status"] == Status.REVIEW:
        reason = out.get("review_reason")
        console.print(f"no tier: the lead would wait in the review queue ({escape(str(reason))})")
        return
    console.print(f"[bold]simulated[/bold] at {moment:%Y-%m-%d %H:%M %Z} (nothing written)")
    path = str(out["decided_by"]) + str(out["routing_path"])
    _print_route(
        roster, out["tier"], out["decided_by"], out["owner_id"], out["assign_method"], path, out["excluded"]
    )


def _print_route(
    roster, tier: str, decided_by: str, owner_id: str | None, method: str | None, path: str, excluded: dict
) -> None:
    names = {r.key: r.name for r in roster.reps} | roster.queues
    owner = f"{owner_id} ({names.get(owner_id, 'not on the roster')})" if owner_id else "-"
    console.print(f"  tier       {escape(str(tier))}  by {escape(str(decided_by))}")
    console.print(f"  owner      {escape(owner)}  via {escape(str(method))}")
    console.print("  path")
    for step in path.split(" → "):
        console.print(f"    → {escape(step)}")
    if excluded:
        table = Table(title="passed over")
        for column in ("rep", "name", "reason", "meaning"):
            table.add_column(column, overflow="fold")
        for rep, code in sorted(excluded.items()):
            table.add_row(escape(rep), escape(names.get(rep, "")), code, MEANING.get(code, ""))
        console.print(table)


def reject(
    lead_id: Annotated[str, typer.Argument(help="The CRM id of a routed lead")],
    reason: Annotated[str, typer.Option(help="Why the owner is wrong, e.g. 'wrong territory'")],
    source: Annotated[str | None, typer.Option(help="Its source (default: the configured CRM)")] = None,
) -> None:
    """The owner rejects the lead: it goes at once to the next eligible rep (never back to them), counted as a
    wrong assignment; the next route-inbound or sla-watch run writes the new owner to the CRM."""
    from leadrouter.assign.roster import load_roster
    from leadrouter.classify.rules import load_rulebook
    from leadrouter.reroute import reroute
    from leadrouter.store import open_store

    settings = Settings()
    roster = load_roster(settings.roster_path)
    if any(rep.id is None for rep in roster.reps):  # reps listed by email: their CRM ids first
        from leadrouter.router import with_crm_ids

        roster = with_crm_ids(roster, configured_crm(settings), settings.roster_path)
    sla = load_rulebook(settings.rulebook_path).sla
    with open_store(settings.store_url) as store:
        at = clock.routing_now(settings)
        moved = reroute(store, source or settings.crm, [lead_id], "reject", roster, sla, at, note=reason)
        if moved.empty:
            fail(f"lead {lead_id} has no routed decision to reject")
        _tell_owners(settings, store, source or settings.crm, moved, roster)
    row = moved.iloc[0]
    names = {r.key: r.name for r in roster.reps} | roster.queues
    console.print(
        f"{escape(lead_id)}: {escape(str(row['old_owner_id']))} rejected it → {escape(str(row['owner_id']))} "
        f"({escape(names.get(row['owner_id'], ''))}, pool {escape(str(row['pool']))}); the next run writes it"
    )


def _tell_owners(settings: Settings, store: Store, source: str, moved: pd.DataFrame, roster: Roster) -> None:
    """New owner and old owner (and the manager, when due) hear of the re-route on the configured channels."""
    from blocks.load import load_channels
    from leadrouter import notify

    channels = load_channels(settings)
    if channels:
        crm = configured_crm(settings)
        notify.tell_reroutes(store, crm, source, moved, roster, channels, settings.crm_link_template)
