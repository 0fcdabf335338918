"""A simulated day in the sandbox. The traffic simulator brings leads and plays the reps: two never answer in
time, one often rejects, the rest answer late or reject now and then, each assignment's fate drawn from those
known rates and kept as ground truth. Routing and the SLA watch run through the flows' own stages every simulated
minute. Their breaches, rejections and re-routes must equal the simulation's truth, and no clock may run past
twice its SLA."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select

from blocks.load import load_settings
from leadrouter.classify.rules import ResponseSla
from leadrouter.router import Router, open_router
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.traffic import Answering, fates, simulate_traffic
from leadrouter.schema import Tier
from leadrouter.sla import breached, open_clocks
from leadrouter.store.tables import decisions, sla_events
from tasks.route_inbound import load_accounts
from tasks.shared import write_assignments
from tasks.sla_watch import (
    first_touches,
    read_rejections,
    reroute_breaches,
    reroute_rejections,
    stop_touched_clocks,
)
from tests.helpers.clock import WORKDAY
from tests.helpers.stages import route

# the simulated reps answer on the wall clock, so the day's SLAs do too: the truth needs no calendar
SLA = {
    Tier.VIP: ResponseSla(minutes=5, around_the_clock=True, escalate_after=1),
    Tier.STANDARD: ResponseSla(minutes=30, around_the_clock=True),
}
ANSWERING = {
    "005000000000001": Answering(late=1.0, reject=0.0),  # a senior AE who never answers in time
    "005000000000008": Answering(late=1.0, reject=0.0),  # an AE who never answers in time
    "005000000000007": Answering(late=0.0, reject=0.5),  # an AE who rejects half of what they get
}
ARRIVALS_MIN, LEADS_PER_MIN, ROUTE_EVERY_MIN, MAX_DAY_MIN = 30, 8.0, 5, 400


def watch(router: Router, now: pd.Timestamp, run_id: str) -> None:
    """sla-watch's stages."""
    reroute_rejections.fn(router, read_rejections.fn(router, now), now)
    clocks = open_clocks(router.store, router.source)
    touched = stop_touched_clocks.fn(router, clocks, first_touches.fn(router, clocks))
    reroute_breaches.fn(router, breached(clocks, touched, now), now)
    write_assignments.fn(router, claim=run_id)


def test_a_simulated_day_in_the_sandbox_matches_its_ground_truth(tmp_path: Path, monkeypatch) -> None:
    start = pd.Timestamp(WORKDAY)
    monkeypatch.setenv("LEADROUTER_STORE_URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setenv("LEADROUTER_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=21, now=start)
    base = open_router(load_settings(None), crm=crm)
    base = base.replace(rulebook=base.rulebook.model_copy(update={"sla": SLA}))
    accounts = load_accounts.fn(base)
    overdue, clocks, minute = [], None, 0
    # the day ends when the last lead has arrived and every clock has stopped
    while minute <= ARRIVALS_MIN + ROUTE_EVERY_MIN or len(clocks):
        assert minute < MAX_DAY_MIN, f"clocks still running after {MAX_DAY_MIN} minutes: {clocks}"
        now = start + pd.Timedelta(minutes=minute)
        router = base.replace(settings=base.settings.model_copy(update={"routing_clock": now}))
        arriving = LEADS_PER_MIN if minute < ARRIVALS_MIN else 0.0
        simulate_traffic(crm, now, arriving, seed=minute, answering=ANSWERING)
        if minute % ROUTE_EVERY_MIN == 0:
            route(router, accounts, f"route-{minute}")
        watch(router, now, f"watch-{minute}")
        clocks = open_clocks(base.store, base.source)
        window = pd.to_timedelta(clocks["tier"].map({t.value: s.minutes for t, s in SLA.items()}), unit="min")
        overdue += clocks.loc[clocks["sla_due_at"] + window < now, "lead_id"].tolist()
        minute += 1
    with base.store.engine.connect() as conn:
        events = pd.DataFrame(
            conn.execute(select(sla_events.c.kind, sla_events.c.lead_id, sla_events.c.owner_id)).all(),
            columns=["kind", "lead_id", "owner_id"],
        )
        routed = pd.DataFrame(
            conn.execute(select(decisions.c.lead_id, decisions.c.owner_id, decisions.c.status)).all(),
            columns=["lead_id", "owner_id", "status"],
        )
    truth = fates(crm)
    base.store.dispose()

    timed = truth["tier"].isin([t.value for t in SLA])
    late = truth[(truth["fate"] == "late") & timed]
    rejected = truth[truth["fate"] == "reject"]
    assert len(truth) > 50 and len(late) >= 10 and len(rejected) >= 5, truth["fate"].value_counts()

    def pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
        return sorted(zip(frame["lead_id"], frame["owner_id"], strict=True))

    # every assignment the simulation made late breached, and nothing else did
    assert pairs(events[events["kind"] == "breach"]) == pairs(late)
    # every rejection a rep made in the CRM was read once and acted on
    assert pairs(events[events["kind"] == "reject"]) == pairs(rejected)
    # each breach and rejection moved its lead on (nobody was left without someone new)
    assert (events["kind"] == "reroute").sum() == len(late) + len(rejected)
    # no clock ever ran past twice its SLA, and every lead ends with an owner, written to the CRM
    assert overdue == []
    sent = routed[~routed["status"].isin(["review", "quarantined"])]  # the review queue has its own clock
    assert len(sent) and sent["owner_id"].notna().all() and set(sent["status"]) == {"written"}
    # in the end no lead sits with a rep who let it go
    let_go = set(pairs(late)) | set(pairs(rejected))
    assert not let_go & set(zip(routed["lead_id"], routed["owner_id"], strict=True))
