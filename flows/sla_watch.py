"""sla-watch: every minute, re-route leads their owner rejected, stop the clocks of touched leads and re-route the
ones whose owner let the SLA lapse."""

from __future__ import annotations

import uuid

import pandas as pd
from prefect import State, flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed

from blocks.load import load_channels, load_crm, load_settings
from leadrouter import clock, sla
from leadrouter.router import open_router
from tasks.shared import name_run, write_assignments
from tasks.sla_watch import (
    first_touches,
    notify_reroutes,
    publish_actions,
    read_rejections,
    reroute_breaches,
    reroute_rejections,
    stop_touched_clocks,
)


@flow(name="sla-watch")
def sla_watch(settings_block: str | None = None) -> State:
    """Rejections → re-route; open clocks → first touches from the CRM → breaches → re-route; write the new
    owners → notify → publish what was done. Its result is the run's counts; its name and final state's
    message say them in a line (sla.watch_line)."""
    settings = load_settings(settings_block)
    now = clock.routing_now(settings)
    with open_router(settings, crm=load_crm(settings)) as router:
        rejections = read_rejections(router, now)
        rejected = reroute_rejections(router, rejections, now)
        clocks = sla.open_clocks(router.store, router.source)
        touched = stop_touched_clocks(router, clocks, first_touches(router, clocks))
        late = sla.breached(clocks, touched, now)
        moved = pd.concat([rejected, reroute_breaches(router, late, now)], ignore_index=True)
        if len(moved):
            write_assignments(router, claim=flow_run.id or uuid.uuid4().hex)
        sent = notify_reroutes(router, moved, load_channels(settings))
        actions = publish_actions(router, clocks, touched, late, rejections, moved, now)
    summary = sla.watch_summary(clocks, touched, late, rejections, moved, actions, sent)
    line = sla.watch_line(summary)
    name_run(line)
    get_run_logger().info("%s; %s touched", line, summary["touched"])
    return Completed(message=line, data=summary)
