"""Rejections beyond the contract: HubSpot's history batch limit and status options, Salesforce's configurable
statuses and exact SOQL, and a sandbox from before the status history. The contract itself is in
test_crm_contract.py; HubSpot's payload mapping (owner at the moment, latest change, fallback) in
tests/unit/test_hubspot_mapping.py."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInput,
    SimplePublicObjectId,
)

from leadrouter.crm.hubspot.client import HubSpotCRM, make_client
from leadrouter.crm.salesforce.client import SalesforceCRM
from leadrouter.crm.salesforce.session import client_credentials_login
from leadrouter.retry import RetryPolicy
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.schema import UTC_TS
from localapi.harness import Harness, open_harness, tls_session
from localapi.hubspot import HubSpotAPI
from localapi.salesforce import SalesforceAPI
from localapi.server import LocalServer
from localapi.world import World

REJECTED = "REJECTED_WRONG_OWNER"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    path = tmp_path_factory.mktemp("rejections") / "s.db"
    return World.from_sandbox(SandboxCRM.create(path, seed=3, leads=130).path)


def test_hubspot_reads_histories_fifty_at_a_time_and_keeps_its_status_options(world: World) -> None:
    api = HubSpotAPI(world)
    ids = [api.crm_id(i) for i in world.leads["id"]]
    with LocalServer(api.app) as server:
        client = make_client(api.token, host=server.url, retry=RetryPolicy(attempts=1))
        batch = client.crm.contacts.batch_api
        with pytest.raises(ApiException) as refused:
            batch.read(
                BatchReadInputSimplePublicObjectId(
                    inputs=[SimplePublicObjectId(id=i) for i in ids[:51]],
                    properties_with_history=["hs_lead_status"],
                )
            )
        assert refused.value.status == 400 and "property histories is 50" in refused.value.body
        crm = HubSpotCRM(client)
        reads = api.calls["contacts.batch.read"]
        assert len(crm.first_touch(ids)) == len(ids)
        assert api.calls["contacts.batch.read"] - reads == -(-len(ids) // 50)

        def set_status(value: str) -> None:
            update = SimplePublicObjectBatchInput(id=ids[0], properties={"hs_lead_status": value})
            batch.update(BatchInputSimplePublicObjectBatchInput(inputs=[update]))

        with pytest.raises(ApiException) as invalid:
            set_status("NOT_AN_OPTION")
        assert invalid.value.status == 400 and "INVALID_OPTION" in invalid.value.body
        set_status(REJECTED)
        found = crm.rejections(pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=1))
        assert found["lead_id"].tolist() == [ids[0]]
        described = client.crm.properties.core_api.get_all("contacts").results
        status = next(p for p in described if p.name == "hs_lead_status")
        assert REJECTED in {o.value for o in status.options}


@pytest.fixture
def sf(tmp_path: Path) -> Iterator[Harness]:
    h = open_harness("salesforce", tmp_path, leads=30, fresh=True)
    yield h
    h.close()


def test_salesforce_reads_the_statuses_it_is_given_with_an_exact_query(sf: Harness) -> None:
    since = pd.Timestamp("2026-11-22 05:10:00.7", tz="America/New_York")  # 10:10:00.7 UTC
    lead_ids = sf.sandbox.leads()["id"].iloc[:3].tolist()
    sf.api.reject(lead_ids[:2], since + pd.Timedelta(seconds=1), status="Not my territory")
    sf.api.reject(lead_ids[2:], since + pd.Timedelta(seconds=2))
    custom = SalesforceCRM(
        lambda: client_credentials_login(
            sf.server.url, sf.api.client_id, sf.api.client_secret, session=tls_session(sf.server)
        ),
        rejection_statuses=["Not my territory"],
    )
    assert sf.crm.rejections(since)["lead_id"].tolist() == lead_ids[2:]
    found = custom.rejections(since)
    assert found["lead_id"].tolist() == lead_ids[:2]
    assert (found["rejected_at"] == (since + pd.Timedelta(seconds=1)).floor("s")).all()
    assert sf.api.queries[-1] == (
        "SELECT LeadId, NewValue, CreatedById, CreatedDate FROM LeadHistory "
        "WHERE Field = 'Status' AND CreatedDate > 2026-11-22T10:10:00Z ORDER BY CreatedDate, Id"
    )


def test_a_sandbox_from_before_the_status_history_seeds_both_servers(tmp_path: Path) -> None:
    crm = SandboxCRM.create(tmp_path / "old.db", seed=4, leads=10)
    with sqlite3.connect(crm.path) as db:
        db.execute("DROP TABLE status_changes")
    world = World.from_sandbox(crm.path)
    assert world.status_changes.empty and str(world.status_changes["changed_at"].dtype) == UTC_TS
    assert len(HubSpotAPI(world).history) >= len(world.leads)
    assert SalesforceAPI(world).db.execute('SELECT COUNT(*) FROM "LeadHistory"').fetchone()[0] == 0
