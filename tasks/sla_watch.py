"""sla-watch's tasks in stage order: read rejections and re-route them, read first touches, stop the touched
clocks, re-route the breaches (the write is tasks.shared), notify, publish what the run did."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact

from leadrouter import notify, reroute, sla
from leadrouter.router import Router
from leadrouter.sla import watch_markdown
from tasks.options import LEDGER, ONCE


@task(name="read-rejections", **ONCE)
def read_rejections(router: Router, now: datetime) -> dict[str, str]:
    """lead -> rep, for leads their owner set to "Rejected - Wrong Owner" in the CRM and we have not moved yet."""
    return sla.new_rejections(router.store, router.crm, router.source, now)


@task(name="reroute-rejections", **LEDGER)
def reroute_rejections(router: Router, rejected: dict[str, str], at: datetime) -> pd.DataFrame:
    return reroute.reroute(
        router.store,
        router.source,
        list(rejected),
        "reject",
        router.roster,
        router.rulebook.sla,
        at,
        note="rejected in the CRM",
        rejected_by=rejected,
    )


@task(name="first-touches", **ONCE)
def first_touches(router: Router, clocks: pd.DataFrame) -> pd.DataFrame:
    """When each owner first acted on each open lead, from the CRM."""
    return sla.first_touches(router.crm, clocks)


@task(name="stop-touched-clocks", **LEDGER)
def stop_touched_clocks(router: Router, clocks: pd.DataFrame, touches: pd.DataFrame) -> pd.DataFrame:
    return sla.record_touches(router.store, router.source, clocks, touches)


@task(name="reroute-breaches", **LEDGER)
def reroute_breaches(router: Router, lead_ids: list[str], at: datetime) -> pd.DataFrame:
    return reroute.reroute(
        router.store, router.source, lead_ids, "breach", router.roster, router.rulebook.sla, at
    )


@task(name="notify-reroutes", **ONCE)
def notify_reroutes(router: Router, moved: pd.DataFrame, channels: dict) -> pd.DataFrame:
    """New owner, old owner and manager hear of each re-route; failures are recorded, never raised."""
    return notify.tell_reroutes(
        router.store,
        router.crm,
        router.source,
        moved,
        router.roster,
        channels,
        router.settings.crm_link_template,
    )


WATCH_ARTIFACT = "sla-watch-actions"


@task(name="publish-sla-actions", **ONCE)
def publish_actions(
    router: Router,
    clocks: pd.DataFrame,
    touched: pd.DataFrame,
    late: list[str],
    rejected: dict[str, str],
    moved: pd.DataFrame,
    at: datetime,
) -> pd.DataFrame:
    """The run's breaches, rejections, re-routes and escalations as a markdown artifact (lead, old and new
    owner, why), when the run did any; returns its rows (sla.WATCH_COLUMNS)."""
    actions = sla.run_actions(router.store, router.source, clocks, late, rejected, moved, router.roster, at)
    if len(actions):
        create_markdown_artifact(
            key=WATCH_ARTIFACT,
            markdown=watch_markdown(actions, len(clocks), len(touched)),
            description="Breaches, rejections, re-routes and escalations of this sla-watch run",
        )
    return actions
