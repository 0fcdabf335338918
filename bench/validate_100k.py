"""Validation throughput: wall time of validate_leads on 100,000 sandbox leads, after imports. Prints JSON.

GX and the suite are warmed on a small batch first, as a running flow has them; the first large run then also
pays for starting the worker processes (the forkserver once per process, two workers per batch). A second
pass runs everything in this process (no workers), so its CPU time is the whole work: on an idle machine the
parallel wall time cannot beat half of it. The load average is recorded because other processes on the
machine slow both.

    .venv/bin/python bench/validate_100k.py [leads] [runs]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

import numpy as np
import pandas as pd


def sandbox_leads(n: int) -> pd.DataFrame:
    from leadrouter.sandbox.accounts import generate_accounts, generate_contacts
    from leadrouter.sandbox.leads import generate_leads
    from leadrouter.schema import LEAD_COLUMNS, conform

    rng = np.random.default_rng(7)
    accounts = generate_accounts(rng, 2_000)
    contacts = generate_contacts(rng, accounts, 8_000)
    now = pd.Timestamp("2025-03-03 12:00", tz="UTC")
    return conform(generate_leads(rng, n, accounts, contacts, now - pd.Timedelta(days=1), now), LEAD_COLUMNS)


def timed_runs(leads: pd.DataFrame, runs: int) -> dict:
    from leadrouter.validate.suite import validate_leads

    walls, cpus, load = [], [], os.getloadavg()[0]
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = validate_leads(leads)
        walls.append(round(time.perf_counter() - wall, 3))
        cpus.append(round(time.process_time() - cpu, 3))
    return {
        "wall_s": walls,
        "wall_best_s": min(walls),
        "wall_median_s": statistics.median(walls),
        "this_process_cpu_s": cpus,
        "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
        "valid": len(result.valid),
        "quarantined": len(result.quarantined),
        "errors": result.errors,
    }


def main(n: int = 100_000, runs: int = 3) -> dict:
    from leadrouter.validate import checks
    from leadrouter.validate.suite import validate_leads

    leads = sandbox_leads(n)
    validate_leads(leads.head(100))  # imports GX, builds the context and the suite
    out = {"leads": n, "cpus": os.cpu_count(), "parallel": timed_runs(leads, runs)}
    checks.PARALLEL_FROM = sys.maxsize  # everything in this process: its CPU time is all the work there is
    out["in_process"] = timed_runs(leads, runs)
    return out


if __name__ == "__main__":  # guarded: the forkserver imports this module as __mp_main__
    print(json.dumps(main(*map(int, sys.argv[1:3])), indent=2))
