"""The human review queue: leads the model was unsure of wait here until a person picks the tier or the owner.

A resolution turns the lead's decision into an ordinary one (status recorded, or shadow for a shadow run), so
the next write-back writes its owner like any other. The review row and the decision are locked for the whole
resolution: two people resolving the same lead at once make one decision, and the second gets a ReviewError.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Row

from leadrouter.assign.roster import Roster
from leadrouter.assign.turns import Turns, open_pools, take_turns
from leadrouter.classify.rules import DEFAULT_SLA, ResponseSla
from leadrouter.schema import CATEGORIES, TIER_PRIORITY, TIERS, Category, Status, Tier
from leadrouter.sla import due_times
from leadrouter.store import Store, review_queue
from leadrouter.store.decisions import is_shadow, lock_decision, set_decision


@dataclass(frozen=True)
class _ClockStart:
    """What starts the owner's response clock: who is who, the tiers' SLAs, and the moment of the resolution."""

    roster: Roster
    sla: dict[Tier, ResponseSla]
    at: datetime


@dataclass(frozen=True)
class Owner:
    owner_id: str
    pool: str | None  # None: a person chose the owner, no pool took a turn
    method: str  # review | round_robin | fallback:...


class ReviewError(ValueError):
    """A resolution that cannot be made; the message says why and what to do."""


class UnknownOwner(ReviewError):
    """The owner is neither a rep nor a queue of the roster."""


def open_items(
    store: Store,
    source: str | None,
    now: datetime,
    include_resolved: bool = False,
    late_only: bool = False,
) -> pd.DataFrame:
    """The review queue, oldest first (review_queue.LIST_COLUMNS + late: open and past its due time at `now`,
    the routing clock's moment)."""
    items = review_queue.list_items(store, source, include_resolved, now if late_only else None)
    for column in ("created_at", "due_at", "escalated_at", "resolved_at"):
        items[column] = pd.to_datetime(items[column], utc=True)  # SQLite hands back naive UTC stamps
    items["late"] = items["resolved_at"].isna() & (items["due_at"] < pd.Timestamp(now))
    return items


def assign_owner(
    store: Store,
    source: str,
    lead_id: str,
    owner_id: str,
    roster: Roster,
    tier: str | None = None,
    by: str | None = None,
    category: str | None = None,
    sla: dict[Tier, ResponseSla] | None = None,
    *,
    at: datetime,
) -> dict[str, Any]:
    """A person picks the owner: no round-robin turn is taken. The tier defaults to the model's suggestion.
    sla and at as for set_tier: the owner's response clock starts at `at`."""
    known = {r.key: r for r in roster.reps}
    if owner_id not in known and owner_id not in roster.queues:
        raise UnknownOwner(f"unknown owner {owner_id!r}: not a rep or queue id of the roster")
    if owner_id in known and not known[owner_id].active:
        raise ReviewError(f"rep {owner_id!r} ({known[owner_id].name}) is inactive in the roster")
    with store.transaction() as conn:
        item, decision = _lock_item(conn, source, lead_id)
        chosen = _tier(tier or item.suggested_tier, lead_id)
        owner = Owner(owner_id, pool=None, method="review")
        start = _ClockStart(roster, sla or dict(DEFAULT_SLA), at)
        return _resolve(
            conn, item, decision, chosen, _category(chosen, category), owner, _reviewer(by), start
        )


def set_tier(
    store: Store,
    source: str,
    lead_id: str,
    tier: str,
    roster: Roster,
    by: str | None = None,
    category: str | None = None,
    sla: dict[Tier, ResponseSla] | None = None,
    *,
    at: datetime,
) -> dict[str, Any]:
    """A person picks the tier; the owner comes from the tier's pool for the lead's region by round robin.

    sla: the rulebook's response SLAs (who is available; default: the seed's). at: the moment whose calendars
    count and the owner's response clock starts, the routing clock's (clock.routing_now): never the wall
    clock behind a set routing clock."""
    chosen = _tier(tier, lead_id)
    chosen_category = _category(chosen, category)
    # a decision's shadow flag never changes, so it can pick the pools' rows before the locking transaction
    shadow = is_shadow(store, source, lead_id)
    open_pools(store, roster, shadow)
    with store.transaction() as conn:
        item, decision = _lock_item(conn, source, lead_id)
        with take_turns(conn, roster, source, sla or dict(DEFAULT_SLA), shadow, at) as turns:
            owner = _round_robin_owner(turns, decision, chosen)
        start = _ClockStart(roster, sla or dict(DEFAULT_SLA), turns.moment.at)
        return _resolve(conn, item, decision, chosen, chosen_category, owner, _reviewer(by), start)


def escalate_overdue(store: Store, source: str, roster: Roster, now: datetime) -> pd.DataFrame:
    """Escalate every open item past its due time at `now` (the routing clock's moment) that was not escalated
    yet to the roster's escalation manager; returns review_queue.ESCALATED_COLUMNS. Without a manager nothing
    is marked: late items stay late (and listed by `review list --late`) until one is named."""
    if roster.escalation is None:
        return pd.DataFrame(columns=review_queue.ESCALATED_COLUMNS)
    escalated = review_queue.escalate_overdue(store, source, roster.escalation, now)
    escalated["due_at"] = pd.to_datetime(escalated["due_at"], utc=True)
    return escalated.sort_values(["due_at", "lead_id"], ignore_index=True)


def _lock_item(conn: Connection, source: str, lead_id: str) -> tuple[Row, Row]:
    """The open review row and its decision, locked until the transaction ends."""
    item = review_queue.lock_item(conn, source, lead_id)
    if item is None:
        raise ReviewError(f"lead {lead_id!r} is not in the review queue of {source!r}")
    if item.resolved_at is not None:
        by = (item.resolution or {}).get("by", "someone")
        raise ReviewError(
            f"lead {lead_id!r} was already resolved by {by} at {item.resolved_at:%Y-%m-%d %H:%M}"
        )
    decision = lock_decision(conn, source, lead_id)
    if decision is None or decision.status != Status.REVIEW.value:
        status = "none" if decision is None else decision.status
        raise ReviewError(f"lead {lead_id!r} has no decision waiting for review (its status: {status})")
    return item, decision


def _round_robin_owner(turns: Turns, decision: Row, tier: str) -> Owner:
    """The owner record_batch would give the lead at this tier: its pool by region, then a round-robin turn."""
    explanation = decision.explanation or {}
    # pool <NA>: chosen by tier and region, as for a routed lead without a rule's pool
    lead = pd.DataFrame(
        {
            "lead_id": [decision.lead_id],
            "created_at": [decision.lead_created_at],
            "tier": pd.array([tier], dtype="string"),
            "region": pd.array([explanation.get("region")], dtype="string"),
            "territory": pd.array([(explanation.get("enrichment") or {}).get("territory")], dtype="string"),
            "pool": pd.array([pd.NA], dtype="string"),
        }
    )
    row = turns.assign(lead).iloc[0]
    return Owner(row["owner_id"], None if pd.isna(row["pool"]) else row["pool"], row["assign_method"])


def _resolve(
    conn: Connection,
    item: Row,
    decision: Row,
    tier: str,
    category: str,
    owner: Owner,
    by: str,
    start: _ClockStart,
) -> dict[str, Any]:
    """Turn the review decision into an ordinary one and close the review row, inside the caller's lock. The
    owner's response clock starts at the resolution, as it does for a routed lead (none for a queue or a tier
    without an SLA)."""
    stamp = start.at
    at = stamp.isoformat()
    due = due_times(pd.Series([owner.owner_id]), pd.Series([tier]), stamp, start.roster, start.sla).iloc[0]
    decided_by = f"review:{by}"
    explanation = (decision.explanation or {}) | {
        "rule": decided_by,
        "pool": owner.pool,
        "method": owner.method,
        "summary": f"{decided_by} → pool {owner.pool or '-'} → {owner.method}",
        "review": {"by": by, "at": at, "tier": tier, "owner": owner.owner_id, "previous_reason": item.reason},
    }  # fmt: skip
    status = (Status.SHADOW if decision.shadow else Status.RECORDED).value  # shadow leads are never written
    set_decision(
        conn,
        decision.id,
        {
            "status": status,
            "tier": tier,
            "category": category,
            "priority": TIER_PRIORITY[tier],
            "decided_by": decided_by,
            "owner_id": owner.owner_id,
            "pool": owner.pool,
            "explanation": explanation,
            "decided_at": stamp,  # the owner's response clock starts now, not when the lead was queued
            "assigned_at": stamp,
            "sla_due_at": None if pd.isna(due) else due.to_pydatetime(),
        },
    )
    resolution = {
        "tier": tier, "category": category, "owner_id": owner.owner_id, "by": by, "at": at, "method": owner.method,
    }  # fmt: skip
    review_queue.close_item(conn, item.id, stamp, resolution)
    return {"lead_id": decision.lead_id, "status": status, "pool": owner.pool, **resolution}


def _tier(tier: str | None, lead_id: str) -> str:
    if tier is None:
        raise ReviewError(
            f"lead {lead_id!r} has no suggested tier: choose one with --tier ({', '.join(TIERS)})"
        )
    by_name = {t.lower(): t for t in TIERS}
    if tier.lower() not in by_name:
        raise ReviewError(f"unknown tier {tier!r}: one of {', '.join(TIERS)}")
    return by_name[tier.lower()]


def _category(tier: str, category: str | None) -> str:
    """Sales tiers are sales leads; Other needs the reviewer to say which kind, so reports stay true."""
    others = [c for c in CATEGORIES if c != Category.SALES]
    if tier != Tier.OTHER:
        if category not in (None, Category.SALES.value):
            raise ReviewError(f"category {category!r} is only for tier Other: a {tier} lead is a sales lead")
        return Category.SALES.value
    if category is None or category.lower() not in others:
        raise ReviewError(f"tier Other needs a category (--category): one of {', '.join(others)}")
    return category.lower()


def _reviewer(by: str | None) -> str:
    # decided_by holds 80 characters, "review:" included
    return (by or os.environ.get("USER") or "cli")[:72]
