"""daily-report: yesterday's fallback fires as an artifact, and an alert for every metric that jumped."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from blocks.load import load_channels, load_settings
from leadrouter import clock, monitor, notify
from leadrouter.assign.roster import load_roster
from leadrouter.store import open_store


@flow(name="daily-report")
def daily_report(day: date | None = None, settings_block: str | None = None) -> dict:
    """The report for `day` (default: yesterday, UTC): breach rate and time to first touch per tier, re-routes,
    rejections, escalations, untouched leads; anomalies against the trailing 14 days go to the escalation
    manager on the configured channels."""
    settings = load_settings(settings_block)
    roster = load_roster(settings.roster_path)
    now = clock.routing_now(settings)
    day = day or (now.date() - timedelta(days=1))
    until = datetime.combine(day + timedelta(days=1), time(), tzinfo=now.tzinfo)
    with open_store(settings.store_url) as store:
        frame = monitor.ledger_days(store, settings.crm, until)
        events = monitor.sla_event_frame(
            store, settings.crm, until - timedelta(days=monitor.BASELINE_DAYS + 1)
        )
        fires = monitor.fallback_fires(frame, events, day, now)
        found = monitor.anomalies(frame, day, roster)
        create_markdown_artifact(monitor.report_markdown(fires, found), key="fallback-fires")
        channels = load_channels(settings)
        if found:
            lines = [f"{a.metric}: {a.detail}" for a in found]
            subject = f"leadrouter: {len(found)} anomalies on {day}"
            notify.tell_manager(store, settings.crm, roster, "anomaly", subject, lines, channels)
    for anomaly in found:
        get_run_logger().warning("anomaly %s on %s: %s", anomaly.metric, day, anomaly.detail)
    return {"fires": fires, "anomalies": [a.metric for a in found]}
