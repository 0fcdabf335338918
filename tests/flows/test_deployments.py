"""prefect.yaml's deployments as `make run` serves them (deployments/serve.py): each named after what it does,
the routing ones tagged `live` and the sandbox's traffic `simulated`, a colliding tick queued for route-inbound
and dropped for the rest, as the README says."""

from __future__ import annotations

import asyncio

import pytest
from prefect.client.orchestration import get_client

from deployments.serve import apply, local_deployments, remove_undeclared

# deployment → (its flow, its tags, what a run that finds the previous one still going does)
SERVED = {
    "route-new-leads": ("route-inbound", ["live"], "ENQUEUE"),
    "enforce-response-sla": ("sla-watch", ["live"], "CANCEL_NEW"),
    "report-yesterday": ("daily-report", ["live"], "CANCEL_NEW"),
    "join-deal-outcomes": ("outcome-loop", ["live"], "CANCEL_NEW"),
    "simulate-sandbox-traffic": ("sandbox-traffic", ["simulated"], "CANCEL_NEW"),
}


def test_make_run_serves_each_declared_deployment_under_its_name_tags_and_limit() -> None:
    served = asyncio.run(local_deployments())
    assert {
        d.name: (d.flow_name, d.tags, d.concurrency_options.collision_strategy.value) for d in served
    } == SERVED
    assert [d.concurrency_limit for d in served] == [1] * 5


@pytest.mark.usefixtures("prefect_server")
def test_sandbox_traffic_runs_carry_the_simulated_tag() -> None:
    """The tag reaches the runs, so the run list can leave the 15-second traffic runs out."""

    async def one_run_each() -> dict[str, list[str]]:
        # without schedules and triggers: the session's server must not start runs of these on its own
        quiet = [d.model_copy(update={"schedules": [], "triggers": []}) for d in await local_deployments()]
        await apply(quiet, pool="test-deployments")
        async with get_client() as client:
            runs = {}
            for name, (flow, _, _) in SERVED.items():
                deployment = await client.read_deployment_by_name(f"{flow}/{name}")
                run = await client.create_flow_run_from_deployment(deployment.id)
                runs[name] = sorted(run.tags)
                await client.delete_flow_run(run.id)  # never picked up: no worker polls this pool
                await client.delete_deployment(deployment.id)
        return runs

    runs = asyncio.run(one_run_each())
    assert runs == {name: tags for name, (_, tags, _) in SERVED.items()}


@pytest.mark.usefixtures("prefect_server")
def test_make_run_removes_the_deployments_an_older_version_served() -> None:
    """An older make run served every flow as `sandbox`: left on the server, their schedules would keep making
    runs beside the declared ones."""

    async def upgrade() -> tuple[list[str], set[str]]:
        served = [d.model_copy(update={"schedules": [], "triggers": []}) for d in await local_deployments()]
        older = served[0].model_copy(update={"name": "sandbox"})
        await apply([older, *served], pool="test-upgrade")
        removed = await remove_undeclared(served, pool="test-upgrade")
        async with get_client() as client:
            left = {d.name for d in await client.read_deployments() if d.work_pool_name == "test-upgrade"}
            for deployment in await client.read_deployments():
                if deployment.work_pool_name == "test-upgrade":
                    await client.delete_deployment(deployment.id)
        return removed, left

    removed, left = asyncio.run(upgrade())
    assert removed == ["route-inbound/sandbox"] and left == set(SERVED)
