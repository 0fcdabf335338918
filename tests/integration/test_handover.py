"""`leadrouter handover` and `leadrouter rep` as a user runs them, on a routed sandbox: the plan, the moves (each
recorded with its reason), the owners written back to the CRM, touched leads left alone unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from leadrouter.assign.roster import load_roster
from leadrouter.config import PROJECT_ROOT
from leadrouter.inert import terminal
from leadrouter.store import open_store
from leadrouter.store.tables import decisions, sla_events
from tests.helpers.cli import run
from tests.helpers.clock import WORKDAY
from tests.helpers.routed import routed_sandbox

ROSTER = load_roster(PROJECT_ROOT / "config" / "roster.yaml")


@pytest.fixture
def routed(tmp_path: Path, local_model: object) -> tuple[object, str, dict[str, str]]:
    crm, url = routed_sandbox(tmp_path, local_model, seed=11, leads=200)
    env = {
        "LEADROUTER_STORE_URL": url,
        "LEADROUTER_SANDBOX_PATH": str(tmp_path / "sandbox.db"),
        "LEADROUTER_ROUTING_CLOCK": WORKDAY.isoformat(),
        "COLUMNS": "220",
    }
    return crm, url, env


def books(url: str) -> dict[str, list[str]]:
    with open_store(url) as store, store.engine.connect() as conn:
        rows = conn.execute(
            select(decisions.c.lead_id, decisions.c.owner_id).where(decisions.c.tier.is_not(None))
        )
        held: dict[str, list[str]] = {}
        for lead, owner in rows:
            held.setdefault(owner, []).append(lead)
    return held


def busiest(url: str, tier_pool: str | None = None) -> tuple[str, list[str]]:
    reps = {r.key for r in ROSTER.reps}
    held = {k: v for k, v in books(url).items() if k in reps}
    rep = max(held, key=lambda r: len(held[r]))
    return rep, held[rep]


def touch(url: str, lead_id: str) -> None:
    with open_store(url) as store, store.engine.begin() as conn:
        conn.execute(update(decisions).where(decisions.c.lead_id == lead_id).values(first_touch_at=WORKDAY))


def test_a_dry_run_shows_the_plan_and_moves_nothing(routed: tuple) -> None:
    _, url, env = routed
    rep, leads = busiest(url)
    before = books(url)
    out = run("handover", rep, "--dry-run", env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"handover plan: {len(leads)} leads" in out.stdout and "dry run: nothing moved" in out.stdout
    assert all(lead in out.stdout for lead in leads)
    assert books(url) == before


def test_a_book_handed_to_a_colleague_is_recorded_and_written_touched_leads_stay(routed: tuple) -> None:
    crm, url, env = routed
    rep, leads = busiest(url)
    colleague = next(r.key for r in ROSTER.reps if r.key != rep and r.active)
    touch(url, leads[0])
    out = run("handover", rep, "--to", colleague, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"moved {len(leads) - 1} leads of {rep}" in out.stdout
    held = books(url)
    assert held[rep] == [leads[0]] and set(leads[1:]) <= set(held[colleague])
    crm_owner = crm.fetch_leads(leads).set_index("lead_id")["crm_owner_id"]
    assert (crm_owner[leads[1:]] == colleague).all()
    with open_store(url) as store, store.engine.connect() as conn:
        events = conn.execute(
            select(sla_events.c.lead_id, sla_events.c.kind, sla_events.c.new_owner_id)
        ).all()
    assert sorted(e.lead_id for e in events if e.kind == "handover") == sorted(leads[1:])
    assert {e.new_owner_id for e in events if e.kind == "reroute"} == {colleague}


def test_a_book_handed_round_the_pools_is_shared_fairly_and_touched_ones_move_when_asked(
    routed: tuple,
) -> None:
    crm, url, env = routed
    rep, leads = busiest(url)
    touch(url, leads[0])
    out = run("handover", rep, "--include-touched", env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"moved {len(leads)} leads of {rep}" in out.stdout
    now = {lead: owner for owner, held in books(url).items() for lead in held}
    assert all(now[lead] != rep for lead in leads)
    new = [now[lead] for lead in leads]
    # round robin over the rest of each lead's pool: nobody takes much more than their share
    assert len(set(new)) > 1 and max(new.count(o) for o in set(new)) <= len(leads) // 2 + 1
    crm_owner = crm.fetch_leads(leads).set_index("lead_id")["crm_owner_id"]
    assert all(crm_owner[lead] == now[lead] for lead in leads)


def test_a_handover_to_nobody_known_is_an_error_naming_the_fix(routed: tuple) -> None:
    _, url, env = routed
    rep, _ = busiest(url)
    out = run("handover", rep, "--to", "nobody-here", env=env)
    assert out.returncode == 1
    assert "--to 'nobody-here' is neither a rep nor a pool of the roster" in out.stdout


def test_the_rep_view_shows_leads_today_open_load_time_off_and_cover(routed: tuple) -> None:
    _, url, env = routed
    rep, leads = busiest(url)
    out = run("rep", rep, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    person = ROSTER.by_id[rep]
    assert f"{person.name} ({rep}, {terminal(person.email)}): active" in out.stdout
    assert f"today: {len(leads)} leads · open (untouched): {len(leads)}" in out.stdout
    off = ", ".join(f"{o.start}..{o.end}" for o in person.time_off) or "-"
    assert f"time off: {off}" in out.stdout
