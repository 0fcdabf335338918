"""The notifications log: every message sent or tried, with its outcome."""

from __future__ import annotations

from leadrouter.store.engine import Store
from leadrouter.store.tables import notifications


def record_notifications(store: Store, rows: list[dict]) -> None:
    """Insert one row per message and channel (the notifications table's columns but id)."""
    if rows:
        with store.transaction() as conn:
            conn.execute(notifications.insert(), rows)
