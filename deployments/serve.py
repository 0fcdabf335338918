"""Serve every flow on its schedule in this process: what `make run` starts after the Prefect server."""

from __future__ import annotations

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

from deployments.webhooks import lead_created_trigger
from flows.daily_report import daily_report
from flows.outcome_loop import outcome_loop
from flows.route_inbound import route_inbound
from flows.sandbox_traffic import sandbox_traffic
from flows.sla_watch import sla_watch
from leadrouter.config import Settings
from leadrouter.router import init_sandbox
from leadrouter.webhooks import WebhookSettings

# one run at a time per flow; a tick that finds the previous run still going is dropped, not queued,
# because the next tick pulls everything since the watermark anyway
ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
# a run a webhook triggered waits for the runner's next look for scheduled runs (10 s by default): look every
# second, so the event path routes in seconds
RUNNER_QUERY_S = 1


def main() -> None:
    init_sandbox(Settings())  # first run: create the store and a seeded sandbox; later runs keep them
    serve(
        route_inbound.to_deployment(
            name="sandbox",
            interval=30,  # polling: the safety net under the webhook trigger
            concurrency_limit=ONE_AT_A_TIME,
            triggers=[lead_created_trigger(WebhookSettings().coalesce_s)],
        ),
        sandbox_traffic.to_deployment(name="sandbox", interval=15, concurrency_limit=ONE_AT_A_TIME),
        sla_watch.to_deployment(name="sandbox", interval=60, concurrency_limit=ONE_AT_A_TIME),
        daily_report.to_deployment(name="sandbox", cron="5 0 * * *"),
        outcome_loop.to_deployment(name="sandbox", cron="20 0 * * *", concurrency_limit=ONE_AT_A_TIME),
        query_seconds=RUNNER_QUERY_S,
    )


if __name__ == "__main__":
    main()
