"""The sandbox CRM's lookup by email: the same rows, in the same order, as its old form, through the index."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrouter.sandbox.crm import EXISTING, SandboxCRM

NOW = pd.Timestamp("2026-11-25 16:00", tz="UTC")
# emails SQLite's lower() and Python's str.lower() disagree on, repeats across leads and contacts, a blank
CRAFTED = [
    "Zoë@Müller.de",
    "ZOË@MÜLLER.DE",
    "zoë@müller.de",
    "Ann@X.io",
    "ann@x.io",
    "東京@例え.jp",
    " ",
    None,
]


def _find_existing_before(crm: SandboxCRM, emails: Sequence[str], domains: Sequence[str]) -> pd.DataFrame:
    """SandboxCRM.find_existing as it was before it searched the email index: the reference."""
    emails = sorted({e.strip().lower() for e in emails if e})
    domains = sorted({d.strip().lower() for d in domains if d})
    with crm._db() as db:
        db.execute("CREATE TEMP TABLE q_emails (v TEXT PRIMARY KEY)")
        db.execute("CREATE TEMP TABLE q_domains (v TEXT PRIMARY KEY)")
        db.executemany("INSERT INTO q_emails VALUES (?)", [(e,) for e in emails])
        db.executemany("INSERT INTO q_domains VALUES (?)", [(d,) for d in domains])
        found = pd.read_sql_query(
            """
            SELECT 'lead' AS kind, id AS record_id, lower(email) AS email, NULL AS domain, owner_id
              FROM leads WHERE is_deleted = 0 AND lower(email) IN (SELECT v FROM q_emails)
            UNION ALL
            SELECT 'contact', id, lower(email), NULL, owner_id
              FROM contacts WHERE lower(email) IN (SELECT v FROM q_emails)
            UNION ALL
            SELECT 'account', id, NULL, domain, owner_id
              FROM accounts WHERE domain IN (SELECT v FROM q_domains)
            """,
            db,
        )
    return found


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> SandboxCRM:
    crm = SandboxCRM.create(tmp_path_factory.mktemp("lookup") / "sandbox.db", seed=3, leads=40, now=NOW)
    with sqlite3.connect(crm.path) as db:
        stamp = "2026-11-25T15:00:00.000000Z"
        # crafted leads in an order unlike their emails' (rowid order is the answer's order), one deleted
        db.executemany(
            "INSERT INTO leads (id, email, owner_id, is_deleted, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (f"Z{i:03d}", e, f"U{i % 3:03d}", int(i == 4), stamp, stamp)
                for i, e in enumerate(reversed(CRAFTED))
            ],
        )
        db.executemany(
            "INSERT INTO contacts (id, email, owner_id) VALUES (?, ?, ?)",
            [(f"C9{i:02d}", e, "U001") for i, e in enumerate(CRAFTED)],
        )
    return crm


def _pools(crm: SandboxCRM) -> tuple[list[str], list[str]]:
    with sqlite3.connect(crm.path) as db:
        emails = [
            e for (e,) in db.execute("SELECT email FROM leads UNION ALL SELECT email FROM contacts") if e
        ]
        domains = [d for (d,) in db.execute("SELECT domain FROM accounts") if d]
    return emails, domains


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_lookup_finds_what_it_found_before(crm: SandboxCRM, data: st.DataObject) -> None:
    emails, domains = _pools(crm)
    # a NUL after a known email must not find it (SQLite's JSON functions end a text at a NUL)
    case = st.sampled_from([str, str.upper, str.lower, lambda e: f"  {e} ", lambda e: f"{e}\x00x"])
    asked = data.draw(
        st.lists(
            st.one_of(st.builds(lambda f, e: f(e), case, st.sampled_from(emails)), st.text(max_size=5)),
            max_size=30,
        )
    )
    asked_domains = data.draw(st.lists(st.one_of(st.sampled_from(domains), st.text(max_size=5)), max_size=6))
    pd.testing.assert_frame_equal(
        crm.find_existing(asked, asked_domains),
        _find_existing_before(crm, asked, asked_domains),
        check_exact=True,
    )


def test_every_email_and_domain_at_once_and_none(crm: SandboxCRM) -> None:
    emails, domains = _pools(crm)
    found = crm.find_existing(emails, domains)
    pd.testing.assert_frame_equal(found, _find_existing_before(crm, emails, domains), check_exact=True)
    # every generated lead and contact; of the crafted ones not the deleted lead, the blank, the missing, nor
    # ZOË@MÜLLER.DE (SQLite lowers ASCII only: no asked email, lowered by Python, equals zoË@mÜller.de)
    assert found["kind"].value_counts().to_dict() == {"lead": 40 + 4, "contact": 1500 + 5, "account": 400}
    pd.testing.assert_frame_equal(crm.find_existing([], []), _find_existing_before(crm, [], []))


def test_one_email_is_searched_in_the_index_not_scanned(crm: SandboxCRM) -> None:
    with sqlite3.connect(crm.path) as db:
        db.execute("CREATE TEMP TABLE q_emails (v TEXT PRIMARY KEY)")
        db.execute("CREATE TEMP TABLE q_domains (v TEXT PRIMARY KEY)")
        db.execute("INSERT INTO q_emails VALUES ('ann@x.io')")
        plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {EXISTING}")]
    assert "SEARCH l USING INDEX leads_email (<expr>=?)" in plan
    assert "SEARCH c USING INDEX contacts_email (<expr>=?)" in plan
    assert not [
        step for step in plan if step.startswith("SCAN") and step not in ("SCAN q", "SCAN (subquery-4)")
    ]
