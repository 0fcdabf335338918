"""A simulated quarter through the outcome-loop flow on SQLite and PostgreSQL: every figure of the fact table and
of the day's snapshot checked against a plain-Python computation from the raw events (touches and rejections
by a rep other than the first owner, reviewed and Nurture leads); a second run the same day changes nothing;
a later run adds its own snapshot day, re-checks an open deal past its 90 days and keeps a rep's old version."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from leadrouter.config import PROJECT_ROOT
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import Store, open_store
from leadrouter.store.tables import dim_rep, fact_routed_leads, outcome_snapshots
from leadrouter.store.tables import outcomes as outcomes_table
from tests.helpers.star_history import (
    NOW,
    SNAPSHOT_COUNTS,
    as_date,
    expected_facts,
    expected_snapshot,
    in_window,
    put_deals,
    quarter,
    write_quarter,
)

LATER = NOW + timedelta(days=3)
MOVED_REP = "005000000000007"  # promoted between the runs


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return request.getfixturevalue("pg_store_url")


def pre_store_open_deals(store: Store, leads: list[dict]) -> list[dict]:
    """Three leads past the window whose deal an earlier run stored while it was open; the CRM has it closed
    won since: only the re-check past 90 days can learn that."""
    old = [lead for lead in leads if lead["deal"] and not in_window(lead, NOW)][:3]
    rows = []
    for lead in old:
        stored = dict(lead["deal"], closed=False, won=False, stage="Discovery", close_date=None)
        rows.append(
            {"source": "sandbox", "lead_id": lead["lead_id"], "deal_id": stored["deal_id"], "stage": "Discovery",
             "is_closed": False, "is_won": False, "amount": stored["amount"], "close_date": None,
             "first_seen_at": lead["created"] + timedelta(days=20), "updated_at": lead["created"] + timedelta(days=20)}
        )  # fmt: skip
        lead["deal"] = dict(lead["deal"], closed=True, won=True, stage="Closed Won", close_date=NOW.date())
    with store.transaction() as conn:
        conn.execute(outcomes_table.insert(), rows)
    return old


def read(store: Store, table, **where) -> pd.DataFrame:
    query = select(table).where(*(table.c[k] == v for k, v in where.items()))
    with store.engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def close(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


def check_facts(store: Store, expected: dict[str, dict]) -> None:
    fact = read(store, fact_routed_leads, source="sandbox").set_index("lead_id")
    assert sorted(fact.index) == sorted(expected)
    for lead_id, want in expected.items():
        row = fact.loc[lead_id]
        for column in ("arrival_hour", "tier", "rule", "decided_kind", "pool", "first_owner_id", "owner_id",
                       "owner_path", "region", "industry", "lead_source", "country", "employees", "size_band",
                       "language", "accepted", "sla_breached", "wrong_assignment",
                       "reassigned", "manual_triage", "opportunity", "won", "closed", "deal_id", "deal_stage",
                       "deal_final"):  # fmt: skip
            got = row[column]
            got = None if got is None or (not isinstance(got, str) and pd.isna(got)) else got
            assert got == want[column], (lead_id, column, got, want[column])
        assert as_date(row["arrival_date"]) == want["arrival_date"]
        assert as_date(row["deal_close_date"]) == want["deal_close_date"], lead_id
        assert close(row["speed_to_lead_min"], want["speed_to_lead_min"]), lead_id
        assert close(row["deal_amount"], want["deal_amount"]), lead_id
        assert row["custom_fields"] == {"budget": want["budget"]}
        created = None if pd.isna(row["deal_created_at"]) else row["deal_created_at"]
        assert created is None if want["deal_created_at"] is None else created == want["deal_created_at"], (
            lead_id,
            created,
            want["deal_created_at"],
        )
        assert row["decided_at"].tzinfo is not None  # aware on both databases


def check_snapshot(store: Store, expected: dict[tuple[str, str], dict], at: datetime) -> pd.DataFrame:
    snap = read(store, outcome_snapshots, source="sandbox")
    day = snap[snap["snapshot_date"].map(as_date) == at.date()].set_index(["dimension", "value"])
    assert sorted(day.index) == sorted(expected)
    for group, want in expected.items():
        row = day.loc[group]
        for column in SNAPSHOT_COUNTS:
            assert int(row[column]) == want[column], (group, column)
            assert isinstance(row[column], int | np.integer)
        for column in ("speed_median_min", "speed_p90_min"):
            assert close(row[column], want[column]), (group, column)
    vip = day.loc[("tier", "VIP")]
    fact = read(store, fact_routed_leads, source="sandbox")
    matured_vip = fact[(fact["tier"] == "VIP") & (fact["hindsight_tier"] == "VIP")]
    matured_vip = matured_vip[[c + timedelta(days=90) <= at for c in matured_vip["lead_created_at"]]]
    assert int(vip["matured_hindsight_vip"]) == len(matured_vip)
    return snap


@pytest.mark.usefixtures("prefect_server")
def test_a_quarter_through_the_outcome_loop_builds_the_star_schema(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.outcome_loop import outcome_loop

    monkeypatch.setenv("LEADROUTER_STORE_URL", store_url)
    monkeypatch.setenv("LEADROUTER_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    monkeypatch.setenv("LEADROUTER_ROUTING_CLOCK", NOW.isoformat())
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=4)
    start = pd.Timestamp(NOW) - pd.Timedelta(days=1)
    ids = crm.add_leads(240, np.random.default_rng(3), start, pd.Timestamp(NOW))["lead_id"].tolist()
    leads = quarter(ids)
    with open_store(store_url) as store:
        write_quarter(store, crm, leads)
        rechecked = pre_store_open_deals(store, leads)
        put_deals(crm, leads)
        assert len(rechecked) == 3

        summary = outcome_loop(retrain=False)
        known = {lead["lead_id"]: lead["deal"] for lead in leads if lead["deal"] and in_window(lead, NOW)}
        known |= {lead["lead_id"]: lead["deal"] for lead in rechecked}
        facts = expected_facts(leads, known, NOW)
        assert summary["fact_rows"] == len(facts)
        check_facts(store, facts)
        first = check_snapshot(store, expected_snapshot(facts), NOW)
        assert {lead["lead_id"] for lead in rechecked} <= {k for k, f in facts.items() if f["won"]}

        outcome_loop(retrain=False)  # the same day again: the same rows
        again = read(store, outcome_snapshots, source="sandbox")
        assert len(again) == len(first)
        check_facts(store, facts)

        roster = (PROJECT_ROOT / "config" / "roster.yaml").read_text()
        line = next(x for x in roster.splitlines() if MOVED_REP in x and "role: ae" in x)
        (tmp_path / "roster.yaml").write_text(
            roster.replace(line, line.replace("role: ae", "role: senior_ae"))
        )
        monkeypatch.setenv("LEADROUTER_ROSTER_PATH", str(tmp_path / "roster.yaml"))
        monkeypatch.setenv("LEADROUTER_ROUTING_CLOCK", LATER.isoformat())
        summary = outcome_loop(retrain=False)
        assert summary["rep_versions_closed"] == 1 and summary["rep_versions_added"] == 1
        facts = expected_facts(leads, known, LATER)
        check_facts(store, facts)
        snaps = check_snapshot(store, expected_snapshot(facts), LATER)
        assert sorted({as_date(d) for d in snaps["snapshot_date"]}) == [NOW.date(), LATER.date()]
        kept = snaps[snaps["snapshot_date"].map(as_date) == NOW.date()]
        keys = ["dimension", "value"]  # rows come back in no set order (PostgreSQL after an update)
        pd.testing.assert_frame_equal(
            kept.sort_values(keys, ignore_index=True), first.sort_values(keys, ignore_index=True)
        )

        versions = read(store, dim_rep, source="sandbox", rep_id=MOVED_REP).sort_values("valid_from")
        assert versions["role"].tolist() == ["ae", "senior_ae"]
        assert versions["valid_to"].iloc[0] == versions["valid_from"].iloc[1] == LATER
        assert pd.isna(versions["valid_to"].iloc[1])
        fact = read(store, fact_routed_leads, source="sandbox")
        theirs = fact[fact["first_owner_id"] == MOVED_REP]
        assert len(theirs) > 0 and set(theirs["rep_key"]) == {int(versions["rep_key"].iloc[0])}
