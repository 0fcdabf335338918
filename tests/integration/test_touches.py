"""First touches of every lead routed to a person, whatever its tier or clock (sla.read_touches, the outcome
loop's stage), against a sandbox CRM's activities, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.edits import stamp
from leadrouter.sla import read_touches
from leadrouter.store import open_store
from leadrouter.store.tables import decisions, sla_events
from tests.helpers.clock import WORKDAY

REP_A, REP_B, REP_C = "005000000000001", "005000000000007", "005000000000010"
QUEUE = "00G000000000001"
SINCE = WORKDAY - timedelta(days=97)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return request.getfixturevalue("pg_store_url")


class CountingCRM:
    """The sandbox, keeping the leads each first_touch call asked about."""

    name = "sandbox"

    def __init__(self, crm: SandboxCRM) -> None:
        self.crm, self.asked = crm, []

    def first_touch(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        self.asked.append(sorted(lead_ids))
        return self.crm.first_touch(lead_ids)


# lead: status, tier, decided_by, owner, decided (minutes from WORKDAY), due (minutes, None: no clock),
# the CRM's first activity (minutes, None: none)
LEADS = {
    "VIP1": ("written", "VIP", "rule:vip", REP_A, 0, 5, 3),  # a running clock, touched in time
    "VIPLATE": ("written", "VIP", "rule:vip", REP_A, 0, 5, 9),  # ... touched late
    "REV1": ("written", "Standard", "review:ann", REP_B, 0, None, 45),  # reviewed before clocks started
    "NUR1": ("written", "Nurture", "rule:nurture", REP_C, 0, None, 240),  # Nurture given to a rep: no SLA
    "OTH1": ("written", "Other", "model:local", REP_C, 0, None, None),  # never touched
    "QUEUED": ("written", "Nurture", "rule:nurture", QUEUE, 0, None, 60),  # a queue: nobody to charge
    "BEFORE": ("written", "Standard", "rule:std", REP_B, 0, 30, -10),  # touched before its owner got it
    "OLD": ("written", "Nurture", "rule:nurture", REP_C, -98 * 24 * 60, None, 5),  # decided before `since`
    "WAITING": ("recorded", "Standard", "rule:std", REP_B, 0, 30, 2),  # not in the CRM's hands yet
}


def seed(store_url: str, tmp_path: Path) -> SandboxCRM:
    rows, activities = [], []
    for lead, (status, tier, by, owner, decided, due, touch) in LEADS.items():
        at = WORKDAY + timedelta(minutes=decided)
        rows.append(
            {"source": "sandbox", "lead_id": lead, "status": status, "tier": tier, "decided_by": by,
             "owner_id": owner, "decided_at": at, "assigned_at": at, "lead_created_at": at - timedelta(minutes=1),
             "sla_due_at": None if due is None else at + timedelta(minutes=due), "shadow": False,
             "write_attempts": 1}
        )  # fmt: skip
        if touch is not None:
            activities.append((lead, owner, "call", stamp(pd.Timestamp(at + timedelta(minutes=touch)))))
    with open_store(store_url) as store, store.transaction() as conn:
        conn.execute(decisions.insert(), rows)
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=3)
    with sqlite3.connect(crm.path) as db:
        db.executemany(
            "INSERT INTO activities (lead_id, owner_id, type, created_at) VALUES (?, ?, ?, ?)", activities
        )
    return crm


def test_every_lead_routed_to_a_person_has_its_touch_read_and_charged_to_its_owner(
    store_url: str, tmp_path: Path
) -> None:
    crm = CountingCRM(seed(store_url, tmp_path))
    with open_store(store_url) as store:
        touched = read_touches(store, crm, "sandbox", {QUEUE}, SINCE, chunk=4)
        with store.engine.connect() as conn:
            events = conn.execute(select(sla_events).where(sla_events.c.kind == "touch")).mappings().all()
            stamps = dict(conn.execute(select(decisions.c.lead_id, decisions.c.first_touch_at)).all())
    asked = [
        "BEFORE",
        "NUR1",
        "OTH1",
        "REV1",
        "VIP1",
        "VIPLATE",
    ]  # written to a person, since `since`, untouched
    assert sorted(lead for call in crm.asked for lead in call) == asked and [len(a) for a in crm.asked] == [
        4,
        2,
    ]
    assert sorted(touched["lead_id"]) == ["NUR1", "REV1", "VIP1", "VIPLATE"]
    got = {
        e["lead_id"]: (e["owner_id"], e["tier"], pd.to_datetime(e["at"], utc=True), e["detail"]["late"])
        for e in events
    }
    minutes = {lead: WORKDAY + timedelta(minutes=LEADS[lead][6]) for lead in got}
    assert got == {
        "VIP1": (REP_A, "VIP", minutes["VIP1"], False),
        "VIPLATE": (REP_A, "VIP", minutes["VIPLATE"], True),
        "REV1": (REP_B, "Standard", minutes["REV1"], None),  # no clock: neither late nor in time
        "NUR1": (REP_C, "Nurture", minutes["NUR1"], None),
    }
    assert {lead for lead, at in stamps.items() if at is not None} == set(got)
    with open_store(store_url) as store:  # a second read asks only about the leads still untouched
        crm.asked.clear()
        assert read_touches(store, crm, "sandbox", {QUEUE}, SINCE, chunk=4).empty
    assert crm.asked == [["BEFORE", "OTH1"]]
