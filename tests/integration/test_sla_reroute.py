"""A breach re-routes a lead to someone new, and the second breach escalates: on SQLite and a real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from leadrouter.assign.roster import load_roster
from leadrouter.classify.rules import DEFAULT_SLA
from leadrouter.record import BatchContext, record_batch
from leadrouter.reroute import reroute
from leadrouter.sla import breached, open_clocks, record_touches
from leadrouter.store import open_store
from leadrouter.store.tables import decisions, sla_events
from tests.helpers.clock import WORKDAY
from tests.helpers.ledger import NO_QUARANTINE, ROSTER, leads, written


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return request.getfixturevalue("pg_store_url")


def test_a_breach_reroutes_to_someone_new_and_the_second_one_escalates(store_url: str) -> None:
    with open_store(store_url) as store:
        roster = load_roster(ROSTER)
        record_batch(
            store,
            BatchContext("sandbox", "r1", "v1", at=WORKDAY),
            leads(6, "Standard"),
            NO_QUARANTINE,
            roster,
        )
        written(store)
        clocks = open_clocks(store, "sandbox")
        assert len(clocks) == 6 and (clocks["sla_due_at"] == WORKDAY + timedelta(minutes=30)).all()
        # two leads are touched in time, four are not
        touches = pd.DataFrame(
            {
                "lead_id": clocks["lead_id"],
                "first_touch_at": [WORKDAY + timedelta(minutes=3)] * 2 + [pd.NaT] * 4,
            }
        )
        touched = record_touches(store, "sandbox", clocks, touches)
        assert len(touched) == 2
        late_at = WORKDAY + timedelta(minutes=31)
        late = breached(clocks, touched, late_at)
        assert sorted(late) == sorted(clocks["lead_id"][2:])
        first = reroute(store, "sandbox", late, "breach", roster, dict(DEFAULT_SLA), late_at)
        assert len(first) == 4 and (first["owner_id"] != first["old_owner_id"]).all()
        assert first["escalate_to"].isna().all()  # Standard escalates on the second breach
        written(store)
        # nobody touches them again: the second breach never goes back to either owner, and escalates
        again_at = late_at + timedelta(minutes=31)
        clocks = open_clocks(store, "sandbox")
        assert sorted(clocks["lead_id"]) == sorted(late)
        second = reroute(
            store,
            "sandbox",
            breached(clocks, clocks.iloc[0:0], again_at),
            "breach",
            roster,
            dict(DEFAULT_SLA),
            again_at,
        )
        merged = second.merge(first[["lead_id", "old_owner_id"]], on="lead_id", suffixes=("", "_first"))
        # each lead goes to someone who never had it (each lead's own history, not its neighbours')
        assert not (
            (merged["owner_id"] == merged["old_owner_id"])
            | (merged["owner_id"] == merged["old_owner_id_first"])
        ).any()
        assert (second["escalate_to"] == "005000000000014").all()
        with store.engine.connect() as conn:
            kinds = pd.Series([k for (k,) in conn.execute(select(sla_events.c.kind))]).value_counts()
            row = conn.execute(select(decisions).where(decisions.c.lead_id == late[0])).mappings().one()
        assert (
            kinds["breach"] == 8
            and kinds["reroute"] == 8
            and kinds["escalation"] == 4
            and kinds["touch"] == 2
        )
        assert row["status"] == "recorded" and "breach by" in row["explanation"]["summary"]
        assert "LET_GO" in row["explanation"]["excluded"].values()
