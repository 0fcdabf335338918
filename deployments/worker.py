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

It also listens to the server's event stream for its pool's `prefect.flow-run.Scheduled` events and looks for
runs the moment one arrives: a run a trigger created starts without waiting for the next poll, which stays
as the safety net (a dropped stream, a run scheduled for later).

Two differences from the stock process worker: runs execute from this worker's own checkout (the
deployment's pull steps and job-variable env are not applied), and a run already running is not killed when
cancelled (killing it would take the worker and its other runs down); runs are short, so it finishes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from prefect import Flow
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventAnyResourceFilter, EventFilter, EventNameFilter
from prefect.exceptions import ObjectAlreadyExists
from prefect.flow_engine import run_flow
from prefect.flows import load_flow_from_entrypoint
from prefect.settings import PREFECT_WORKER_QUERY_SECONDS, temporary_settings
from prefect.workers.process import ProcessJobConfiguration, ProcessWorker, ProcessWorkerResult

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

ROOT = Path(__file__).resolve().parents[1]
POOL = "leadrouter"
QUERY_S = 1  # how often to look for runs when no Scheduled event woke the worker first
SCHEDULED = "prefect.flow-run.Scheduled"
# what Prefect's engine imports inside a process's first flow run (FastAPI's encoders alone: 0.1 s)
ENGINE_FIRST_RUN = ("fastapi.encoders", "prefect.task_engine", "prefect.utilities.visualization")


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
        self._wake_up: asyncio.Task | None = None

    async def setup(self) -> None:
        await super().setup()
        await self._preload()
        self._wake_up = asyncio.create_task(self._submit_when_scheduled())

    async def teardown(self, *exc_info: Any) -> None:
        if self._wake_up is not None:
            self._wake_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._wake_up
        await super().teardown(*exc_info)

    async def _submit_when_scheduled(self) -> None:
        """Look for runs as soon as the server schedules one in this pool (its flow-run.Scheduled event):
        the poll every QUERY_S would find it up to a second later. A burst of events makes one look at a
        time; a broken stream is reopened, and the poll covers the gap."""
        while self._work_pool is None:  # the pool's id comes with the first sync
            await asyncio.sleep(QUERY_S)
        scheduled = EventFilter(
            event=EventNameFilter(name=[SCHEDULED]),
            any_resource=EventAnyResourceFilter(id=[f"prefect.work-pool.{self._work_pool.id}"]),
        )
        wake = asyncio.Event()

        async def listen() -> None:
            async with get_events_subscriber(filter=scheduled, reconnect_on_clean_close=True) as events:
                async for _event in events:
                    wake.set()

        while True:
            listener = asyncio.create_task(listen())
            try:
                while not listener.done():
                    waiting = asyncio.create_task(wake.wait())
                    await asyncio.wait({waiting, listener}, return_when=asyncio.FIRST_COMPLETED)
                    waiting.cancel()
                    if wake.is_set():
                        wake.clear()
                        await self.get_and_submit_flow_runs()
                if listener.exception() is not None:
                    self._logger.warning("event stream closed (%s); polling meanwhile", listener.exception())
            except Exception as exc:  # a failed look is the poll's to retry; keep listening
                self._logger.warning("could not look for runs on a Scheduled event: %s", exc)
            finally:
                listener.cancel()
            await asyncio.sleep(QUERY_S)

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
        """Import the flow of every deployment of the pool, Great Expectations and the language model, now: no run
        waits for them."""
        from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName

        from leadrouter.pipeline import warm_up

        pool = WorkPoolFilter(name=WorkPoolFilterName(any_=[self._work_pool_name]))
        for deployment in await self.client.read_deployments(work_pool_filter=pool):
            try:
                await self._load(deployment.entrypoint)
            except Exception as exc:  # a deployment of other code in the pool is not this worker's to load
                self._logger.warning("not preloading %s: %s", deployment.entrypoint, exc)
        for module in ENGINE_FIRST_RUN:
            importlib.import_module(module)
        await anyio.to_thread.run_sync(warm_up)  # last: it freezes what is loaded by then, the flows included


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
