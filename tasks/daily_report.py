"""daily-report's tasks in stage order: read the day from the ledger, publish the fallback fires, alert on
anomalies."""

from __future__ import annotations

from datetime import date, datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from leadrouter import monitor, notify
from leadrouter.assign.roster import Roster
from leadrouter.store import Store
from tasks.options import ONCE


@task(name="check-day", **ONCE)
def check_day(store: Store, source: str, roster: Roster, day: date, now: datetime) -> monitor.DayReport:
    """The day's fallback fires and anomalies."""
    return monitor.day_report(store, source, roster, day, now)


@task(name="publish-fallback-fires", **ONCE)
def publish_fallback_fires(report: monitor.DayReport) -> None:
    create_markdown_artifact(monitor.report_markdown(report.fires, report.anomalies), key="fallback-fires")


@task(name="alert-anomalies", **ONCE)  # it sends messages: a retry could send them twice
def alert_anomalies(
    store: Store, source: str, roster: Roster, report: monitor.DayReport, day: date, channels: dict
) -> None:
    """The escalation manager hears of every anomaly on the configured channels; the log names each one."""
    if report.anomalies:
        subject, lines = monitor.anomaly_alert(report.anomalies, day)
        notify.tell_manager(store, source, roster, "anomaly", subject, lines, channels)
    for anomaly in report.anomalies:
        get_run_logger().warning("anomaly %s on %s: %s", anomaly.metric, day, anomaly.detail)
