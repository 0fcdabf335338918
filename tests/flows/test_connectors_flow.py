"""route-inbound end to end against Salesforce and HubSpot, configured through their Prefect blocks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.store import open_store
from localapi.harness import Harness, open_harness
from localapi.server import Faults
from tests.helpers.connectors import connect

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(params=["salesforce", "hubspot"])
def crm(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """5,000 new leads in a CRM failing 30 % of its calls (429 / 5xx / REQUEST_LIMIT_EXCEEDED) at random."""
    h = open_harness(request.param, tmp_path, faults=Faults(rate=0.3, seed=8), leads=5000, fresh=True)
    connect(h, monkeypatch, tmp_path)
    yield h
    h.close()


def decisions() -> pd.DataFrame:
    with open_store(os.environ["LEADROUTER_STORE_URL"]) as store, store.engine.connect() as conn:
        return pd.read_sql("SELECT source, lead_id, status, owner_id FROM decisions", conn)


def route(**params: object) -> dict:
    from flows.route_inbound import route_inbound

    return route_inbound(**params)


def test_every_lead_is_written_exactly_once_despite_failing_calls(crm: Harness) -> None:
    summary = route(batch_size=1000, max_batches=10)
    decided = decisions()
    assert (decided["source"] == crm.kind).all()
    assert decided["lead_id"].is_unique and len(decided) == 5000 == summary["leads"]
    assert set(decided["status"]) <= {"written", "quarantined", "review"}
    written = decided[decided["status"] == "written"]
    assert len(written) > 3500
    world_ids = crm.world_ids(written["lead_id"])
    owners = crm.owners_of(world_ids.tolist())
    assert owners.tolist() == written["owner_id"].tolist()
    writes = crm.owner_writes()
    assert set(writes.index) == set(world_ids) and (writes == 1).all()
    assert sum(crm.api.faults.injected.values()) > 5  # the faults really happened
    if crm.kind == "hubspot":  # every request took a slot of the Prefect rate limit the block created
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            limit = client.read_global_concurrency_limit_by_name("hubspot-api")
        assert limit.limit == 5000 and limit.slot_decay_per_second == 500


def test_shadow_mode_decides_but_writes_nothing(crm: Harness) -> None:
    crm.api.faults = Faults()
    summary = route(batch_size=2500, max_batches=4, shadow=True)
    decided = decisions()
    assert summary["leads"] == 5000 and (decided["source"] == f"{crm.kind}:shadow").all()
    assert crm.owner_writes().sum() == 0
    write_calls = [name for name in crm.api.calls if "patch" in name or "update" in name]
    assert write_calls == []


def test_connection_blocks_register_and_never_show_their_secrets() -> None:
    from blocks import HubSpotConnection, RouterSettings, SalesforceConnection

    for block in (SalesforceConnection, HubSpotConnection, RouterSettings):
        block.register_type_and_schema()
    SalesforceConnection(
        instance_url="https://acme.my.salesforce.com", client_id="key-4711", client_secret="secret-0815"
    ).save("acme-sf", overwrite=True)
    loaded = SalesforceConnection.load("acme-sf")
    assert loaded.client_secret.get_secret_value() == "secret-0815"
    shown = f"{loaded!r} {loaded} {loaded.model_dump_json()}"
    assert "secret-0815" not in shown and "key-4711" not in shown
    HubSpotConnection(access_token="pat-na1-0815").save("acme-hs", overwrite=True)
    assert "pat-na1-0815" not in repr(HubSpotConnection.load("acme-hs"))
