"""Decisions: one row per lead, from routing through review and re-routing to the CRM write.

Functions taking a Connection run inside the caller's transaction; those taking a Store open their own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Text,
    and_,
    bindparam,
    cast,
    func,
    select,
    text,
    update,
)

from leadrouter.crm.base import chunks
from leadrouter.schema import Status
from leadrouter.store.engine import Store
from leadrouter.store.statements import CHUNK, among, insert_columns
from leadrouter.store.tables import decisions


def decided_ids(conn: Connection, source: str, lead_ids: Iterable[str]) -> set[str]:
    """The lead ids that already have a decision in the source."""
    found: set[str] = set()
    for part in chunks(list(lead_ids), CHUNK):
        rows = conn.execute(
            select(decisions.c.lead_id).where(
                decisions.c.source == source, among(conn, decisions.c.lead_id, part)
            )
        )
        found.update(r[0] for r in rows)
    return found


def undecided(store: Store, source: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of frame whose lead has no decision yet (re-pulled leads, e.g. after our own owner write)."""
    with store.engine.connect() as conn:
        seen = decided_ids(conn, source, frame["lead_id"].dropna())
    return frame[~frame["lead_id"].isin(seen)].reset_index(drop=True)


def insert_decisions(conn: Connection, parts: Iterable[dict[str, list]]) -> None:
    """Insert new decisions given in parts, each column by column (see insert_columns)."""
    insert_columns(conn, decisions, parts)


def lead_decisions(store: Store, lead_id: str, source: str | None = None) -> list[Row]:
    """Every decision on the lead (one per source it came from, or the given source's), oldest first."""
    query = select(decisions).where(decisions.c.lead_id == lead_id)
    if source:
        query = query.where(decisions.c.source == source)
    with store.engine.connect() as conn:
        return list(conn.execute(query.order_by(decisions.c.id)).all())


def is_shadow(store: Store, source: str, lead_id: str) -> bool:
    """Whether the lead was decided by a shadow run (a decision's shadow flag never changes)."""
    with store.engine.connect() as conn:
        query = select(decisions.c.shadow).where(decisions.c.source == source, decisions.c.lead_id == lead_id)
        return bool(conn.execute(query).scalar())


def lock_decision(conn: Connection, source: str, lead_id: str) -> Row | None:
    """The lead's decision, locked until the transaction ends; None if it has none."""
    return conn.execute(
        select(decisions)
        .where(decisions.c.source == source, decisions.c.lead_id == lead_id)
        .with_for_update()
    ).first()


def set_decision(conn: Connection, decision_id: int, values: dict[str, Any]) -> None:
    """Overwrite columns of one decision (a review's resolution)."""
    conn.execute(update(decisions).where(decisions.c.id == decision_id).values(**values))


REROUTABLE = [Status.RECORDED.value, Status.WRITING.value, Status.WRITTEN.value, Status.WRITE_FAILED.value]


def lock_routed(
    conn: Connection,
    source: str,
    lead_ids: list[str],
    breached_at: datetime | None = None,
    untouched: bool = False,
) -> list[Row]:
    """The leads' routed decisions with a tier, locked, in decision order. With breached_at, only those whose
    SLA lapsed by then (written, untouched, past due); with untouched, only those nobody touched yet: checked
    under the lock, so a stale list never moves a lead twice."""
    breach = breached_at is not None
    return conn.execute(
        select(
            decisions.c.lead_id,
            decisions.c.tier,
            decisions.c.owner_id,
            decisions.c.pool,
            decisions.c.explanation,
            decisions.c.lead_created_at,
        )
        .where(
            decisions.c.source == source,
            decisions.c.lead_id.in_(lead_ids),
            decisions.c.status.in_([Status.WRITTEN.value] if breach else REROUTABLE),
            decisions.c.tier.is_not(None),
            *([decisions.c.first_touch_at.is_(None), decisions.c.sla_due_at < breached_at] if breach else []),
            *([decisions.c.first_touch_at.is_(None)] if untouched else []),
        )
        .order_by(decisions.c.id)
        .with_for_update()
    ).all()


def owned_leads(
    store: Store, source: str, owner_ids: list[str], include_touched: bool = False
) -> pd.DataFrame:
    """The routed leads these owners hold (untouched only, unless asked): lead_id, owner_id, tier, pool,
    touched, in decision order."""
    query = select(
        decisions.c.lead_id,
        decisions.c.owner_id,
        decisions.c.tier,
        decisions.c.pool,
        decisions.c.first_touch_at.is_not(None).label("touched"),
    ).where(
        decisions.c.source == source,
        decisions.c.owner_id.in_(owner_ids),
        decisions.c.status.in_(REROUTABLE),
        decisions.c.tier.is_not(None),
    )
    if not include_touched:
        query = query.where(decisions.c.first_touch_at.is_(None))
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(decisions.c.id)).all()
    return pd.DataFrame(rows, columns=["lead_id", "owner_id", "tier", "pool", "touched"])


def owner_decisions(store: Store, source: str, owner_id: str, since: datetime) -> pd.DataFrame:
    """The owner's routed decisions since `since`: lead_id, tier, pool, status, decided_at, touched."""
    query = select(
        decisions.c.lead_id,
        decisions.c.tier,
        decisions.c.pool,
        decisions.c.status,
        decisions.c.decided_at,
        decisions.c.first_touch_at.is_not(None).label("touched"),
    ).where(
        decisions.c.source == source,
        decisions.c.owner_id == owner_id,
        decisions.c.status.in_(REROUTABLE),
        decisions.c.decided_at >= since,
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(decisions.c.decided_at, decisions.c.id)).all()
    return pd.DataFrame(rows, columns=["lead_id", "tier", "pool", "status", "decided_at", "touched"])


def reassign(conn: Connection, source: str, owners: list[dict[str, Any]], at: datetime) -> None:
    """Give leads new owners as of `at` (owners: lead_id, owner_id, pool, explanation, sla_due_at each),
    recorded again so the next write-back writes them; the new owner's clock has no touch yet."""
    conn.execute(
        update(decisions)
        .where(decisions.c.source == source, decisions.c.lead_id == bindparam("l"))
        .values(
            owner_id=bindparam("owner_id"),
            pool=bindparam("pool"),
            explanation=bindparam("explanation"),
            sla_due_at=bindparam("sla_due_at"),
            status=Status.RECORDED.value,
            assigned_at=at,
            first_touch_at=None,
            claim=None,
        ),
        [{"l": o["lead_id"], **{k: v for k, v in o.items() if k != "lead_id"}} for o in owners],
    )


def clear_due_times(conn: Connection, source: str, lead_ids: list[str]) -> None:
    """The leads keep their owner but have no SLA due time any more."""
    conn.execute(
        update(decisions)
        .where(decisions.c.source == source, decisions.c.lead_id.in_(lead_ids))
        .values(sla_due_at=None)
    )


OPEN_DAYS = 30  # an untouched lead older than this no longer counts against its owner's open-lead cap
LIVE_ROUTED = [Status.RECORDED.value, Status.WRITING.value, Status.WRITTEN.value]


def owner_load(
    conn: Connection, source: str, shadow: bool, day_starts: pd.Series, at: datetime
) -> pd.DataFrame:
    """Per owner id: assigned_today (since their local midnight, day_starts: owner id -> UTC instant), open
    (routed to them, no first touch yet, within OPEN_DAYS) and pipeline (those leads' expected value). Read inside the routing transaction, after
    the round-robin locks, so a concurrent router's committed leads count."""
    statuses = [Status.SHADOW.value] if shadow else LIVE_ROUTED
    routed = and_(decisions.c.source == source, decisions.c.status.in_(statuses))
    count = select(decisions.c.owner_id, func.count()).where(routed).group_by(decisions.c.owner_id)
    today: dict[str, int] = {}
    for start, owners in day_starts.groupby(day_starts).groups.items():
        since = count.where(
            decisions.c.decided_at >= start.to_pydatetime(), decisions.c.owner_id.in_(list(owners))
        )
        today.update(conn.execute(since).all())
    fresh = and_(
        routed,
        decisions.c.first_touch_at.is_(None),
        decisions.c.decided_at >= at - timedelta(days=OPEN_DAYS),
    )
    value = func.coalesce(func.sum(decisions.c.expected_value), 0.0)
    untouched = select(decisions.c.owner_id, func.count(), value).where(fresh).group_by(decisions.c.owner_id)
    rows = conn.execute(untouched).all()
    frame = pd.DataFrame(
        {
            "assigned_today": pd.Series(today, dtype=float),
            "open": pd.Series({r[0]: r[1] for r in rows}, dtype=float),
            "pipeline": pd.Series({r[0]: r[2] for r in rows}, dtype=float),
        }
    )
    return frame.fillna(0)


def status_counts(store: Store, source: str, run_id: str | None = None) -> dict[str, int]:
    """Decisions per status, of the source (or of one run)."""
    query = select(decisions.c.status, func.count()).where(decisions.c.source == source)
    if run_id:
        query = query.where(decisions.c.run_id == run_id)
    with store.engine.connect() as conn:
        return dict(conn.execute(query.group_by(decisions.c.status)).all())


def run_tally(store: Store, source: str, run_id: str) -> pd.DataFrame:
    """A run's decisions counted in the database by the facts its summary reports: one row per distinct status,
    tier, owner, decider, method, reps passed over (JSON text), enrichment failure, account match, model
    outcome, language and skills matched, with `leads` (how many) and the sums of `model_cost_usd` and the prompt-cache tokens (null where no
    decision knows them). Fetching 100,000 decisions to count them took seconds."""
    facts = [
        decisions.c.status,
        decisions.c.tier,
        decisions.c.owner_id,
        decisions.c.decided_by,
        *(fact.label(name) for name, fact in zip(EXPLAINED, _explanation_facts(), strict=True)),
        decisions.c.model_outcome,
        decisions.c.language,
        decisions.c.skills_matched,
    ]
    sums = [
        func.sum(decisions.c[name]).label(name)
        for name in ("model_cost_usd", "model_cache_write_tokens", "model_cache_read_tokens")
    ]
    query = (
        select(*facts, func.count().label("leads"), *sums)
        .where(decisions.c.source == source, decisions.c.run_id == run_id)
        .group_by(*facts)
    )
    with store.engine.connect() as conn:
        if store.is_postgres:
            # a run's tallies are a few hundred: hashed, not its 100,000 rows sorted (to disk), which is what
            # the planner picks on a ledger a backlog has just filled and nothing has analysed: 0.35 s -> 0.19
            conn.execute(text("SET LOCAL enable_sort = off"))
        return pd.DataFrame(
            conn.execute(query).all(), columns=[*(f.name for f in facts), "leads", *(s.name for s in sums)]
        )


EXPLAINED = ["method", "excluded", "enrichment_failed", "matched"]  # the tally's facts read from explanations


def _explanation_facts() -> list[ColumnElement]:
    """The EXPLAINED facts of a decision (the reps passed over as JSON text: grouped by their text). On
    PostgreSQL the explanation is jsonb, so each is a lookup in the parsed value, not a parse of the text."""
    why = decisions.c.explanation
    return [
        why["method"].as_string(),
        cast(why["excluded"], Text),
        why[("enrichment", "enrichment_failed")].as_boolean(),
        why[("enrichment", "account_id")].as_string().is_not(None),
    ]


def decided_custom_fields(store: Store, source: str) -> pd.DataFrame:
    """lead_id and custom_fields (a dict, or None) of every decision of the source."""
    query = select(decisions.c.lead_id, decisions.c.custom_fields).where(decisions.c.source == source)
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=["lead_id", "custom_fields"])
