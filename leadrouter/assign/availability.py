"""Who can take a lead at a given moment: working hours, time off, public holidays, and capacity."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache

import holidays
import numpy as np
import pandas as pd

from leadrouter.assign.roster import WEEKDAYS, Rep, Roster, holiday_calendar

LOOKAHEAD_DAYS = 60  # a rep with no working hour in this long counts as away


class Excluded(StrEnum):
    """Why a rep of the pool did not get the lead (stored on every decision)."""

    INACTIVE = "INACTIVE"  # switched off in the roster
    OUT_OF_OFFICE = "OUT_OF_OFFICE"  # time off or a public holiday, today in the rep's time zone
    OUTSIDE_HOURS = "OUTSIDE_HOURS"  # not at work now (VIP) or not within the tier's SLA
    AT_CAPACITY = "AT_CAPACITY"  # daily or open-lead cap reached
    WRONG_REGION = "WRONG_REGION"  # the rep covers other regions or territories
    NO_SPECIALISATION = "NO_SPECIALISATION"  # a specialist in the lead's industry was available


def rep_calendar(roster: Roster, at: datetime) -> pd.DataFrame:
    """One row per rep (index: id): active, off_today, working_now, next_start (UTC; NaT: none within
    LOOKAHEAD_DAYS), day_start (UTC instant of the rep's local midnight, for the daily cap)."""
    rows = {rep.key: _rep_day(rep, at) for rep in roster.reps}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    for column in ("next_start", "day_start"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _rep_day(rep: Rep, at: datetime) -> dict:
    zone = zoneinfo.ZoneInfo(rep.schedule.timezone)
    local = at.astimezone(zone)
    hours = rep.schedule.hours
    workdays = {WEEKDAYS.index(d) for d in hours.days}
    calendar = _calendar(rep.schedule.holidays)
    time_off = [(t.start, t.end) for t in rep.time_off]

    def off(day: date) -> bool:
        return (calendar is not None and day in calendar) or any(s <= day <= e for s, e in time_off)

    next_start = None
    for offset in range(LOOKAHEAD_DAYS):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in workdays or off(day):
            continue
        start = datetime.combine(day, hours.start, zone)
        end = datetime.combine(day, hours.end, zone)
        if end > at:
            next_start = max(start, at)
            break
    return {
        "active": rep.active,
        "off_today": off(local.date()),
        "working_now": next_start == at,
        "next_start": next_start,
        "day_start": datetime.combine(local.date(), datetime.min.time(), zone),
    }


def day_starts(roster: Roster, at: datetime) -> pd.Series:
    """Per rep id: the UTC instant their local day began (daily caps count from it)."""
    return rep_calendar(roster, at)["day_start"]


@cache
def _calendar(code: str | None) -> holidays.HolidayBase | None:
    return holiday_calendar(code) if code else None


def unavailable(calendar: pd.DataFrame, at: datetime, window: timedelta | None) -> pd.Series:
    """Why each rep cannot take a lead now (<NA>: they can).

    window: how soon they must be at work: zero for VIP (now), the tier's SLA for others, None for tiers
    without a clock (only reps on leave or switched off are excluded)."""
    reason = pd.Series(pd.NA, index=calendar.index, dtype="string")
    if window is not None:
        late = ~(calendar["next_start"] <= pd.Timestamp(at) + window)
        reason[late] = Excluded.OUTSIDE_HOURS.value
    reason[calendar["off_today"]] = Excluded.OUT_OF_OFFICE.value
    reason[~calendar["active"]] = Excluded.INACTIVE.value
    return reason


def remaining_capacity(roster: Roster, load: pd.DataFrame) -> pd.Series:
    """Leads each rep can still take (inf: no cap). load: per rep id, assigned_today and open."""
    today = load["assigned_today"] if "assigned_today" in load else pd.Series(dtype=float)
    open_ = load["open"] if "open" in load else pd.Series(dtype=float)
    left = {}
    for rep in roster.reps:
        caps = [np.inf]
        if rep.max_per_day is not None:
            caps.append(rep.max_per_day - float(today.get(rep.key, 0)))
        if rep.max_open is not None:
            caps.append(rep.max_open - float(open_.get(rep.key, 0)))
        left[rep.key] = max(min(caps), 0.0)
    return pd.Series(left, dtype=float)
