"""The review queue's SLA inside a routing run."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from leadrouter import review
from leadrouter.router import Router


@task(name="escalate-late-reviews", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def escalate_late_reviews(router: Router, source: str) -> int:
    """Review items past their due time go to the roster's escalation manager; the run's log says how many."""
    escalated = review.escalate_overdue(router.store, source, router.roster)
    if len(escalated):
        get_run_logger().warning(
            "%d review items are late and escalated to %s",
            len(escalated),
            router.roster.escalation or "nobody",
        )
    return len(escalated)
