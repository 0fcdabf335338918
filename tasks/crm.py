"""Tasks that talk to the CRM: pull new leads, write owners back."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from leadrouter import dedupe, enrich, pull, writeback
from leadrouter.router import Router
from leadrouter.store import watermarks


@task(name="pull-new-leads", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def pull_new_leads(
    router: Router, ledger_source: str, limit: int, first: bool = False
) -> tuple[pd.DataFrame, str | None]:
    """The next page; a run's first page also looks back for late commits and brings released leads."""
    lookback_s = router.settings.lookback_s if first else 0.0
    return pull.pull_new_leads(
        router.store, router.crm, ledger_source, limit, lookback_s, with_released=first
    )


@task(name="load-accounts", cache_policy=NO_CACHE)
def load_accounts(router: Router) -> pd.DataFrame:
    return enrich.accounts_for_matching(router.crm)


@task(name="find-duplicates", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def find_duplicates(router: Router, leads: pd.DataFrame) -> pd.DataFrame:
    return dedupe.find_duplicates(router.crm, leads, router.roster)


@task(name="write-assignments", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def write_assignments(router: Router, claim: str) -> pd.DataFrame:
    """Write every recorded owner to the CRM; per-lead results."""
    return writeback.write_back(router.store, router.crm, router.source, claim)


@task(name="advance-watermark", cache_policy=NO_CACHE)
def advance_watermark(router: Router, ledger_source: str, cursor: str | None) -> None:
    watermarks.advance_watermark(router.store, ledger_source, cursor)
