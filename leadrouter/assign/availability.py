"""Who can take a lead at a given moment: working hours, time off, public holidays, and capacity."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache

import holidays
import numpy as np
import pandas as pd

from leadrouter.assign.roster import Rep, Roster
from leadrouter.assign.schedule import WEEKDAYS, holiday_calendar

LOOKAHEAD_DAYS = 60  # a rep with no working hour in this long counts as away


class Excluded(StrEnum):
    """Why a rep of the pool did not get the lead (stored on every decision)."""

    INACTIVE = "INACTIVE"  # switched off in the roster
    OUT_OF_OFFICE = "OUT_OF_OFFICE"  # time off or a public holiday, today in the rep's time zone
    OUTSIDE_HOURS = "OUTSIDE_HOURS"  # not at work now (VIP) or not within the tier's SLA
    AT_CAPACITY = "AT_CAPACITY"  # daily or open-lead cap reached
    WRONG_REGION = "WRONG_REGION"  # the rep covers other regions or territories
    NO_SPECIALISATION = "NO_SPECIALISATION"  # a specialist in the lead's industry was available
    NO_LANGUAGE = "NO_LANGUAGE"  # the rep does not work in the lead's language (preferred or required)
    NO_SKILL = "NO_SKILL"  # the rep lacks the lead's value of another skill the pool routes on
    COVERED = "COVERED"  # a colleague covers the rep (roster `cover`): in a workload pool they take no turn


def rep_calendar(roster: Roster, at: datetime) -> pd.DataFrame:
    """One row per rep (index: id): active, off_today, working_now, next_start (UTC; NaT: none within
    LOOKAHEAD_DAYS), day_start (UTC instant of the rep's local midnight, for the daily cap)."""
    rows = {rep.key: _rep_day(rep, at) for rep in roster.reps}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    for column in ("next_start", "day_start"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _rep_day(rep: Rep, at: datetime) -> dict:
    local = at.astimezone(zoneinfo.ZoneInfo(rep.schedule.timezone))
    next_start = next((begin for begin, _ in working_intervals(rep, at)), None)
    return {
        "active": rep.active,
        "off_today": is_off(rep, local.date()),
        "working_now": next_start == at,
        "next_start": next_start,
        "day_start": datetime.combine(local.date(), datetime.min.time(), local.tzinfo),
    }


def is_off(rep: Rep, day: date) -> bool:
    calendar = _calendar(rep.schedule.holidays)
    return (calendar is not None and day in calendar) or any(t.start <= day <= t.end for t in rep.time_off)


def working_intervals(rep: Rep, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The rep's working time from `start` on, as (begin, end) intervals in their zone, for LOOKAHEAD_DAYS:
    working days that are neither a public holiday of their calendar nor time off."""
    zone = zoneinfo.ZoneInfo(rep.schedule.timezone)
    hours = rep.schedule.hours
    workdays = {WEEKDAYS.index(d) for d in hours.days}
    first = start.astimezone(zone).date()
    for offset in range(LOOKAHEAD_DAYS):
        day = first + timedelta(days=offset)
        if day.weekday() not in workdays or is_off(rep, day):
            continue
        end = datetime.combine(day, hours.end, zone)
        if end > start:
            yield max(datetime.combine(day, hours.start, zone), start), end


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
    # masked, not set through a boolean key: pandas first tries the key as a label and formats it into an
    # error it then catches (about a millisecond each, up to three per tier in every assignment pass)
    if window is not None:
        late = ~(calendar["next_start"] <= pd.Timestamp(at) + window)
        reason = reason.mask(late, Excluded.OUTSIDE_HOURS.value)
    reason = reason.mask(calendar["off_today"], Excluded.OUT_OF_OFFICE.value)
    return reason.mask(~calendar["active"], Excluded.INACTIVE.value)


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


def covering(roster: Roster, at: datetime) -> dict[str, str]:
    """Per covered rep id: the colleague taking their new leads at `at` (the day in the covered rep's zone)."""
    out = {}
    for cover in roster.cover:
        rep = roster.by_id.get(cover.rep)
        if rep is None:
            continue
        today = at.astimezone(zoneinfo.ZoneInfo(rep.schedule.timezone)).date()
        if cover.start <= today <= cover.end:
            out[rep.key] = roster.rep_id(cover.by)
    return out


def covered(reason: pd.Series, covers: dict[str, str]) -> pd.Series:
    """A covered rep's leads go to their colleague: they can take one when the colleague can (a rep switched
    off in the roster or the CRM stays off)."""
    if not covers:
        return reason
    reason = reason.copy()
    for rep, by in covers.items():
        if rep in reason.index and (pd.isna(reason[rep]) or reason[rep] != Excluded.INACTIVE.value):
            reason[rep] = reason.get(by, pd.NA)
    return reason
