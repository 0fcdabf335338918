"""The batch stages between pull and write: validate, enrich, classify, record."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from leadrouter import classify, enrich, record
from leadrouter.router import Router
from leadrouter.validate import suite as validate


@task(name="validate-leads", cache_policy=NO_CACHE)
def validate_leads(leads: pd.DataFrame) -> validate.ValidationResult:
    return validate.validate_leads(leads)


@task(name="enrich-leads", cache_policy=NO_CACHE)
def enrich_leads(leads: pd.DataFrame, router: Router, accounts: pd.DataFrame) -> pd.DataFrame:
    return enrich.enrich_leads(leads, accounts, router.provider, router.territories)


@task(name="classify-leads", cache_policy=NO_CACHE)
def classify_leads(leads: pd.DataFrame, router: Router) -> pd.DataFrame:
    return classify.classify_leads(leads, router.rulebook, router.chain)


@task(name="record-decisions", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def record_decisions(
    router: Router, classified: pd.DataFrame, quarantined: pd.DataFrame, run_id: str, shadow: bool
) -> pd.DataFrame:
    """Assign owners and commit the decisions; a retry after a lost commit re-decides nothing already decided."""
    book = router.rulebook
    source, clock = router.ledger_source(shadow), router.settings.routing_clock
    ctx = record.BatchContext(source, run_id, book.version, shadow, book.review.sla, book.sla, clock)
    return record.record_batch(router.store, ctx, classified, quarantined, router.roster)
