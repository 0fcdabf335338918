"""Owner notifications: who got which lead and why, with the context to act on it, sent through whatever
channels are configured (Slack webhook, email), retried, recorded, and never blocking routing. The messages
are built in `leadrouter.messages`, which makes lead text inert for each channel.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict
from typing import Protocol

import pandas as pd
from pydantic import SecretStr

from leadrouter import clock, inert
from leadrouter.assign.roster import Roster
from leadrouter.crm.base import CRM
from leadrouter.messages import Message, event_message, reroute_messages
from leadrouter.redact import hide_in_logs
from leadrouter.retry import RetryPolicy
from leadrouter.store import Store
from leadrouter.store.notifications import record_notifications

log = logging.getLogger(__name__)

CHANNEL_DOWN_AFTER = 3  # messages failing in a row before a channel is skipped for the rest of the run
KINDS = ("assigned", "reassigned", "taken_away", "escalation", "anomaly", "ack")
SEND_RETRY = RetryPolicy(attempts=3, first_delay_s=0.5)  # any channel failure is worth another try


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None:
        """Deliver or raise; the error's text must not contain a secret."""


def deliver(
    store: Store,
    source: str,
    messages: list[Message],
    channels: Mapping[str, Channel],
    retry: RetryPolicy = SEND_RETRY,
) -> pd.DataFrame:
    """Send every message on every channel, retrying; record each outcome. Never raises: a failed notification
    is a row with its error, not a stopped run."""
    hide_in_logs(*(secret for channel in channels.values() for secret in channel_secrets(channel)))
    rows = []
    failures_in_a_row = dict.fromkeys(channels, 0)
    for message in messages:
        for name, channel in channels.items():
            if name == "email" and not message.email:
                continue
            error, tries = None, 0
            if failures_in_a_row[name] >= CHANNEL_DOWN_AFTER:  # a dead channel must not hold routing up
                error = f"skipped: the last {CHANNEL_DOWN_AFTER} messages on {name} failed"
            else:
                tries, error = send_retrying(channel, message, retry)
            failures_in_a_row[name] = failures_in_a_row[name] + 1 if error else 0
            stamp = clock.now()
            rows.append(
                {
                    "source": source,
                    "lead_id": message.lead_id,
                    "kind": message.kind,
                    "recipient": message.recipient,
                    "channel": name,
                    "status": "failed" if error else "sent",
                    "attempts": tries,
                    "error": error,
                    "created_at": stamp,
                    "sent_at": None if error else stamp,
                    "message": asdict(message),
                }
            )
            if error:
                log.warning(
                    "notification %s to %s on %s failed: %s", message.kind, message.recipient, name, error
                )
    record_notifications(store, rows)
    return pd.DataFrame(
        rows, columns=["lead_id", "kind", "recipient", "channel", "status", "attempts", "error"]
    )


def send_retrying(channel: Channel, message: Message, retry: RetryPolicy) -> tuple[int, str | None]:
    """Send one message under the retry policy: the tries made, and the last error (None once sent)."""
    tries = 0

    def attempt() -> None:
        nonlocal tries
        tries += 1
        channel.send(message)

    try:
        retry.run(attempt)
    except Exception as exc:  # any channel failure is recorded and retried, never raised
        return tries, f"{type(exc).__name__}: {inert.plain(exc, 300)}"
    return tries, None


def channel_secrets(channel: Channel) -> list[str]:
    """A channel's SecretStr fields (a Slack webhook's URL, an SMTP password): never to be logged."""
    fields = getattr(channel, "__dict__", {})
    return [value.get_secret_value() for value in fields.values() if isinstance(value, SecretStr)]


def tell_reroutes(
    store: Store,
    crm: CRM,
    source: str,
    moved: pd.DataFrame,
    roster: Roster,
    channels: Mapping[str, Channel],
    link_template: str | None = None,
) -> pd.DataFrame:
    """New owner, old owner and manager hear of each re-route (reroute.reroute's frame); never raises."""
    if moved.empty or not channels:
        return pd.DataFrame()
    leads = crm.fetch_leads(moved["lead_id"].tolist())
    return deliver(store, source, reroute_messages(moved, leads, roster, link_template), channels)


def tell_manager(
    store: Store,
    source: str,
    roster: Roster,
    kind: str,
    subject: str,
    lines: list[str],
    channels: Mapping[str, Channel],
) -> pd.DataFrame:
    """The roster's escalation manager hears of what the team should know (late reviews, anomalies)."""
    message = (
        event_message(kind, None, roster.escalation, roster, subject, lines) if roster.escalation else None
    )
    if message is None or not channels:
        return pd.DataFrame()
    return deliver(store, source, [message], channels)
