"""Every deployment of prefect.yaml on the `leadrouter` process work pool, run by a warm worker in this process:
what `make run` starts after the Prefect server. The same shape as production (prefect.yaml and workers), on
one machine and with the sandbox CRM.

prefect.yaml is the one declaration (names, tags, schedules, concurrency limits, triggers); here the deployments
take their settings from the environment (LEADROUTER_*) instead of a settings block, and the route-inbound
trigger's window follows LEADROUTER_WEBHOOK_COALESCE_S, as the receiver make run starts does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName
from prefect.deployments.runner import RunnerDeployment

from deployments.spec import Declared, declared
from deployments.worker import POOL, ensure_pool, start
from leadrouter.config import Settings
from leadrouter.router import init_sandbox
from leadrouter.webhooks import WebhookSettings


async def local_deployment(deployment: Declared, window_s: float) -> RunnerDeployment:
    """One deployment of prefect.yaml as make run serves it, under the same name and tags."""
    window = timedelta(seconds=window_s)
    return await deployment.flow().to_deployment(
        name=deployment.name,
        description=deployment.description,
        tags=deployment.tags,
        schedules=deployment.schedules,
        concurrency_limit=deployment.concurrency_limit,
        triggers=[t.model_copy(update={"within": window}) for t in deployment.triggers],
        parameters=local_parameters(deployment),
    )


def local_parameters(deployment: Declared) -> dict:
    """The declared parameters but the settings block: make run's deployments take settings from the
    environment."""
    return {k: v for k, v in deployment.parameters.items() if k != "settings_block"}


async def local_deployments() -> list[RunnerDeployment]:
    """Every deployment of prefect.yaml, in its order, as make run serves them."""
    window_s = WebhookSettings().coalesce_s
    return [await local_deployment(d, window_s) for d in declared()]


async def apply(deployments: list[RunnerDeployment], pool: str = POOL) -> None:
    """Create the pool if needed and create or update each deployment on it."""
    async with get_client() as client:
        await ensure_pool(client, pool)
    for deployment in deployments:
        await deployment.apply(work_pool_name=pool)


async def remove_undeclared(kept: list[RunnerDeployment], pool: str = POOL) -> list[str]:
    """Delete the pool's deployments that are not among `kept` (an older make run's `route-inbound/sandbox`), so
    their schedules stop making runs beside the declared ones: `flow/deployment` of each deleted."""
    keep = {f"{d.flow_name}/{d.name}" for d in kept}
    removed = []
    async with get_client() as client:
        on_pool = WorkPoolFilter(name=WorkPoolFilterName(any_=[pool]))
        for deployment in await client.read_deployments(work_pool_filter=on_pool):
            name = f"{(await client.read_flow(deployment.flow_id)).name}/{deployment.name}"
            if name not in keep:
                await client.delete_deployment(deployment.id)
                removed.append(name)
    return removed


async def main() -> None:
    init_sandbox(Settings())  # first run: create the store and a seeded sandbox; later runs keep them
    served = await local_deployments()
    await apply(served)
    if removed := await remove_undeclared(served):
        print(f"removed deployments prefect.yaml no longer declares: {', '.join(removed)}", flush=True)
    await start(POOL, name="make-run")


class QuietCompletedTasks(logging.Filter):
    """Drops the task engine's "Finished in state Completed()" line: a route-inbound run has some 18 of them
    around the one line that says what it did. Failed, crashed and retrying tasks still log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Finished in state Completed(")


if __name__ == "__main__":
    logging.getLogger("prefect.task_runs").addFilter(QuietCompletedTasks())
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C in make run: the worker stops, quietly
        asyncio.run(main())
