"""SOQL's relative date literals (TODAY, LAST_N_DAYS:n, THIS_MONTH, …) as [start, end) ranges of days, in UTC
(the local org's time zone), as the SOQL reference's "Date Formats and Date Literals" page defines them:
weeks start on Sunday; LAST_N_DAYS:n and LAST_90_DAYS include today; NEXT_N_DAYS:n starts tomorrow."""

from __future__ import annotations

import re

import pandas as pd

LITERAL = re.compile(r"^([A-Z_]+?)(?::(\d+))?$")
FIXED = {
    "YESTERDAY": ("day", -1, 1), "TODAY": ("day", 0, 1), "TOMORROW": ("day", 1, 1),
    "LAST_WEEK": ("week", -1, 1), "THIS_WEEK": ("week", 0, 1), "NEXT_WEEK": ("week", 1, 1),
    "LAST_MONTH": ("month", -1, 1), "THIS_MONTH": ("month", 0, 1), "NEXT_MONTH": ("month", 1, 1),
    "LAST_QUARTER": ("quarter", -1, 1), "THIS_QUARTER": ("quarter", 0, 1), "NEXT_QUARTER": ("quarter", 1, 1),
    "LAST_YEAR": ("year", -1, 1), "THIS_YEAR": ("year", 0, 1), "NEXT_YEAR": ("year", 1, 1),
    "LAST_90_DAYS": ("day", -90, 91), "NEXT_90_DAYS": ("day", 1, 90),
}  # fmt: skip
# name -> (unit, first unit as a multiple of n and an offset, how many units as a multiple of n and an offset)
WITH_N = {
    "LAST_N_DAYS": ("day", (-1, 0), (1, 1)), "NEXT_N_DAYS": ("day", (0, 1), (1, 0)),
    "N_DAYS_AGO": ("day", (-1, 0), (0, 1)),
    "LAST_N_WEEKS": ("week", (-1, 0), (1, 0)), "NEXT_N_WEEKS": ("week", (0, 1), (1, 0)),
    "N_WEEKS_AGO": ("week", (-1, 0), (0, 1)),
    "LAST_N_MONTHS": ("month", (-1, 0), (1, 0)), "NEXT_N_MONTHS": ("month", (0, 1), (1, 0)),
    "N_MONTHS_AGO": ("month", (-1, 0), (0, 1)),
    "LAST_N_YEARS": ("year", (-1, 0), (1, 0)), "NEXT_N_YEARS": ("year", (0, 1), (1, 0)),
    "N_YEARS_AGO": ("year", (-1, 0), (0, 1)),
}  # fmt: skip
STEP = {
    "day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1),
    "quarter": pd.DateOffset(months=3), "year": pd.DateOffset(years=1),
}  # fmt: skip


def is_date_literal(word: str) -> bool:
    """Whether an upper-cased name token is a relative date literal (LAST_N_DAYS:n needs its n)."""
    match = LITERAL.match(word)
    if not match:
        return False
    name, n = match.groups()
    return (name in FIXED and n is None) or (name in WITH_N and n is not None)


def unit_start(now: pd.Timestamp, unit: str) -> pd.Timestamp:
    """The start of the day, week (Sunday), month, quarter or year holding `now`."""
    day = now.normalize()
    if unit == "week":
        return day - pd.Timedelta(days=(day.dayofweek + 1) % 7)
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(day=1, month=3 * ((day.month - 1) // 3) + 1)
    return day.replace(day=1, month=1) if unit == "year" else day


def date_range(word: str, now: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The [start, end) a relative date literal covers, at `now` (UTC)."""
    name, n_text = LITERAL.match(word).groups()  # type: ignore[union-attr]
    if name in FIXED:
        unit, first, count = FIXED[name]
    else:
        n = int(n_text)
        unit, (a, b), (c, d) = WITH_N[name]
        first, count = a * n + b, c * n + d
    start = unit_start(now, unit) + STEP[unit] * first
    return start, start + STEP[unit] * count
