"""The local HubSpot holds requests to the documented shapes, and the adapter follows every page it offers: v4
association paging per contact, and a cursor that does not advance stops with an error naming the call."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pandas as pd
import pytest
import requests

from leadrouter.crm.errors import SearchStuck
from leadrouter.crm.hubspot.client import HubSpotCRM, make_client
from localapi.harness import Harness, open_harness


@pytest.fixture(scope="module")
def hs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = open_harness("hubspot", tmp_path_factory.mktemp("hs-strict"), leads=120)
    yield h
    h.close()


def post(hs: Harness, path: str, body: dict) -> requests.Response:
    headers = {"authorization": f"Bearer {hs.api.token}"}
    return requests.post(f"{hs.server.url}{path}", json=body, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"limit": 201}, "limit must be between 1 and 200"),
        ({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "SOUNDS_LIKE", "value": "a"}]}]},
         "Unsupported operator SOUNDS_LIKE"),
        ({"filterGroups": [{"filters": [{"propertyName": "email", "value": "a"}]}]}, "names no operator"),
        ({"filterGroups": [{"filters": [{"propertyName": "emial", "operator": "EQ", "value": "a"}]}]},
         "Property 'emial' does not exist"),
        ({"sorts": [{"propertyName": "createdate", "direction": "UP"}]}, "Invalid sort direction"),
        ({"sorts": [{"direction": "ASCENDING"}]}, "a sort names a propertyName"),
        ({"sorts": ["createdate", "email"]}, "Search accepts one sort"),
    ],
)  # fmt: skip
def test_a_search_outside_the_documented_shape_gets_hubspots_error_body(
    hs: Harness, body: dict, needle: str
) -> None:
    reply = post(hs, "/crm/v3/objects/contacts/search", body)
    assert reply.status_code == 400
    error = reply.json()
    assert {"status", "message", "correlationId", "category"} <= set(error)
    assert (error["status"], error["category"]) == ("error", "VALIDATION_ERROR")
    assert needle in error["message"]


def test_batches_over_100_inputs_are_refused(hs: Harness) -> None:
    inputs = [{"id": str(i)} for i in range(101)]
    reply = post(hs, "/crm/v3/objects/contacts/batch/read", {"inputs": inputs, "properties": ["email"]})
    assert reply.status_code == 400
    assert "limited to 100 inputs" in reply.json()["message"]


def test_archived_must_be_the_specs_boolean(hs: Harness) -> None:
    headers = {"authorization": f"Bearer {hs.api.token}"}
    bad = requests.get(f"{hs.server.url}/crm/v3/owners/?archived=False", headers=headers, timeout=10)
    good = requests.get(f"{hs.server.url}/crm/v3/owners/?archived=false", headers=headers, timeout=10)
    assert (bad.status_code, good.status_code) == (400, 200)
    assert len(hs.crm.fetch_owners()) == len(good.json()["results"])  # the adapter sends `false`


def test_fetch_outcomes_follows_each_contacts_association_paging(hs: Harness) -> None:
    api = hs.api
    deals = api.contact_deals["deal"].iloc[2:6].tolist()  # a deal may be associated with several contacts
    contact = api.contact_deals["contact"].iloc[0]
    extra = pd.DataFrame({"contact": contact, "deal": deals})
    api.contact_deals = pd.concat([api.contact_deals, extra], ignore_index=True)
    mine = set(api.contact_deals.loc[api.contact_deals["contact"].eq(contact), "deal"])
    other = api.contact_deals["contact"].iloc[1]
    api.association_page = 2
    before = api.calls["associations.batch.read"]
    try:
        outcomes = hs.crm.fetch_outcomes([contact, other])
    finally:
        api.association_page = 500
    assert set(outcomes.loc[outcomes["lead_id"].eq(contact), "deal_id"]) == mine
    assert len(mine) == 5
    pages = -(-len(mine) // 2)
    assert api.calls["associations.batch.read"] - before == pages


def test_owners_paging_that_repeats_its_cursor_raises_naming_the_call(
    hs: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stuck(**_: object) -> SimpleNamespace:  # every page says the next starts after "7"
        return SimpleNamespace(results=[], paging=SimpleNamespace(next=SimpleNamespace(after="7")))

    monkeypatch.setattr(hs.crm._owners, "get_page", stuck)
    with pytest.raises(SearchStuck, match=r"owners\.get_page answered paging\.next\.after='7' again"):
        hs.crm.fetch_owners()


def test_searches_take_the_search_limiter_and_nothing_else_does(hs: Harness) -> None:
    paced = {"general": 0, "search": 0}
    crm = HubSpotCRM(
        make_client(hs.api.token, host=hs.server.url),
        pace=lambda: paced.__setitem__("general", paced["general"] + 1),
        search_pace=lambda: paced.__setitem__("search", paced["search"] + 1),
    )
    before = dict(hs.api.calls)
    crm.fetch_accounts()  # company searches, then the owners
    calls = {k: v - before.get(k, 0) for k, v in hs.api.calls.items() if v != before.get(k, 0)}
    assert paced == {"general": calls["owners"], "search": calls["companies.search"]}
