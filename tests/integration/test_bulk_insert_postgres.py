"""The ledger's bulk insert on PostgreSQL (COPY): the same rows, types and errors as an INSERT gives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
            insert_decisions(conn, [columns(["L1", "L2"], at)])
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
            insert_decisions(conn, [columns(["L1"], at)])
        with pytest.raises(IntegrityError, match="duplicate key"), store.transaction() as conn:
            insert_decisions(conn, [columns(["L2", "L1"], at)])
        with store.snapshot() as conn:
            assert conn.execute(select(decisions.c.lead_id)).scalars().all() == ["L1"]


def test_copy_buffers_give_the_rows_an_insert_gives_for_every_kind_of_value(pg_store_url: str) -> None:
    at = datetime(2026, 12, 5, 4, 0, 0, 123456, tzinfo=UTC)
    text = 'tab\there, line\nbreak\r\n, back\\slash, "quotes", \\N and ünïcode'
    values = {
        "status": ["recorded", "recorded", "recorded"],
        "shadow": [False, True, False],
        "decided_at": [at, at, at],
        "write_attempts": [0, 2, 0],
        "priority": [None, 1, None],
        "confidence": [0.1, float("nan"), 1e-9],
        "pool": [text, None, ""],
        "lead_created_at": [None, None, None],
        "explanation": [{"summary": text, "skills": ["de", 1.5, None]}, None, {}],
        "custom_fields": [{"n": 1}, {"n": 2.5}, None],
    }
    with open_store(pg_store_url) as store:
        with store.transaction() as conn:
            insert_decisions(conn, [{"source": ["copy"] * 3, "lead_id": ["L1", "L2", "L3"], **values}])
            conn.execute(
                decisions.insert(),
                [
                    {"source": "insert", "lead_id": lead} | {k: v[i] for k, v in values.items()}
                    for i, lead in enumerate(["L1", "L2", "L3"])
                ],
            )
        with store.snapshot() as conn:
            rows = (
                conn.execute(select(decisions).order_by(decisions.c.lead_id, decisions.c.source))
                .mappings()
                .all()
            )

    def comparable(row: dict) -> dict:
        kept = {k: v for k, v in row.items() if k not in ("id", "source")}
        return kept | {"confidence": repr(kept["confidence"])}  # nan != nan

    copied = [comparable(r) for r in rows if r["source"] == "copy"]
    inserted = [comparable(r) for r in rows if r["source"] == "insert"]
    assert len(copied) == 3
    assert copied == inserted
    assert copied[0]["pool"] == text
    assert copied[0]["explanation"] == {"summary": text, "skills": ["de", 1.5, None]}


def test_a_column_of_mixed_kinds_still_copies_row_by_row(pg_store_url: str) -> None:
    at = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
    with open_store(pg_store_url) as store:
        with store.transaction() as conn:
            # an int beside a float: no one text rendering, psycopg's dumpers take each value
            insert_decisions(conn, [columns(["M1", "M2"], at) | {"confidence": [1, 0.5]}])
        with store.snapshot() as conn:
            got = conn.execute(
                select(decisions.c.lead_id, decisions.c.confidence).order_by(decisions.c.lead_id)
            ).all()
    assert [tuple(r) for r in got] == [("M1", 1.0), ("M2", 0.5)]


# text as lead data may carry it (NUL aside: PostgreSQL text holds none, either way): COPY's CSV quote, comma,
# backslash, line breaks and the end-of-data marker \. on a line of its own, which a row must never start with
PIECES = ["a", "ü", "日", "😀", ",", '"', "\\", ".", "\\.", "\n", "\r", "\r\n", "\t", " ", "N"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=8).map("".join) | st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8
)
INSTANT = datetime(2026, 12, 5, 4, 0, 0, 123456, tzinfo=UTC)
STAMPS = st.sampled_from(
    [INSTANT, INSTANT.astimezone(timezone(timedelta(hours=-5))), datetime(2026, 1, 2, 3, 4, 5)]
) | st.datetimes(timezones=st.just(UTC) | st.none())
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
# each column's values: one kind (Arrow's path), or kinds mixed (psycopg's dumpers), with nulls
KINDS: dict[str, st.SearchStrategy] = {
    "pool": TEXT,
    "score_reasons": TEXT | st.integers(0, 9),
    "priority": st.integers(-(2**31), 2**31 - 1),
    "employees": st.integers(-(2**63), 2**63 - 1),
    "confidence": st.floats() | st.integers(-(2**53), 2**53),
    "shadow": st.booleans(),
    "lead_created_at": STAMPS,
    "explanation": JSON,
    "custom_fields": st.dictionaries(TEXT, JSON, max_size=2),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_copy_stores_what_an_insert_stores_for_any_values(pg_store_url: str, data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 6), label="rows")
    drawn = {
        name: data.draw(st.lists(st.none() | kind, min_size=n, max_size=n), label=name)
        for name, kind in KINDS.items()
    }
    drawn["shadow"] = [bool(v) for v in drawn["shadow"]]  # not nullable
    key = uuid.uuid4().hex[:8]  # each example's own leads: hypothesis reuses the test's database
    values = drawn | {"status": ["recorded"] * n, "decided_at": [INSTANT] * n, "write_attempts": [0] * n}
    leads = [f"{key}-{i}" for i in range(n)]
    with open_store(pg_store_url) as store:
        with store.transaction() as conn:
            # a plain stamp is read in the session's time zone, whichever way it is sent
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'America/New_York'")
            insert_decisions(conn, [{"source": ["copy"] * n, "lead_id": leads, **values}])
            rows = [{k: v[i] for k, v in values.items()} for i in range(n)]
            conn.execute(
                decisions.insert(),
                [{"source": "insert", "lead_id": lead} | row for lead, row in zip(leads, rows, strict=True)],
            )
        with store.snapshot() as conn:
            stored = (
                conn.execute(
                    select(decisions).where(decisions.c.lead_id.in_(leads)).order_by(decisions.c.lead_id)
                )
                .mappings()
                .all()
            )

    def comparable(row: dict) -> dict:
        return {k: repr(v) for k, v in row.items() if k not in ("id", "source")}  # repr: nan, -0.0

    copied = [comparable(r) for r in stored if r["source"] == "copy"]
    assert len(copied) == n
    assert copied == [comparable(r) for r in stored if r["source"] == "insert"]
