"""Tasks that talk to the CRM: pull new leads, write owners back."""

from __future__ import annotations

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from leadrouter import dedupe, pull, writeback
from leadrouter.router import Router
from leadrouter.store import ledger


@task(name="pull-new-leads", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE, tags=["crm"])
def pull_new_leads(
    router: Router, ledger_source: str, limit: int, first: bool = False
) -> tuple[pd.DataFrame, str | None]:
    """The next page; a run's first page also looks back for late commits and brings released leads."""
    lookback_s = router.settings.lookback_s if first else 0.0
    return pull.pull_new_leads(
        router.store, router.crm, ledger_source, limit, lookback_s, with_released=first
    )


@task(name="load-accounts", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE, tags=["crm"])
def load_accounts(router: Router) -> pd.DataFrame:
    """The CRM's accounts, for matching leads to them; without them leads still route, just unmatched."""
    try:
        return router.crm.fetch_accounts()
    except Exception as exc:  # matching is an enrichment: it never blocks routing
        get_run_logger().warning("accounts unavailable, leads route unmatched: %s", type(exc).__name__)
        return pd.DataFrame()


@task(name="find-duplicates", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE, tags=["crm"])
def find_duplicates(router: Router, leads: pd.DataFrame) -> pd.DataFrame:
    """Mark leads already in the CRM as a lead or contact with an active rep (they keep that owner) and
    repeats within the batch (they follow their first copy)."""
    existing = (
        router.crm.find_existing(leads["email"].dropna().tolist(), []) if len(leads) else pd.DataFrame()
    )
    reps = {rep.id for rep in router.roster.reps if rep.active}
    return dedupe.mark_duplicates(leads, existing, reps)


@task(
    name="write-assignments", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE, tags=["crm"]
)
def write_assignments(router: Router, claim: str) -> pd.DataFrame:
    """Write every recorded owner to the CRM; per-lead results."""
    return writeback.write_back(router.store, router.crm, router.source, claim)


@task(name="advance-watermark", cache_policy=NO_CACHE)
def advance_watermark(router: Router, ledger_source: str, cursor: str | None) -> None:
    ledger.advance_watermark(router.store, ledger_source, cursor)
