"""Watermarks: how far each source (and each CRM feed read by cursor) has been pulled."""

from __future__ import annotations

from sqlalchemy import select, update

from leadrouter import clock
from leadrouter.store.engine import Store
from leadrouter.store.statements import insert_ignoring_duplicates
from leadrouter.store.tables import watermarks


def get_watermark(store: Store, source: str) -> str | None:
    """The source's cursor, or None before its first pull."""
    with store.engine.connect() as conn:
        return conn.execute(select(watermarks.c.cursor).where(watermarks.c.source == source)).scalar() or None


def advance_watermark(store: Store, source: str, cursor: str | None) -> None:
    """Move the source's cursor forward; never backwards (a slower router may finish second)."""
    if cursor is None:
        return
    with store.transaction() as conn:
        conn.execute(
            insert_ignoring_duplicates(store, watermarks),
            {"source": source, "cursor": "", "updated_at": clock.now()},
        )
        current = conn.execute(
            select(watermarks.c.cursor).where(watermarks.c.source == source).with_for_update()
        ).scalar()
        if cursor > current:
            conn.execute(
                update(watermarks)
                .where(watermarks.c.source == source)
                .values(cursor=cursor, updated_at=clock.now())
            )
