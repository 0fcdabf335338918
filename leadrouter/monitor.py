"""Daily monitoring: the fallback-fire report (breaches, time to first touch, re-routes, rejections,
escalations, leads still untouched) and anomaly alerts against each metric's trailing 14-day baseline —
the failures that otherwise stay silent (seed 001)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from leadrouter import inert
from leadrouter.assign.availability import is_off
from leadrouter.assign.roster import Roster
from leadrouter.assign.schedule import WEEKDAYS
from leadrouter.schema import Status
from leadrouter.store import Store, history, sla_events

BASELINE_DAYS = 14
MIN_LEADS = 20  # a day with fewer leads is too small to call anything an anomaly
RATES = ["quarantine_rate", "write_failure_rate", "model_share", "review_share"]
ROUTED = [Status.RECORDED.value, Status.WRITING.value, Status.WRITTEN.value, Status.WRITE_FAILED.value]


@dataclass(frozen=True)
class Anomaly:
    metric: str
    day: date
    value: float
    baseline: float
    detail: str


@dataclass(frozen=True)
class DayReport:
    fires: dict  # fallback_fires' report
    anomalies: list[Anomaly]


def day_report(store: Store, source: str, roster: Roster, day: date, now: datetime) -> DayReport:
    """The fallback fires of `day` and what jumped that day against the trailing 14 days, from the ledger."""
    until = datetime.combine(day + timedelta(days=1), time(), tzinfo=now.tzinfo)
    frame = ledger_days(store, source, until)
    events = sla_events.events_since(store, source, until - timedelta(days=BASELINE_DAYS + 1))
    return DayReport(fallback_fires(frame, events, day, now), anomalies(frame, day, roster))


def anomaly_alert(found: list[Anomaly], day: date) -> tuple[str, list[str]]:
    """The subject and lines that tell the escalation manager what jumped on `day`."""
    return f"leadrouter: {len(found)} anomalies on {day}", [f"{a.metric}: {a.detail}" for a in found]


def ledger_days(store: Store, source: str, until: datetime, days: int = BASELINE_DAYS + 1) -> pd.DataFrame:
    """Decisions of the last `days` days before `until` (one row each: day, status, tier, decided_by, owner)."""
    columns = ["lead_id", "status", "tier", "decided_by", "owner_id", "pool", "decided_at", "assigned_at",
               "first_touch_at", "sla_due_at"]  # fmt: skip
    frame = history.decisions_between(store, source, until - timedelta(days=days), until, columns)
    frame["day"] = frame["decided_at"].dt.date
    return frame


def daily_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Per day: leads and the rates whose jumps mean something broke."""
    status = frame["status"]
    routed = status.isin(ROUTED)
    decided = routed | (status == Status.REVIEW.value)
    per_day = (
        pd.DataFrame(
            {
                "day": frame["day"],
                "lead": 1,
                "quarantined": status == Status.QUARANTINED.value,
                "review": status == Status.REVIEW.value,
                "routed": routed,
                "write_failed": status == Status.WRITE_FAILED.value,
                "decided": decided,
                "by_model": decided
                & frame["decided_by"].astype("string").str.startswith("model:").fillna(False),
            }
        )
        .groupby("day")
        .sum()
    )
    return pd.DataFrame(
        {
            "leads": per_day["lead"],
            "quarantine_rate": per_day["quarantined"] / per_day["lead"],
            "write_failure_rate": per_day["write_failed"] / per_day["routed"].replace(0, np.nan),
            "model_share": per_day["by_model"] / per_day["decided"].replace(0, np.nan),
            "review_share": per_day["review"] / per_day["decided"].replace(0, np.nan),
        }
    )


def fallback_fires(frame: pd.DataFrame, events: pd.DataFrame, day: date, now: datetime) -> dict:
    """The day's SLA report: per tier, leads with a clock, breach rate, median and p90 minutes to first touch;
    re-routes, rejections and escalations of the day; leads still untouched and unowned past twice their SLA."""
    today = frame[(frame["day"] == day) & frame["sla_due_at"].notna()]
    todays_events = events[pd.to_datetime(events["at"], utc=True).dt.date == day]
    # a lead decided today may breach tomorrow morning (its owner's clock): all its breaches count
    breached_leads = set(events.loc[events["kind"] == "breach", "lead_id"]) & set(today["lead_id"])
    touch_min = (today["first_touch_at"] - today["assigned_at"]).dt.total_seconds() / 60
    by_tier = {}
    for tier, group in today.groupby("tier"):
        minutes = touch_min[group.index].dropna()
        by_tier[str(tier)] = {
            "leads": len(group),
            "breach_rate": round(group["lead_id"].isin(breached_leads).mean(), 4),
            "median_touch_min": None if minutes.empty else round(float(minutes.median()), 1),
            "p90_touch_min": None if minutes.empty else round(float(minutes.quantile(0.9)), 1),
        }
    window = today["sla_due_at"] - today["assigned_at"]
    overdue = today["first_touch_at"].isna() & (today["assigned_at"] + 2 * window < pd.Timestamp(now))
    kinds = todays_events["kind"].value_counts()
    return {
        "day": day.isoformat(),
        "by_tier": by_tier,
        "reroutes": int(kinds.get("reroute", 0)),
        "rejections": int(kinds.get("reject", 0)),
        "escalations": int(kinds.get("escalation", 0)),
        "untouched": int(today["first_touch_at"].isna().sum()),
        "untouched_past_twice_sla": int(overdue.sum()),
    }


def anomalies(frame: pd.DataFrame, day: date, roster: Roster) -> list[Anomaly]:
    """What jumped today against the trailing 14 days: each rate (more than 3 standard deviations and 5 points
    above its mean), the tier mix (total variation distance above 0.15), and reps who usually get leads and
    got none on a working day."""
    rates = daily_rates(frame)
    if day not in rates.index or rates.loc[day, "leads"] < MIN_LEADS:
        return []
    base = rates[(rates.index < day) & (rates.index >= day - timedelta(days=BASELINE_DAYS))]
    base = base[base["leads"] >= MIN_LEADS]
    if len(base) < 3:  # no baseline yet
        return []
    found = []
    for metric in RATES:
        value, mean, std = rates.loc[day, metric], base[metric].mean(), base[metric].std(ddof=0)
        if pd.notna(value) and pd.notna(mean) and value > mean + max(3 * (std or 0), 0.05):
            found.append(Anomaly(metric, day, float(value), float(mean), f"{value:.1%} against {mean:.1%}"))
    mix = frame.dropna(subset=["tier"]).pivot_table(
        index="day", columns="tier", values="lead_id", aggfunc="count"
    )
    shares = mix.fillna(0).div(mix.fillna(0).sum(axis=1), axis=0)
    if day in shares.index:
        usual = shares.loc[base.index.intersection(shares.index)].mean()
        distance = 0.5 * float((shares.loc[day] - usual).abs().sum())
        if distance > 0.15:
            found.append(Anomaly("tier_mix", day, distance, 0.0, f"tier mix moved by {distance:.0%}"))
    counts = frame.pivot_table(index="day", columns="owner_id", values="lead_id", aggfunc="count").fillna(0)
    if day in counts.index and day.weekday() < 5:
        usual = counts.loc[base.index.intersection(counts.index)].mean()
        for rep in roster.reps:
            working = day.weekday() in {WEEKDAYS.index(d) for d in rep.schedule.hours.days}
            if not rep.active or not working or is_off(rep, day):
                continue  # away that day: nothing to miss
            if usual.get(rep.key, 0) >= 3 and counts.loc[day].get(rep.key, 0) == 0:
                found.append(
                    Anomaly("rep_starved", day, 0.0, float(usual[rep.key]), f"{rep.name} got no lead")
                )
    return found


def report_markdown(fires: dict, found: list[Anomaly]) -> str:
    lines = [
        f"# Fallback fires, {fires['day']}",
        "",
        "| tier | leads with a clock | breach rate | median min to first touch | p90 |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {inert.markdown(tier)} | {t['leads']} | {t['breach_rate']:.1%} | {t['median_touch_min']} | {t['p90_touch_min']} |"
            for tier, t in fires["by_tier"].items()
        ],
        "",
        f"Re-routes {fires['reroutes']}, rejections {fires['rejections']}, escalations {fires['escalations']}; "
        f"{fires['untouched']} leads still untouched, {fires['untouched_past_twice_sla']} of them past twice their SLA.",
        "",
        "## Anomalies against the trailing 14 days",
        "",
        *([f"- **{a.metric}**: {inert.markdown(a.detail)}" for a in found] or ["None."]),
    ]
    return "\n".join(lines)


def report_line(fires: dict, anomalies: int) -> str:
    """`2026-12-04: 180 leads with a clock · 6 re-routed · 2 rejected · 1 escalated · 0 anomalies`."""
    leads = sum(tier["leads"] for tier in fires["by_tier"].values())
    counts = (
        f"{fires['reroutes']} re-routed · {fires['rejections']} rejected · {fires['escalations']} escalated"
    )
    return f"{fires['day']}: {leads} leads with a clock · {counts} · {anomalies} anomalies"
