"""`leadrouter handover REP` (a rep's book to a colleague or round a pool) and `leadrouter rep REP` (one rep's
view: leads today, open load, time off, what they work in, cover)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.table import Table

from commands.console import console, fail
from commands.leads import configured_crm
from leadrouter import clock
from leadrouter.config import Settings
from leadrouter.inert import terminal

if TYPE_CHECKING:
    from leadrouter.assign.roster import Rep, Roster


def handover(
    rep: Annotated[str, typer.Argument(help="The rep leaving (roster id or email)")],
    to: Annotated[str | None, typer.Option(help="A rep or a pool (default: each lead's own pool)")] = None,
    include_touched: Annotated[bool, typer.Option(help="Move leads the rep already worked too")] = False,
    dry_run: Annotated[bool, typer.Option(help="Show the plan, move nothing")] = False,
) -> None:
    """Hand a rep's book over: their untouched leads (and touched ones if asked) to a colleague, or fairly round
    a pool; shows the plan first, records each move with its reason, writes the owners back in batches and
    tells the new owners."""
    from blocks.load import load_channels
    from leadrouter import notify
    from leadrouter.classify.rules import load_rulebook
    from leadrouter.departures import HandoverError, hand_over, handover_plan
    from leadrouter.router import crm_roster
    from leadrouter.store import open_store
    from leadrouter.writeback import write_back

    settings = Settings()
    crm = cache(lambda: configured_crm(settings))
    roster, _ = crm_roster(settings, crm)  # nobody deactivated in the CRM takes a lead
    sla = load_rulebook(settings.rulebook_path).sla
    source, at = settings.crm, clock.routing_now(settings)
    names = {r.key: r.name for r in roster.reps} | roster.queues
    with open_store(settings.store_url) as store:
        try:
            plan = handover_plan(store, source, roster, rep, to, include_touched, sla, at)
        except HandoverError as exc:
            fail(str(exc))
        console.print(plan_table(plan, names))
        if dry_run or plan.empty:
            console.print("dry run: nothing moved" if dry_run else "nothing to hand over")
            return
        moved = hand_over(store, source, roster, rep, to, include_touched, sla, at)
        written = write_back(store, crm(), source, claim=f"handover:{at.isoformat()}")
        channels = load_channels(settings)
        if channels:
            notify.tell_reroutes(store, crm(), source, moved, roster, channels, settings.crm_link_template)
    ok = int((written.get("ok", pd.Series(dtype=bool)) == True).sum()) if len(written) else 0  # noqa: E712
    console.print(f"moved {len(moved)} leads of {terminal(rep)}; written to the CRM: {ok} of {len(written)}")
    console.print("accounts the rep owns stay with them: no CRM adapter writes account owners yet")


def plan_table(plan: pd.DataFrame, names: dict[str, str]) -> Table:
    """The handover plan: one row per lead, from whom to whom, through which pool and how."""
    table = Table(title=f"handover plan: {len(plan)} leads")
    for column in ("lead", "tier", "touched", "from", "to", "pool", "how"):
        table.add_column(column, overflow="fold")
    for r in plan.itertuples(index=False):
        to = f"{r.owner_id} ({names.get(r.owner_id, '')})" if pd.notna(r.owner_id) else "-"
        cells = [r.lead_id, r.tier, "yes" if r.touched else "no", r.old_owner_id, to, r.pool, r.how]
        table.add_row(*[terminal("" if pd.isna(c) else str(c)) for c in cells])
    return table


def rep(
    rep_name: Annotated[str, typer.Argument(metavar="REP", help="A rep of the roster (id or email)")],
) -> None:
    """One rep's view: leads today, open load, time off, languages and skills, whether covered."""
    from leadrouter.assign.availability import day_starts
    from leadrouter.router import crm_roster
    from leadrouter.store import open_store
    from leadrouter.store.decisions import owner_decisions, owner_load

    settings = Settings()
    roster, deactivated = crm_roster(settings, cache(lambda: configured_crm(settings)))
    person = roster.by_id.get(rep_name)
    if person is None:
        fail(f"{rep_name!r} is not a rep of the roster: name them by id or email")
    at = clock.routing_now(settings)
    starts = day_starts(roster, at)
    with open_store(settings.store_url) as store:
        today = owner_decisions(store, settings.crm, person.key, starts[person.key].to_pydatetime())
        with store.snapshot() as conn:
            load = owner_load(conn, settings.crm, False, starts[[person.key]], at)
    load = load.reindex([person.key]).fillna(0).iloc[0] if len(load) else pd.Series(dtype=float)
    console.print(rep_card(roster, person, deactivated, at))
    console.print(
        f"  today: {len(today)} leads · open (untouched): {int(load.get('open', 0))} · "
        f"open expected value: {load.get('pipeline', 0):,.0f}"
    )
    if len(today):
        table = Table(title="leads today")
        for column in ("lead", "tier", "pool", "status", "touched"):
            table.add_column(column, overflow="fold")
        for r in today.itertuples(index=False):
            cells = [r.lead_id, r.tier, r.pool, r.status, "yes" if r.touched else "no"]
            table.add_row(*[terminal("" if pd.isna(c) else str(c)) for c in cells])
        console.print(table)


def rep_card(roster: Roster, person: Rep, deactivated: list[str], at: datetime) -> str:
    """The rep's standing facts, one per line, every value inert."""
    from leadrouter.assign.availability import covering, is_off

    t = terminal
    names = {r.key: r.name for r in roster.reps}
    state = "active"
    if person.key in deactivated:
        state = "deactivated in the CRM (switched off for routing)"
    elif not person.active:
        state = "switched off in the roster"
    pools = [p.name for p in roster.pools if person.key in roster.members(p)]
    # languages and skills: whatever the roster's reps carry (fields added alongside verticals)
    languages = getattr(person, "languages", None) or []
    skills = getattr(person, "skills", None) or {}
    skill_text = "; ".join(f"{k}: " + ", ".join(map(str, v)) for k, v in skills.items())
    off = ", ".join(f"{o.start}..{o.end}" for o in person.time_off)
    today = at.astimezone(zoneinfo.ZoneInfo(person.schedule.timezone)).date()
    lines = [
        f"{t(person.name)} ({t(person.key)}, {t(person.email)}): {state}",
        f"  pools: {t(', '.join(pools) or '-')} · weight {person.weight:g} · role {t(person.role)}",
        f"  languages: {t(', '.join(languages) or '-')}",
        f"  skills: {t(skill_text or '-')}",
        f"  verticals: {t(', '.join(person.verticals) or '-')}",
        f"  time off: {t(off or '-')}" + (" · off today" if is_off(person, today) else ""),
    ]
    covers = covering(roster, at)
    if person.key in covers:
        lines.append(f"  covered today by {t(names.get(covers[person.key], covers[person.key]))}")
    covering_for = [names.get(r, r) for r, by in covers.items() if by == person.key]
    if covering_for:
        lines.append(f"  covering today for {t(', '.join(covering_for))}")
    planned = [
        f"{c.start}..{c.end} by {names.get(roster.rep_id(c.by), c.by)}"
        for c in roster.cover
        if roster.rep_id(c.rep) == person.key
    ]
    if planned:
        lines.append(f"  cover: {t(', '.join(planned))}")
    return "\n".join(lines)
