"""What owners and managers are told: a Message (subject, "label: value" lines, a link) and its bodies per
channel, built from leads: a new or re-routed lead with its context, a lead taken away, an escalation, the
acknowledgement a lead gets when its owner is off work. Sending them is `notify`'s.

Lead text is untrusted: each value is made one plain line when a message is built (defanged, cut), then inert
for its channel (leadrouter.inert): escaped for Slack's mrkdwn, plain text by email, never a line break in a
subject.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

import pandas as pd

from leadrouter import inert
from leadrouter.assign.availability import rep_calendar
from leadrouter.assign.roster import Roster
from leadrouter.classify.conversion.routing import score_summary


@dataclass(frozen=True)
class Message:
    kind: str
    lead_id: str | None
    recipient: str | None  # owner id (None: a channel-wide message)
    recipient_name: str
    email: str | None
    subject: str
    lines: list[str] = field(default_factory=list)  # "label: value" lines, plain text
    link: str | None = None

    def text(self) -> str:
        """The plain-text body (email)."""
        body = [inert.email_text(self.subject), "", *(inert.email_text(line) for line in self.lines)]
        if self.link:
            body += ["", f"CRM record: {self.link}"]
        return "\n".join(body)

    def slack_text(self) -> str:
        """The body as Slack mrkdwn: every value escaped, so lead text cannot mention, link or format."""
        body = [f"*{inert.slack(self.subject)}*", *(inert.slack(line) for line in self.lines)]
        if self.link:
            body.append(inert.slack_link(self.link, "Open the CRM record"))
        return "\n".join(body)


# what an assignment message and an acknowledgement read of a lead
NOTICE_COLUMNS = [
    "lead_id", "owner_id", "tier", "first_name", "last_name", "company", "title", "routing_reason", "brief",
    "score", "score_tier", "expected_value", "score_reasons", "sla_due_at", "email",
]  # fmt: skip


def assignment_messages(
    leads: pd.DataFrame, roster: Roster, kind: str = "assigned", link_template: str | None = None
) -> list[Message]:
    """One message per lead to its owner: who, company, tier and why, the AI brief, the SLA deadline, a link.

    leads: NOTICE_COLUMNS but email (missing columns are left out of the message)."""
    people = {r.key: r for r in roster.reps}
    out = []
    for lead in leads.to_dict("records"):
        owner = lead.get("owner_id")
        rep = people.get(owner)
        if rep is None:  # queues and CRM users off the roster: nobody to notify
            continue
        name = inert.plain(
            f"{_text(lead.get('first_name'))} {_text(lead.get('last_name'))}".strip() or "A lead", 200
        )
        company = _text(lead.get("company"))
        verb = "New lead for you" if kind == "assigned" else "Lead re-routed to you"
        subject = inert.plain(
            f"{verb}: {name}" + (f" ({company})" if company else "") + f", {lead.get('tier')}", 200
        )
        lines = [
            f"Lead: {inert.plain(lead.get('lead_id'), 200)}",
            *([f"Title: {inert.plain(lead['title'], 200)}"] if _text(lead.get("title")) else []),
            *([f"Company: {inert.plain(company, 200)}"] if company else []),
            f"Tier: {lead.get('tier')}",
            *(
                [f"Why you: {inert.plain(lead['routing_reason'], 400)}"]
                if _text(lead.get("routing_reason"))
                else []
            ),
            *([f"Brief: {inert.plain(lead['brief'], 400)}"] if _text(lead.get("brief")) else []),
            *([f"Score: {scored}"] if (scored := _score(lead)) else []),
            *(
                [f"Reasons: {inert.plain(lead['score_reasons'], 400)}"]
                if scored and _text(lead.get("score_reasons"))
                else []
            ),
            *([f"First touch due: {_stamp(lead['sla_due_at'])}"] if _text(lead.get("sla_due_at")) else []),
        ]
        link = link_template.format(lead_id=quote(str(lead["lead_id"]), safe="")) if link_template else None
        out.append(Message(kind, str(lead["lead_id"]), owner, rep.name, rep.email, subject, lines, link))
    return out


def event_message(
    kind: str, lead_id: str | None, recipient: str, roster: Roster, subject: str, lines: list[str]
) -> Message | None:
    """A message to a rep or manager about a lead (taken away after a breach, escalation)."""
    rep = roster.by_id.get(recipient)
    if rep is None:
        return None
    return Message(kind, lead_id, recipient, rep.name, rep.email, inert.plain(subject, 200), lines)


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _score(lead: dict) -> str | None:
    """The conversion model's score and tier for the brief (None: no model scored the lead)."""
    return score_summary(lead.get("score"), lead.get("score_tier"), lead.get("expected_value"))


def _stamp(value: object) -> str:
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC") if stamp.tzinfo else str(stamp)


# how a re-route is said: to the new owner ("re-routed after ... <old owner>"), and to the old owner
AFTER = {
    "breach": "breach by",
    "reject": "reject by",
    "deactivated": "deactivation in the CRM of",
    "handover": "handover from",
}
TAKEN_BECAUSE = {
    "breach": "you did not touch it within its SLA",
    "reject": "you rejected it",
    "handover": "your leads were handed over",
}


def reroute_messages(
    moved: pd.DataFrame, leads: pd.DataFrame, roster: Roster, link_template: str | None = None
) -> list[Message]:
    """After re-routing: the new owner gets the lead with its context, the old owner learns it was taken
    away and why, and the manager hears of each escalation."""
    context = moved.merge(leads.drop(columns=["owner_id", "tier"], errors="ignore"), on="lead_id", how="left")
    context["routing_reason"] = (
        "re-routed after "
        + context["why"].map(lambda why: AFTER.get(why, why))
        + " "
        + context["old_owner_id"]
    )
    out = assignment_messages(context, roster, "reassigned", link_template)
    for r in context.itertuples(index=False):
        if r.why == "deactivated":  # nobody to tell: their CRM user is switched off
            continue
        reason = TAKEN_BECAUSE.get(r.why, r.why)
        taken = event_message(
            "taken_away",
            r.lead_id,
            r.old_owner_id,
            roster,
            f"Lead {r.lead_id} re-routed: {reason}",
            [f"Tier: {r.tier}", f"New owner: {r.owner_id}"],
        )
        out += [taken] if taken else []
        if isinstance(r.escalate_to, str):
            note = event_message(
                "escalation",
                r.lead_id,
                r.escalate_to,
                roster,
                f"SLA breached {int(r.lapses)}× on {r.tier} lead {r.lead_id}",
                [f"Last owner: {r.old_owner_id}", f"Now with: {r.owner_id}"],
            )
            out += [note] if note else []
    return out


def acknowledgements(recorded: pd.DataFrame, roster: Roster, at: datetime) -> list[Message]:
    """An acknowledgement to each lead whose owner is off work now (seed 000: a useful auto-reply buys hours of
    grace): who will reach out, and when their day starts."""
    people = {r.key: r for r in roster.reps}
    next_start = rep_calendar(roster, at)["next_start"]  # each rep's calendar walked once, not once per lead
    out = []
    for lead in recorded.to_dict("records"):
        rep = people.get(lead.get("owner_id"))
        address = _text(lead.get("email"))
        start = next_start.get(rep.key) if rep else None
        if rep is None or not address or (pd.notna(start) and start <= pd.Timestamp(at)):
            continue  # nobody to write to, or the owner is at work now
        start = start.tz_convert(rep.schedule.timezone) if pd.notna(start) else None
        when = (
            f"on {start:%A} from {start:%H:%M} ({rep.schedule.timezone})" if start else "as soon as possible"
        )
        first = rep.name.split()[0]
        lines = [f"Thank you for getting in touch. {first} will reach out {when}.", "", "Best regards"]
        out.append(
            Message("ack", str(lead["lead_id"]), None, first, address, "Thanks, we'll be in touch", lines)
        )
    return out
