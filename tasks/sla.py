"""The SLA watch's stages: read first touches, find breaches, re-route, notify."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from leadrouter import reroute, sla
from leadrouter.router import Router


@task(name="first-touches", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE, tags=["crm"])
def first_touches(router: Router, clocks: pd.DataFrame) -> pd.DataFrame:
    """When each owner first acted on each open lead, from the CRM."""
    if clocks.empty:
        return pd.DataFrame(columns=["lead_id", "first_touch_at"])
    return router.crm.first_touch(clocks["lead_id"].tolist())


@task(name="stop-touched-clocks", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def stop_touched_clocks(router: Router, clocks: pd.DataFrame, touches: pd.DataFrame) -> pd.DataFrame:
    return sla.record_touches(router.store, router.source, clocks, touches)


@task(name="reroute-breaches", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def reroute_breaches(router: Router, lead_ids: list[str], at: datetime) -> pd.DataFrame:
    return reroute.reroute(
        router.store, router.source, lead_ids, "breach", router.roster, router.rulebook.sla, at
    )
