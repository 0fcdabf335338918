"""Owner notifications through the real channels: a local Slack webhook and a local SMTP server (aiosmtpd);
and the sla-watch flow end to end on the sandbox CRM with a real Prefect server."""

from __future__ import annotations

import email
import socket
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from blocks.notify import SlackIncomingWebhook, SmtpEmail
from leadrouter.assign.roster import load_roster
from leadrouter.messages import acknowledgements, assignment_messages
from leadrouter.notify import deliver
from leadrouter.retry import RetryPolicy
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import open_store
from leadrouter.store.tables import decisions, notifications, sla_events
from localapi.server import LocalServer
from localapi.slack import HOOK_PATH, SlackWebhook
from tests.helpers.artifacts import run_artifacts
from tests.helpers.clock import WORKDAY

ROSTER = Path(__file__).parents[2] / "config" / "roster.yaml"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Inbox:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd's readiness check cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        inbox.port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


def lead_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["00Q1"],
            "owner_id": ["005000000000001"],
            "tier": ["VIP"],
            "first_name": ["Ann <!channel>"],
            "last_name": ["Lee"],
            "company": ["Harbor\r\nBcc: victim@example.com"],
            "title": ["VP Finance"],
            "routing_reason": ["rule:vip-senior-buyer → pool vip-na → round robin → 005000000000001"],
            "brief": ["Wants a demo for the finance team this week."],
            "sla_due_at": [WORKDAY + timedelta(minutes=5)],
        }
    )


def test_an_owner_hears_of_a_lead_on_slack_and_by_email_with_its_context(tmp_path: Path, smtp: Inbox) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        hook = SlackWebhook()
        hook.fail_next = 1  # the first post fails: the retry delivers it
        with LocalServer(hook.app) as server:
            channels = {
                "slack": SlackIncomingWebhook(url=server.url + HOOK_PATH),
                "email": SmtpEmail(
                    host="127.0.0.1", port=smtp.port, sender="router@example.com", security="none"
                ),
            }
            messages = assignment_messages(
                lead_frame(), load_roster(ROSTER), link_template="https://crm.example/{lead_id}"
            )
            sent = deliver(
                store, "sandbox", messages, channels, retry=RetryPolicy(attempts=3, first_delay_s=0.01)
            )
        assert sent["status"].tolist() == ["sent", "sent"] and sent["attempts"].tolist() == [2, 1]
        text = hook.posts[0]["text"]
        for field in (
            "Ann &lt;!channel&gt; Lee",
            "VIP",
            "Why you: rule:vip-senior-buyer",
            "Brief: Wants a demo",
            "First touch due: 2026-11-25 16:35 UTC",
            "<https://crm.example/00Q1|Open the CRM record>",
        ):
            assert field in text
        assert "<!channel>" not in text  # lead text cannot ping the channel
        [mail] = smtp.messages
        assert mail["To"] == "maya.chen@sandbox-sales.example" and mail["Bcc"] is None  # no header injection
        subject = " ".join(mail["Subject"].split())  # long subjects are folded; the break is no new header
        assert "(Harbor Bcc: victim@example[.]com), VIP" in subject and len(mail.get_all("Subject")) == 1
        assert "CRM record: https://crm.example/00Q1" in mail.get_payload(decode=True).decode()
        with store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(notifications)).scalar() == 2


def test_a_failing_channel_is_recorded_and_never_raises(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        with LocalServer(SlackWebhook().app) as server:
            secret_url = server.url + "/services/T9/B9/wrong-secret-token"
            channels = {"slack": SlackIncomingWebhook(url=secret_url)}
            sent = deliver(
                store,
                "sandbox",
                assignment_messages(lead_frame(), load_roster(ROSTER)),
                channels,
                retry=RetryPolicy(attempts=3, first_delay_s=0.01),
            )
        assert sent["status"].tolist() == ["failed"] and sent["attempts"].tolist() == [3]
        assert (
            "404" in sent["error"][0]
            and "no_service" in sent["error"][0]
            and "wrong-secret-token" not in sent["error"][0]
        )


@pytest.mark.usefixtures("prefect_server")
def test_sla_watch_reroutes_every_untouched_lead_and_notifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.route_inbound import route_inbound
    from flows.sla_watch import sla_watch

    url = f"sqlite:///{tmp_path}/ledger.db"
    monkeypatch.setenv("LEADROUTER_STORE_URL", url)
    monkeypatch.setenv("LEADROUTER_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=11, leads=150)
    hook = SlackWebhook()
    reps = {r.key for r in load_roster(ROSTER).reps}
    with open_store(url) as store:
        with LocalServer(hook.app) as server:
            SlackIncomingWebhook(url=server.url + HOOK_PATH).save("test-slack", overwrite=True)
            monkeypatch.setenv("LEADROUTER_NOTIFY_SLACK_BLOCK", "test-slack")
            route_inbound()
            with store.engine.connect() as conn:
                due = conn.execute(
                    select(decisions.c.lead_id, decisions.c.owner_id).where(
                        decisions.c.sla_due_at.is_not(None)
                    )
                ).all()
                to_reps = conn.execute(
                    select(func.count()).where(
                        decisions.c.status == "written", decisions.c.owner_id.in_(reps)
                    )
                ).scalar()
            # every rep who got a lead heard of it; queues are not notified
            assigned = [p["text"] for p in hook.posts if "New lead for you" in p["text"]]
            assert to_reps and len(assigned) == to_reps
            assert all("Why you: " in t and "Tier: " in t for t in assigned)
            # two hours later nobody has touched anything (no traffic ran): every clock has run out
            monkeypatch.setenv("LEADROUTER_ROUTING_CLOCK", (WORKDAY + timedelta(hours=2)).isoformat())
            state = sla_watch(return_state=True)
        summary = state.result()
        assert summary["breached"] == len(due) and summary["rerouted"] == len(due) and summary["touched"] == 0
        with store.engine.connect() as conn:
            moved = dict(
                conn.execute(
                    select(sla_events.c.lead_id, sla_events.c.new_owner_id).where(
                        sla_events.c.kind == "reroute"
                    )
                ).all()
            )
            written = dict(
                conn.execute(
                    select(decisions.c.lead_id, decisions.c.owner_id).where(decisions.c.status == "written")
                ).all()
            )
        assert set(moved) == {lead for lead, _ in due}
        crm_owners = crm.fetch_leads(list(moved)).set_index("lead_id")["crm_owner_id"]
        assert all(
            crm_owners[lead] == moved[lead] == written[lead] for lead in moved
        )  # the new owner is in the CRM
        assert all(new != old for (lead, old) in due for new in [moved[lead]] if old in reps)
        # the new owners heard of it on Slack with the lead's context
        reassigned = [p["text"] for p in hook.posts if "re-routed to you" in p["text"]]
        assert len(reassigned) == sum(moved[lead] in reps for lead in moved)
        assert all(
            "Why you: re-routed after breach by" in t and "First touch due" in t for t in reassigned
        ), reassigned[:2]
        # the run's artifact names every re-routed lead with its old and new owner, and why
        rows = run_artifacts(state.state_details.flow_run_id)["sla-watch-actions"].splitlines()
        names = {r.key: r.name for r in load_roster(ROSTER).reps} | load_roster(ROSTER).queues
        assert rows[2].startswith(f"{len(due)} breached and 0 rejected: {len(due)} re-routed")
        for lead, old in due:
            [row] = [r for r in rows if r.startswith(f"| breach | {lead} |")]
            cells = row.split(" | ")
            assert cells[3:5] == [f"{names[old]} \\({old}\\)", f"{names[moved[lead]]} \\({moved[lead]}\\)"]
            assert cells[6].startswith("no first touch by ")


def test_an_off_hours_lead_is_acknowledged_with_when_its_owner_starts(tmp_path: Path, smtp: Inbox) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        roster = load_roster(ROSTER)
        lead = lead_frame().assign(email=["ann.lee@harborbank.example"])
        assert acknowledgements(lead, roster, WORKDAY) == []  # Maya is at work: no acknowledgement
        evening = WORKDAY + timedelta(hours=7)  # 18:30 in New York on the eve of Thanksgiving
        [ack] = acknowledgements(lead, roster, evening)
        ack_channel = {
            "email": SmtpEmail(host="127.0.0.1", port=smtp.port, sender="hello@example.com", security="none")
        }
        sent = deliver(store, "sandbox", [ack], ack_channel)
        assert sent["status"].tolist() == ["sent"]
        [mail] = smtp.messages
        assert mail["To"] == "ann.lee@harborbank.example"
        assert (
            "Maya will reach out on Friday from 08:00 (America/New_York)"
            in mail.get_payload(decode=True).decode()
        )


@pytest.mark.usefixtures("prefect_server")
def test_a_rejection_from_the_cli_tells_the_new_owner_and_the_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from commands.main import app

    url = f"sqlite:///{tmp_path}/ledger.db"
    monkeypatch.setenv("LEADROUTER_STORE_URL", url)
    monkeypatch.setenv("LEADROUTER_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=11, leads=3)
    lead = crm.leads()["id"].iloc[0]
    with open_store(url) as store:
        first = routed_to_a_rep(store, lead)
        hook = SlackWebhook()
        with LocalServer(hook.app) as server:
            SlackIncomingWebhook(url=server.url + HOOK_PATH).save("reject-slack", overwrite=True)
            monkeypatch.setenv("LEADROUTER_NOTIFY_SLACK_BLOCK", "reject-slack")
            out = CliRunner().invoke(app, ["reject", lead, "--reason", "not my territory"])
        assert out.exit_code == 0, out.output
        with store.engine.connect() as conn:
            new = conn.execute(select(decisions.c.owner_id)).scalar()
    texts = [p["text"] for p in hook.posts]
    assert new != first
    assert any("re-routed to you" in t and "you rejected" not in t for t in texts)  # the new owner
    assert any(f"Lead {lead} re-routed: you rejected it" in t for t in texts)  # the old owner


def routed_to_a_rep(store, lead_id: str) -> str:
    """A Standard lead routed to a New York AE at the tests' moment, and written to the CRM; returns the owner."""
    from leadrouter.record import BatchContext, record_batch
    from tests.helpers.ledger import NO_QUARANTINE, ROSTER, leads

    lead = leads(1, "Standard").assign(lead_id=[lead_id])
    ctx = BatchContext("sandbox", "r", "v1", at=WORKDAY)
    [owner] = record_batch(store, ctx, lead, NO_QUARANTINE, load_roster(ROSTER))["owner_id"]
    with store.transaction() as conn:
        conn.execute(decisions.update().values(status="written"))
    return owner
