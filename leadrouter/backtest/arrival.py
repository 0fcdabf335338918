"""Assignment replayed over history: each lead assigned as of the hour it arrived, with one round-robin state
carried from the first lead to the last, writing nothing.

One assign_owners call per hour would cost minutes on a year of history, so hours are grouped by what
assignment can see of them: which reps are at work at the hour and at the end of each tier's response window,
and which are off that day (time off, public holidays). Each group is assigned at its earliest hour, groups in
order of that hour. Caps are not replayed: an export has no first touches (open leads), and a daily count
would need one call per rep-day.
"""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import numpy as np
import pandas as pd

from leadrouter.assign.availability import is_off
from leadrouter.assign.batch import STATE_COLUMNS
from leadrouter.assign.owners import Moment, assign_owners, response_windows
from leadrouter.assign.roster import Rep, Roster
from leadrouter.assign.schedule import WEEKDAYS
from leadrouter.classify.rules import ResponseSla
from leadrouter.schema import Tier

# the lead columns assign_owners reads (leadrouter.assign): a replay hands it these alone, as copying every
# column of a million leads into each hour group costs gigabytes
ASSIGN_INPUTS = ["lead_id", "created_at", "tier", "pool", "rule_owner", "duplicate_of", "existing_owner_id",
                 "account_owner_id", "region", "territory", "industry"]  # fmt: skip


def assign_at_arrival(
    leads: pd.DataFrame, roster: Roster, sla: dict[Tier, ResponseSla], named: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """assign_owners' output for every lead, each assigned as of its arrival hour (see the module's note).
    named: owners the rulebook's rules name, who take leads of any tier."""
    windows = response_windows(sla)
    state = pd.DataFrame(columns=STATE_COLUMNS)
    if leads.empty:
        return assign_owners(leads, roster, state, Moment(pd.Timestamp.now("UTC").to_pydatetime(), windows))[
            0
        ]
    hours = leads["created_at"].dt.floor("h")
    group = pd.Series(-1, index=leads.index)
    # tiers of one response window see the same reps: grouped apart from the others, their pools apart too
    for window in set(windows.values()):
        tiers = [t for t, w in windows.items() if w == window]
        mine = leads["tier"].isin(tiers).to_numpy()
        members = {m for p in roster.pools if p.tier.value in tiers for m in roster.members(p)} | named
        reps = [r for r in roster.reps if r.key in members and r.active]
        group[mine] = availability_groups(hours[mine], reps, window).to_numpy() + group.max() + 1
    parts = []
    first_hour = hours.groupby(group.to_numpy()).min().sort_values(kind="stable")
    rows = group.groupby(group.to_numpy(), sort=False).indices  # positions per group, found in one pass
    for key, at in first_hour.items():  # a few dozen groups, however many leads
        assigned, state = assign_owners(
            leads.take(rows[key]), roster, state, Moment(at.to_pydatetime(), windows)
        )
        parts.append(assigned)
    return pd.concat(parts, ignore_index=True)


def availability_groups(hours: pd.Series, reps: list[Rep], window: timedelta | None) -> pd.Series:
    """A group number per row: rows in one group have the same reps able to take a lead: at work within the
    window and not off that day (without a window: not off)."""
    distinct = pd.DatetimeIndex(hours.unique())
    flags = [np.zeros(len(distinct), dtype=bool)]
    for rep in reps:
        off = _off(rep, distinct)
        at_work = _at_work(rep, distinct) | _at_work(rep, distinct + (window or timedelta(0)))
        flags.append(off if window is None else at_work & ~off)
    _, per_hour = np.unique(np.packbits(np.column_stack(flags), axis=1), axis=0, return_inverse=True)
    return pd.Series(per_hour.ravel()[distinct.get_indexer(hours)], index=hours.index)


def _at_work(rep: Rep, moments: pd.DatetimeIndex) -> np.ndarray:
    """Within the rep's working hours on a working day (their own zone); days off are _off's."""
    hours = rep.schedule.hours
    local = moments.tz_convert(zoneinfo.ZoneInfo(rep.schedule.timezone))
    minute = local.hour * 60 + local.minute
    start, end = hours.start.hour * 60 + hours.start.minute, hours.end.hour * 60 + hours.end.minute
    workday = np.isin(local.dayofweek, [WEEKDAYS.index(d) for d in hours.days])
    return workday & (minute >= start) & (minute < end)


def _off(rep: Rep, moments: pd.DatetimeIndex) -> np.ndarray:
    """On time off or a public holiday that day, in their zone: checked once per distinct day."""
    days = moments.tz_convert(zoneinfo.ZoneInfo(rep.schedule.timezone)).date
    verdicts = {day: is_off(rep, day) for day in set(days)}
    return np.array([verdicts[day] for day in days], dtype=bool)
