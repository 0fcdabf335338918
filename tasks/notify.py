"""Notifications inside the flows: thin wrappers over leadrouter.notify (which records every outcome and never
raises, so a broken channel never stops routing)."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from leadrouter import clock, notify
from leadrouter.router import Router


@task(name="notify-owners", cache_policy=NO_CACHE)
def notify_owners(
    router: Router, recorded: pd.DataFrame, written: pd.DataFrame, channels: dict, ack: dict
) -> pd.DataFrame:
    """Each rep whose new lead was written to the CRM hears of it, with its context; with the acknowledgement
    hook on, a lead whose owner is off work gets a note saying who will reach out and when."""
    if recorded.empty or written.empty or not (channels or ack):
        return pd.DataFrame()
    done = recorded[recorded["lead_id"].isin(written.loc[written["ok"].astype(bool), "lead_id"])]
    messages = notify.assignment_messages(done, router.roster, "assigned", router.settings.crm_link_template)
    sent = notify.deliver(router.store, router.source, messages, channels) if channels else pd.DataFrame()
    if ack:
        at = clock.routing_now(router.settings)
        notify.deliver(router.store, router.source, notify.acknowledgements(done, router.roster, at), ack)
    return sent


@task(name="notify-reroutes", cache_policy=NO_CACHE)
def notify_reroutes(router: Router, moved: pd.DataFrame, channels: dict) -> pd.DataFrame:
    """New owner, old owner and manager hear of each re-route; failures are recorded, never raised."""
    if moved.empty or not channels:
        return pd.DataFrame()
    leads = router.crm.fetch_leads(moved["lead_id"].tolist())
    messages = notify.reroute_messages(moved, leads, router.roster, router.settings.crm_link_template)
    return notify.deliver(router.store, router.source, messages, channels)
