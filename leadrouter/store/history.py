"""Read-only views of routed history for the daily monitor and for retraining, outside any routing transaction."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import or_, select

from leadrouter.store.engine import Store
from leadrouter.store.tables import decisions

STAMPS = ["decided_at", "assigned_at", "first_touch_at", "sla_due_at"]


def decisions_between(
    store: Store, source: str, since: datetime, until: datetime, columns: list[str]
) -> pd.DataFrame:
    """`columns` of the source's decisions made in [since, until), time stamps in UTC."""
    query = select(*(decisions.c[c] for c in columns)).where(
        decisions.c.source == source, decisions.c.decided_at >= since, decisions.c.decided_at < until
    )
    with store.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=columns)
    for column in (c for c in STAMPS if c in columns):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def decided_labels(store: Store, source: str) -> pd.DataFrame:
    """lead_id, tier, category, decided_by of every lead a rule or a person decided (model decisions are not
    labels: a model must not learn from itself)."""
    query = select(decisions.c.lead_id, decisions.c.tier, decisions.c.category, decisions.c.decided_by).where(
        decisions.c.source == source,
        decisions.c.tier.is_not(None),
        or_(decisions.c.decided_by.like("rule:%"), decisions.c.decided_by.like("review:%")),
    )
    with store.engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(query).mappings().all(), columns=["lead_id", "tier", "category", "decided_by"]
        )
