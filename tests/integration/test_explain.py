"""`leadrouter explain` and `leadrouter simulate` as a user runs them: the path, the owner, who was passed over."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from leadrouter.assign.roster import load_roster
from leadrouter.record import BatchContext, record_batch
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import open_store
from leadrouter.store.tables import decisions, rep_state, sla_events
from tests.helpers.cli import run
from tests.helpers.clock import WORKDAY
from tests.helpers.ledger import NO_QUARANTINE, ROSTER

THANKSGIVING = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # US reps off; London, Berlin, São Paulo at work
NEW_YORK_VIP = {
    "lead_id": "SIM1",
    "first_name": "Ann",
    "last_name": "Lee",
    "email": "ann.lee@harborbank.example",
    "title": "VP Finance",
    "company": "Harbor Bank",
    "country": "US",
    "state": "NY",
    "industry": "Financial Services",
    "employees": 5000,
    "lead_source": "demo_request",
    "message": "We would like a demo for our finance team.",
}


def env_for(tmp_path: Path) -> dict[str, str]:
    return {
        "LEADROUTER_STORE_URL": f"sqlite:///{tmp_path}/ledger.db",
        "LEADROUTER_SANDBOX_PATH": f"{tmp_path}/absent-sandbox.db",  # no CRM: accounts are not matched
        "LEADROUTER_ROSTER_PATH": str(ROSTER),
        "COLUMNS": "200",
    }


def test_explain_prints_the_path_and_every_rep_passed_over(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        lead = pd.DataFrame(
            {
                "lead_id": ["00Q1"],
                "tier": pd.array(["VIP"], dtype="string"),
                "category": "sales",
                "priority": pd.array([1], dtype="Int64"),
                "decided_by": "rule:vip-senior-buyer",
                "confidence": 1.0,
                "pool": pd.array([pd.NA], dtype="string"),
                "region": pd.array(["NA"], dtype="string"),
                "created_at": pd.to_datetime(["2026-11-26T16:00:00Z"]),
            }
        )
        record_batch(
            store,
            BatchContext("sandbox", "r", "v1", at=THANKSGIVING),
            lead,
            NO_QUARANTINE,
            load_roster(ROSTER),
        )
    out = run("explain", "00Q1", env=env_for(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    # both NA senior AEs are off for Thanksgiving: the lead falls through to the global pool
    assert text.count("OUT_OF_OFFICE") == 2 and "Maya Chen" in text and "Diego Ramirez" in text
    assert "pool vip-na" in text and "pool vip-global" in text and "nobody can take it" in text
    owner = text.split("owner", 1)[1].split()[0]
    assert owner not in {"005000000000001", "005000000000002", "005000000000014"}

    missing = run("explain", "00Q404", env=env_for(tmp_path))
    assert missing.returncode == 1 and "no decision for lead 00Q404" in missing.stdout


def test_simulate_shows_where_a_lead_would_go_and_writes_nothing(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    lead = json.dumps(NEW_YORK_VIP)
    # simulate runs routing's pipeline, which looks duplicates up in the CRM: no CRM, no simulation
    nowhere = run("simulate", lead, "--at", WORKDAY.isoformat(), env=env)
    assert nowhere.returncode == 1 and "leadrouter init" in nowhere.stdout
    SandboxCRM.create(tmp_path / "sandbox.db", seed=7)
    env["LEADROUTER_SANDBOX_PATH"] = str(tmp_path / "sandbox.db")
    workday = run("simulate", lead, "--at", WORKDAY.isoformat(), env=env)
    assert workday.returncode == 0, workday.stderr[-2000:]
    # a financial-services VIP on a working day: the pool's financial-services specialist
    assert "005000000000001 (Maya Chen)" in workday.stdout and "NO_SPECIALISATION" in workday.stdout

    holiday = run("simulate", lead, "--at", THANKSGIVING.isoformat(), env=env)
    assert holiday.returncode == 0, holiday.stderr[-2000:]
    assert "005000000000001 (Maya Chen)" not in holiday.stdout.split("path")[0]
    assert "OUT_OF_OFFICE" in holiday.stdout and "pool vip-global" in holiday.stdout

    # validation runs first, as in routing: a lead it stops says so, with the reason and the fix
    bad = run("simulate", json.dumps({**NEW_YORK_VIP, "email": "ann.lee"}), env=env)
    assert bad.returncode == 0, bad.stderr[-2000:]
    assert "quarantined: the lead would not route (email_format" in bad.stdout and "review" not in bad.stdout

    with open_store(env["LEADROUTER_STORE_URL"]) as store, store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar() == 0
        assert not conn.execute(select(func.sum(rep_state.c.assigned))).scalar()


def test_reject_hands_the_lead_to_someone_else_and_counts_it(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        lead = pd.DataFrame(
            {
                "lead_id": ["00Q7"],
                "tier": pd.array(["Standard"], dtype="string"),
                "category": "sales",
                "priority": pd.array([2], dtype="Int64"),
                "decided_by": "rule:standard-fit",
                "confidence": 1.0,
                "pool": pd.array([pd.NA], dtype="string"),
                "region": pd.array(["NA"], dtype="string"),
                "created_at": pd.to_datetime(["2026-11-25T16:00:00Z"]),
            }
        )
        [first] = record_batch(
            store, BatchContext("sandbox", "r", "v1", at=WORKDAY), lead, NO_QUARANTINE, load_roster(ROSTER)
        )["owner_id"]
        out = run("reject", "00Q7", "--reason", "wrong territory <b>", env=env_for(tmp_path))
        assert out.returncode == 0, out.stderr[-2000:]
        with store.engine.connect() as conn:
            owner, status = conn.execute(select(decisions.c.owner_id, decisions.c.status)).one()
            events = conn.execute(select(sla_events.c.kind, sla_events.c.owner_id, sla_events.c.detail)).all()
        assert owner != first and status == "recorded" and f"{first} rejected it → {owner}" in out.stdout
        assert ("reject", first, {"note": "wrong territory <b>"}) in [tuple(e) for e in events]
        again = run("reject", "00Q404", "--reason", "x", env=env_for(tmp_path))
        assert again.returncode == 1 and "no routed decision" in again.stdout


def one_lead(lead_id: str, tier: str | None, **extra: object) -> pd.DataFrame:
    """A classified NA lead decided by a rule (tier) or left for review (tier None)."""
    return pd.DataFrame(
        {
            "lead_id": [lead_id],
            "tier": pd.array([tier], dtype="string"),
            "category": "sales",
            "priority": pd.array([3 if tier else None], dtype="Int64"),
            "decided_by": "rule:nurture" if tier else None,
            "confidence": 1.0,
            "pool": pd.array([pd.NA], dtype="string"),
            "region": pd.array(["NA"], dtype="string"),
            "created_at": pd.to_datetime(["2026-11-25T16:00:00Z"]),
            **{k: [v] for k, v in extra.items()},
        }
    )


def test_reject_of_a_lead_a_queue_owns_says_so_and_changes_nothing(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        [owner] = record_batch(
            store, BatchContext("sandbox", "r", "v1", at=WORKDAY), one_lead("00Q123", "Nurture"),
            NO_QUARANTINE, load_roster(ROSTER),
        )["owner_id"]  # fmt: skip
        assert owner == "00G000000000001"  # the sample roster's Nurture Sequence queue
        out = run("reject", "00Q123", "--reason", "wrong territory", env=env_for(tmp_path))
        assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr[-2000:]
        assert "lead 00Q123 (Nurture) is with the queue 00G000000000001 (" in out.stdout
        assert "not with a rep" in out.stdout and "nothing changed" in out.stdout
        with store.engine.connect() as conn:
            assert conn.execute(select(decisions.c.owner_id, decisions.c.status)).one() == (owner, "recorded")
            assert conn.execute(select(func.count()).select_from(sla_events)).scalar() == 0


def test_explain_says_why_a_quarantined_or_review_lead_stopped(tmp_path: Path) -> None:
    reason = "email_format: email 'ann.lee' is not an address; fix: correct it in the CRM"
    quarantined = pd.DataFrame(
        {
            "lead_id": pd.array(["00Q9"], dtype="string"),
            "reason": [reason],
            "reasons": [[{"check": "email_format"}]],
        }
    )
    review = one_lead("00Q8", None, review_reason="model unsure (0.41) [b]VIP[/b]")
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        record_batch(
            store, BatchContext("sandbox", "r", "v1", at=WORKDAY), review, quarantined, load_roster(ROSTER)
        )
    stopped = run("explain", "00Q9", env=env_for(tmp_path))
    assert stopped.returncode == 0, stopped.stderr[-2000:]
    # the lead's own text is defanged as everywhere a person reads it: a dotted word is no link
    shown = reason.replace("ann.lee", "ann[.]lee")
    assert f"stopped    quarantined by validation: {shown}" in stopped.stdout
    assert "leadrouter quarantine release 00Q9" in stopped.stdout
    waiting = run("explain", "00Q8", env=env_for(tmp_path))
    assert waiting.returncode == 0, waiting.stderr[-2000:]
    # lead text prints as text, never as markup
    assert "stopped    no tier: waiting in the review queue: model unsure (0.41) [b]VIP[/b]" in waiting.stdout
    assert "leadrouter review set-tier 00Q8 TIER" in waiting.stdout
    for out in (stopped.stdout, waiting.stdout):
        assert "None" not in out and "owner" not in out


def test_the_example_lead_file_routes_as_the_readme_shows(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    SandboxCRM.create(tmp_path / "sandbox.db", seed=7)
    env["LEADROUTER_SANDBOX_PATH"] = str(tmp_path / "sandbox.db")
    example = Path(__file__).parents[2] / "config" / "lead.example.json"
    assert example.name in (Path(__file__).parents[2] / "README.md").read_text()
    out = run("simulate", str(example), "--at", THANKSGIVING.isoformat(), env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ignored" not in out.stdout  # every field of the example is a lead column
    assert "tier       VIP  by rule:vip-senior-buyer" in out.stdout
    assert "owner      005000000000003 (Priya Nair)  via round_robin" in out.stdout
