"""Tasks that talk to the CRM: pull new leads, write owners back."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from leadrouter import pull, writeback
from leadrouter.router import Router
from leadrouter.store import ledger


@task(name="pull-new-leads", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE, tags=["crm"])
def pull_new_leads(
    router: Router, ledger_source: str, limit: int, lookback_s: float = 0.0
) -> tuple[pd.DataFrame, str | None]:
    return pull.pull_new_leads(router.store, router.crm, ledger_source, limit, lookback_s)


@task(
    name="write-assignments", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE, tags=["crm"]
)
def write_assignments(router: Router, claim: str) -> pd.DataFrame:
    """Write every recorded owner to the CRM; per-lead results."""
    return writeback.write_back(router.store, router.crm, router.source, claim)


@task(name="advance-watermark", cache_policy=NO_CACHE)
def advance_watermark(router: Router, ledger_source: str, cursor: str | None) -> None:
    ledger.advance_watermark(router.store, ledger_source, cursor)
