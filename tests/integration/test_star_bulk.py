"""The star schema's bulk writes (COPY on PostgreSQL, executemany on SQLite) keep every value as given: text
with tabs, newlines, backslashes and quotes, empty text apart from null, exact amounts, stamps in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from leadrouter.store import open_store
from leadrouter.store.star import bulk_insert
from leadrouter.store.tables import dim_calendar, fact_routed_leads

NASTY = ["tab\there", "line\nbreak\r\n", "back\\slash \\N", 'quote "x"', "", "Ünïcode ✓"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return request.getfixturevalue("pg_store_url")


def test_bulk_insert_keeps_every_value(store_url: str) -> None:
    n = len(NASTY) + 1
    at = pd.Timestamp("2026-11-25 16:30:00.123456", tz="UTC")
    frame = pd.DataFrame(
        {
            "source": "sandbox",
            "lead_id": [f"00Q{i}" for i in range(n)],
            "arrival_date": pd.to_datetime(["2026-11-25"] * n),
            "arrival_hour": 16,
            "owner_path": pd.array([*NASTY, None], dtype="string"),
            "decided_at": at,
            "first_touch_at": pd.Series([at] * (n - 1) + [pd.NaT], dtype="datetime64[us, UTC]"),
            "deal_amount": [1234.56] * (n - 1) + [None],
            "accepted": [True] * (n - 1) + [False],
            **dict.fromkeys(
                [
                    "sla_breached",
                    "reassigned",
                    "wrong_assignment",
                    "manual_triage",
                    "opportunity",
                    "won",
                    "closed",
                    "deal_final",
                ],
                False,
            ),
            "computed_at": at,
        }
    )
    with open_store(store_url) as store:
        with store.transaction() as conn:
            conn.execute(dim_calendar.insert(), [{"date": date(2026, 11, 25), "iso_week": date(2026, 11, 23),
                "month": date(2026, 11, 1), "quarter": "2026-Q4", "year": 2026, "day_of_week": 3,
                "fiscal_year": 2026, "fiscal_quarter": "FY2026-Q4", "fiscal_year_start_month": 1}])  # fmt: skip
            bulk_insert(conn, fact_routed_leads, frame)
        with store.engine.connect() as conn:
            rows = (
                conn.execute(select(fact_routed_leads).order_by(fact_routed_leads.c.lead_id)).mappings().all()
            )
    assert [r["owner_path"] for r in rows] == [*NASTY, None]
    assert rows[0]["decided_at"] == datetime(2026, 11, 25, 16, 30, 0, 123456, tzinfo=UTC)
    assert rows[-1]["first_touch_at"] is None and rows[-1]["deal_amount"] is None
    assert Decimal(str(rows[0]["deal_amount"])) == Decimal("1234.56")
    assert rows[0]["arrival_date"] == date(2026, 11, 25) and rows[0]["arrival_hour"] == 16
    assert [r["accepted"] for r in rows] == [True] * (n - 1) + [False]


def test_sqlite_stores_booleans_as_integers_and_nulls_as_null(tmp_path: Path) -> None:
    # bulk_insert binds a null as a float NaN and a boolean as 0/1: what lands must still be NULL and integer
    at = pd.Timestamp("2026-11-25 16:30", tz="UTC")
    flags = ["accepted", "sla_breached", "reassigned", "wrong_assignment", "manual_triage", "opportunity", "won",
             "closed", "deal_final"]  # fmt: skip
    frame = pd.DataFrame(
        {
            "source": "sandbox",
            "lead_id": ["00Q1", "00Q2"],
            "arrival_date": pd.to_datetime(["2026-11-25", "2026-11-25"]),
            "arrival_hour": 16,
            "tier": pd.array(["VIP", None], dtype="string"),
            "employees": pd.array([12, None], dtype="Int64"),
            "decided_at": at,
            "first_touch_at": pd.Series([at, pd.NaT], dtype="datetime64[us, UTC]"),
            "speed_to_lead_min": [1.5, float("nan")],
            "deal_close_date": pd.to_datetime(["2026-11-30", None]),
            "deal_amount": [10.0, None],
            **{flag: [True, False] for flag in flags},
            "computed_at": at,
        }
    )
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        with store.transaction() as conn:
            conn.execute(dim_calendar.insert(), [{"date": date(2026, 11, 25), "iso_week": date(2026, 11, 23),
                "month": date(2026, 11, 1), "quarter": "2026-Q4", "year": 2026, "day_of_week": 3,
                "fiscal_year": 2026, "fiscal_quarter": "FY2026-Q4", "fiscal_year_start_month": 1}])  # fmt: skip
            bulk_insert(conn, fact_routed_leads, frame)
        checked = [
            "tier",
            "employees",
            "first_touch_at",
            "speed_to_lead_min",
            "deal_close_date",
            "deal_amount",
            *flags,
        ]
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                f"SELECT {', '.join(f'typeof({c}), {c}' for c in checked)} FROM fact_routed_leads ORDER BY lead_id"
            ).all()
    assert rows[0] == ("text", "VIP", "integer", 12, "text", "2026-11-25T16:30:00.000000+00:00", "real", 1.5,
                       "text", "2026-11-30", "integer", 10, *("integer", 1) * len(flags))  # fmt: skip
    assert rows[1] == ("null", None) * 6 + ("integer", 0) * len(flags)
