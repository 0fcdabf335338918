"""daily-report: yesterday's fallback fires as an artifact, and an alert for every metric that jumped."""

from __future__ import annotations

from datetime import date, timedelta

from prefect import State, flow
from prefect.states import Completed

from blocks.load import load_channels, load_settings
from leadrouter import clock, monitor
from leadrouter.assign.roster import load_roster
from leadrouter.store import open_store
from tasks.daily_report import alert_anomalies, check_day, publish_fallback_fires
from tasks.shared import name_run


@flow(name="daily-report")
def daily_report(day: date | None = None, settings_block: str | None = None) -> State:
    """The report for `day` (default: yesterday, UTC): breach rate and time to first touch per tier, re-routes,
    rejections, escalations, untouched leads; anomalies against the trailing 14 days go to the escalation
    manager on the configured channels. The run's name and final state's message say the day's counts."""
    settings = load_settings(settings_block)
    roster = load_roster(settings.roster_path)
    now = clock.routing_now(settings)
    day = day or (now.date() - timedelta(days=1))
    with open_store(settings.store_url) as store:
        report = check_day(store, settings.crm, roster, day, now)
        publish_fallback_fires(report)
        alert_anomalies(store, settings.crm, roster, report, day, load_channels(settings))
    line = monitor.report_line(report.fires, len(report.anomalies))
    name_run(line)
    return Completed(
        message=line, data={"fires": report.fires, "anomalies": [a.metric for a in report.anomalies]}
    )
