"""Every flow as a deployment on the `leadrouter` process work pool, run by a warm worker in this process: what
`make run` starts after the Prefect server. The same shape as production (prefect.yaml and workers), on one
machine and with the sandbox CRM.
"""

from __future__ import annotations

import asyncio

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

from deployments.webhooks import lead_created_trigger
from deployments.worker import POOL, ensure_pool, start
from flows.daily_report import daily_report
from flows.outcome_loop import outcome_loop
from flows.route_inbound import route_inbound
from flows.sandbox_traffic import sandbox_traffic
from flows.sla_watch import sla_watch
from leadrouter.config import Settings
from leadrouter.router import init_sandbox
from leadrouter.webhooks import WebhookSettings

# one run at a time per flow; a tick that finds the previous run still going is dropped, not queued,
# because the next tick does everything since the last one anyway
ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
# route-inbound queues instead: a run a webhook triggered while another was routing must still run, or its
# lead would wait for the next poll. Queued runs retry every PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS
# (the Makefile sets 1 s), and one that finds nothing new ends in about a second.
ONE_AT_A_TIME_QUEUED = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


async def sandbox_deployments() -> list:
    return [
        await route_inbound.to_deployment(
            name="sandbox",
            interval=30,  # polling: the safety net under the webhook trigger
            concurrency_limit=ONE_AT_A_TIME_QUEUED,
            triggers=[lead_created_trigger(WebhookSettings().coalesce_s)],
        ),
        await sandbox_traffic.to_deployment(name="sandbox", interval=15, concurrency_limit=ONE_AT_A_TIME),
        await sla_watch.to_deployment(name="sandbox", interval=60, concurrency_limit=ONE_AT_A_TIME),
        await daily_report.to_deployment(name="sandbox", cron="5 0 * * *"),
        await outcome_loop.to_deployment(name="sandbox", cron="20 0 * * *", concurrency_limit=ONE_AT_A_TIME),
    ]


async def apply(deployments: list, pool: str = POOL) -> None:
    """Create the pool if needed and create or update each deployment on it."""
    async with get_client() as client:
        await ensure_pool(client, pool)
    for deployment in deployments:
        await deployment.apply(work_pool_name=pool)


async def main() -> None:
    init_sandbox(Settings())  # first run: create the store and a seeded sandbox; later runs keep them
    await apply(await sandbox_deployments())
    await start(POOL, name="make-run")


if __name__ == "__main__":
    asyncio.run(main())
