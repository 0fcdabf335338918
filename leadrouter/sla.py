"""Response SLAs: when each owner must first touch a lead, by the owner's working clock.

A rep's clock runs only in their working hours (time zone, days, holidays, time off): a VIP lead decided at
17:58 with a 5-minute SLA is due at 08:03 the next working morning. Queues, CRM users off the roster and
tiers marked around_the_clock run on the wall clock.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import bindparam, func, select, update

from leadrouter.assign.availability import working_intervals
from leadrouter.assign.roster import Rep, Roster
from leadrouter.classify.rules import ResponseSla
from leadrouter.schema import Status, Tier
from leadrouter.store import Store
from leadrouter.store.tables import decisions, sla_events


def due_times(
    owners: pd.Series, tiers: pd.Series, at: datetime, roster: Roster, sla: dict[Tier, ResponseSla]
) -> pd.Series:
    """When each lead's first touch is due (NaT: its tier has no SLA). One computation per distinct
    (owner, tier): a batch's leads share their decision time."""
    pairs = pd.DataFrame({"owner": owners.astype("string"), "tier": tiers.astype("string")})
    due = {
        # a queue has no clock: nobody in it touches leads, and re-routing from it is the pools' job
        (owner, tier): None
        if owner in roster.queues
        else due_at(roster.by_id.get(owner), sla.get(Tier(tier)), at)
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


OPEN_COLUMNS = ["lead_id", "owner_id", "tier", "sla_due_at", "assigned_at"]


def open_clocks(store: Store, source: str) -> pd.DataFrame:
    """Routed leads whose clock runs: written to their owner in the CRM (a lead still waiting for its write
    cannot be the owner's fault), due, not yet touched."""
    live = [Status.WRITTEN.value]
    query = select(*(decisions.c[c] for c in OPEN_COLUMNS)).where(
        decisions.c.source == source,
        decisions.c.status.in_(live),
        decisions.c.sla_due_at.is_not(None),
        decisions.c.first_touch_at.is_(None),
    )
    with store.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=OPEN_COLUMNS)
    for column in ("sla_due_at", "assigned_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def record_touches(store: Store, source: str, clocks: pd.DataFrame, touches: pd.DataFrame) -> pd.DataFrame:
    """Stop the clocks of leads touched since their current owner got them; returns those leads with
    first_touch_at. touches: first_touch's lead_id, first_touch_at."""
    seen = clocks.merge(touches, on="lead_id", how="inner").dropna(subset=["first_touch_at"])
    seen = seen[seen["first_touch_at"] >= seen["assigned_at"].fillna(seen["first_touch_at"])]
    if seen.empty:
        return seen
    rows = [
        {"l": lid, "t": at.to_pydatetime()}
        for lid, at in zip(seen["lead_id"], seen["first_touch_at"], strict=True)
    ]
    with store.transaction() as conn:
        conn.execute(
            update(decisions)
            .where(
                decisions.c.source == source,
                decisions.c.lead_id == bindparam("l"),
                decisions.c.first_touch_at.is_(None),
            )
            .values(first_touch_at=bindparam("t")),
            rows,
        )
        conn.execute(
            sla_events.insert(),
            [
                {
                    "source": source,
                    "lead_id": r.lead_id,
                    "kind": "touch",
                    "tier": r.tier,
                    "owner_id": r.owner_id,
                    "at": r.first_touch_at.to_pydatetime(),
                    "detail": {"late": bool(r.first_touch_at > r.sla_due_at)},
                }
                for r in seen.itertuples(index=False)
            ],
        )
    return seen


def breached(clocks: pd.DataFrame, touched: pd.DataFrame, now: datetime) -> list[str]:
    """Leads past their due time with no touch: their owner let the SLA lapse."""
    late = clocks[(clocks["sla_due_at"] < pd.Timestamp(now)) & ~clocks["lead_id"].isin(touched["lead_id"])]
    return late["lead_id"].tolist()


def fresh_rejections(store: Store, source: str, found: pd.DataFrame) -> dict[str, str]:
    """lead -> rep, for rejections read from the CRM (REJECTION_COLUMNS) that still mean something: made by the
    lead's current owner after they got it, and not acted on yet (a lead nobody else could take stays with the
    rep who rejected it, and must not escalate again every minute)."""
    if found.empty:
        return {}
    ids = found["lead_id"].astype(str).unique().tolist()
    owned = select(
        decisions.c.lead_id,
        decisions.c.owner_id,
        func.coalesce(decisions.c.assigned_at, decisions.c.decided_at),
    ).where(
        decisions.c.source == source, decisions.c.status == Status.WRITTEN.value, decisions.c.lead_id.in_(ids)
    )
    acted = select(sla_events.c.lead_id, sla_events.c.owner_id).where(
        sla_events.c.source == source, sla_events.c.kind == "reject", sla_events.c.lead_id.in_(ids)
    )
    with store.engine.connect() as conn:
        current = pd.DataFrame(conn.execute(owned).all(), columns=["lead_id", "owner_id", "since"])
        done = pd.DataFrame(conn.execute(acted).all(), columns=["lead_id", "owner_id"])
    current["since"] = pd.to_datetime(current["since"], utc=True)
    found = found.astype({"lead_id": str, "owner_id": str}).merge(current, on=["lead_id", "owner_id"])
    found = found[found["rejected_at"] >= found["since"]]
    found = found.merge(done.assign(acted=True), on=["lead_id", "owner_id"], how="left")
    return dict(found.loc[found["acted"].isna(), ["lead_id", "owner_id"]].itertuples(index=False, name=None))
