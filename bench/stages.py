"""Validation + enrichment of 100,000 leads, after imports and a warm-up batch (as a running worker has them).
Prints one JSON object: the best and median wall time of three runs, per stage and together.

    .venv/bin/python bench/stages.py [leads]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main(n: int = 100_000) -> dict:
    from leadrouter.enrich import enrich_leads
    from leadrouter.enrich.territory import load_territories
    from leadrouter.sandbox.crm import SandboxCRM
    from leadrouter.sandbox.leads import generate_leads
    from leadrouter.schema import LEAD_COLUMNS, conform
    from leadrouter.validate.suite import validate_leads

    with tempfile.TemporaryDirectory() as tmp:
        crm = SandboxCRM.create(Path(tmp) / "sandbox.db", seed=7)
        accounts, provider = crm.fetch_accounts(), crm.firmographics()
        world_accounts = pd.read_sql_query(
            "SELECT id AS account_id, * FROM accounts", f"sqlite:///{crm.path}"
        )
        world_contacts = pd.read_sql_query(
            "SELECT id AS contact_id, * FROM contacts", f"sqlite:///{crm.path}"
        )
        now = pd.Timestamp.now(tz="UTC")
        leads = generate_leads(
            np.random.default_rng(7),
            n,
            world_accounts.assign(region=""),
            world_contacts,
            now - pd.Timedelta(days=1),
            now,
        )
        leads = conform(leads, LEAD_COLUMNS)
        territories = load_territories()
        enrich_leads(validate_leads(leads.head(500)).valid, accounts, provider, territories)  # warm-up
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            valid = validate_leads(leads).valid
            validated = time.perf_counter()
            enrich_leads(valid, accounts, provider, territories)
            runs.append((validated - started, time.perf_counter() - validated, time.perf_counter() - started))
    validate_s, enrich_s, total_s = (sorted(column) for column in zip(*runs, strict=True))
    return {
        "leads": n,
        "validate_best_s": round(validate_s[0], 2),
        "enrich_best_s": round(enrich_s[0], 2),
        "validate_enrich_best_s": round(total_s[0], 2),
        "validate_enrich_median_s": round(statistics.median(total_s), 2),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)))
