"""route-inbound's stages called one after another in this process, without a flow run."""

from __future__ import annotations

import pandas as pd

from leadrouter.router import Router
from tasks.crm import advance_watermark, find_duplicates, pull_new_leads, write_assignments
from tasks.stages import classify_leads, enrich_leads, record_decisions, validate_leads


def route(router: Router, accounts: pd.DataFrame, run_id: str) -> None:
    """route-inbound's stages for one page."""
    leads, cursor = pull_new_leads.fn(router, router.source, 5000, first=True)
    checked = validate_leads.fn(leads)
    enriched = enrich_leads.fn(checked.valid, router, accounts)
    classified = classify_leads.fn(find_duplicates.fn(router, enriched), router)
    record_decisions.fn(router, classified, checked.quarantined, run_id, False)
    write_assignments.fn(router, claim=run_id)
    advance_watermark.fn(router, router.source, cursor)
