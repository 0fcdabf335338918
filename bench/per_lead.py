"""The baseline route-inbound is measured against: one Prefect task per lead (not product code).

The flow lists the waiting leads once, then maps a task over them; each task pulls, validates, enriches,
dedupes, classifies, assigns, records and writes ONE lead, through the same core functions as route-inbound
on one-row frames. Tasks run four at a time (a thread pool), as a per-lead design would on a small worker.

    .venv/bin/python bench/per_lead.py [backlog] [sample]

Child of bench/backlog.py: needs PREFECT_API_URL of a running server. Creates a sandbox with `backlog`
leads (the same seed as bench/backlog.py), routes the first `sample` of them the per-lead way and prints
one JSON object; the time for the whole backlog is extrapolated linearly from the sample.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd
from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_server import load_average, peak_rss_mb  # bench/, the script's own directory

from leadrouter import enrich, record, writeback
from leadrouter.config import Settings
from leadrouter.pipeline import classify_batch
from leadrouter.router import Router, open_router

SEED = 7
WORKERS = 4
# ~1.5 s per lead on 2 busy cores (one-row GX validation alone ~1.2 s): 2,000 would take most of an hour
SAMPLE = 200


@task(name="route-one-lead", cache_policy=NO_CACHE)
def route_one_lead(router: Router, accounts: pd.DataFrame, lead_id: str, run_id: str) -> int:
    """Pull, validate, enrich, dedupe, classify, assign, record and write one lead; the leads written."""
    batch = classify_batch(router, router.crm.fetch_leads([lead_id]), accounts)
    book = router.rulebook
    ctx = record.BatchContext(router.source, run_id, book.version, False, book.review.sla, book.sla)
    record.record_batch(router.store, ctx, batch.leads, batch.quarantined, router.roster)
    # the ledger claims recorded decisions oldest first, so a task may write a sibling's lead; the sweep
    # at the end of the flow writes any one left behind
    written = writeback.write_back(
        router.store, router.crm, router.source, f"{run_id}:{lead_id}", limit=1, chunk=1
    )
    return int(written["ok"].sum())


@flow(name="route-per-lead", task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))
def route_per_lead(limit: int) -> dict:
    run_id = uuid.uuid4().hex
    with open_router(Settings()) as router:
        waiting, _ = router.crm.fetch_new_leads(None, limit)
        accounts = enrich.accounts_for_matching(router.crm)
        futures = route_one_lead.map(
            unmapped(router), unmapped(accounts), waiting["lead_id"].tolist(), unmapped(run_id)
        )
        written = sum(f.result() for f in futures)
        swept = writeback.write_back(router.store, router.crm, router.source, f"{run_id}:sweep")
    return {
        "tasks": len(waiting),
        "written": written + int(swept["ok"].sum()),
        "written_by_sweep": len(swept),
    }


def main(backlog: int = 10_000, sample: int = SAMPLE) -> dict:
    from leadrouter.sandbox.crm import SandboxCRM

    with tempfile.TemporaryDirectory(prefix="leadrouter-bench-per-lead-") as tmp:
        crm = SandboxCRM.create(Path(tmp) / "sandbox.db", seed=SEED, leads=backlog)
        os.environ.update(
            LEADROUTER_STORE_URL=f"sqlite:///{tmp}/ledger.db",
            LEADROUTER_SANDBOX_PATH=str(crm.path),
            LEADROUTER_CRM="sandbox",
        )
        load_before = load_average()
        started = time.perf_counter()
        outcome = route_per_lead(sample)
        elapsed = time.perf_counter() - started
        double = int((crm.owner_write_counts() > 1).sum())
    return {
        "design": f"one Prefect task per lead, {WORKERS} threads",
        "backlog": backlog,
        "measured_leads": sample,
        "measured_s": round(elapsed, 2),
        "ms_per_lead": round(1000 * elapsed / sample, 1),
        "extrapolated": sample < backlog,
        "backlog_s": round(elapsed * backlog / sample, 1),  # linear in the number of tasks
        **outcome,
        "double_assigned": double,
        "peak_rss_mb": peak_rss_mb(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(main(*args)))
