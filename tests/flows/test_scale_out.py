"""The production shape, end to end: a Prefect server on PostgreSQL, prefect.yaml's deployments on the
`leadrouter` process work pool, two `prefect worker start` processes routing one sandbox CRM into one
PostgreSQL ledger at the same time; then a route-inbound run's pages in the Prefect UI, in headless Chromium.

One server for the module (it migrates its PostgreSQL database on start); every flow run is a fresh Python
started by a worker, as in production."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bench.prefect_server import local_server
from blocks.router_settings import RouterSettings
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import open_store
from tests.helpers.browser import assert_real_screenshot, render
from tests.helpers.postgres import create_database
from tests.helpers.sandbox import assert_ledger_matches_crm

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
POOL = "leadrouter"
WORKERS = ("router-a", "router-b")
LEADS, RUNS, PER_WORKER = 2000, 3, 2  # a worker takes at most 2 runs at once, so both must take some
ARTIFACTS = ROOT / "var" / "test-artifacts"  # git-ignored; CI may keep it
# no scheduler: prefect.yaml's schedules (sandbox traffic every 15 s, …) would add leads and runs of their own;
# the housekeeping loops only take CPU from the routers here. Events and task runs stay recorded for the UI.
SERVICES_OFF = {
    f"PREFECT_SERVER_SERVICES_{service}_ENABLED": "false"
    for service in ("SCHEDULER", "TRIGGERS", "FOREMAN", "LATE_RUNS", "PAUSE_EXPIRATIONS", "REPOSSESSOR",
                    "CANCELLATION_CLEANUP", "CLEANUP_RECONCILER")
}  # fmt: skip


@dataclass
class Cluster:
    ui: str
    crm: SandboxCRM
    store_url: str
    deployments: dict[str, str]  # deployment name → its work pool
    runs: list  # the routed flow runs as the API reports them once finished
    worker_of: dict[str, str]  # flow run id → the worker that ran it
    artifacts: dict[str, uuid.UUID]  # flow run id → its routing-summary artifact


def start_prefect(args: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen:
    """A `prefect` command run from the project checkout; its output goes to a log shown on failure."""
    log = open(Path(env["PREFECT_HOME"]) / f"{log_name}.log", "wb")  # noqa: SIM115 - the child holds it
    return subprocess.Popen(
        [str(BIN / "prefect"), *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def logs_in(home: str, chars: int = 3000) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in Path(home).glob("*.log")
    )


def stop_all(processes: list[subprocess.Popen]) -> None:
    """Kill each process and its group (every one was started in a session of its own): the routing is over and
    the test asserts nothing of a graceful stop, which took a `prefect worker` its full 20 s wait each time."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    for process in processes:
        process.wait()


@pytest.fixture(scope="module")
def cluster(postgres_url: str, local_model, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The runs find the local model cached (`local_model`) and route at the tests' clock: the server's
    environment, which the workers and their runs inherit, is this process's (LEADROUTER_MODEL_DIR, …)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    store_url = create_database(postgres_url).replace("postgresql://", "postgresql+psycopg://")
    server_db = create_database(postgres_url).replace("postgresql://", "postgresql+asyncpg://")
    sandbox = tmp_path_factory.mktemp("scale-out") / "sandbox.db"
    crm = SandboxCRM.create(sandbox, seed=23, leads=LEADS)
    with local_server(database_url=server_db, extra_env=SERVICES_OFF) as server_env:
        # what each routing machine sets; INFO so a worker's "submitting flow run" line reaches the API
        env = server_env | {
            "LEADROUTER_HOME": str(ROOT), "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_LOGGING_LEVEL": "INFO",
        }  # fmt: skip
        api = env["PREFECT_API_URL"]
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            create_process_pool(client)
            # the deployments' `settings_block: leadrouter`: the ledger URL lives in the block, not in env files
            RouterSettings(store_url=store_url, crm="sandbox", sandbox_path=str(sandbox)).save("leadrouter")
            deploy = start_prefect(["--no-prompt", "deploy", "--all"], env, "deploy")
            workers = [
                start_prefect(["worker", "start", "--pool", POOL, "--type", "process", "--name", name,
                               "--limit", str(PER_WORKER)], env, name)
                for name in WORKERS
            ]  # fmt: skip
            try:
                assert deploy.wait(timeout=180) == 0, logs_in(env["PREFECT_HOME"])
                wait_for_workers(client, timeout_s=60)
                copy = unlimited_copy(client)
                created = [
                    client.create_flow_run_from_deployment(copy, parameters={"batch_size": 1000})
                    for _ in range(RUNS)
                ]
                runs = wait_finished(client, [run.id for run in created], timeout_s=240)
                yield Cluster(
                    ui=api.removesuffix("/api"),
                    crm=crm,
                    store_url=store_url,
                    deployments={d.name: d.work_pool_name for d in client.read_deployments()},
                    runs=runs,
                    worker_of={str(run.id): worker_of(client, run.id) for run in runs},
                    artifacts=routing_summaries(client, [run.id for run in runs]),
                )
            except Exception:
                print(logs_in(env["PREFECT_HOME"]))
                raise
            finally:
                stop_all([deploy, *workers])


def create_process_pool(client) -> None:
    """`prefect work-pool create leadrouter --type process`, through the API (no extra CLI start-up)."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    client.create_work_pool(WorkPoolCreate(name=POOL, type="process", base_job_template=template))


def wait_for_workers(client, timeout_s: float) -> None:
    """Both workers polling before the runs exist, so the runs can start together."""
    deadline = time.monotonic() + timeout_s
    while {w.name for w in client.read_workers_for_work_pool(POOL)} < set(WORKERS):
        assert time.monotonic() < deadline, "the workers did not register with the pool"
        time.sleep(0.5)


def unlimited_copy(client) -> uuid.UUID:
    """prefect.yaml's route-inbound as deployed, minus its one-run-at-a-time limit and its schedule: runs must
    really overlap here, so that the ledger, not the limit, is what keeps two routers apart."""
    deployed = client.read_deployment_by_name("route-inbound/route-new-leads")
    assert deployed.work_pool_name == POOL and deployed.global_concurrency_limit.limit == 1
    return client.create_deployment(
        flow_id=deployed.flow_id,
        name="route-inbound-unlimited",
        work_pool_name=POOL,
        entrypoint=deployed.entrypoint,
        path=deployed.path,
        pull_steps=deployed.pull_steps,
        parameters=deployed.parameters,
        parameter_openapi_schema=deployed.parameter_openapi_schema,
    )


def wait_finished(client, run_ids: list[uuid.UUID], timeout_s: float) -> list:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout_s
    while True:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=run_ids)))
        if all(run.state and run.state.is_final() for run in runs):
            return runs
        assert time.monotonic() < deadline, [(run.name, run.state_name) for run in runs]
        time.sleep(1)


def worker_of(client, run_id: uuid.UUID) -> str:
    """The worker that took the run, from the line a worker logs to the run as it submits it."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    return next(w for w in WORKERS for log in logs if f"Worker '{w}' submitting flow run" in log.message)


def routing_summaries(client, run_ids: list[uuid.UUID]) -> dict[str, uuid.UUID]:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    artifacts = client.read_artifacts(
        artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=run_ids), key=ArtifactFilterKey(any_=["routing-summary"])
        )
    )
    return {str(artifact.flow_run_id): artifact.id for artifact in artifacts}


def decisions_by_run(store_url: str) -> pd.Series:
    with open_store(store_url).engine.connect() as conn:
        return pd.read_sql("SELECT run_id, COUNT(*) AS n FROM decisions GROUP BY run_id", conn).set_index(
            "run_id"
        )["n"]


def test_prefect_yaml_deploys_every_flow_to_the_process_pool(cluster: Cluster) -> None:
    names = [d["name"] for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]]
    assert {name: cluster.deployments.get(name) for name in names} == dict.fromkeys(names, POOL)


def test_two_workers_route_at_once_and_never_double_assign(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = cluster.runs
    assert [run.state_name for run in runs] == ["Completed"] * RUNS
    assert set(cluster.worker_of.values()) == set(WORKERS)
    on = {w: [run for run in runs if cluster.worker_of[str(run.id)] == w] for w in WORKERS}
    overlapping = [
        (a.name, b.name) for a in on[WORKERS[0]] for b in on[WORKERS[1]]
        if a.start_time < b.end_time and b.start_time < a.end_time
    ]  # fmt: skip
    assert overlapping, [(run.name, run.start_time, run.end_time) for run in runs]
    monkeypatch.setenv("LEADROUTER_STORE_URL", cluster.store_url)
    decided = assert_ledger_matches_crm(cluster.crm)  # once each; CRM owner == ledger owner; one write each
    assert len(decided) == LEADS
    assert set(decisions_by_run(cluster.store_url).index) <= {str(run.id) for run in runs}


def test_the_run_and_its_routing_summary_render_in_the_prefect_ui(cluster: Cluster, tmp_path: Path) -> None:
    counts = decisions_by_run(cluster.store_url)
    run = next(run for run in cluster.runs if str(run.id) == counts.idxmax())  # the run that routed most
    # the run page's Artifacts tab has no URL of its own (the UI drops ?tab=Artifacts while the run loads),
    # so the routing summary is shown on its artifact page, which links back to the run
    summary = cluster.artifacts[str(run.id)]
    pages = {
        ARTIFACTS / "scale-out-flow-run.png": f"{cluster.ui}/runs/flow-run/{run.id}",
        ARTIFACTS / "scale-out-routing-summary.png": f"{cluster.ui}/artifacts/artifact/{summary}",
    }
    awaited = [(run.name, f"routed {counts.max()} leads"), ("Routing summary", run.name)]  # logs load last
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(len(pages)) as pool:
        profiles = [tmp_path / f"chromium-{i}" for i in range(len(pages))]  # the two browsers run at once
        run_page, summary_page = pool.map(render, pages.values(), pages.keys(), profiles, awaited)
    for png in pages:
        print(f"screenshot kept: {png}")
        assert_real_screenshot(png)
    assert run.name in run_page and "route-inbound" in run_page
    assert f"routed {counts.max()} leads" in run_page  # the run's own log line, shown by the UI
    assert "routing-summary" in summary_page and "Routing summary" in summary_page
    assert run.name in summary_page  # the artifact page names the run it came from
