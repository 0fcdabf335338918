"""The ledger's bulk insert on PostgreSQL (COPY): the same rows, types and errors as an INSERT gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from leadrouter.store import open_store
from leadrouter.store.decisions import insert_decisions
from leadrouter.store.tables import decisions


def columns(lead_ids: list[str], at: datetime) -> dict[str, list]:
    n = len(lead_ids)
    return {
        "source": ["sandbox"] * n,
        "lead_id": lead_ids,
        "status": ["recorded"] * n,
        "shadow": [False] * n,
        "decided_at": [at] * n,
        "write_attempts": [0] * n,
        "priority": [3, None][:n],
        "confidence": [0.75, None][:n],
        # lead text is data: quotes, tabs, newlines, backslashes and a NUL survive the copy as they came
        "explanation": [{"summary": 'a "tab"\there\nand \\ back\x00slash'}, None][:n],
    }


def test_copy_writes_every_value_as_an_insert_would(pg_store_url: str) -> None:
    at = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
    with open_store(pg_store_url) as store:
        with store.transaction() as conn:
            insert_decisions(conn, columns(["L1", "L2"], at))
        with store.snapshot() as conn:
            rows = conn.execute(
                select(
                    decisions.c.lead_id,
                    decisions.c.priority,
                    decisions.c.confidence,
                    decisions.c.explanation,
                    decisions.c.decided_at,
                    decisions.c.shadow,
                ).order_by(decisions.c.lead_id)
            ).all()
    assert [tuple(r) for r in rows] == [
        ("L1", 3, 0.75, {"summary": 'a "tab"\there\nand \\ back\ufffdslash'}, at, False),
        ("L2", None, None, None, at, False),
    ]


def test_a_lead_decided_twice_fails_the_copy_as_an_insert_fails_and_keeps_nothing(pg_store_url: str) -> None:
    at = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
    with open_store(pg_store_url) as store:
        with store.transaction() as conn:
            insert_decisions(conn, columns(["L1"], at))
        with pytest.raises(IntegrityError, match="duplicate key"), store.transaction() as conn:
            insert_decisions(conn, columns(["L2", "L1"], at))
        with store.snapshot() as conn:
            assert conn.execute(select(decisions.c.lead_id)).scalars().all() == ["L1"]
