"""A warm worker for the `leadrouter` process work pool: every flow run runs in a thread of this long-lived
process, where the flows, pandas, Great Expectations and the model are already loaded.

Prefect's process worker starts a fresh Python per flow run, which imports Prefect, pandas and Great
Expectations and loads the rulebook and the model before the first lead moves: 10 s and more on a small
machine, longer than routing a burst of leads takes. This worker polls the same pool and claims runs the
same way (Pending through the server's orchestration, so deployment concurrency limits hold, and
heartbeats), but imports each deployment's flow once and runs it in-process: a run a webhook triggered
starts routing within a second. Warm workers on several machines share the pool as stock workers do, and a
stock `prefect worker start --pool leadrouter` can serve the same pool beside them.

    python -m deployments.worker --pool leadrouter [--limit 4]

Two differences from the stock process worker: runs execute from this worker's own checkout (the
deployment's pull steps and job-variable env are not applied), and a run already running is not killed when
cancelled (killing it would take the worker and its other runs down); runs are short, so it finishes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from prefect import Flow
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists
from prefect.flow_engine import run_flow
from prefect.flows import load_flow_from_entrypoint
from prefect.settings import PREFECT_WORKER_QUERY_SECONDS, temporary_settings
from prefect.workers.process import ProcessJobConfiguration, ProcessWorker, ProcessWorkerResult

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

ROOT = Path(__file__).resolve().parents[1]
POOL = "leadrouter"
QUERY_S = 1  # how often to look for runs: a triggered run waits at most this long to be picked up


class WarmWorker(ProcessWorker):
    """A process worker whose runs share its process (see the module docstring)."""

    _description = "Runs each flow run in-process, with its flow imported once (leadrouter's warm worker)."

    @classmethod
    def __dispatch_key__(cls) -> str:
        # serves "process" pools, but must not replace the stock process worker in Prefect's type registry
        return "leadrouter-warm"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Prefetching starts a run up to N s before its scheduled time, to hide a fresh process's start-up.
        # This worker has none to hide, and early starts made a polling schedule uneven: leads waited up to
        # interval + prefetch instead of interval.
        kwargs.setdefault("prefetch_seconds", 0)
        super().__init__(*args, **kwargs)
        self._flows: dict[str, Flow] = {}

    async def setup(self) -> None:
        await super().setup()
        await self._preload()

    async def run(
        self,
        flow_run: FlowRun,
        configuration: ProcessJobConfiguration,
        task_status: anyio.abc.TaskStatus[int] | None = None,
    ) -> ProcessWorkerResult:
        flow = await self._flow(flow_run)
        if task_status is not None:
            task_status.started(os.getpid())
        try:
            # the engine records the run's own final state (failures included) through the API
            await anyio.to_thread.run_sync(partial(run_flow, flow, flow_run=flow_run, return_type="state"))
        except Exception:  # the engine itself broke: the base worker marks the run crashed
            self._logger.exception("flow run %s crashed in the warm worker", flow_run.id)
            return ProcessWorkerResult(status_code=1, identifier=str(os.getpid()))
        return ProcessWorkerResult(status_code=0, identifier=str(os.getpid()))

    async def _flow(self, flow_run: FlowRun) -> Flow:
        if flow_run.deployment_id is None:
            raise ValueError(
                f"flow run {flow_run.id} has no deployment: the warm worker runs deployments only"
            )
        deployment = await self.client.read_deployment(flow_run.deployment_id)
        return await self._load(deployment.entrypoint)

    async def _load(self, entrypoint: str | None) -> Flow:
        if not entrypoint:
            raise ValueError("the deployment has no entrypoint")
        if entrypoint not in self._flows:
            path, _, name = entrypoint.partition(":")
            located = f"{ROOT / path}:{name}" if path.endswith(".py") else entrypoint
            self._flows[entrypoint] = await anyio.to_thread.run_sync(load_flow_from_entrypoint, located)
        return self._flows[entrypoint]

    async def _preload(self) -> None:
        """Import the flow of every deployment of the pool, and Great Expectations, now: no run waits for them."""
        from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName

        from leadrouter.validate.suite import warm_up

        await anyio.to_thread.run_sync(warm_up)
        pool = WorkPoolFilter(name=WorkPoolFilterName(any_=[self._work_pool_name]))
        for deployment in await self.client.read_deployments(work_pool_filter=pool):
            try:
                await self._load(deployment.entrypoint)
            except Exception as exc:  # a deployment of other code in the pool is not this worker's to load
                self._logger.warning("not preloading %s: %s", deployment.entrypoint, exc)


async def ensure_pool(client: Any, name: str = POOL) -> None:
    """Create the process work pool if it does not exist (as `prefect work-pool create NAME --type process`)."""
    template = ProcessWorker.get_default_base_job_template()
    with contextlib.suppress(ObjectAlreadyExists):
        await client.create_work_pool(WorkPoolCreate(name=name, type="process", base_job_template=template))


async def start(pool: str = POOL, limit: int | None = None, name: str | None = None) -> None:
    with temporary_settings({PREFECT_WORKER_QUERY_SECONDS: QUERY_S}):
        await WarmWorker(work_pool_name=pool, limit=limit, name=name).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pool", default=POOL)
    parser.add_argument("--limit", type=int, default=None, help="most flow runs at once (default: no limit)")
    parser.add_argument("--name", default=None, help="the worker's name in the UI")
    args = parser.parse_args()
    asyncio.run(start(args.pool, args.limit, args.name))


if __name__ == "__main__":
    main()
