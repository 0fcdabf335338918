"""Backlog throughput: 10,000 and 100,000 leads waiting in a sandbox, routed by route-inbound until all are
written, and the same 10,000 through the one-task-per-lead baseline (bench/per_lead.py), in the same run.

Every measurement runs in a fresh process against one local Prefect server started here. Route time is the
route_inbound call (flow run included; imports, Great Expectations' context, which a warm worker
builds once at start, and the sandbox's creation are not). Prints one JSON object
whose top-level keys bench/run.py merges: backlog_10k_s, backlog_100k_s, per_lead_baseline_ratio.
Targets: 100k ≤ 60 s and ≥ 50× faster than the per-lead baseline.

    .venv/bin/python bench/backlog.py                  # everything
    .venv/bin/python bench/backlog.py route 10000      # one backlog (needs PREFECT_API_URL)
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prefect_server import load_average, local_server, peak_rss_mb

SEED = 7  # bench/per_lead.py builds the same backlog
SIZES = {"10k": 10_000, "100k": 100_000}
MAX_RUNS = 5  # a backlog still not written after this many runs is reported as such


def route_backlog(leads: int) -> dict:
    """Create the backlog, then run route-inbound until every lead is decided; wall time and audit."""
    from leadrouter.config import Settings
    from leadrouter.sandbox.crm import SandboxCRM

    with tempfile.TemporaryDirectory(prefix="leadrouter-bench-backlog-") as tmp:
        crm = SandboxCRM.create(Path(tmp) / "sandbox.db", seed=SEED, leads=leads)
        os.environ.update(
            LEADROUTER_STORE_URL=f"sqlite:///{tmp}/ledger.db",
            LEADROUTER_SANDBOX_PATH=str(crm.path),
            LEADROUTER_CRM="sandbox",
        )
        from flows.route_inbound import route_inbound
        from leadrouter.validate.suite import warm_up

        warm_up()  # GX's import and context: paid once per worker process (deployments/worker.py), not per run

        batch_size = Settings().batch_size
        totals = dict.fromkeys(("leads", "written", "quarantined", "review", "write_failed"), 0)
        load_before, runs = load_average(), 0
        started = time.perf_counter()
        while totals["leads"] < leads and runs < MAX_RUNS:
            summary = route_inbound(batch_size=batch_size, max_batches=math.ceil(leads / batch_size) + 1)
            totals = {key: value + summary[key] for key, value in totals.items()}
            runs += 1
        elapsed = time.perf_counter() - started
        status = crm.leads()["status"].value_counts()
        double = int((crm.owner_write_counts() > 1).sum())
    return {
        "leads": leads,
        "route_s": round(elapsed, 2),
        "leads_per_s": round(leads / elapsed, 1),
        "flow_runs": runs,
        "batch_size": batch_size,
        **{f"decided_{k}" if k == "leads" else k: v for k, v in totals.items()},
        "assigned_in_crm": int(status.get("Assigned", 0)),  # the sandbox's own count, against `written`
        "still_new_in_crm": int(status.get("New", 0)),  # quarantined and review leads stay New
        "double_assigned": double,
        "peak_rss_mb": peak_rss_mb(),  # the whole child, the 100k-lead sandbox generation included
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


def child_json(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, cwd=Path(__file__).parents[1]
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> dict:
    here = str(Path(__file__).resolve())
    with local_server() as env:
        ours = {name: child_json(env, here, "route", str(n)) for name, n in SIZES.items()}
        baseline = child_json(env, str(Path(here).with_name("per_lead.py")), str(SIZES["10k"]))
    ratio = baseline["backlog_s"] / ours["10k"]["route_s"]
    return {
        "backlog_10k_s": ours["10k"]["route_s"],
        "backlog_100k_s": ours["100k"]["route_s"],
        "per_lead_baseline_ratio": round(ratio, 1),
        "backlog": {
            **{f"backlog_{name}": result for name, result in ours.items()},
            "per_lead_baseline_10k": baseline,
            # the same per-lead cost over 100k leads, against route-inbound's 100k time
            "per_lead_baseline_ratio_100k": round(baseline["ms_per_lead"] * 100 / ours["100k"]["route_s"], 1),
            "ratio_basis": "per-lead time for the 10k backlog "
            + ("(extrapolated from a sample) " if baseline["extrapolated"] else "")
            + "÷ route-inbound's time for the same 10k backlog",
            "targets": {"backlog_100k_s": 60.0, "per_lead_baseline_ratio": 50.0},
        },
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["route"]:
        print(json.dumps(route_backlog(int(sys.argv[2]))))
    else:
        print(json.dumps(main()))
