"""Every migration on SQLite and PostgreSQL: the star schema's tables and the decision's arrival attributes as
leadrouter.store.tables declares them, the frozen migrations 0011 to 0013 down and up again, 0013's country codes,
and record_batch storing what the lead said of itself on arrival (its country as an ISO code)."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from leadrouter.assign.roster import load_roster
from leadrouter.record import BatchContext, record_batch
from leadrouter.store import Store, open_store
from leadrouter.store.engine import MIGRATIONS
from leadrouter.store.tables import decisions, metadata
from tests.helpers.clock import WORKDAY
from tests.helpers.ledger import ROSTER, classified

STAR = {
    "decisions",
    "fact_routed_leads",
    "dim_rep",
    "dim_calendar",
    "outcome_snapshots",
    "fx_rates",
    "outcomes",
}
ARRIVAL = ["lead_source", "country", "employees", "size_band", "language"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return request.getfixturevalue("pg_store_url")


def downgrade(store: Store, revision: str) -> None:
    """The ledger migrated down to `revision`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _kind(difference: object) -> str:
    """A compare_metadata difference's kind (a column change comes as a one-item list of tuples)."""
    return (difference[0] if isinstance(difference, list) else difference)[0]


def test_the_migrations_create_the_star_schema_as_declared(store_url: str) -> None:
    store = open_store(store_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        view = conn.execute(text("SELECT * FROM v_routed_leads WHERE 1 = 0"))
        columns = list(view.keys())
    # comments are the migrations' own (COMMENT ON, PostgreSQL), not declared on the tables
    changed = [d for d in diff if any(name in repr(d) for name in STAR)]
    assert [d for d in changed if "comment" not in _kind(d)] == []
    assert set(ARRIVAL) <= set(columns) and {"deal_amount_base", "rep_name", "arrival_quarter"} <= set(
        columns
    )
    store.dispose()


def test_the_frozen_migrations_go_down_and_up_again(store_url: str) -> None:
    store = open_store(store_url)
    downgrade(store, "0010")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0010"
    store.migrate()
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0014"
        assert "lead_source" in list(conn.execute(text("SELECT * FROM v_routed_leads WHERE 1 = 0")).keys())
    store.dispose()


def test_0013_makes_each_recorded_country_a_code_or_null(store_url: str) -> None:
    store = open_store(store_url)
    downgrade(store, "0012")
    # before 0013 a quarantined lead's country was stored as typed
    typed = {"L1": "DE", "L2": " de", "L3": "Germany", "L4": None}
    rows = [{"source": "sandbox", "lead_id": lead, "status": "quarantined", "decided_at": WORKDAY, "shadow": False,
             "write_attempts": 0, "country": country} for lead, country in typed.items()]  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(decisions.insert(), rows)
    store.migrate()
    with store.engine.connect() as conn:
        stored = dict(conn.execute(select(decisions.c.lead_id, decisions.c.country)).all())
    assert stored == {"L1": "DE", "L2": "DE", "L3": None, "L4": None}
    store.dispose()


# explanations json took before 0014 and jsonb refuses as they are: a NUL escape, a lone surrogate; beside
# them an escaped backslash before "u0000" (text, not an escape) and an ordinary explanation
OLD_EXPLANATIONS = {
    "L1": r'{"summary": "a\u0000b", "n": 1}',
    "L2": r'{"summary": "\ud800 alone"}',
    "L3": r'{"summary": "C:\\u0000"}',
    "L4": '{"summary": "rule:vip → pool enterprise", "excluded": {"r1": "off today"}}',
}


def test_0014_keeps_every_explanation_recorded_before(store_url: str) -> None:
    store = open_store(store_url)
    downgrade(store, "0013")
    as_json = "CAST(:t AS JSON)" if store.is_postgres else ":t"
    with store.engine.begin() as conn:
        for lead, explanation in OLD_EXPLANATIONS.items():
            conn.execute(
                text(
                    "INSERT INTO decisions (source, lead_id, status, decided_at, shadow, write_attempts, explanation)"
                    f" VALUES ('sandbox', :lead, 'recorded', :at, false, 0, {as_json})"
                ),
                {"lead": lead, "at": WORKDAY, "t": explanation},
            )
    store.migrate()
    with store.engine.connect() as conn:
        # read as Python values on PostgreSQL only: SQLite's text still holds the lone surrogate, no JSON to parse
        stored = (
            dict(conn.execute(select(decisions.c.lead_id, decisions.c.explanation)).all())
            if store.is_postgres
            else {}
        )
        summary = select(decisions.c.lead_id, decisions.c.explanation["summary"].as_string())
        # SQLite's text still holds the lone surrogate, which it cannot give as UTF-8: its ordinary one only
        read = dict(
            conn.execute(summary if store.is_postgres else summary.where(decisions.c.lead_id == "L4")).all()
        )
    # jsonb cannot hold the two escapes: each is U+FFFD, as the store's serialiser writes them now; the rest as
    # recorded. SQLite keeps the text as it was.
    if store.is_postgres:
        assert read == {
            "L1": "a\ufffdb",
            "L2": "\ufffd alone",
            "L3": "C:\\u0000",
            "L4": "rule:vip → pool enterprise",
        }
        assert stored["L1"] == {"summary": "a\ufffdb", "n": 1}
    assert read["L4"] == "rule:vip → pool enterprise"
    store.dispose()


@pytest.mark.parametrize(
    "revision",
    [
        "0011_star_schema.py",
        "0012_lead_attributes.py",
        "0013_money_and_country.py",
        "0014_explanation_jsonb.py",
    ],
)
def test_a_migration_imports_nothing_of_the_code_it_outlives(revision: str) -> None:
    tree = ast.parse((MIGRATIONS / "versions" / revision).read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert modules <= {"sqlalchemy", "alembic"}


def test_a_decision_keeps_the_leads_channel_country_and_size(store_url: str) -> None:
    store = open_store(store_url)
    leads = classified(3).assign(
        lead_source=pd.array(["webinar", None, "demo_request"], dtype="string"),
        country=pd.array(["DE", "United States", None], dtype="string"),
        employees=pd.array([250, None, 12], dtype="Int64"),
    )
    # a quarantined lead's count is kept as given, however far out of range (it is why it stopped); its country
    # is never enriched, yet stored as the code ("Deutschland": DE) or null (no country is "Atlantis")
    stopped = pd.DataFrame({"lead_id": ["Q1", "Q2"], "reason": ["employees out of range"] * 2, "reasons": [[], []],
                            "employees": pd.array([30_000_000_000, None], dtype="Int64"),
                            "country": ["Atlantis", "Deutschland"]})  # fmt: skip
    record_batch(
        store, BatchContext("sandbox", "run-1", "v1", at=WORKDAY), leads, stopped, load_roster(ROSTER)
    )
    query = select(decisions.c.lead_id, decisions.c.lead_source, decisions.c.country, decisions.c.employees)
    with store.engine.connect() as conn:
        rows = sorted(conn.execute(query).all())
    assert [tuple(r) for r in rows] == [
        ("L000000", "webinar", "DE", 250), ("L000001", None, "US", None), ("L000002", "demo_request", None, 12),
        ("Q1", None, None, 30_000_000_000), ("Q2", None, "DE", None),
    ]  # fmt: skip
    store.dispose()
