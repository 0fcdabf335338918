"""The quarantine: rows validation stopped, listed for a person to fix in the CRM and released to route again."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, and_, delete, exists, select, update

from leadrouter import clock
from leadrouter.schema import Status
from leadrouter.store.engine import Store
from leadrouter.store.tables import decisions, quarantine

LIST_COLUMNS = ["source", "lead_id", "created_at", "released_at", "reason"]


def quarantined(store: Store, source: str | None = None, include_released: bool = False) -> pd.DataFrame:
    """The quarantine, oldest first: source, lead_id, created_at, released_at, reason (escaped excerpts)."""
    query = select(*(quarantine.c[c] for c in LIST_COLUMNS)).order_by(
        quarantine.c.created_at, quarantine.c.id
    )
    if source:
        query = query.where(quarantine.c.source == source)
    if not include_released:
        query = query.where(quarantine.c.released_at.is_(None))
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=LIST_COLUMNS)


def release(store: Store, source: str, lead_id: str) -> bool:
    """Forget the quarantine decision so the next run fetches the lead again; False if it was not quarantined."""
    with store.transaction() as conn:
        released = conn.execute(
            update(quarantine)
            .where(
                quarantine.c.source == source,
                quarantine.c.lead_id == lead_id,
                quarantine.c.released_at.is_(None),
            )
            .values(released_at=clock.now())
        ).rowcount
        conn.execute(
            delete(decisions).where(
                decisions.c.source == source,
                decisions.c.lead_id == lead_id,
                decisions.c.status == Status.QUARANTINED.value,
            )
        )
    return bool(released)


def released_undecided(store: Store, source: str) -> list[str]:
    """Released leads no run has decided again yet: the next pull fetches them by id."""
    decided = exists().where(
        and_(decisions.c.source == quarantine.c.source, decisions.c.lead_id == quarantine.c.lead_id)
    )
    query = select(quarantine.c.lead_id).where(
        quarantine.c.source == source, quarantine.c.released_at.is_not(None), ~decided
    )
    with store.engine.connect() as conn:
        return [row[0] for row in conn.execute(query)]


def record_verdicts(conn: Connection, source: str, quarantined: pd.DataFrame, stamp: datetime) -> None:
    """A batch's quarantine verdicts (lead_id, reason, reasons), in the caller's transaction."""
    # undecided leads: any row they still have is a released one, replaced by this verdict
    conn.execute(
        delete(quarantine).where(
            quarantine.c.source == source, quarantine.c.lead_id.in_(quarantined["lead_id"].tolist())
        )
    )
    conn.execute(
        quarantine.insert(),
        [
            {
                "source": source,
                "lead_id": lid,
                "reason": reason,
                "reasons": reasons,
                "created_at": stamp,
            }
            for lid, reason, reasons in zip(
                quarantined["lead_id"], quarantined["reason"], quarantined["reasons"], strict=True
            )
        ],
    )
