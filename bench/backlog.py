"""Backlog throughput: 10,000 and 100,000 leads waiting in a sandbox, routed by route-inbound until all are
written, and the same 10,000 through the one-task-per-lead baseline (bench/per_lead.py), in the same run.
The ledger is a SQLite file or a database on an embedded PostgreSQL server (the production shape, started in
the child before the clock starts); `--ledger both` measures each backlog on both.

Every measurement runs in a fresh process against one local Prefect server started here. Route time is the
route_inbound call (flow run included; imports, Great Expectations' context and the language model, which a warm worker
builds once at start, the sandbox's creation, and a process's first flow run, which an empty run before the clock
makes (route_nothing), are not). Prints one JSON object
whose top-level keys bench/run.py merges: backlog_10k_s, backlog_100k_s (SQLite ledger),
backlog_100k_postgresql_s, per_lead_baseline_ratio; each backlog's stage breakdown (seconds in each task
of route-inbound, summed over its batches), the CPU seconds of the router and of the PostgreSQL ledger's
server (which a loaded machine does not inflate), and the load average next to it.
Targets: 100k ≤ 20 s on either ledger, peak RSS ≤ 800 MB, and ≥ 50× faster than the per-lead baseline. The
peak is the route's (from the moment it starts: the sandbox built, the warm worker's GX and models loaded), as
Linux's high-water mark reset at the route's start gives it; child_peak_rss_mb is the whole child's.

    .venv/bin/python bench/backlog.py [--ledger sqlite|postgresql|both]     # everything (default: both)
    .venv/bin/python bench/backlog.py route 10000 [sqlite|postgresql]      # one backlog (needs PREFECT_API_URL)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
from prefect import Flow
from prefect_server import load_average, local_server, peak_rss_mb, peak_rss_since_reset_mb, reset_peak_rss
from route_timeline import task_runs

from deployments.postgres import database_uri, embedded_postgres, ensure_database

SEED = 7  # bench/per_lead.py builds the same backlog
SIZES = {"10k": 10_000, "100k": 100_000}
MAX_RUNS = 5  # a backlog still not written after this many runs is reported as such
LEDGERS = ("sqlite", "postgresql")


@contextlib.contextmanager
def ledger_url(kind: str, tmp: str) -> Iterator[str]:
    """The ledger's URL: a SQLite file in tmp, or a database on an embedded PostgreSQL server run from tmp."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/ledger.db"
        return
    with embedded_postgres(Path(tmp) / "pg") as server:
        yield database_uri(ensure_database(server, "ledger"), "ledger", driver="psycopg")


def own_cpu_s() -> float:
    """CPU seconds this process has used so far, every thread (Prefect runs tasks in threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def helpers() -> list[psutil.Process]:
    """This process's descendants but the ledger's PostgreSQL: the contact checks' workers and their forkserver."""
    return [p for p in psutil.Process().children(recursive=True) if "postgres" not in p.name()]


def cpu_s(processes: list[psutil.Process]) -> float:
    """CPU seconds these processes have used so far (one that has ended meanwhile counts nothing)."""
    total = 0.0
    for proc in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def helper_peak_rss_mb() -> float:
    """The helper processes' peak resident sets, summed: an upper bound of what they held at once."""
    return round(sum(peak_rss_since_reset_mb(proc.pid) or 0.0 for proc in helpers()), 1)


def server_cpu_s(data: Path) -> float | None:
    """CPU seconds used so far by the PostgreSQL server whose data folder is `data`: the postmaster, the
    backends it has reaped (each run closes its connections) and those alive now; None without one."""
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():
        return None
    postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
    own = postmaster.cpu_times()
    return own.children_user + own.children_system + cpu_s([postmaster, *postmaster.children(recursive=True)])


def stage_seconds(api: str, run_ids: list[str]) -> dict[str, float]:
    """Seconds spent in each task of the runs, summed over batches and runs, largest first."""
    tasks = task_runs(api, run_ids)
    took = (tasks["end"] - tasks["start"]).dt.total_seconds().groupby(tasks["stage"]).sum()
    return {name: round(float(s), 2) for name, s in took.sort_values(ascending=False).items()}


def route_nothing(tmp: Path, route_inbound: Flow) -> float:
    """One route-inbound run over an empty sandbox before the clock starts, as a router in production has run
    before its backlog arrives: Prefect's engine has imported what a process's first flow run imports (FastAPI's
    encoders, the task engine: 0.4 s), checked the server's API version once, the Prefect server has answered
    each kind of a run's requests and the ledger has its schema. Returns the run's seconds, which the JSON
    keeps: the first run of a fresh process against a fresh server takes that much longer."""
    from leadrouter.sandbox.crm import SandboxCRM

    backlog_path = os.environ["LEADROUTER_SANDBOX_PATH"]
    os.environ["LEADROUTER_SANDBOX_PATH"] = str(SandboxCRM.create(tmp / "empty.db", seed=SEED).path)
    try:
        started = time.perf_counter()
        summary = route_inbound(return_state=True).result()
        if summary["leads"]:
            raise RuntimeError(f"the warm-up run routed {summary['leads']} leads: its sandbox was not empty")
        return round(time.perf_counter() - started, 2)
    finally:
        os.environ["LEADROUTER_SANDBOX_PATH"] = backlog_path


def route_backlog(leads: int, ledger: str = "sqlite") -> dict:
    """Create the backlog, then run route-inbound until every lead is decided; wall time and audit."""
    from leadrouter.config import Settings
    from leadrouter.sandbox.crm import SandboxCRM

    with (
        tempfile.TemporaryDirectory(prefix="leadrouter-bench-backlog-") as tmp,
        ledger_url(ledger, tmp) as store_url,
    ):
        crm = SandboxCRM.create(Path(tmp) / "sandbox.db", seed=SEED, leads=leads)
        os.environ.update(
            LEADROUTER_STORE_URL=store_url,
            LEADROUTER_SANDBOX_PATH=str(crm.path),
            LEADROUTER_CRM="sandbox",
        )
        from flows.route_inbound import route_inbound
        from leadrouter.pipeline import warm_up

        warm_up()  # GX and the language model: loaded once per worker process (deployments/worker.py), not per run
        warm_run_s = route_nothing(Path(tmp), route_inbound)

        batch_size = Settings().batch_size
        totals = dict.fromkeys(("leads", "written", "quarantined", "review", "write_failed"), 0)
        load_before, run_ids = load_average(), []
        server_before = server_cpu_s(Path(tmp) / "pg")
        # what the route starts from (the sandbox built, GX and the model loaded): peak_rss_mb less this is the
        # route's own growth
        rss_before_route = psutil.Process().memory_info().rss / 2**20
        reset_peak_rss()  # the route's own peak, not the sandbox generation's
        cpu_before, helpers_before, started = own_cpu_s(), cpu_s(helpers()), time.perf_counter()
        while totals["leads"] < leads and len(run_ids) < MAX_RUNS:
            state = route_inbound(
                batch_size=batch_size, max_batches=math.ceil(leads / batch_size) + 1, return_state=True
            )
            summary = state.result()
            totals = {key: value + summary[key] for key, value in totals.items()}
            run_ids.append(str(state.state_details.flow_run_id))
        elapsed, cpu = time.perf_counter() - started, own_cpu_s() - cpu_before
        helpers_cpu, helpers_peak = cpu_s(helpers()) - helpers_before, helper_peak_rss_mb()
        route_peak = peak_rss_since_reset_mb()
        server_after = server_cpu_s(Path(tmp) / "pg")
        load_after = load_average()
        with contextlib.closing(sqlite3.connect(crm.path)) as db:  # counted in SQL: no 100k-row frame
            status = dict(db.execute("SELECT status, COUNT(*) FROM leads GROUP BY status").fetchall())
        double = int((crm.owner_write_counts() > 1).sum())
    return {
        "leads": leads,
        "ledger": ledger,
        "route_s": round(elapsed, 2),
        "warm_up_run_s": warm_run_s,  # the empty run before the clock (route_nothing)
        "leads_per_s": round(leads / elapsed, 1),
        "flow_runs": len(run_ids),
        "stages_s": stage_seconds(os.environ["PREFECT_API_URL"], run_ids),
        # CPU the routing took, which a loaded machine does not inflate as it does route_s: on an idle 2-core
        # machine route_s is about their sum (the stages run one after another), plus the Prefect server's share
        "router_cpu_s": round(cpu, 2),
        # the router's helper processes (the contact checks' workers): not in router_cpu_s
        "helper_cpu_s": round(helpers_cpu, 2),
        "ledger_server_cpu_s": None if server_before is None else round(server_after - server_before, 2),
        "batch_size": batch_size,
        **{f"decided_{k}" if k == "leads" else k: v for k, v in totals.items()},
        "assigned_in_crm": int(status.get("Assigned", 0)),  # the sandbox's own count, against `written`
        "still_new_in_crm": int(status.get("New", 0)),  # quarantined and review leads stay New
        "double_assigned": double,
        # the route's own peak (its start included: the sandbox, GX and the model loaded); ru_maxrss where
        # /proc cannot tell it
        "peak_rss_mb": route_peak or peak_rss_mb(),
        "child_peak_rss_mb": peak_rss_mb(),  # the whole child, the 100k-lead sandbox's generation included
        "helper_peak_rss_mb": helpers_peak,  # each helper process's own peak, summed
        "rss_before_route_mb": round(rss_before_route, 1),
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


def child_json(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, cwd=Path(__file__).parents[1]
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(ledgers: list[str]) -> dict:
    here = str(Path(__file__).resolve())
    with local_server() as env:
        ours = {
            (name if kind == "sqlite" else f"{name}_{kind}"): child_json(env, here, "route", str(n), kind)
            for kind in ledgers
            for name, n in SIZES.items()
        }
        baseline = child_json(env, str(Path(here).with_name("per_lead.py")), str(SIZES["10k"]))
    first = "10k" if "10k" in ours else f"10k_{ledgers[0]}"
    ratio = baseline["backlog_s"] / ours[first]["route_s"]
    return {
        **{f"backlog_{name}_s": result["route_s"] for name, result in ours.items()},
        "per_lead_baseline_ratio": round(ratio, 1),
        "backlog": {
            **{f"backlog_{name}": result for name, result in ours.items()},
            "per_lead_baseline_10k": baseline,
            # the same per-lead cost over 100k leads, against route-inbound's 100k time
            "per_lead_baseline_ratio_100k": round(
                baseline["ms_per_lead"] * 100 / ours[first.replace("10k", "100k")]["route_s"], 1
            ),
            "ratio_basis": f"per-lead time for the 10k backlog on the {ledgers[0]} ledger "
            + ("(extrapolated from a sample) " if baseline["extrapolated"] else "")
            + "÷ route-inbound's time for the same 10k backlog",
            "targets": {"backlog_100k_s": 20.0, "peak_rss_mb": 800.0, "per_lead_baseline_ratio": 50.0},
        },
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["route"]:
        print(json.dumps(route_backlog(int(sys.argv[2]), *sys.argv[3:4])))
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        parser.add_argument("--ledger", choices=[*LEDGERS, "both"], default="both")
        kind = parser.parse_args().ledger
        print(json.dumps(main(list(LEDGERS) if kind == "both" else [kind])))
