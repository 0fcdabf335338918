"""Salesforce specifics, through simple-salesforce against the local Salesforce: safe SOQL, paging, retries,
re-authentication, row locks and orgs without the custom routing fields."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.crm.base import rewind
from leadrouter.crm.salesforce.client import SalesforceCRM
from leadrouter.crm.salesforce.session import client_credentials_login
from leadrouter.retry import RetryPolicy
from localapi.harness import Harness, open_harness, tls_session
from localapi.server import Faults


@pytest.fixture
def sf(tmp_path: Path) -> Iterator[Harness]:
    h = open_harness("salesforce", tmp_path)
    yield h
    h.close()


def owner_frame(lead_ids: list[str], owner: str = "005000000000007") -> pd.DataFrame:
    return pd.DataFrame(
        {"lead_id": lead_ids, "owner_id": owner, "tier": "Standard", "routing_reason": "pool NA"}
    )


def test_hostile_lookup_values_are_escaped_in_the_exact_soql(sf: Harness) -> None:
    found = sf.crm.find_existing(
        ["x' OR Name LIKE '%", 'back\\slash"quote@x.com'], ["evil.com' OR Id != null"]
    )
    assert found.empty
    sent = sf.api.queries[-3:]
    assert sent == [
        "SELECT Id, Email, OwnerId FROM Lead WHERE IsConverted = false AND Email IN "
        "('back\\\\slash\\\"quote@x.com','x\\' or name like \\'%')",
        "SELECT Id, Email, OwnerId FROM Contact WHERE Email IN ('back\\\\slash\\\"quote@x.com','x\\' or name like \\'%')",
        "SELECT Id, Website, OwnerId FROM Account WHERE Website LIKE '%evil.com\\' or id != null%'",
    ]


def test_a_large_pull_follows_next_records_url(tmp_path: Path) -> None:
    h = open_harness("salesforce", tmp_path, page_size=40)
    try:
        pulled, _ = h.crm.fetch_new_leads(None, 5000)
        assert pulled["lead_id"].is_unique and len(pulled) > 200
        assert h.api.calls["queryMore"] >= len(pulled) // 40 - 1
    finally:
        h.close()


def test_an_expired_session_logs_in_again(sf: Harness) -> None:
    sf.crm.fetch_owners()
    logins = sf.api.calls["oauth2.token"]
    sf.api.expire_sessions()
    assert len(sf.crm.fetch_owners()) > 0
    assert sf.api.calls["oauth2.token"] == logins + 1


def test_bad_credentials_fail_clearly_without_the_secret(sf: Harness) -> None:
    crm = SalesforceCRM(
        lambda: client_credentials_login(
            sf.server.url, "local-client-id", "wrong-secret-123", session=tls_session(sf.server)
        ),
        retry=RetryPolicy(attempts=2, first_delay_s=0.01),
    )
    with pytest.raises(PermissionError, match="invalid_client") as failure:
        crm.fetch_owners()
    assert "wrong-secret-123" not in str(failure.value)


def test_locked_rows_are_written_again_until_they_succeed(tmp_path: Path) -> None:
    h = open_harness("salesforce", tmp_path, lock_rate=0.4)
    try:
        ids = h.sandbox.leads()["id"].iloc[:450].tolist()
        results = h.crm.write_assignments(owner_frame(ids))
        assert results["ok"].all()
        assert (h.api.owner_writes().loc[ids] == 1).all()
        assert (
            h.api.calls["composite.sobjects.patch"] > 3
        )  # 3 collections of ≤200, plus the locked rows again
    finally:
        h.close()


def test_rate_limits_and_outages_are_retried_and_each_lead_written_once(tmp_path: Path) -> None:
    h = open_harness("salesforce", tmp_path, faults=Faults(rate=0.3, seed=4))
    try:
        ids = h.sandbox.leads()["id"].tolist()
        for _ in range(15):
            assert len(h.crm.fetch_owners()) == 18
        pulled, _ = h.crm.fetch_new_leads(None, 5000)
        results = h.crm.write_assignments(owner_frame(pulled["lead_id"].tolist()))
        assert results["ok"].all() and len(results) == len(pulled)
        assert (h.api.owner_writes() == 1).all()
        assert set(h.api.faults.injected) == {"503", "REQUEST_LIMIT_EXCEEDED"}
        assert set(pulled["lead_id"]) <= set(ids)
    finally:
        h.close()


def test_a_call_that_keeps_failing_returns_retryable_results_not_an_exception(tmp_path: Path) -> None:
    h = open_harness("salesforce", tmp_path)
    try:
        ids = h.sandbox.leads()["id"].iloc[:5].tolist()
        h.crm.fetch_owners()  # describe and login done while the org answers
        h.crm._resolve_fields()
        h.api.faults = Faults(rate=1.0)
        results = h.crm.write_assignments(owner_frame(ids))
        assert not results["ok"].any() and results["retry"].all()
        assert results["error"].str.contains("SERVER_UNAVAILABLE|REQUEST_LIMIT_EXCEEDED").all()
    finally:
        h.close()


def test_an_org_without_the_custom_routing_fields_still_gets_owners(tmp_path: Path) -> None:
    h = open_harness("salesforce", tmp_path, custom_fields=False)
    try:
        ids = h.sandbox.leads()["id"].iloc[:3].tolist()
        assert h.crm.write_assignments(owner_frame(ids))["ok"].all()
        assert h.api.owners_of(ids).eq("005000000000007").all()
    finally:
        h.close()


def test_a_rewound_cursor_reads_from_that_second_on(sf: Harness) -> None:
    pulled, cursor = sf.crm.fetch_new_leads(None, 5000)
    again, _ = sf.crm.fetch_new_leads(rewind(cursor, 60), 5000)
    assert sf.api.queries[-1].endswith(
        f"AND SystemModstamp >= {(pulled['modified_at'].max() - pd.Timedelta(seconds=60)).strftime('%Y-%m-%dT%H:%M:%SZ')} "
        "ORDER BY SystemModstamp, Id LIMIT 5000"
    )
    since = pulled["modified_at"].max().floor("s") - pd.Timedelta(seconds=60)
    assert set(again["lead_id"]) == set(pulled.loc[pulled["modified_at"] >= since, "lead_id"])
    assert len(again) > 0


def test_an_owner_salesforce_does_not_know_fails_that_lead_only(sf: Harness) -> None:
    ids = sf.sandbox.leads()["id"].iloc[:2].tolist()
    frame = owner_frame(ids).assign(owner_id=["005000000000099", "005000000000007"])
    results = sf.crm.write_assignments(frame)
    assert results["ok"].tolist() == [False, True] and not results["retry"].any()
    assert results["error"].iloc[0].startswith("INVALID_CROSS_REFERENCE_KEY")
