"""Speed to route: a lead created in the CRM → its owner written back, with 200 ms on every CRM call.

route-inbound is a deployment on a process work pool run by the warm worker (deployments/worker.py: runs in
its own process, one at a time, queued), as `make run` has it, against a sandbox whose every call sleeps
200 ms, while leads are created one by one at random moments (exponential gaps). Per lead: the sandbox's
created_at → owner_writes.written_at.

- poll: the deployment runs every POLL_INTERVAL_S. Target: p95 ≤ interval + 2 s.
- event: each created lead is announced to the webhook receiver (deployments/webhooks.py, a Salesforce Flow
  callout) which posts a Prefect event; the deployment's trigger starts a run at once; the 30 s polling
  schedule of prefect.yaml stays as the safety net. Target: p95 ≤ 2.5 s.

The first lead of each mode is routed before the clock starts (the worker's first run builds the GX context).

Leads that end quarantined or in review get no owner written and are counted, not timed. Prints one JSON
object whose top-level keys bench/run.py merges.

    .venv/bin/python bench/speed_to_route.py [poll|event ...]

LEADROUTER_BENCH_LOGS=DIR keeps the worker's and the receiver's logs there (event-serve.log, …).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
from prefect_server import free_port, load_average, local_postgres, local_server
from route_timeline import breakdown

from deployments import worker

ROOT = Path(__file__).resolve().parents[1]
CRM_LATENCY_S = 0.2
POLL_INTERVAL_S = 10
SAFETY_NET_S = 30  # the event mode's polling schedule, as prefect.yaml declares it
SLOT_WAIT_S = 1  # a queued run retries for the concurrency slot this often, as the Makefile sets it
# leads are created during this long, per mode (LEADROUTER_BENCH_TRAFFIC_S shortens it for a quick look)
TRAFFIC_S = float(os.environ.get("LEADROUTER_BENCH_TRAFFIC_S", 180))
MEAN_GAP_S = 3.0  # mean time between two created leads (exponential gaps): ~60 leads per mode
WARM_UP_TIMEOUT_S = 240.0  # the first run also schedules the deployment and loads the model
DRAIN_S = 90.0  # after the traffic stops, how long the last leads may take before they count as missed


async def serve_route_inbound(mode: str) -> None:
    """The deployment under test on a pool of its own, run by a warm worker in this process until it is
    stopped (child of measure())."""
    from deployments.serve import apply, local_parameters
    from deployments.spec import declared_as
    from deployments.webhooks import lead_created_trigger
    from deployments.worker import start
    from flows.route_inbound import route_inbound
    from leadrouter.webhooks import WebhookSettings

    if mode == "poll":
        options = {"interval": POLL_INTERVAL_S}
    else:
        options = {"interval": SAFETY_NET_S, "triggers": [lead_created_trigger(WebhookSettings().coalesce_s)]}
    declared = declared_as("route-new-leads")
    deployment = await route_inbound.to_deployment(
        name=f"bench-{mode}",
        concurrency_limit=declared.concurrency_limit,
        parameters=local_parameters(declared),
        **options,
    )
    await apply([deployment], pool=f"bench-{mode}")
    await start(f"bench-{mode}")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)  # the runner cancels and cleans up on SIGINT
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_port(port: int, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the webhook receiver exited with code {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
        except urllib.error.HTTPError:
            return  # it answers (404/405): it is up
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the webhook receiver did not answer on port {port} within {timeout_s:.0f} s")


class Announcer:
    """Posts a Salesforce Flow callout for each created lead, as a CRM webhook would."""

    def __init__(self, port: int, secret: str) -> None:
        self.url, self.secret = f"http://127.0.0.1:{port}/salesforce", secret
        self.failed = 0  # refused or unanswered: the lead is left to the polling safety net, as in production

    def __call__(self, lead_id: str) -> None:
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"lead_ids": [lead_id]}).encode(),
            headers={"Content-Type": "application/json", "X-LeadRouter-Secret": self.secret},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                self.failed += response.status != 202
        except OSError:
            self.failed += 1


def create_lead(crm, rng: np.random.Generator, announce: Announcer | None) -> str:
    """One new lead in the CRM, created now; announced when there is a webhook."""
    now = pd.Timestamp.now(tz="UTC")
    lead_id = crm.add_leads(1, rng, now, now)["lead_id"].iloc[0]
    if announce:
        announce(lead_id)
    return lead_id


def settled(sandbox: Path, ledger: Path, lead_ids: list[str]) -> pd.Series:
    """Per lead: True once its owner is written, or it is quarantined or waiting in review."""
    with sqlite3.connect(sandbox) as db:
        written = set(pd.read_sql_query("SELECT DISTINCT lead_id FROM owner_writes", db)["lead_id"])
    decided = set()
    if ledger.exists():
        # the first run may not have migrated the ledger yet
        with sqlite3.connect(ledger) as db, contextlib.suppress(pd.errors.DatabaseError):
            decided = set(
                pd.read_sql_query(
                    "SELECT lead_id FROM decisions WHERE status IN ('quarantined', 'review')", db
                )["lead_id"]
            )
    ids = pd.Series(lead_ids)
    return pd.Series((ids.isin(written) | ids.isin(decided)).to_numpy(), index=lead_ids)


def wait_settled(sandbox: Path, ledger: Path, lead_ids: list[str], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if settled(sandbox, ledger, lead_ids).all():
            return True
        time.sleep(1)
    return False


def latencies(sandbox: Path, lead_ids: list[str]) -> pd.Series:
    """Seconds from each lead's created_at to its first owner write (leads never written are left out)."""
    with sqlite3.connect(sandbox) as db:
        rows = pd.read_sql_query(
            "SELECT l.id AS lead_id, l.created_at, MIN(w.written_at) AS written_at "
            "FROM leads l JOIN owner_writes w ON w.lead_id = l.id GROUP BY l.id",
            db,
        )
    rows = rows[rows["lead_id"].isin(set(lead_ids))]
    created = pd.to_datetime(rows["created_at"], utc=True, format="ISO8601")
    written = pd.to_datetime(rows["written_at"], utc=True, format="ISO8601")
    return (written - created).dt.total_seconds()


def flow_runs(api: str, deployment: str) -> dict:
    """How the deployment's runs went: counts by state (a run still going or queued too), how long after
    their expected start the completed ones began (the worker picking them up), and how long they ran."""
    body = {
        "deployments": {"name": {"any_": [deployment]}},
        "limit": 200,
    }
    request = urllib.request.Request(
        f"{api}/flow_runs/filter", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        runs = pd.DataFrame(json.load(response))
    if runs.empty:
        return {"runs": 0}
    states = runs["state_type"].value_counts().to_dict()
    ran = runs[runs["state_type"].eq("COMPLETED")]
    started = pd.to_datetime(ran["start_time"], utc=True, format="ISO8601")
    lag = (
        started - pd.to_datetime(ran["expected_start_time"], utc=True, format="ISO8601")
    ).dt.total_seconds()
    took = (pd.to_datetime(ran["end_time"], utc=True, format="ISO8601") - started).dt.total_seconds()
    return {
        "runs": len(runs),
        "by_state": {k.lower(): int(v) for k, v in states.items()},
        "start_lag_p50_s": round(float(lag.median()), 2),
        "run_p50_s": round(float(took.median()), 2),
        "run_max_s": round(float(took.max()), 2),
    }


def measure(mode: str, server_env: dict[str, str], seed: int = 17) -> dict:
    """One mode on a fresh sandbox and ledger: serve, warm up, create leads for TRAFFIC_S, drain, time."""
    from leadrouter.sandbox.crm import SandboxCRM

    with tempfile.TemporaryDirectory(prefix=f"leadrouter-bench-speed-{mode}-") as tmp:
        sandbox, ledger = Path(tmp) / "sandbox.db", Path(tmp) / "ledger.db"
        crm = SandboxCRM.create(sandbox, seed=seed)
        env = {
            **server_env,
            "LEADROUTER_STORE_URL": f"sqlite:///{ledger}",
            "LEADROUTER_SANDBOX_PATH": str(sandbox),
            "LEADROUTER_SANDBOX_LATENCY_S": str(CRM_LATENCY_S),
            "LEADROUTER_CRM": "sandbox",
        }
        children, announce = [], None
        try:
            children.append(start([sys.executable, __file__, "serve", mode], env, Path(tmp) / "serve.log"))
            if mode == "event":
                port, secret = free_port(), secrets.token_urlsafe(24)
                hook_env = {
                    **env,
                    "LEADROUTER_WEBHOOK_PORT": str(port),
                    "LEADROUTER_WEBHOOK_SALESFORCE_SECRET": secret,
                }
                children.append(
                    start([sys.executable, "-m", "deployments.webhooks"], hook_env, Path(tmp) / "hooks.log")
                )
                wait_for_port(port, children[-1])
                announce = Announcer(port, secret)
            rng = np.random.default_rng(seed)
            # warm-up: the deployment is scheduled, the runner is up and one lead has gone all the way
            warm_up = [create_lead(crm, rng, announce)]
            if not wait_settled(sandbox, ledger, warm_up, WARM_UP_TIMEOUT_S):
                tail = (Path(tmp) / "serve.log").read_text()[-3000:]
                raise RuntimeError(
                    f"{mode}: the warm-up lead was not routed in {WARM_UP_TIMEOUT_S:.0f} s\n{tail}"
                )
            load_before, created = load_average(), []
            ends = time.monotonic() + TRAFFIC_S
            while (pause := rng.exponential(MEAN_GAP_S)) < ends - time.monotonic():
                time.sleep(pause)
                created.append(create_lead(crm, rng, announce))
            drained = wait_settled(sandbox, ledger, created, DRAIN_S)
            load_after = load_average()
            seconds = latencies(sandbox, created)
            missed = int((~settled(sandbox, ledger, created)).sum())
            runs = flow_runs(server_env["PREFECT_API_URL"], f"bench-{mode}")
            try:
                timeline = breakdown(server_env["PREFECT_API_URL"], sandbox, ledger, created)
            except Exception as exc:  # the latencies above still stand; say why the breakdown is missing
                timeline = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            for child in reversed(children):
                stop(child)
            if keep := os.environ.get("LEADROUTER_BENCH_LOGS"):  # the served processes' logs, to read after
                for log in Path(tmp).glob("*.log"):
                    shutil.copy(log, Path(keep) / f"{mode}-{log.name}")
    figures = seconds.quantile([0.5, 0.95]).round(2) if len(seconds) else pd.Series([None, None], [0.5, 0.95])
    return {
        "p50_s": figures[0.5],
        "p95_s": figures[0.95],
        "max_s": round(float(seconds.max()), 2) if len(seconds) else None,
        "leads_created": len(created),
        "leads_timed": len(seconds),
        "not_written": len(created) - len(seconds) - missed,  # quarantined or in review: no owner to time
        "missed_after_drain": missed,  # neither written nor decided DRAIN_S after the traffic stopped
        "drained": drained,
        "announcements_failed": announce.failed if announce else None,
        "flow_runs": runs,
        "breakdown": timeline,
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


def main(modes: list[str]) -> dict:
    slot_wait = {"PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": str(SLOT_WAIT_S)}
    with local_postgres() as database, local_server(database_url=database, extra_env=slot_wait) as env:
        results = {mode: measure(mode, env) for mode in modes}
        # the served processes and their flow-run subprocesses, all waited for; not the server, still running
        peak_mb = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    out = {}
    if "event" in results:
        out |= {
            "speed_to_route_event_p50_s": results["event"]["p50_s"],
            "speed_to_route_event_p95_s": results["event"]["p95_s"],
        }
    if "poll" in results:
        out |= {
            "speed_to_route_poll_p50_s": results["poll"]["p50_s"],
            "speed_to_route_poll_p95_s": results["poll"]["p95_s"],
            "poll_interval_s": POLL_INTERVAL_S,
        }
    out["speed_to_route"] = {
        **results,
        "crm_latency_s": CRM_LATENCY_S,
        "worker_query_s": worker.QUERY_S,  # how often the warm worker looks for runs to start
        "slot_wait_s": SLOT_WAIT_S,
        "event_safety_net_interval_s": SAFETY_NET_S,
        "traffic_s": TRAFFIC_S,
        "mean_gap_s": MEAN_GAP_S,
        "peak_rss_mb": peak_mb,
        "targets": {"event_p95_s": 2.5, "poll_p95_s": POLL_INTERVAL_S + 2.0},
    }
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
        asyncio.run(serve_route_inbound(sys.argv[2]))
    else:
        print(json.dumps(main(sys.argv[1:] or ["poll", "event"]), default=float))
