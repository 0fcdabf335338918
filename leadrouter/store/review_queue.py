"""The review queue: leads waiting for a person to pick the tier or the owner, and how each was resolved."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Row, select, update

from leadrouter.store.engine import Store
from leadrouter.store.tables import review_queue

LIST_COLUMNS = [
    "source", "lead_id", "created_at", "due_at", "escalated_at", "escalated_to", "resolved_at", "reason",
    "suggested_tier", "confidence",
]  # fmt: skip
ESCALATED_COLUMNS = ["lead_id", "due_at", "escalated_to"]


def enqueue(conn: Connection, source: str, items: pd.DataFrame, at: datetime, due_in: timedelta) -> None:
    """Queue leads for review as of `at`, each due `due_in` later (items: lead_id, reason, suggested_tier,
    confidence)."""
    if items.empty:
        return
    items = items.reindex(columns=["lead_id", "reason", "suggested_tier", "confidence"])
    items = items.astype(object).where(items.notna(), None)
    conn.execute(
        review_queue.insert(),
        [
            {
                "source": source,
                "lead_id": r.lead_id,
                "reason": r.reason,
                "created_at": at,
                "due_at": at + due_in,
                "suggested_tier": r.suggested_tier,
                "confidence": None if r.confidence is None else float(r.confidence),
            }
            for r in items.itertuples(index=False)
        ],
    )


def list_items(
    store: Store, source: str | None, include_resolved: bool, late_at: datetime | None = None
) -> pd.DataFrame:
    """The queue's items (LIST_COLUMNS), oldest first; with late_at, only open items due before then."""
    query = select(*(review_queue.c[c] for c in LIST_COLUMNS)).order_by(
        review_queue.c.created_at, review_queue.c.id
    )
    if source:
        query = query.where(review_queue.c.source == source)
    if not include_resolved or late_at is not None:
        query = query.where(review_queue.c.resolved_at.is_(None))
    if late_at is not None:
        query = query.where(review_queue.c.due_at < late_at)
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=LIST_COLUMNS)


def lock_item(conn: Connection, source: str, lead_id: str) -> Row | None:
    """The lead's review row, locked until the transaction ends; None if it was never queued."""
    return conn.execute(
        select(review_queue)
        .where(review_queue.c.source == source, review_queue.c.lead_id == lead_id)
        .with_for_update()
    ).first()


def close_item(conn: Connection, item_id: int, at: datetime, resolution: dict[str, Any]) -> None:
    """Mark the review row resolved at `at`, with what was decided."""
    conn.execute(
        update(review_queue).where(review_queue.c.id == item_id).values(resolved_at=at, resolution=resolution)
    )


def escalate_overdue(store: Store, source: str, to: str, now: datetime) -> pd.DataFrame:
    """Mark every open item of the source past its due time and not escalated yet as escalated to `to`;
    returns them (ESCALATED_COLUMNS)."""
    with store.transaction() as conn:
        rows = conn.execute(
            update(review_queue)
            .where(
                review_queue.c.source == source,
                review_queue.c.resolved_at.is_(None),
                review_queue.c.escalated_at.is_(None),
                review_queue.c.due_at < now,
            )
            .values(escalated_at=now, escalated_to=to)
            .returning(*(review_queue.c[c] for c in ESCALATED_COLUMNS))
        ).all()
    return pd.DataFrame(rows, columns=ESCALATED_COLUMNS)
