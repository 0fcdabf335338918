"""The warm worker (deployments/worker.py) runs a process pool's flow runs in its own process, and route-inbound's
queued concurrency makes a run triggered while another routes wait its turn instead of being dropped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

import pytest

from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import open_store
from leadrouter.store.decisions import status_counts
from tests.helpers.sandbox import sandbox_env

pytestmark = pytest.mark.usefixtures("prefect_server")

POOL = "warm-test"


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SandboxCRM:
    return sandbox_env(tmp_path, monkeypatch, seed=5, leads=200)


async def deploy_route_inbound(client, name: str):
    """route-inbound deployed to the test pool, one run at a time with later runs queued: its id."""
    from deployments.serve import apply
    from deployments.spec import declared_as
    from flows.route_inbound import route_inbound

    limit = declared_as("route-new-leads").concurrency_limit  # one at a time, later runs queued
    deployment = await route_inbound.to_deployment(name=name, concurrency_limit=limit)
    await apply([deployment], pool=POOL)
    return (await client.read_deployment_by_name(f"route-inbound/{name}")).id


async def poll_once() -> None:
    """One warm-worker poll of the test pool, waiting for what it started."""
    from deployments.worker import WarmWorker

    await WarmWorker(work_pool_name=POOL).start(run_once=True, printer=lambda *_: None)


async def poll_until_final(client, deployment_id, timeout_s: float = 240) -> list:
    """Poll, a second apart, until every run of the deployment is final (a queued run comes back after the
    slot wait, 1 s): the runs."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    ours = DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await poll_once()
        runs = await client.read_flow_runs(deployment_filter=ours)
        if all(run.state.is_final() for run in runs):
            return runs
        await asyncio.sleep(1)
    raise AssertionError(f"runs not finished: {[(r.name, r.state_name) for r in runs]}")


async def route_two_runs_at_once() -> list:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        deployment_id = await deploy_route_inbound(client, "warm-test")
        for _ in range(2):
            await client.create_flow_run_from_deployment(deployment_id)
        return await poll_until_final(client, deployment_id)


def test_the_warm_worker_runs_queued_route_inbound_runs_in_its_own_process(sandbox: SandboxCRM) -> None:
    runs = sorted(asyncio.run(route_two_runs_at_once()), key=lambda run: run.start_time)

    assert [run.state_name for run in runs] == ["Completed", "Completed"]  # the second waited, not cancelled
    assert runs[1].start_time >= runs[0].end_time  # one at a time
    assert {run.infrastructure_pid for run in runs} == {str(os.getpid())}  # in the worker's process
    with open_store(os.environ["LEADROUTER_STORE_URL"]) as store:
        decided = [status_counts(store, "sandbox", str(run.id)) for run in runs]
    assert sum(decided[0].values()) == 200 and decided[1] == {}  # the first routed all, the second found none
    assert (sandbox.owner_write_counts() == 1).sum() == decided[0]["written"] > 0


async def run_scheduled_ahead(seconds: float) -> tuple:
    """A route-inbound run scheduled `seconds` ahead: its state right after a worker poll, and once it ran."""
    from datetime import UTC, datetime, timedelta

    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    async with get_client() as client:
        deployment_id = await deploy_route_inbound(client, "warm-ahead")
        due = datetime.now(UTC) + timedelta(seconds=seconds)
        run = await client.create_flow_run_from_deployment(deployment_id, state=Scheduled(scheduled_time=due))
        await poll_once()
        before_due = await client.read_flow_run(run.id)
        [ran] = await poll_until_final(client, deployment_id)
        return before_due, ran


def test_the_warm_worker_starts_a_scheduled_run_when_it_is_due_not_before(sandbox: SandboxCRM) -> None:
    # a stock worker starts runs up to 10 s early (prefetch) to hide its process start; on a polling
    # schedule that spaced runs unevenly, and a lead could wait the interval plus the prefetch
    before_due, ran = asyncio.run(run_scheduled_ahead(8))

    assert before_due.state.is_scheduled()
    assert ran.state_name == "Completed"
    assert ran.start_time >= ran.expected_start_time


async def run_woken_by_its_event(poll_s: float) -> tuple:
    """A worker that polls every `poll_s` and a run created after its first poll: the run once final, and
    when it was created."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_WORKER_QUERY_SECONDS, temporary_settings

    from deployments.worker import WarmWorker

    async with get_client() as client:
        deployment_id = await deploy_route_inbound(client, "warm-event")
        with temporary_settings({PREFECT_WORKER_QUERY_SECONDS: poll_s}):
            worker = WarmWorker(work_pool_name=POOL)
            serving = asyncio.create_task(worker.start(printer=lambda *_: None))
            try:
                await asyncio.sleep(5)  # set up, first poll done, listening to the event stream
                created = await client.create_flow_run_from_deployment(deployment_id)
                deadline = time.monotonic() + poll_s / 2
                while time.monotonic() < deadline:
                    run = await client.read_flow_run(created.id)
                    if run.state.is_final():
                        return run, created
                    await asyncio.sleep(0.2)
                raise AssertionError(f"the run was not started by its event: {run.state_name}")
            finally:
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving


def test_a_new_run_starts_on_its_scheduled_event_not_at_the_next_poll(sandbox: SandboxCRM) -> None:
    # polling every 120 s, the only way to start within 60 s is the flow-run.Scheduled event
    run, created = asyncio.run(run_woken_by_its_event(120))

    assert run.state_name == "Completed"
    assert (run.start_time - created.created).total_seconds() < 10


FIRST_RUN = """
import importlib, sys
from prefect import flow, task
from deployments.worker import ENGINE_FIRST_RUN

if sys.argv[1] == "preloaded":
    for module in ENGINE_FIRST_RUN:
        importlib.import_module(module)

@task
def one() -> int:
    return 1

@flow
def two(n: int = 1) -> int:
    return one.submit().result() + one() * n

before = set(sys.modules)
assert two() == 2
print(" ".join(sorted(m for m in set(sys.modules) - before if m.startswith(("fastapi", "prefect.")))))
"""


def engine_imports_in_first_run(mode: str) -> list[str]:
    """The FastAPI and Prefect modules a fresh process's first flow run (with a task) imports."""
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    from leadrouter.config import PROJECT_ROOT

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_RUN, mode], capture_output=True, text=True, cwd=PROJECT_ROOT, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


def test_the_worker_imports_before_its_first_run_what_the_engine_imports_inside_one() -> None:
    cold = engine_imports_in_first_run("cold")
    assert "fastapi.encoders" in cold, cold  # what a first run would wait for
    assert engine_imports_in_first_run("preloaded") == []
