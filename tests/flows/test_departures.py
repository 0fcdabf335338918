"""A rep deactivated in the sandbox CRM: the next route-inbound run switches them off with no roster edit,
re-routes their untouched leads through the pools (written to the CRM, recorded, each new owner notified),
leaves their touched leads alone, and says so in the run's summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from blocks.notify import SlackIncomingWebhook
from leadrouter.assign.roster import load_roster
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import open_store
from leadrouter.store.tables import decisions, sla_events
from localapi.server import LocalServer
from localapi.slack import HOOK_PATH, SlackWebhook
from tests.helpers.clock import WORKDAY

ROSTER = Path(__file__).parents[2] / "config" / "roster.yaml"


@pytest.mark.usefixtures("prefect_server")
def test_a_rep_deactivated_in_the_crm_has_untouched_leads_rerouted_notified_and_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.route_inbound import route_inbound

    url = f"sqlite:///{tmp_path}/ledger.db"
    monkeypatch.setenv("LEADROUTER_STORE_URL", url)
    monkeypatch.setenv("LEADROUTER_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    monkeypatch.setenv("LEADROUTER_ROUTING_CLOCK", WORKDAY.isoformat())
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=11, leads=150)
    roster = load_roster(ROSTER)
    reps = {r.key for r in roster.reps}
    hook = SlackWebhook()
    with open_store(url) as store, LocalServer(hook.app) as server:
        SlackIncomingWebhook(url=server.url + HOOK_PATH).save("test-slack", overwrite=True)
        monkeypatch.setenv("LEADROUTER_NOTIFY_SLACK_BLOCK", "test-slack")
        assert route_inbound(return_state=True).result()["deactivated"] == {}
        with store.engine.connect() as conn:
            held = conn.execute(
                select(decisions.c.lead_id, decisions.c.owner_id).where(decisions.c.status == "written")
            ).all()
        per_rep = {}
        for lead, owner in held:
            per_rep.setdefault(owner, []).append(lead)
        gone = max((r for r in per_rep if r in reps), key=lambda r: len(per_rep[r]))
        leads = per_rep[gone]
        assert len(leads) >= 2
        touched, untouched = leads[0], leads[1:]
        with store.engine.begin() as conn:  # the rep worked one lead before leaving
            conn.execute(
                update(decisions).where(decisions.c.lead_id == touched).values(first_touch_at=WORKDAY)
            )
        crm.deactivate_user(gone)
        posts_before = len(hook.posts)
        state = route_inbound(return_state=True)
        summary = state.result()

        name = roster.by_id[gone].name
        assert summary["deactivated"] == {name: len(untouched)}
        assert f"1 rep deactivated in the CRM ({name}): {len(untouched)} untouched leads re-routed" in (
            state.message
        )
        with store.engine.connect() as conn:
            now = dict(
                conn.execute(
                    select(decisions.c.lead_id, decisions.c.owner_id).where(decisions.c.lead_id.in_(leads))
                ).all()
            )
            statuses = set(
                conn.execute(select(decisions.c.status).where(decisions.c.lead_id.in_(untouched))).scalars()
            )
            events = conn.execute(
                select(
                    sla_events.c.lead_id, sla_events.c.kind, sla_events.c.owner_id, sla_events.c.new_owner_id
                )
            ).all()
        assert now[touched] == gone  # touched: left alone
        assert all(now[lead] != gone for lead in untouched) and statuses == {"written"}
        crm_owners = crm.fetch_leads(untouched).set_index("lead_id")["crm_owner_id"]
        assert all(crm_owners[lead] == now[lead] for lead in untouched)  # written back to the CRM
        assert sorted(e.lead_id for e in events if e.kind == "deactivated") == sorted(untouched)
        rerouted = {e.lead_id: e.new_owner_id for e in events if e.kind == "reroute"}
        assert rerouted == {lead: now[lead] for lead in untouched}
        told = [p["text"] for p in hook.posts[posts_before:] if "re-routed to you" in p["text"]]
        assert len(told) == sum(now[lead] in reps for lead in untouched)
        assert all("re-routed after deactivation in the CRM of " + gone in t for t in told)
        assert name not in summary["by_owner"]  # switched off: nothing new goes to them
