"""The 90-day outcome loop on sandbox history with known ground truth: decisions, SLA events and review rows in
the store, deals in the sandbox CRM; the analyst tables are checked against a plain-Python count of the same
history, on SQLite and a real PostgreSQL, and once through the real flow under Prefect."""

from __future__ import annotations

import random
import sqlite3
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from leadrouter.crm.base import chunks
from leadrouter.outcomes import join as outcomes
from leadrouter.outcomes.deals import SANDBOX_STAGES, clean_outcomes
from leadrouter.outcomes.stored import LOOP_DIMENSIONS, loop_tables
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.edits import stamp
from leadrouter.store import Store, open_store
from leadrouter.store import outcomes as outcome_store
from leadrouter.store.tables import decisions, outcome_leads, outcome_metrics, review_queue, sla_events
from leadrouter.store.tables import outcomes as outcomes_table
from tests.helpers.clock import WORKDAY

NOW = WORKDAY  # the first run; the second runs a day later
LATER = NOW + timedelta(days=1)
WINDOW = timedelta(days=97)  # 90 days + the flow's default 7 days of grace
REPS = [f"00500000000000{i}" for i in range(1, 7)]
QUEUE = "00G000000000001"
RULES = ["vip-senior", "standard-fit", "nurture-small", "other-support", "emea-carve"]
TIERS = ["VIP", "Standard", "Nurture", "Other"]
AMOUNTS = [8_000.0, 20_000.0, 49_999.0, 50_000.0, 90_000.0, 120_000.0]
SECOND_MOVE_MIN = 20  # minutes after the first re-route, the rep it gave the lead to rejects it
MINUTES = {"VIP": 5.0, "Standard": 30.0}  # the seed rulebook's response SLAs (config/rulebook.yaml)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return request.getfixturevalue("pg_store_url")


# --- the history and its ground truth, in plain Python --------------------------------------------------------


def make_history(lead_ids: list[str], seed: int = 5) -> list[dict]:
    """One dict per lead: what the store will hold and the truth about it (original owner, first touch, deal)."""
    rng = random.Random(seed)
    leads = []
    for lead_id in lead_ids:
        age = rng.uniform(1, 130)
        age += 4 if 95 < age < 99 else 0  # nobody near the window's edge, which moves a day between runs
        created = NOW - timedelta(days=age)
        status = rng.choices(["written", "review", "quarantined", "write_failed"], [88, 5, 4, 3])[0]
        lead = {
            "lead_id": lead_id,
            "status": status,
            "created": created,
            "decided": created + timedelta(seconds=30),
        }
        if status == "review":  # still waiting for a person: no tier, no decider, no owner
            lead |= {"tier": None, "decided_by": None, "kind": "review", "rule": None, "owner": None}
        else:
            kind = rng.choices(["rule", "model", "review"], [70, 20, 10])[0]
            rule = rng.choice(RULES) if kind == "rule" else None
            who = {"rule": f"rule:{rule}", "model": "model:local-v1", "review": "review:ann"}[kind]
            lead |= {"tier": rng.choice(TIERS), "decided_by": who, "kind": kind, "rule": rule}
            lead["owner"] = rng.choice([*REPS, QUEUE])
        lead["final_owner"] = lead["owner"]
        lead["breach"] = status == "written" and rng.random() < 0.12
        lead["reject"] = status == "written" and not lead["breach"] and rng.random() < 0.05
        lead["second_owner"] = None  # the rep the first re-route gave it to, when they rejected it in turn
        if lead["breach"] or lead["reject"]:
            lead["final_owner"] = rng.choice([r for r in REPS if r != lead["owner"]])
            if rng.random() < 0.4:
                lead["second_owner"] = lead["final_owner"]
                lead["final_owner"] = rng.choice(
                    [r for r in REPS if r not in (lead["owner"], lead["second_owner"])]
                )
        lead["touch_decision"] = lead["touch_event"] = lead["touch_crm"] = None
        if status in ("written", "write_failed") and rng.random() < 0.8:
            # touched by the owner who has it now: after the last re-route, if it moved
            got = lead["decided"] + timedelta(minutes=15 + (SECOND_MOVE_MIN if lead["second_owner"] else 0))
            start = got if lead["breach"] or lead["reject"] else created
            touch = start + timedelta(minutes=rng.expovariate(1 / 8))
            where = rng.choice(["decision", "event", "both"])
            lead["touch_decision"] = touch + timedelta(minutes=2 if where == "both" else 0)
            lead["touch_event"] = touch
            if where == "decision":
                lead["touch_event"] = None
            elif where == "event":
                lead["touch_decision"] = None
        # touched in the CRM only (no clock ran: a reviewed lead, a Nurture lead given to a rep): the loop reads it
        untouched = not (lead["touch_decision"] or lead["touch_event"])
        if status == "written" and lead["final_owner"] in REPS and untouched and rng.random() < 0.5:
            lead["touch_crm"] = lead["decided"] + timedelta(minutes=40 + rng.expovariate(1 / 60))
        lead["in_review_queue"] = lead["kind"] == "review"
        lead["crm_deal"] = make_deal(rng, created) if rng.random() < 0.35 else None
        leads.append(lead)
    return leads


def make_deal(rng: random.Random, created: datetime) -> dict:
    closed = rng.random() < 0.5
    won = closed and rng.random() < 0.5
    close = min(created + timedelta(days=rng.uniform(2, 120)), NOW - timedelta(days=1))
    return {
        "amount": rng.choice(AMOUNTS),
        "closed": closed,
        "won": won,
        "stage": "Closed Won" if won else "Closed Lost" if closed else "Discovery",
        "close_date": close.date() if closed else None,
    }


def counted(lead: dict) -> bool:
    return lead["status"] != "quarantined"


def in_window(lead: dict, at: datetime) -> bool:
    return counted(lead) and lead["decided"] >= at - WINDOW


def write_history(store: Store, leads: list[dict], noise_ids: list[str]) -> None:
    """The leads as decisions, SLA events and review rows; and, under another source, the same lead ids with
    breaches and reviews that must never reach the sandbox's tables."""
    rows, noise, events, review = [], [], [], []
    for lead in leads:
        rows.append(
            {"source": "sandbox", "lead_id": lead["lead_id"], "status": lead["status"], "tier": lead["tier"],
             "decided_by": lead["decided_by"], "owner_id": lead["final_owner"], "lead_created_at": lead["created"],
             "decided_at": lead["decided"], "first_touch_at": lead["touch_decision"], "shadow": False,
             "write_attempts": 1}
        )  # fmt: skip
        moved = lead["decided"] + timedelta(minutes=15)
        for kind in ("breach", "reject"):
            if lead[kind]:
                taker = lead["second_owner"] or lead["final_owner"]
                events += [
                    event("sandbox", lead["lead_id"], kind, lead["owner"], None, moved),
                    event("sandbox", lead["lead_id"], "reroute", lead["owner"], taker, moved),
                    event("sandbox", lead["lead_id"], "escalation", lead["owner"], "boss", moved),
                ]
        if lead["second_owner"]:
            again = moved + timedelta(minutes=SECOND_MOVE_MIN)
            events += [
                event("sandbox", lead["lead_id"], "reject", lead["second_owner"], None, again),
                event(
                    "sandbox", lead["lead_id"], "reroute", lead["second_owner"], lead["final_owner"], again
                ),
            ]
        if lead["touch_event"]:
            events.append(
                event("sandbox", lead["lead_id"], "touch", lead["final_owner"], None, lead["touch_event"])
            )
        if lead["in_review_queue"]:
            review.append({"source": "sandbox", "lead_id": lead["lead_id"], "reason": "unsure", "created_at": lead["created"]})  # fmt: skip
    for lead_id in noise_ids:
        noise.append(
            {"source": "hubspot", "lead_id": lead_id, "status": "written", "tier": "VIP", "decided_by": "rule:x",
             "owner_id": REPS[0], "decided_at": NOW - timedelta(days=3), "shadow": False, "write_attempts": 1}
        )  # fmt: skip
        events.append(event("hubspot", lead_id, "breach", REPS[0], None, NOW - timedelta(days=3)))
        events.append(event("hubspot", lead_id, "touch", REPS[0], None, NOW - timedelta(days=4)))
        review.append({"source": "hubspot", "lead_id": lead_id, "reason": "unsure", "created_at": NOW})
    with store.transaction() as conn:
        conn.execute(decisions.insert(), rows)
        conn.execute(decisions.insert(), noise)
        conn.execute(sla_events.insert(), events)
        conn.execute(review_queue.insert(), review)


def event(
    source: str, lead_id: str, kind: str, owner: str | None, new_owner: str | None, at: datetime
) -> dict:
    return {
        "source": source,
        "lead_id": lead_id,
        "kind": kind,
        "owner_id": owner,
        "new_owner_id": new_owner,
        "at": at,
    }


def put_deals(crm: SandboxCRM, deals: dict[str, dict]) -> None:
    """Deals in the sandbox CRM, each converted from its lead (replacing any deal the lead had)."""
    with sqlite3.connect(crm.path) as db:
        for lead_id, deal in deals.items():
            deal_id = f"006-{lead_id}"
            db.execute("DELETE FROM deals WHERE id = ?", (deal_id,))
            db.execute(
                "INSERT INTO deals (id, lead_id, stage, amount, close_date, is_closed, is_won) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (deal_id, lead_id, deal["stage"], deal["amount"],
                 deal["close_date"].isoformat() if deal["close_date"] else None, int(deal["closed"]), int(deal["won"])),
            )  # fmt: skip
            db.execute("UPDATE leads SET converted_opportunity_id = ? WHERE id = ?", (deal_id, lead_id))


def seed_old_outcomes(store: Store, leads: list[dict]) -> None:
    """Outcomes an earlier run stored for leads now past the window: they stay as stored (closed out), whatever
    the CRM says now."""
    rows = []
    for lead in leads:
        lead["stored_deal"] = dict(lead["crm_deal"], first_seen=lead["created"] + timedelta(days=20))
        rows.append(
            {"source": "sandbox", "lead_id": lead["lead_id"], "deal_id": f"006-{lead['lead_id']}",
             "stage": lead["crm_deal"]["stage"], "is_closed": lead["crm_deal"]["closed"], "is_won": lead["crm_deal"]["won"],
             "amount": lead["crm_deal"]["amount"], "close_date": lead["crm_deal"]["close_date"],
             "first_seen_at": lead["created"] + timedelta(days=20), "updated_at": lead["created"] + timedelta(days=20)}
        )  # fmt: skip
        lead["crm_deal"] = dict(
            lead["crm_deal"], amount=lead["crm_deal"]["amount"] * 3
        )  # changed since: ignored
    with store.transaction() as conn:
        conn.execute(outcomes_table.insert(), rows)


def truth(lead: dict) -> dict:
    """The per-lead figures, from the generated facts alone."""
    touches = [t for t in (lead["touch_decision"], lead["touch_event"], lead["touch_read"]) if t]
    deal = lead.get("stored_deal")
    speed = (min(touches) - lead["created"]).total_seconds() / 60 if touches else None
    days = None
    if deal:
        seen = deal["first_seen"]
        if deal["close_date"]:
            end_of_close = datetime.combine(
                deal["close_date"] + timedelta(days=1), datetime.min.time(), NOW.tzinfo
            )
            seen = min(seen, end_of_close)
        days = max((seen - lead["created"]).total_seconds() / 86_400, 0.0)
    monday = lead["decided"].date() - timedelta(days=lead["decided"].weekday())
    return {
        "tier": lead["tier"], "rule": lead["rule"], "decided_kind": lead["kind"], "owner_id": lead["owner"],
        "source": "sandbox", "week": monday.isoformat(), "speed": speed, "breach": lead["breach"],
        "reject": lead["reject"] or lead["second_owner"] is not None, "reroute": lead["breach"] or lead["reject"],
        "triage": lead["in_review_queue"], "deal": deal, "days": days, "created": lead["created"],
    }  # fmt: skip


def with_hindsight(facts: dict[str, dict]) -> dict[str, dict]:
    """Each fact's hindsight tier, by hand: VIP for an opportunity within 90 days worth at least the VIP cut
    (the 80th percentile of the won deals' amounts, interpolated as numpy does), Standard for another one within
    90 days, Nurture for a later one, Other without one."""
    deals = [f["deal"] for f in facts.values() if f["deal"]]
    amounts = sorted(d["amount"] for d in deals if d["won"]) or sorted(d["amount"] for d in deals)
    cut = statistics.quantiles(amounts, n=5, method="inclusive")[3] if len(amounts) > 1 else amounts[0]
    for fact in facts.values():
        in_time = fact["deal"] is not None and fact["days"] <= 90
        fact["hindsight"] = (
            ("VIP" if fact["deal"]["amount"] >= cut else "Standard")
            if in_time
            else "Nurture"
            if fact["deal"]
            else "Other"
        )
    return facts


def stint_facts(lead: dict) -> list[dict]:
    """Each owner who had the lead, by hand: the decision's owner, then each re-route's taker; a touch charged to
    the owner who made it (the history's touches are the last owner's), breaches and rejections to theirs, the
    deal to the last owner."""
    moved = lead["decided"] + timedelta(minutes=15)
    owners = [(lead["owner"], lead["decided"])]
    if lead["breach"] or lead["reject"]:
        owners.append((lead["second_owner"] or lead["final_owner"], moved))
    if lead["second_owner"]:
        owners.append((lead["final_owner"], moved + timedelta(minutes=SECOND_MOVE_MIN)))
    touches = [t for t in (lead["touch_decision"], lead["touch_event"], lead["touch_read"]) if t]
    facts = []
    for i, (owner, got) in enumerate(owners):
        last = i == len(owners) - 1
        touch = min(touches) if last and touches else None
        facts.append(
            {"owner_id": owner, "tier": lead["tier"], "speed": (touch - got).total_seconds() / 60 if touch else None,
             "breach": i == 0 and lead["breach"],
             "reject": (i == 0 and lead["reject"]) or (i == 1 and lead["second_owner"] is not None),
             "reroute": not last, "triage": lead["in_review_queue"], "deal": lead.get("stored_deal") if last else None}
        )  # fmt: skip
    return facts


def expected_owner_tables(leads: list[dict]) -> dict[str, dict[str, dict[str, float | None]]]:
    """`rep` (all tiers), `rep:<tier>` and `queue:<tier>`, by owner, from the stints by hand."""
    stints = [f for lead in leads if counted(lead) and lead["owner"] for f in stint_facts(lead)]
    reps = [f for f in stints if f["owner_id"] != QUEUE]
    tables = {"rep": expected_table(reps, "owner_id")}
    for tier in TIERS:
        for name, part in (("rep", reps), ("queue", [f for f in stints if f["owner_id"] == QUEUE])):
            of_tier = [f for f in part if f["tier"] == tier]
            if of_tier:
                tables[f"{name}:{tier}"] = expected_table(of_tier, "owner_id")
    return tables


OPS = {"speed_median_min": "<", "wrong_assignment_rate": "<", "manual_triage_rate": "<", "acceptance_rate": ">",
       "breach_rate": "<"}  # fmt: skip


def expected_thresholds(dimension: str, value: str) -> dict[str, float]:
    """The seed's thresholds that judge a group, by hand: none for a queue, no manual triage for a rep, speed (the
    tier's own SLA) and breaches only for one tier's leads whose tier has an SLA."""
    if dimension.startswith("queue"):
        return {}
    limits = {"wrong_assignment_rate": 0.05, "acceptance_rate": 0.60}
    if not dimension.startswith("rep"):
        limits["manual_triage_rate"] = 0.20
    tier = value if dimension == "tier" else dimension.partition(":")[2]
    if tier in MINUTES:
        limits |= {"speed_median_min": MINUTES[tier], "breach_rate": 0.10}
    return limits


def p90(values: list[float]) -> float:
    """Linear interpolation between order statistics (numpy's default), by hand."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def expected_table(facts: list[dict], dimension: str) -> dict[str, dict[str, float | None]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for fact in facts:
        groups[fact[dimension] if fact[dimension] is not None else "(none)"].append(fact)
    table = {}
    for value, group in groups.items():
        n = len(group)
        deals = [f["deal"] for f in group if f["deal"]]
        closed = [d for d in deals if d["closed"]]
        won = [d for d in deals if d["won"]]
        speeds = [f["speed"] for f in group if f["speed"] is not None]
        table[value] = {
            "leads": n, "accepted": len(speeds), "meetings": len(deals), "opportunities": len(deals),
            "won": len(won), "win_rate": len(won) / len(closed) if closed else None,
            "pipeline": sum(d["amount"] for d in deals), "revenue": sum(d["amount"] for d in won),
            "speed_median_min": statistics.median(speeds) if speeds else None,
            "speed_p90_min": p90(speeds) if speeds else None,
            "breach_rate": sum(f["breach"] for f in group) / n, "wrong_assignment_rate": sum(f["reject"] for f in group) / n,
            "reassignment_rate": sum(f["reroute"] for f in group) / n, "manual_triage_rate": sum(f["triage"] for f in group) / n,
            "acceptance_rate": len(speeds) / n,
        }  # fmt: skip
    return table


def expected_headline(facts: list[dict], as_of: datetime) -> dict[str, float | None]:
    grown = [f for f in facts if f["created"] + timedelta(days=90) <= as_of]
    called = [f for f in grown if f["tier"] == "VIP"]
    truly = [f for f in grown if f["hindsight"] == "VIP"]
    hits = [f for f in called if f["hindsight"] == "VIP"]
    nurture = [f for f in facts if f["tier"] == "Nurture"]
    hot = [f for f in nurture if f["deal"] and f["days"] <= 90]
    return {
        "vip_precision": len(hits) / len(called) if called else None,
        "vip_recall": len(hits) / len(truly) if truly else None,
        "vip_matured_leads": len(grown),
        "nurture_leads": len(nurture),
        "nurture_turned_hot": len(hot),
    }


# --- running the loop ------------------------------------------------------------------------------------------


def history_in(store: Store, crm: SandboxCRM, n: int = 360) -> list[dict]:
    """Generate, write and return the ground truth; deals into the CRM (old leads' outcomes pre-stored)."""
    ids = crm.add_leads(
        n, np.random.default_rng(3), pd.Timestamp(NOW) - pd.Timedelta(days=1), pd.Timestamp(NOW)
    )
    leads = make_history(ids["lead_id"].tolist())
    write_history(store, leads, noise_ids=[lead["lead_id"] for lead in leads[:25]])
    old = [lead for lead in leads if lead["crm_deal"] and counted(lead) and not in_window(lead, NOW)]
    seed_old_outcomes(store, old[: len(old) // 2])
    put_deals(crm, {lead["lead_id"]: lead["crm_deal"] for lead in leads if lead["crm_deal"]})
    for lead in leads:  # the loop reads the CRM's touches of leads it still checks
        lead["touch_read"] = lead["touch_crm"] if in_window(lead, NOW) else None
    with sqlite3.connect(crm.path) as db:
        db.executemany(
            "INSERT INTO activities (lead_id, owner_id, type, created_at) VALUES (?, ?, 'call', ?)",
            [(lead["lead_id"], lead["final_owner"], stamp(pd.Timestamp(lead["touch_crm"])))
             for lead in leads if lead["touch_crm"]],
        )  # fmt: skip
    return leads


def change_crm_between_runs(crm: SandboxCRM, leads: list[dict]) -> None:
    """Before the second run: some open deals close won today, some leads get their first deal."""
    rng = random.Random(9)
    recent = [lead for lead in leads if in_window(lead, NOW)]
    for lead in [lead for lead in recent if lead["crm_deal"] and not lead["crm_deal"]["closed"]][:6]:
        lead["crm_deal"] = dict(
            lead["crm_deal"], closed=True, won=True, stage="Closed Won", close_date=NOW.date()
        )
    fresh = [lead for lead in recent if not lead["crm_deal"]][:8]
    for lead in fresh:
        lead["crm_deal"] = make_deal(rng, lead["created"])
        lead["new_at_second_run"] = True
    put_deals(crm, {lead["lead_id"]: lead["crm_deal"] for lead in leads if lead["crm_deal"]})


def settle_truth(leads: list[dict]) -> None:
    """What the store should know after both runs: in-window leads' deals as the CRM has them now, first seen
    at the run that found them; old leads' as stored before; nothing for old leads never stored."""
    for lead in leads:
        if in_window(lead, NOW) and lead["crm_deal"]:
            seen = LATER if lead.get("new_at_second_run") else NOW
            lead["stored_deal"] = dict(lead["crm_deal"], first_seen=seen)


def run_loop(store: Store, crm: SandboxCRM, at: datetime) -> None:
    """The flow's stages through the tasks' own functions (the Prefect test runs the flow itself)."""
    from prefect.logging import disable_run_logger

    from tasks.outcome_loop import (
        build_lead_outcomes,
        fetch_outcomes,
        read_first_touches,
        read_fx_rates,
        save_analyst_tables,
        save_outcomes,
    )

    with disable_run_logger():
        due = outcome_store.due_lead_ids(store, "sandbox", at - WINDOW)
        for part in chunks(due, 64):
            save_outcomes.fn(store, "sandbox", fetch_outcomes.fn(crm, part), at, SANDBOX_STAGES)
        read_first_touches.fn(store, crm, frozenset({QUEUE}), at - WINDOW, 64)
        frame, stints = build_lead_outcomes.fn(store, "sandbox")
        rates = read_fx_rates.fn(store)
        tables = loop_tables(frame, stints, {QUEUE}, rates)
        save_analyst_tables.fn(store, "sandbox", frame, tables, at, MINUTES, rates)


def stored_metrics(store: Store) -> dict[tuple[str, str, str], tuple]:
    query = select(
        outcome_metrics.c.dimension, outcome_metrics.c.value, outcome_metrics.c.metric, outcome_metrics.c.figure,
        outcome_metrics.c.threshold, outcome_metrics.c.passes, outcome_metrics.c.source,
    )  # fmt: skip
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    assert {r.source for r in rows} == {"sandbox"}
    return {(r.dimension, r.value, r.metric): (r.figure, r.threshold, r.passes) for r in rows}


def check_tables(store: Store, leads: list[dict], as_of: datetime) -> None:
    """Every figure of outcome_metrics and every lead of outcome_leads against the plain-Python count."""
    facts = with_hindsight({lead["lead_id"]: truth(lead) for lead in leads if counted(lead)})
    got = stored_metrics(store)
    expected_tables = {d: expected_table(list(facts.values()), d) for d in LOOP_DIMENSIONS}
    expected_tables |= expected_owner_tables(leads)
    assert {d for d, _, _ in got} == {*expected_tables, "all"}  # no owner_id table: reps and queues apart
    for dimension, expected in expected_tables.items():
        assert {v for d, v, _ in got if d == dimension} == set(expected), dimension
        for value, figures in expected.items():
            limits = expected_thresholds(dimension, value)
            for metric, figure in figures.items():
                stored, threshold, passes = got[(dimension, value, metric)]
                where = f"{dimension}={value} {metric}"
                assert (stored is None) == (figure is None), where
                if figure is not None:
                    assert stored == pytest.approx(figure, rel=1e-9, abs=1e-9), where
                assert threshold == limits.get(metric), where
                if metric in limits and figure is not None:
                    assert passes == (figure < threshold if OPS[metric] == "<" else figure > threshold), where
                else:
                    assert passes is None, where
    for name, figure in expected_headline(list(facts.values()), as_of).items():
        stored = got[("all", "all", name)][0]
        assert stored == (pytest.approx(figure) if figure is not None else None), name
    with store.engine.connect() as conn:
        rows = conn.execute(select(outcome_leads)).all()
    assert {r.lead_id for r in rows} == set(facts)
    for r in rows:
        fact = facts[r.lead_id]
        assert r.owner_id == fact["owner_id"] and r.hindsight_tier == fact["hindsight"], r.lead_id
        assert r.opportunity == (fact["deal"] is not None) and r.manual_triage == fact["triage"], r.lead_id
        assert (r.days_to_opportunity is None) == (fact["days"] is None), r.lead_id
        if fact["days"] is not None:
            assert r.days_to_opportunity == pytest.approx(fact["days"]), r.lead_id
        if fact["speed"] is not None:
            assert r.speed_to_lead_min == pytest.approx(fact["speed"]), r.lead_id


def check_outcomes_table(store: Store, leads: list[dict]) -> None:
    with store.engine.connect() as conn:
        rows = {r.lead_id: r for r in conn.execute(select(outcomes_table)).all()}
    stored = {lead["lead_id"]: lead["stored_deal"] for lead in leads if lead.get("stored_deal")}
    assert set(rows) == set(stored)
    for lead_id, deal in stored.items():
        row = rows[lead_id]
        assert (row.amount, row.is_closed, row.is_won, row.stage) == (
            deal["amount"], deal["closed"], deal["won"], deal["stage"]
        ), lead_id  # fmt: skip
        assert row.close_date == deal["close_date"], lead_id
        seen = pd.Timestamp(row.first_seen_at)  # SQLite hands back naive UTC stamps
        assert (seen if seen.tzinfo else seen.tz_localize("UTC")) == pd.Timestamp(deal["first_seen"]), lead_id


# --- the tests -------------------------------------------------------------------------------------------------


def test_outcome_tables_match_an_independent_count(store_url: str, tmp_path: Path) -> None:
    with open_store(store_url) as store:
        crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=4)
        leads = history_in(store, crm)
        run_loop(store, crm, NOW)
        change_crm_between_runs(crm, leads)
        run_loop(store, crm, LATER)  # upserts: closes deals, adds first deals, keeps first sightings
        settle_truth(leads)
        check_outcomes_table(store, leads)
        check_tables(store, leads, LATER)
        assert (
            sum(1 for lead in leads if lead.get("new_at_second_run")) == 8
        )  # the history exercised each case
        assert any(lead["breach"] for lead in leads) and any(lead["reject"] for lead in leads)
        # rejections by a rep other than the first owner; touches only the CRM knew, of reviewed and Nurture leads
        assert sum(1 for lead in leads if lead["second_owner"] and counted(lead)) >= 5
        read = [lead for lead in leads if lead["touch_read"]]
        assert any(lead["kind"] == "review" for lead in read) and any(
            lead["tier"] == "Nurture" for lead in read
        )


def test_unusable_crm_values_are_reported_and_the_rest_stored(tmp_path: Path) -> None:
    fetched = pd.DataFrame(
        {
            "lead_id": ["L1", None, "L3", "L4", "L4"],
            "deal_id": ["D1", "D2", "D3", "D4", "D5"],
            "stage": ["Closed Won", "Discovery", "Discovery", "Closed Lost", "Closed Won"],
            "is_closed": [True, False, False, True, True],
            "is_won": [True, False, False, False, True],
            "amount": ["12000", "5", "a lot", 900.0, 100.0],
            "close_date": ["2026-10-01", None, "someday", "2026-09-30", "2026-09-29"],
        }
    )
    deals, problems = clean_outcomes(fetched)
    assert len(problems) == 3
    assert "row 1" in problems[0] and "lead_id" in problems[0] and "D2" in problems[0]
    assert "row 2" in problems[1] and "amount 'a lot'" in problems[1] and "number" in problems[1]
    assert "row 2" in problems[2] and "close_date 'someday'" in problems[2]
    by_lead = deals.set_index("lead_id")
    assert list(by_lead.index) == ["L1", "L3", "L4"]
    assert by_lead.loc["L4", "deal_id"] == "D5"  # two deals for one lead: the won one counts
    assert pd.isna(by_lead.loc["L3", "amount"]) and by_lead.loc["L3", "close_date"] is None
    assert by_lead.loc["L1", "amount"] == 12000.0 and by_lead.loc["L1", "close_date"] == date(2026, 10, 1)
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        assert outcome_store.upsert_outcomes(store, "sandbox", deals, NOW) == 3


def test_a_frame_without_a_needed_column_is_named() -> None:
    frames = {name: pd.DataFrame(columns=columns) for name, columns in outcomes.OUTCOME_INPUTS.items()}
    frames["events"] = frames["events"].drop(columns="kind")
    with pytest.raises(outcomes.OutcomeInputError, match="events frame has no column 'kind'"):
        outcomes.lead_outcomes(**frames)
    empty = outcomes.lead_outcomes(**{n: pd.DataFrame(columns=c) for n, c in outcomes.OUTCOME_INPUTS.items()})
    assert list(empty.columns) == list(outcomes.LEAD_OUTCOME_COLUMNS) and empty.empty
    assert all(table.empty for table in outcomes.analyst_tables(empty).values())


def test_the_migration_creates_the_tables_as_declared(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from leadrouter.store.tables import metadata

    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert [d for d in diff if "outcome" in repr(d)] == []


@pytest.mark.usefixtures("prefect_server")
def test_the_outcome_loop_flow_publishes_the_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.outcome_loop import outcome_loop

    url = f"sqlite:///{tmp_path}/ledger.db"
    monkeypatch.setenv("LEADROUTER_STORE_URL", url)
    monkeypatch.setenv("LEADROUTER_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    monkeypatch.setenv("LEADROUTER_ROUTING_CLOCK", NOW.isoformat())
    with open_store(url) as store:
        crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=4)
        leads = history_in(store, crm, n=200)
        summary = outcome_loop(chunk=100)
        settle_truth(leads)
        due = [lead for lead in leads if in_window(lead, NOW)]
        # past the window, a stored deal still open is asked about again (until it closes): the CRM's deal now
        reopened = [lead for lead in leads if not in_window(lead, NOW) and lead.get("stored_deal")
                    and not lead["stored_deal"]["closed"]]  # fmt: skip
        for lead in reopened:
            lead["stored_deal"] = dict(lead["crm_deal"], first_seen=lead["stored_deal"]["first_seen"])
        assert summary["checked"] == len(due) + len(reopened)
        assert summary["deals"] == sum(1 for lead in due + reopened if lead["crm_deal"])
        assert summary["leads"] == sum(1 for lead in leads if counted(lead))
        check_tables(store, leads, NOW)
        with get_client(sync_client=True) as client:
            published = {
                key: client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
                for key in ("outcome-tables", "outcome-report")
            }
        tables = published["outcome-tables"][0].data
        assert "| VIP |" in tables and "acceptance_rate (> 0.6)" in tables and "VIP precision" in tables
        assert "Outcome report" in published["outcome-report"][0].data
