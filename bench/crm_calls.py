"""The API budget: HTTP calls each CRM receives per 1,000 leads, by endpoint. Prints one JSON object.

route-inbound routes 5,000 new leads (batch 5,000) against the local Salesforce and HubSpot servers; then the
calls the SLA and outcome flows make (find_existing, first_touch, fetch_outcomes) are counted on 1,000 leads.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from localapi.harness import connection_block

LEADS = 5_000


def per_1000(calls: Counter, leads: int) -> dict[str, float]:
    return {name: round(n * 1000 / leads, 1) for name, n in sorted(calls.items())}


def measure(kind: str, tmp: Path) -> dict:
    from flows.route_inbound import route_inbound
    from localapi.harness import open_harness

    harness = open_harness(kind, tmp, leads=LEADS, fresh=True)
    try:
        os.environ["LEADROUTER_STORE_URL"] = f"sqlite:///{tmp}/ledger.db"
        os.environ["LEADROUTER_CRM"] = kind
        os.environ["LEADROUTER_CRM_BLOCK"] = f"bench-{kind}"
        options = {"requests_per_10s": 10_000} if kind == "hubspot" else {}
        connection_block(harness, **options).save(f"bench-{kind}", overwrite=True)
        route_inbound(batch_size=LEADS, max_batches=2)
        routing = Counter(harness.api.calls)
        leads = harness.sandbox.leads().iloc[:1000]
        ids = [harness.crm_id(i) for i in leads["id"]]
        before = Counter(harness.api.calls)
        harness.crm.find_existing(
            leads["email"].dropna().tolist(), leads["website"].dropna().str.removeprefix("https://").tolist()
        )
        harness.crm.first_touch(ids)
        harness.crm.fetch_outcomes(ids)
        later = Counter(harness.api.calls)
        later.subtract(before)
        return {"route_inbound": per_1000(routing, LEADS), "sla_and_outcomes": per_1000(+later, 1000)}
    finally:
        harness.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="leadrouter-bench-") as tmp:
        os.environ.setdefault("PREFECT_HOME", str(Path(tmp) / "prefect"))
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        out = {}
        for kind in ("salesforce", "hubspot"):
            (Path(tmp) / kind).mkdir()
            out[kind] = measure(kind, Path(tmp) / kind)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
