"""SLA clocks: the decisions' clock columns (sla_due_at, first_touch_at) and the sla_events rows.

Re-routing after a breach or a rejection writes its own events inside the routing transaction
(leadrouter.reroute)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Row, bindparam, func, select, update

from leadrouter.schema import Status
from leadrouter.store.engine import Store
from leadrouter.store.tables import decisions, sla_events

CLOCK_COLUMNS = ["lead_id", "owner_id", "tier", "sla_due_at", "assigned_at"]


def running_clocks(
    store: Store, source: str, statuses: list[str], clocked_only: bool = True, since: datetime | None = None
) -> pd.DataFrame:
    """CLOCK_COLUMNS of the source's leads in `statuses` that have a due time (any, unless clocked_only) and no
    first touch yet; decided since `since` when given."""
    query = select(*(decisions.c[c] for c in CLOCK_COLUMNS)).where(
        decisions.c.source == source,
        decisions.c.status.in_(statuses),
        decisions.c.first_touch_at.is_(None),
        *([decisions.c.sla_due_at.is_not(None)] if clocked_only else []),
        *([decisions.c.decided_at >= since] if since is not None else []),
    )
    with store.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=CLOCK_COLUMNS)
    for column in ("sla_due_at", "assigned_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def record_first_touches(store: Store, source: str, touched: pd.DataFrame) -> None:
    """In one transaction: first_touch_at on each lead not touched before, and a touch event per lead.
    touched: lead_id, tier, owner_id, first_touch_at, late (null for a lead without a response clock)."""
    stamps = [
        {"l": lid, "t": at.to_pydatetime()}
        for lid, at in zip(touched["lead_id"], touched["first_touch_at"], strict=True)
    ]
    events = [
        {
            "source": source,
            "lead_id": r.lead_id,
            "kind": "touch",
            "tier": r.tier,
            "owner_id": r.owner_id,
            "at": r.first_touch_at.to_pydatetime(),
            "detail": {"late": None if pd.isna(r.late) else bool(r.late)},  # None: no response clock
        }
        for r in touched.itertuples(index=False)
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
            stamps,
        )
        conn.execute(sla_events.insert(), events)


def owners_and_rejections(
    store: Store, source: str, lead_ids: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For these leads, read together: each written lead's owner and since when they have it (lead_id, owner_id,
    since), and the rejections already acted on (lead_id, owner_id)."""
    owned = select(
        decisions.c.lead_id,
        decisions.c.owner_id,
        func.coalesce(decisions.c.assigned_at, decisions.c.decided_at),
    ).where(
        decisions.c.source == source,
        decisions.c.status == Status.WRITTEN.value,
        decisions.c.lead_id.in_(lead_ids),
    )
    acted = select(sla_events.c.lead_id, sla_events.c.owner_id).where(
        sla_events.c.source == source, sla_events.c.kind == "reject", sla_events.c.lead_id.in_(lead_ids)
    )
    with store.engine.connect() as conn:
        current = pd.DataFrame(conn.execute(owned).all(), columns=["lead_id", "owner_id", "since"])
        done = pd.DataFrame(conn.execute(acted).all(), columns=["lead_id", "owner_id"])
    current["since"] = pd.to_datetime(current["since"], utc=True)
    return current, done


def events_since(store: Store, source: str, since: datetime) -> pd.DataFrame:
    """The source's SLA events (lead_id, kind, at) from `since` on."""
    query = select(sla_events.c.lead_id, sla_events.c.kind, sla_events.c.at).where(
        sla_events.c.source == source, sla_events.c.at >= since
    )
    with store.engine.connect() as conn:
        events = pd.DataFrame(conn.execute(query).all(), columns=["lead_id", "kind", "at"])
    events["at"] = pd.to_datetime(events["at"], utc=True)
    return events


def insert_events(conn: Connection, events: list[dict]) -> None:
    """SLA events (breach, reject, reroute, escalation, …) in the caller's transaction."""
    if events:
        conn.execute(sla_events.insert(), events)


def lead_events(conn: Connection, source: str, lead_ids: list[str], kinds: list[str]) -> list[Row]:
    """(lead_id, owner_id, kind) of the leads' events of these kinds."""
    query = select(sla_events.c.lead_id, sla_events.c.owner_id, sla_events.c.kind).where(
        sla_events.c.source == source, sla_events.c.lead_id.in_(lead_ids), sla_events.c.kind.in_(kinds)
    )
    return list(conn.execute(query).all())


def escalations_since(store: Store, source: str, lead_ids: list[str], since: datetime) -> dict[str, str]:
    """lead -> the manager told, for the leads' escalations from `since` on (the latest of each lead)."""
    if not lead_ids:
        return {}
    query = (
        select(sla_events.c.lead_id, sla_events.c.new_owner_id)
        .where(
            sla_events.c.source == source,
            sla_events.c.kind == "escalation",
            sla_events.c.lead_id.in_(lead_ids),
            sla_events.c.at >= since,
        )
        .order_by(sla_events.c.at)
    )
    with store.engine.connect() as conn:
        return {lead: manager for lead, manager in conn.execute(query).all()}
