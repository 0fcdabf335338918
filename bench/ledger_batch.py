"""The ledger's share of one big batch on PostgreSQL (the production shape): N sandbox leads validated,
enriched, deduped and classified once, then recorded (assign + explanations + COPY), claimed for write and
marked written, each timed apart on an embedded PostgreSQL server. Prints one JSON object.

    .venv/bin/python bench/ledger_batch.py [leads]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path


def main(n: int = 20_000) -> dict:
    from deployments.postgres import embedded_postgres, ensure_database
    from leadrouter import classify, clock, dedupe, enrich, record
    from leadrouter.config import Settings
    from leadrouter.router import open_router
    from leadrouter.sandbox.crm import SandboxCRM
    from leadrouter.store.write_claims import claim_for_write, finish_writes
    from leadrouter.validate.suite import validate_leads

    figures: dict[str, float] = {}

    def timed(name: str, action):
        start = time.perf_counter()
        out = action()
        figures[name] = round(time.perf_counter() - start, 3)
        return out

    with tempfile.TemporaryDirectory() as tmp, embedded_postgres(Path(tmp) / "pg") as server:
        url = ensure_database(server, "ledger").replace("postgresql://", "postgresql+psycopg://", 1)
        SandboxCRM.create(Path(tmp) / "sandbox.db", seed=7, leads=n)
        settings = Settings(sandbox_path=Path(tmp) / "sandbox.db", store_url=url)
        with open_router(settings) as router:
            leads, _ = router.crm.fetch_new_leads(None, n)
            checked = validate_leads(leads)
            enriched = enrich.enrich_leads(
                checked.valid, enrich.accounts_for_matching(router.crm), router.provider, router.territories
            )
            deduped = dedupe.find_duplicates(router.crm, enriched, router.roster)
            classified = classify.classify_leads(deduped, router.rulebook, router.chain, router.scorer)
            book, run = router.rulebook, uuid.uuid4().hex
            at = clock.routing_now(settings)
            ctx = record.BatchContext(router.source, run, book.version, False, book.review.sla, book.sla, at)
            recorded = timed(
                "record_s",
                lambda: record.record_batch(
                    router.store, ctx, classified, checked.quarantined, router.roster
                ),
            )
            timed("explanations_s", lambda: record._explanations(recorded))
            claimed = timed(
                "claim_s", lambda: claim_for_write(router.store, router.source, run, timedelta(minutes=5), n)
            )
            results = claimed[["id", "lead_id"]].assign(ok=True, retry=False, error=None)
            timed("finish_s", lambda: finish_writes(router.store, run, results))
    return {
        "leads": n,
        "recorded": len(recorded),
        "claimed": len(claimed),
        **figures,
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    print(json.dumps(main(*map(int, sys.argv[1:])), indent=2))
