"""route-inbound end to end under one Prefect test server: the ledger's invariants on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from leadrouter.assign.roster import load_roster
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.team import DEFAULT_QUEUE
from leadrouter.store import open_store, watermarks
from leadrouter.store.decisions import status_counts
from leadrouter.store.tables import decisions
from tests.helpers.ledger import expire_claims
from tests.helpers.sandbox import assert_ledger_matches_crm

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SandboxCRM:
    """A sandbox with 300 new leads and an empty store, wired through LEADROUTER_* variables."""
    url = (
        f"sqlite:///{tmp_path}/ledger.db"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_store_url")
    )
    monkeypatch.setenv("LEADROUTER_STORE_URL", url)
    monkeypatch.setenv("LEADROUTER_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    return SandboxCRM.create(tmp_path / "sandbox.db", seed=11, leads=300)


def route(**params: object) -> dict:
    from flows.route_inbound import route_inbound

    return route_inbound(**params)


def test_every_lead_ends_written_quarantined_or_review(env: SandboxCRM) -> None:
    summary = route()
    assert summary["leads"] == 300
    assert summary["written"] + summary["quarantined"] + summary["review"] == 300
    assert summary["written"] > 200 and summary["quarantined"] > 0
    assert sum(summary["by_tier"].values()) == summary["written"] == sum(summary["by_owner"].values())
    decided = assert_ledger_matches_crm(env)
    assert (decided["status"] == "quarantined").sum() == summary["quarantined"]


def test_the_summary_counts_what_each_decision_explains(env: SandboxCRM) -> None:
    summary = route()  # counted in SQL; counted here again from every decision's own explanation
    store = open_store(os.environ["LEADROUTER_STORE_URL"])
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(decisions.c.owner_id, decisions.c.explanation, decisions.c.model_cost_usd)
        ).all()
    routed = [why for owner, why, _ in rows if owner is not None]
    facts = [why["enrichment"] for _, why, _ in rows]
    assert summary["by_method"] == Counter(why["method"] for why in routed) and summary["by_method"]
    assert summary["passed_over"] == Counter(code for why in routed for code in why["excluded"].values())
    assert summary["matched_accounts"] == sum(f["account_id"] is not None for f in facts) > 0
    assert summary["enrichment_failed"] == sum(bool(f["enrichment_failed"]) for f in facts)
    assert summary["model_cost_usd"] == pytest.approx(sum(cost or 0 for *_, cost in rows))


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_the_run_page_names_its_counts_and_each_batch(env: SandboxCRM) -> None:
    """The run list shows the counts as the run's name, its final state says them, and each stage's task run
    is named by the batch it served."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.route_inbound import route_inbound

    state = route_inbound(batch_size=120, return_state=True)
    summary = state.result()
    counts = f"300 leads: {summary['written']} written · {summary['quarantined']} quarantined · {summary['review']} review"
    assert summary["leads"] == 300 and state.message == counts
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
    assert run.name == counts and run.state.message == counts
    names = Counter(t.name for t in tasks)
    batches = sum(name.startswith("advance-watermark[") for name in names)
    assert batches >= 3  # 120 + 120 + 60 leads, then a page of our own writes or none
    for stage in ("pull-new-leads", "advance-watermark"):
        assert {n: names[n] for n in names if n.startswith(stage)} == {
            f"{stage}[batch {b}]": 1 for b in range(1, batches + 1)
        }
    for stage in ("validate-leads", "record-decisions", "write-assignments"):
        assert {f"{stage}[batch {b}]" for b in (1, 2, 3)} <= set(names)
    assert max(names.values()) == 1  # no two task runs share a name


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_an_empty_poll_is_named_as_one_and_publishes_nothing(env: SandboxCRM) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.route_inbound import route_inbound

    route_inbound()
    state = route_inbound(return_state=True)
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        name = client.read_flow_run(run_id).name
        artifacts = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    assert state.result()["leads"] == 0 and state.message == name == "no new leads"
    assert artifacts == []  # the artifact keys' histories hold the runs that routed something


def test_repeated_runs_decide_and_write_nothing_twice(env: SandboxCRM) -> None:
    first = route()
    again = route()
    assert first["leads"] == 300 and again["leads"] == 0  # our own owner writes re-surface, and are skipped
    env.add_leads(40, np.random.default_rng(1), pd.Timestamp.now(tz="UTC"), pd.Timestamp.now(tz="UTC"))
    assert route()["leads"] == 40
    assert len(assert_ledger_matches_crm(env)) == 340


def test_batch_size_comes_from_the_settings(env: SandboxCRM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADROUTER_BATCH_SIZE", "120")
    first = route(max_batches=1)["leads"]
    assert first == 120  # one batch of LEADROUTER_BATCH_SIZE leads
    # a run's own batch_size wins (its page may re-read leads just written, which are not decided again)
    second = route(max_batches=1, batch_size=50)["leads"]
    assert 0 < second <= 50
    assert first + second + route()["leads"] == 300


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_a_lingering_run_routes_a_lead_created_while_it_runs(env: SandboxCRM) -> None:
    """With linger_s, a lead created after the run decided its pages is routed by that same run."""
    import time

    store = open_store(os.environ["LEADROUTER_STORE_URL"])
    summaries: list[dict] = []
    runner = threading.Thread(target=lambda: summaries.append(route(linger_s=5.0)))
    runner.start()
    deadline = time.monotonic() + 120
    while sum(status_counts(store, "sandbox").values()) < 300 and time.monotonic() < deadline:
        time.sleep(0.1)
    now = pd.Timestamp.now(tz="UTC")
    late = env.add_leads(1, np.random.default_rng(2), now, now)["lead_id"].iloc[0]
    runner.join(timeout=120)
    assert summaries[0]["leads"] == 301
    with store.engine.connect() as conn:
        runs = conn.execute(select(decisions.c.lead_id, decisions.c.run_id)).all()
    assert len(runs) == 301 and len({run for _, run in runs}) == 1
    assert late in {lead for lead, _ in runs}
    assert len(assert_ledger_matches_crm(env)) == 301


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_a_later_page_finds_the_owners_the_page_before_wrote(
    env: SandboxCRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's owners are written while the next page is pulled and validated; that page looks its duplicates
    up in the CRM only once they are there, however slow the write: a person who comes back on the next page
    is a duplicate of the lead the page before routed."""
    import time

    from leadrouter import writeback

    real_write_back = writeback.write_back

    def slow_write_back(*args: object, **kwargs: object) -> pd.DataFrame:
        time.sleep(1.0)  # longer than the next page's pull and validation
        return real_write_back(*args, **kwargs)

    monkeypatch.setattr(writeback, "write_back", slow_write_back)
    with sqlite3.connect(env.path) as db:
        ids = [i for (i,) in db.execute("SELECT id FROM leads ORDER BY modified_at, id")]
        pairs = list(zip(ids[:60], ids[100:160], strict=True))  # page 1's people again on page 2
        for first, again in pairs:
            db.execute(
                "UPDATE leads SET email = (SELECT email FROM leads WHERE id = ?) WHERE id = ?", (first, again)
            )
    route(batch_size=100)
    store = open_store(os.environ["LEADROUTER_STORE_URL"])
    with store.engine.connect() as conn:
        query = select(
            decisions.c.lead_id, decisions.c.status, decisions.c.owner_id, decisions.c.duplicate_of
        )
        decided = {lead: tuple(rest) for lead, *rest in conn.execute(query).all()}
    reps = {rep.key for rep in load_roster(ROOT / "config" / "roster.yaml").reps}
    # a lead written to a rep (not to a queue) is what a later copy of its person is a duplicate of
    owned = [(first, again) for first, again in pairs if decided[first][:2] in {("written", r) for r in reps}]
    # a copy validation stopped is never looked up, and a customer's contact with the email outranks any lead:
    # those say nothing of page 1's writes
    owned = [
        (first, again)
        for first, again in owned
        if decided[again][0] != "quarantined" and not str(decided[again][2]).startswith("contact:")
    ]
    assert len(owned) >= 5
    for first, again in owned:
        assert decided[again][2] == f"lead:{first}", (first, again, decided[again])


def test_two_runs_at_once_never_decide_or_write_a_lead_twice(env: SandboxCRM) -> None:
    summaries: list[dict] = []
    threads = [threading.Thread(target=lambda: summaries.append(route(batch_size=60))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(summaries) == 2
    assert sum(s["leads"] for s in summaries) == 300
    assert_ledger_matches_crm(env)


@pytest.mark.parametrize("point", ["after_record", "after_write"])
def test_a_crash_then_a_rerun_loses_nothing_and_doubles_nothing(env: SandboxCRM, point: str) -> None:
    from prefect.settings import PREFECT_API_URL

    crash = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "helpers" / "crash_run.py"), point],
        env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert crash.returncode == 137, crash.stderr[-2000:]
    store = open_store(os.environ["LEADROUTER_STORE_URL"])
    counts = status_counts(store, "sandbox")
    if point == "after_record":
        # recorded claimed by the dead run for its write-back: nobody writes them before its lease runs out
        assert counts.get("writing", 0) > 0 and not counts.keys() & {"recorded", "written"}
        route()
        assert status_counts(store, "sandbox") == counts and env.owner_write_counts().empty
        expire_claims(store)
    else:
        assert counts.get("written", 0) > 0 and watermarks.get_watermark(store, "sandbox") is None
    route()
    decided = assert_ledger_matches_crm(env)
    assert len(decided) == 300


def test_shadow_mode_decides_but_writes_nothing_and_takes_nothing_from_live(env: SandboxCRM) -> None:
    summary = route(shadow=True)
    assert summary["shadow"] + summary["quarantined"] + summary["review"] == 300
    assert summary["written"] == 0 and env.owner_write_counts().empty
    assert (env.leads()["owner_id"] == DEFAULT_QUEUE).all()
    live = route()  # the shadow ledger is separate: live routing still gets every lead
    assert live["leads"] == 300 and live["written"] == summary["shadow"]


def test_each_run_publishes_a_routing_summary_and_the_quarantined_rows(env: SandboxCRM) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.route_inbound import route_inbound

    state = route_inbound(return_state=True)
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    by_key = {a.key: a for a in artifacts}
    assert {"routing-summary", "quarantined-leads", "validation-report"} <= set(by_key)
    import json

    checks = {row["check"]: row for row in json.loads(by_key["validation-report"].data)}
    assert checks["email_present"]["evaluated"] == 300
    assert all(row["passed"] + row["failed"] == row["evaluated"] for row in checks.values())
    assert sum(
        row["failed"] for row in checks.values() if row["severity"] == "blocking"
    ) >= summary_quarantined(by_key)
    summary = state.result()
    assert f"| {summary['leads']} | {summary['written']} |" in by_key["routing-summary"].data
    assert "Maya Chen" in by_key["routing-summary"].data or "Priya Nair" in by_key["routing-summary"].data
    # how many leads each rule, the model and the review queue decided: every routed or waiting lead once
    deciders = summary["by_decider"]
    assert sum(deciders.values()) == summary["leads"] - summary["quarantined"]
    assert deciders.get("review queue", 0) == summary["review"]
    assert any(k.startswith("rule:") for k in deciders) and any(
        k.startswith("model:local-1") for k in deciders
    )
    for who, n in deciders.items():
        assert f"| {who} | {n} |" in by_key["routing-summary"].data


def summary_quarantined(by_key: dict) -> int:
    """Leads in the quarantined-leads table: each failed at least one blocking expectation."""
    import json

    rows = json.loads(by_key["quarantined-leads"].data)
    return len({row["lead"] for row in rows if row["severity"] == "blocking"})


def test_a_released_quarantined_lead_is_routed_on_the_next_run(env: SandboxCRM) -> None:
    from leadrouter.store.quarantine import quarantined
    from tests.helpers.cli import run

    route()
    with open_store(os.environ["LEADROUTER_STORE_URL"]) as store:
        held = quarantined(store, "sandbox")
    email_only = held[held["reason"].str.startswith("email_") & ~held["reason"].str.contains("; ")]
    lead_id = email_only["lead_id"].iloc[0]
    listed = run("quarantine", "list")
    assert listed.returncode == 0 and lead_id in listed.stdout
    # fixed in the CRM without touching its stamp: the watermark is past it, the release must still fetch it
    with env._db() as db:
        db.execute("UPDATE leads SET email = 'fixed.address@acme-example.com' WHERE id = ?", (lead_id,))
    released = run("quarantine", "release", lead_id)
    assert released.returncode == 0, released.stderr[-2000:]
    assert run("quarantine", "release", lead_id).returncode == 1  # nothing left to release
    route()
    decided = assert_ledger_matches_crm(env).set_index("lead_id")
    assert decided.loc[lead_id, "status"] == "written"
    assert lead_id not in run("quarantine", "list").stdout


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_a_sandbox_traffic_tick_names_its_run_by_what_happened(env: SandboxCRM) -> None:
    """A tick of simulated traffic says what it did, as route-inbound does: its new leads are the sandbox's."""
    from prefect.client.orchestration import get_client

    from flows.sandbox_traffic import sandbox_traffic, traffic_line

    before = len(env.leads())
    state = sandbox_traffic(leads_per_minute=30.0, return_state=True)
    happened = state.result()
    # the first tick covers one minute: about 30 leads
    assert happened["new_leads"] == len(env.leads()) - before > 0
    line = traffic_line(happened)
    assert state.message == line and line.startswith(f"{happened['new_leads']} new · ")
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(state.state_details.flow_run_id).name == line
