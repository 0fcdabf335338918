"""The review queue's SLA inside a routing run."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from leadrouter import notify, review
from leadrouter.router import Router


@task(name="escalate-late-reviews", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def escalate_late_reviews(router: Router, source: str, channels: dict | None = None) -> int:
    """Review items past their due time go to the roster's escalation manager, who is told on the configured
    channels; the run's log says how many."""
    escalated = review.escalate_overdue(router.store, source, router.roster)
    if len(escalated) and channels and router.roster.escalation:
        lines = [f"{row.lead_id}: was due {row.due_at:%Y-%m-%d %H:%M} UTC" for row in escalated.itertuples()]
        message = notify.event_message(
            "escalation",
            None,
            router.roster.escalation,
            router.roster,
            f"{len(escalated)} review items are past their due time",
            lines[:50],
        )
        notify.deliver(router.store, source, [message] if message else [], channels)
    if len(escalated):
        get_run_logger().warning(
            "%d review items are late and escalated to %s",
            len(escalated),
            router.roster.escalation or "nobody",
        )
    return len(escalated)
