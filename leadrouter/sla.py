"""Response SLAs: when each owner must first touch a lead, by the owner's working clock.

A rep's clock runs only in their working hours (time zone, days, holidays, time off): a VIP lead decided at
17:58 with a 5-minute SLA is due at 08:03 the next working morning. Queues, CRM users off the roster and
tiers marked around_the_clock run on the wall clock.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from leadrouter.assign.availability import working_intervals
from leadrouter.assign.roster import Rep, Roster
from leadrouter.classify.rules import ResponseSla
from leadrouter.schema import Tier


def due_times(
    owners: pd.Series, tiers: pd.Series, at: datetime, roster: Roster, sla: dict[Tier, ResponseSla]
) -> pd.Series:
    """When each lead's first touch is due (NaT: its tier has no SLA). One computation per distinct
    (owner, tier): a batch's leads share their decision time."""
    pairs = pd.DataFrame({"owner": owners.astype("string"), "tier": tiers.astype("string")})
    due = {
        (owner, tier): due_at(roster.by_id.get(owner), sla.get(Tier(tier)), at)
        for owner, tier in pairs.dropna().drop_duplicates().itertuples(index=False)
    }
    values = [due.get((o, t)) for o, t in zip(pairs["owner"], pairs["tier"], strict=True)]
    return pd.Series(pd.to_datetime(values, utc=True), index=owners.index)


def due_at(rep: Rep | None, sla: ResponseSla | None, start: datetime) -> datetime | None:
    """start + the SLA's minutes, counted in the rep's working time unless around the clock."""
    if sla is None:
        return None
    if rep is None or sla.around_the_clock:
        return start + sla.window
    left = sla.window
    for begin, end in working_intervals(rep, start):
        if end - begin >= left:
            return begin + left
        left -= end - begin
    return None  # no working time within the lookahead: the rep is away for weeks; no clock to breach


def starts_off_hours(rep: Rep | None, at: datetime) -> bool:
    """The lead reaches its owner outside their working time: the off-hours acknowledgement's cue."""
    if rep is None:
        return False
    first = next(working_intervals(rep, at), None)
    return first is None or first[0] > at
