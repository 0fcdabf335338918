"""`leadrouter review`: the leads a person decides, listed oldest first and resolved by tier or by owner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from commands.console import console, fail
from leadrouter import clock
from leadrouter.config import Settings
from leadrouter.inert import terminal

review_app = typer.Typer(help="Leads the model was unsure of: list them, pick their tier or their owner.")

SourceOption = Annotated[str | None, typer.Option(help="Their source (default: the configured CRM)")]
ByOption = Annotated[str | None, typer.Option(help="Who decides (default: $USER, else cli)")]
CategoryOption = Annotated[
    str | None, typer.Option(help="For tier Other: support, partnership, press, jobs, ...")
]


@review_app.command("list")
def review_list(
    source: Annotated[str | None, typer.Option(help="Only this source (default: the configured CRM)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved items")] = False,
    late: Annotated[bool, typer.Option("--late", help="Only open items past their due time")] = False,
) -> None:
    """Review items, oldest first: who and which company (read from the CRM), how long each has waited, when
    it is due, and the model's suggestion (values are escaped)."""
    from leadrouter.review import open_items

    settings = Settings()
    with _store(settings) as store:
        now = clock.routing_now(settings)
        rows = open_items(store, source or settings.crm, now, include_resolved=all_, late_only=late)
    people = _people(settings, rows["lead_id"].tolist())
    table = Table(title=f"review queue ({len(rows)}, times in UTC)")
    for column in ("lead", "name", "company", "waiting", "due"):
        table.add_column(column, no_wrap=column in ("lead", "waiting", "due"))  # ids and stamps read whole
    for column in ("state", "reason", "suggested"):
        table.add_column(column, overflow="fold")
    for row in rows.itertuples(index=False):
        suggested = "" if pd.isna(row.suggested_tier) else row.suggested_tier
        if suggested and not pd.isna(row.confidence):
            suggested += f" ({row.confidence:.2f})"
        name, company = people.get(row.lead_id, ("", ""))
        end = now if pd.isna(row.resolved_at) else row.resolved_at
        table.add_row(
            terminal(row.lead_id),
            terminal(name, NAME_LIMIT),
            terminal(company, NAME_LIMIT),
            span(pd.Timestamp(end) - row.created_at),
            _due(row.due_at, now),
            _state(row),
            terminal(row.reason),
            terminal(suggested),
        )
    console.print(table)


NAME_LIMIT = 40  # a name or company longer than this is cut in the listing (… marks the cut)


def span(delta: pd.Timedelta) -> str:
    """A duration as a person reads it: 45 s, 12 min, 3 h 05 min, 2 d 4 h."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {rest // 60:02d} min"
    return f"{rest // 60} min" if rest >= 60 else f"{rest} s"


def _due(due_at: pd.Timestamp, now: datetime) -> str:
    """When the item is due, and how far that is from now."""
    if pd.isna(due_at):
        return ""
    left = due_at - pd.Timestamp(now)
    when = f"in {span(left)}" if left >= pd.Timedelta(0) else f"{span(-left)} ago"
    return f"{_stamp(due_at)} ({when})"


def _people(settings: Settings, lead_ids: list[str]) -> dict[str, tuple[str, str]]:
    """lead -> (name, company) from the configured CRM; a CRM that cannot be read leaves them blank, and says so
    (the queue itself is in the ledger, and stays readable)."""
    if not lead_ids:
        return {}
    from blocks.load import load_crm
    from leadrouter.crm.errors import CRMError

    try:
        found = load_crm(settings).fetch_leads(lead_ids)
    except (CRMError, OSError, ValueError) as exc:  # unreachable or unconfigured: the queue still shows
        console.print(f"[yellow]names and companies left blank[/yellow]: {terminal(exc)}")
        return {}
    first, last = found["first_name"].fillna(""), found["last_name"].fillna("")
    names = (first + " " + last).str.strip()
    return dict(zip(found["lead_id"], zip(names, found["company"].fillna(""), strict=True), strict=True))


@review_app.command("assign")
def review_assign(
    lead_id: Annotated[str, typer.Argument(help="The CRM id of the lead")],
    owner_id: Annotated[str, typer.Argument(help="A rep or queue id of the roster")],
    tier: Annotated[
        str | None, typer.Option(help="VIP, Standard, Nurture or Other (default: suggested)")
    ] = None,
    category: CategoryOption = None,
    by: ByOption = None,
    source: SourceOption = None,
) -> None:
    """Give the lead to the owner you choose; no round-robin turn is taken."""
    from leadrouter.classify.rules import load_rulebook
    from leadrouter.review import assign_owner

    settings = Settings()
    sla = load_rulebook(settings.rulebook_path).sla
    at = clock.routing_now(settings)
    _resolve(
        assign_owner, lead_id, owner_id, tier=tier, by=by, category=category, source=source, sla=sla, at=at
    )


@review_app.command("set-tier")
def review_set_tier(
    lead_id: Annotated[str, typer.Argument(help="The CRM id of the lead")],
    tier: Annotated[str, typer.Argument(help="VIP, Standard, Nurture or Other")],
    category: CategoryOption = None,
    by: ByOption = None,
    source: SourceOption = None,
) -> None:
    """Set the lead's tier; its owner comes from the tier's pool by round robin, like any routed lead."""
    from leadrouter.classify.rules import load_rulebook
    from leadrouter.review import set_tier

    settings = Settings()
    sla = load_rulebook(settings.rulebook_path).sla
    at = clock.routing_now(settings)
    _resolve(set_tier, lead_id, tier, by=by, category=category, source=source, sla=sla, at=at)


def _resolve(resolve: Callable[..., dict[str, Any]], lead_id: str, choice: str, **kw: Any) -> None:
    """Run one resolution (the owner or the tier a person chose) and report it; a ReviewError exits 1."""
    from leadrouter.assign.roster import load_roster
    from leadrouter.review import ReviewError, UnknownOwner

    settings = Settings()
    roster = load_roster(settings.roster_path)
    source = kw.pop("source", None) or settings.crm
    with _store(settings) as store:
        try:
            done = resolve(store, source, lead_id, choice, roster, **kw)
        except ReviewError as exc:
            hint = f": the reps and queues are listed in {settings.roster_path}"
            fail(f"{exc}{hint if isinstance(exc, UnknownOwner) else ''}")
    pool = f" from pool {done['pool']}" if done["pool"] else ""
    then = "the next route-inbound run writes it to the CRM"
    if done["status"] == "shadow":
        then = "a shadow decision: nothing is written to the CRM"
    console.print(
        terminal(f"{lead_id}: {done['tier']} → {done['owner_id']}{pool} ({done['method']}); {then}")
    )


@contextmanager
def _store(settings: Settings) -> Iterator[Any]:
    from leadrouter.store import open_store

    with open_store(settings.store_url) as store:
        yield store


def _stamp(value: pd.Timestamp) -> str:
    return "" if pd.isna(value) else f"{value:%Y-%m-%d %H:%M}"


def _state(row: Any) -> str:
    if not pd.isna(row.resolved_at):
        return f"resolved {_stamp(row.resolved_at)}"
    if not pd.isna(row.escalated_at):
        to = "nobody" if pd.isna(row.escalated_to) else row.escalated_to  # no escalation rep in the roster
        return f"LATE, escalated to {terminal(to)}"
    return "LATE" if row.late else ""
