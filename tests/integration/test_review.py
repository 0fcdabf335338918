"""The human review queue on SQLite and on a real PostgreSQL: resolutions, round-robin turns, escalation, CLI."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from leadrouter.assign.roster import Roster, load_roster
from leadrouter.classify.rules import DEFAULT_SLA
from leadrouter.record import BatchContext, record_batch
from leadrouter.review import ReviewError, UnknownOwner, assign_owner, escalate_overdue, open_items, set_tier
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.schema import Tier
from leadrouter.store import Store, open_store
from leadrouter.store.tables import decisions, rep_state, review_queue
from leadrouter.store.write_claims import claim_for_write
from leadrouter.writeback import write_back
from tests.helpers.cli import run
from tests.helpers.clock import WORKDAY
from tests.helpers.ledger import NO_QUARANTINE, ROSTER

VIP_NA = ["005000000000001", "005000000000002"]  # the two senior AEs of pool vip-na, equal weights
VP_SALES = "005000000000014"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path}/ledger.db"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_store_url")
    )
    with open_store(url) as opened:
        yield opened


@pytest.fixture(scope="module")
def roster() -> Roster:
    return load_roster(ROSTER)


def leads(rows: list[dict]) -> pd.DataFrame:
    """Classified leads: tier None queues a lead for review with its reason and suggested tier."""
    n = len(rows)

    def get(key: str, default: str | None = None) -> pd.arrays.StringArray:
        return pd.array([r.get(key, default) for r in rows], dtype="string")

    return pd.DataFrame(
        {
            "lead_id": get("lead_id"),
            "created_at": pd.date_range("2026-11-01", periods=n, freq="s", tz="UTC"),
            "region": get("region", "NA"),
            "tier": get("tier"),
            "category": get("category"),
            "priority": pd.array([2 if r.get("tier") else None for r in rows], dtype="Int64"),
            "decided_by": get("decided_by"),
            "confidence": pd.array([r.get("confidence", 0.55) for r in rows], dtype="Float64"),
            "pool": pd.array([pd.NA] * n, dtype="string"),
            "review_reason": get("review_reason"),
            "suggested_tier": get("suggested_tier"),
        }
    )


def queue(
    store: Store,
    roster: Roster,
    *lead_ids: str,
    suggested: str | None = "Standard",
    source: str = "sandbox",
    sla: timedelta = timedelta(hours=1),
) -> None:
    rows = [
        {"lead_id": i, "review_reason": "model unsure (0.55)", "suggested_tier": suggested} for i in lead_ids
    ]
    ctx = BatchContext(source, "run-1", "v1", shadow=source.endswith(":shadow"), review_sla=sla, at=WORKDAY)
    record_batch(store, ctx, leads(rows), NO_QUARANTINE, roster)


def decision(store: Store, lead_id: str, source: str = "sandbox") -> dict:
    with store.engine.connect() as conn:
        query = select(decisions).where(decisions.c.source == source, decisions.c.lead_id == lead_id)
        return dict(conn.execute(query).mappings().one())


def assigned_turns(store: Store) -> dict[tuple[str, str], int]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(rep_state.c.pool, rep_state.c.rep_id, rep_state.c.assigned)).all()
    return {(pool, rep): n for pool, rep, n in rows if n}


def test_set_tier_takes_round_robin_turns_shared_with_routing(store: Store, roster: Roster) -> None:
    routed = {
        "lead_id": "L0",
        "tier": "VIP",
        "category": "sales",
        "decided_by": "rule:vip",
        "confidence": 1.0,
    }
    record_batch(
        store, BatchContext("sandbox", "run-0", "v1", at=WORKDAY), leads([routed]), NO_QUARANTINE, roster
    )
    queue(store, roster, "R1", "R2")
    first = set_tier(
        store, "sandbox", "R1", "vip", roster, by="alice", at=WORKDAY
    )  # tier names are case-insensitive
    second = set_tier(store, "sandbox", "R2", "VIP", roster, by="alice", at=WORKDAY)
    # L0 took vip-na's first turn in routing; the reviewed leads take the next ones, in order
    assert decision(store, "L0")["owner_id"] == VIP_NA[0]
    assert (first["owner_id"], second["owner_id"]) == (VIP_NA[1], VIP_NA[0])
    assert assigned_turns(store) == {("vip-na", VIP_NA[0]): 2, ("vip-na", VIP_NA[1]): 1}
    row = decision(store, "R1")
    assert row["status"] == "recorded" and row["tier"] == "VIP" and row["priority"] == 1
    assert (row["category"], row["pool"], row["decided_by"]) == ("sales", "vip-na", "review:alice")
    assert row["explanation"]["method"] == "round_robin" and row["explanation"]["region"] == "NA"
    assert row["explanation"]["review"] | {"at": None} == {
        "by": "alice", "at": None, "tier": "VIP", "owner": VIP_NA[1], "previous_reason": "model unsure (0.55)",
    }  # fmt: skip
    with store.engine.connect() as conn:
        item = conn.execute(select(review_queue).where(review_queue.c.lead_id == "R1")).mappings().one()
    assert item["resolved_at"] is not None
    assert item["resolution"] | {"at": None} == {
        "tier": "VIP", "category": "sales", "owner_id": VIP_NA[1], "by": "alice", "at": None, "method": "round_robin",
    }  # fmt: skip
    assert open_items(store, "sandbox", WORKDAY).empty
    assert open_items(store, "sandbox", WORKDAY, include_resolved=True)["lead_id"].tolist() == ["R1", "R2"]


def test_assign_takes_no_round_robin_turn(store: Store, roster: Roster) -> None:
    queue(store, roster, "R1", "R2")
    done = assign_owner(store, "sandbox", "R1", "005000000000010", roster, by="bob", at=WORKDAY)
    assert (done["tier"], done["owner_id"], done["method"]) == ("Standard", "005000000000010", "review")
    row = decision(store, "R1")
    assert (row["status"], row["tier"], row["priority"], row["pool"]) == ("recorded", "Standard", 2, None)
    assert row["explanation"]["method"] == "review"
    assert assigned_turns(store) == {}
    # the pool's first turn is still there for the next routed lead
    assert set_tier(store, "sandbox", "R2", "Standard", roster, at=WORKDAY)["owner_id"] == "005000000000007"


def test_a_resolution_starts_the_owners_response_clock_at_its_moment(store: Store, roster: Roster) -> None:
    queue(store, roster, "R1", "R2", "R3")
    set_tier(store, "sandbox", "R1", "VIP", roster, by="alice", at=WORKDAY)
    later = WORKDAY + timedelta(minutes=7)
    assign_owner(store, "sandbox", "R2", "005000000000007", roster, by="bob", at=later)
    assign_owner(store, "sandbox", "R3", "00G000000000002", roster, tier="Standard", by="bob", at=later)
    stamps = {
        lead: {
            k: v and pd.to_datetime(v, utc=True)
            for k, v in decision(store, lead).items()
            if k in ("decided_at", "assigned_at", "sla_due_at")
        }
        for lead in ("R1", "R2", "R3")
    }  # fmt: skip  (SQLite hands back naive UTC stamps)
    vip, standard = DEFAULT_SLA[Tier.VIP].window, DEFAULT_SLA[Tier.STANDARD].window
    assert stamps["R1"] == {"decided_at": WORKDAY, "assigned_at": WORKDAY, "sla_due_at": WORKDAY + vip}
    assert stamps["R2"] == {"decided_at": later, "assigned_at": later, "sla_due_at": later + standard}
    # a queue has no clock: nobody in it touches leads
    assert stamps["R3"] == {"decided_at": later, "assigned_at": later, "sla_due_at": None}


class RecordingCRM:
    """Writes everything and keeps what it was asked to write."""

    name = "recording"

    def __init__(self) -> None:
        self.frames: list[pd.DataFrame] = []

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.frames.append(frame)
        return pd.DataFrame({"lead_id": frame["lead_id"], "ok": True, "retry": False, "error": None})


def test_a_resolved_lead_is_written_back_like_any_decision(store: Store, roster: Roster) -> None:
    queue(store, roster, "R1", "R2")
    set_tier(store, "sandbox", "R1", "Nurture", roster, by="carol", at=WORKDAY)

    crm = RecordingCRM()
    results = write_back(store, crm, "sandbox", claim="c1")
    assert results["lead_id"].tolist() == ["R1"]  # R2 still waits for a person
    written = crm.frames[0].iloc[0]
    assert (written["owner_id"], written["tier"]) == ("00G000000000001", "Nurture")
    assert written["routing_reason"] == "review:carol → pool nurture → round_robin"
    assert decision(store, "R1")["status"] == "written" and decision(store, "R2")["status"] == "review"


def test_a_second_resolution_fails_and_leaves_the_first_decision(store: Store, roster: Roster) -> None:
    queue(store, roster, "R1")
    first = set_tier(store, "sandbox", "R1", "VIP", roster, by="alice", at=WORKDAY)
    turns = assigned_turns(store)
    with pytest.raises(ReviewError, match=r"'R1' was already resolved by alice"):
        set_tier(store, "sandbox", "R1", "Standard", roster, by="bob", at=WORKDAY)
    with pytest.raises(ReviewError, match="already resolved"):
        assign_owner(store, "sandbox", "R1", "005000000000010", roster, by="bob", at=WORKDAY)
    row = decision(store, "R1")
    assert (row["owner_id"], row["tier"], row["decided_by"]) == (first["owner_id"], "VIP", "review:alice")
    assert assigned_turns(store) == turns  # the refused attempt took no turn
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar() == 1


def test_leads_outside_the_queue_cannot_be_resolved(store: Store, roster: Roster) -> None:
    routed = {"lead_id": "L0", "tier": "VIP", "category": "sales", "decided_by": "rule:vip"}
    record_batch(
        store, BatchContext("sandbox", "run-0", "v1", at=WORKDAY), leads([routed]), NO_QUARANTINE, roster
    )
    for lead_id in ("L0", "nowhere"):
        with pytest.raises(ReviewError, match=rf"'{lead_id}' is not in the review queue of 'sandbox'"):
            set_tier(store, "sandbox", lead_id, "VIP", roster, at=WORKDAY)
    assert decision(store, "L0")["decided_by"] == "rule:vip"


def test_an_unknown_owner_is_refused_by_its_id(store: Store, roster: Roster) -> None:
    queue(store, roster, "R1")
    with pytest.raises(UnknownOwner, match=r"unknown owner '005999': not a rep or queue id"):
        assign_owner(store, "sandbox", "R1", "005999", roster, at=WORKDAY)
    assert decision(store, "R1")["status"] == "review"
    # a queue is a valid owner too
    assert (
        assign_owner(store, "sandbox", "R1", "00G000000000002", roster, at=WORKDAY)["owner_id"]
        == "00G000000000002"
    )


def test_a_tier_is_required_and_other_needs_a_category(store: Store, roster: Roster) -> None:
    queue(store, roster, "R1", suggested=None)
    with pytest.raises(ReviewError, match=r"'R1' has no suggested tier: choose one with --tier"):
        assign_owner(store, "sandbox", "R1", "005000000000010", roster, at=WORKDAY)
    with pytest.raises(ReviewError, match="unknown tier 'Gold'"):
        set_tier(store, "sandbox", "R1", "Gold", roster, at=WORKDAY)
    with pytest.raises(ReviewError, match=r"tier Other needs a category \(--category\): one of support"):
        set_tier(store, "sandbox", "R1", "Other", roster, at=WORKDAY)
    with pytest.raises(ReviewError, match="category 'spam' is only for tier Other"):
        set_tier(store, "sandbox", "R1", "VIP", roster, category="spam", at=WORKDAY)
    assert decision(store, "R1")["status"] == "review"  # refused resolutions change nothing
    done = set_tier(store, "sandbox", "R1", "Other", roster, category="Spam", at=WORKDAY)
    row = decision(store, "R1")
    assert (row["category"], row["priority"], row["pool"]) == ("spam", 5, "triage")
    assert done["owner_id"] == "00G000000000004"  # the triage queue, as for a rule-routed Other lead


def test_shadow_items_resolve_to_shadow_decisions_with_their_own_turns(store: Store, roster: Roster) -> None:
    queue(store, roster, "R1", source="sandbox:shadow")
    done = set_tier(store, "sandbox:shadow", "R1", "VIP", roster, at=WORKDAY)
    assert done["status"] == "shadow" and done["owner_id"] == VIP_NA[0]
    assert decision(store, "R1", "sandbox:shadow")["status"] == "shadow"
    assert assigned_turns(store) == {("shadow:vip-na", VIP_NA[0]): 1}  # live pools keep their turns
    assert claim_for_write(store, "sandbox:shadow", "c", timedelta(minutes=5), 10).empty


def test_escalation_takes_late_open_items_once(store: Store, roster: Roster) -> None:
    queue(store, roster, "LATE1", "LATE2", "DONE")
    queue(store, roster, "FRESH", sla=timedelta(days=1))
    set_tier(store, "sandbox", "DONE", "VIP", roster, at=WORKDAY)
    later = WORKDAY + timedelta(hours=2)  # the items were queued at WORKDAY, due an hour later
    assert open_items(store, "sandbox", late_only=True, now=later)["lead_id"].tolist() == ["LATE1", "LATE2"]
    escalated = escalate_overdue(store, "sandbox", roster, now=later)
    assert escalated["lead_id"].tolist() == ["LATE1", "LATE2"]
    assert escalated["escalated_to"].tolist() == [VP_SALES, VP_SALES]
    assert escalate_overdue(store, "sandbox", roster, now=later + timedelta(minutes=1)).empty
    items = open_items(store, "sandbox", now=later).set_index("lead_id")
    assert items.loc["LATE1", "escalated_at"] == pd.Timestamp(later) and items.loc["LATE1", "late"]
    assert pd.isna(items.loc["FRESH", "escalated_at"]) and not items.loc["FRESH", "late"]
    # without an escalation manager nothing is marked: the item stays late, and escalates once one is named
    queue(store, roster, "LATE3")
    assert escalate_overdue(store, "sandbox", roster.model_copy(update={"escalation": None}), now=later).empty
    late = open_items(store, "sandbox", late_only=True, now=later).set_index("lead_id")
    assert late.loc["LATE3", "late"] and pd.isna(late.loc["LATE3", "escalated_at"])
    assert escalate_overdue(store, "sandbox", roster, now=later)["lead_id"].tolist() == ["LATE3"]


def test_concurrent_resolutions_take_distinct_turns_and_decide_a_lead_once(
    store: Store, roster: Roster
) -> None:
    queue(store, roster, "A1", "A2", "A3", "A4", "SAME")
    outcomes: list[object] = []

    def run(lead_id: str, by: str, start: threading.Barrier) -> None:
        start.wait()
        try:
            outcomes.append(set_tier(store, "sandbox", lead_id, "VIP", roster, by=by, at=WORKDAY))
        except ReviewError as exc:
            outcomes.append(exc)

    def together(calls: list[tuple[str, str]]) -> list[object]:
        outcomes.clear()
        start = threading.Barrier(len(calls))
        threads = [threading.Thread(target=run, args=(*call, start)) for call in calls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return list(outcomes)

    different = together([(f"A{i}", "r") for i in range(1, 5)])
    assert sorted(o["owner_id"] for o in different) == sorted(VIP_NA * 2)  # each rep exactly two turns
    same = together([("SAME", f"r{i}") for i in range(4)])
    done = [o for o in same if isinstance(o, dict)]
    assert len(done) == 1 and sum(isinstance(o, ReviewError) for o in same) == 3
    assert decision(store, "SAME")["decided_by"] == f"review:{done[0]['by']}"
    assert sum(assigned_turns(store).values()) == 5


def test_cli_lists_resolves_and_forgets_an_item(tmp_path: Path, roster: Roster) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    with open_store(url) as store:
        reason = "guard: message says [b]make me VIP[/b]"  # lead text: must print as text, never as markup
        rows = [{"lead_id": "R1", "review_reason": reason, "suggested_tier": "VIP", "confidence": 0.42}]
        record_batch(
            store, BatchContext("sandbox", "r", "v1", at=WORKDAY), leads(rows), NO_QUARANTINE, roster
        )
    env = {"LEADROUTER_STORE_URL": url, "LEADROUTER_ROSTER_PATH": str(ROSTER), "COLUMNS": "250"}

    listed = run("review", "list", env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "R1" in listed.stdout and reason in listed.stdout and "VIP (0.42)" in listed.stdout
    # lateness is judged on the routing clock (the tests' WORKDAY), not the wall clock
    assert "LATE" not in listed.stdout
    assert "R1" not in run("review", "list", "--late", env=env).stdout
    later = {**env, "LEADROUTER_ROUTING_CLOCK": (WORKDAY + timedelta(days=2)).isoformat()}
    late = run("review", "list", "--late", env=later)
    assert late.returncode == 0 and "R1" in late.stdout and "LATE" in late.stdout, late.stdout[-2000:]
    resolved = run("review", "set-tier", "R1", "Standard", "--by", "dana", env=env)
    assert resolved.returncode == 0, resolved.stderr[-2000:]
    assert "R1: Standard → 005000000000007 from pool standard-na (round_robin)" in resolved.stdout
    assert "R1" not in run("review", "list", env=env).stdout
    again = run("review", "assign", "R1", "005000000000010", env=env)
    assert again.returncode == 1 and "already resolved by dana" in again.stdout
    unknown = run("review", "assign", "R1", "nobody", env=env)
    assert (
        unknown.returncode == 1
        and "unknown owner 'nobody'" in unknown.stdout
        and "roster.yaml" in unknown.stdout
    )


def test_cli_list_shows_who_which_company_how_long_waited_and_when_due(
    tmp_path: Path, roster: Roster
) -> None:
    crm_path = tmp_path / "sandbox.db"
    SandboxCRM.create(crm_path, seed=3, leads=2)
    with sqlite3.connect(crm_path) as db:  # a company name with markup and a link: lead text, shown inert
        [(lead, first, last)] = db.execute("SELECT id, first_name, last_name FROM leads ORDER BY id LIMIT 1")
        db.execute("UPDATE leads SET company = ? WHERE id = ?", ("[b]Acme[/b] http://evil.example", lead))
    url = f"sqlite:///{tmp_path}/ledger.db"
    with open_store(url) as store:
        rows = [
            {"lead_id": i, "review_reason": "model unsure (0.55)", "suggested_tier": "VIP"}
            for i in (lead, "R1")
        ]
        record_batch(
            store, BatchContext("sandbox", "r", "v1", at=WORKDAY), leads(rows), NO_QUARANTINE, roster
        )
    env = {
        "LEADROUTER_STORE_URL": url,
        "LEADROUTER_ROSTER_PATH": str(ROSTER),
        "LEADROUTER_SANDBOX_PATH": str(crm_path),
        "LEADROUTER_ROUTING_CLOCK": (WORKDAY + timedelta(hours=2, minutes=5)).isoformat(),
        "COLUMNS": "250",
    }
    listed = run("review", "list", env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    [line] = [row for row in listed.stdout.splitlines() if lead in row]
    cells = [cell.strip() for cell in line.split("│")[1:-1]]
    due = f"{WORKDAY + timedelta(hours=1):%Y-%m-%d %H:%M} (1 h 05 min ago)"  # the review SLA: one hour
    assert cells[:5] == [lead, f"{first} {last}", "[b]Acme[/b] hxxp://evil[.]example", "2 h 05 min", due]
    assert cells[5] == "LATE"
    [unknown] = [row for row in listed.stdout.splitlines() if "R1" in row]  # not in the CRM: blank, listed
    assert [cell.strip() for cell in unknown.split("│")[1:-1]][:4] == ["R1", "", "", "2 h 05 min"]
    # no CRM to read: the queue is still listed, and the blanks are explained
    blind = run("review", "list", env={**env, "LEADROUTER_SANDBOX_PATH": str(tmp_path / "missing.db")})
    assert blind.returncode == 0 and lead in blind.stdout and "R1" in blind.stdout
    assert "names and companies left blank: no sandbox CRM at" in blind.stdout
