"""route-inbound's stages called one after another in this process, without a flow run."""

from __future__ import annotations

import pandas as pd

from leadrouter.pipeline import classify_batch
from leadrouter.router import Router
from tasks.route_inbound import advance_watermark, pull_new_leads, record_decisions
from tasks.shared import write_assignments


def route(router: Router, accounts: pd.DataFrame, run_id: str) -> None:
    """route-inbound's stages for one page."""
    leads, cursor = pull_new_leads.fn(router, router.source, 5000, batch=1)
    batch = classify_batch(router, leads, accounts)
    record_decisions.fn(router, batch.leads, batch.quarantined, run_id, False, write_claim=run_id)
    write_assignments.fn(router, claim=run_id)
    advance_watermark.fn(router, router.source, cursor)
