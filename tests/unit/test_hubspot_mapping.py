"""The HubSpot mapping as pure functions on API replies kept in tests/data/hubspot: recorded from the local
HubSpot server (localapi/hubspot/, which answers in the documented shapes) or written from HubSpot's
documented examples, read into the client's models as the client reads them. No HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from hubspot.crm.associations.v4 import ApiClient as AssociationsClient
from hubspot.crm.contacts import ApiClient, ApiException
from hubspot.crm.owners import ApiClient as OwnersClient

from leadrouter.crm.base import ACCOUNT_COLUMNS, REJECTION_COLUMNS, WRITE_RESULT_COLUMNS
from leadrouter.crm.hubspot import mapping
from leadrouter.crm.hubspot.search import Found
from leadrouter.schema import LEAD_COLUMNS, UTC_TS

DATA = Path(__file__).parents[1] / "data" / "hubspot"
SINCE = pd.Timestamp("2026-11-22T10:10:00Z")


def payload(name: str) -> Any:
    return json.loads((DATA / f"{name}.json").read_text())


def deserialize(name: str, model: str, client: type = ApiClient) -> Any:
    """A reply as the client's model, the way hubspot-api-client reads an HTTP answer."""
    return client().deserialize(SimpleNamespace(data=json.dumps(payload(name))), model)


def test_search_results_become_canonical_leads_in_cursor_order() -> None:
    found = [Found(r["id"], r["properties"]) for r in reversed(payload("contacts_search")["results"])]
    leads = mapping.leads_frame(found, mapping.LEAD_PROPERTIES)
    assert list(leads.columns) == list(LEAD_COLUMNS)
    assert leads.dtypes.astype(str).to_dict() == {k: str(v) for k, v in LEAD_COLUMNS.items()}
    ordered = mapping.in_cursor_order(leads)
    assert ordered["lead_id"].tolist() == ["10000001", "10000002", "10000003"]
    first = ordered.iloc[0]
    assert (first["first_name"], first["title"], first["crm_owner_id"]) == (
        "Aditya",
        "Chief Technology Officer",
        "005000000000001",
    )
    assert first["modified_at"] == pd.Timestamp("2026-12-04T16:32:45Z")


def test_companies_become_accounts_with_a_website_from_their_domain() -> None:
    companies = [Found(r["id"], r["properties"]) for r in payload("companies_search")["results"]]
    accounts = mapping.accounts_frame(companies, {"005000000000002"})
    assert list(accounts.columns) == list(ACCOUNT_COLUMNS)
    assert accounts["owner_active"].tolist() == [False, True, True]
    assert accounts["website"].tolist()[1:] == ["https://www.quantum.com", "https://emberindustrie.com"]
    assert accounts["employees"].tolist() == [1708, 445, 25]  # "25-50": a range's lower end
    assert pd.isna(accounts["annual_revenue"].iloc[2])


def test_owners_are_the_live_people_and_queues() -> None:
    page = deserialize("owners_page", "CollectionResponsePublicOwnerForwardPaging", OwnersClient)
    owners = mapping.owners_frame(page.results)
    assert owners.fillna({"email": ""}).values.tolist() == [
        ["005000000000001", "Maya Chen", "maya.chen@sandbox-sales.example", "user", True],
        ["005000000000002", "Diego Ramirez", "diego.ramirez@sandbox-sales.example", "user", True],
        ["00G000000000002", "Support Queue", "", "queue", True],
    ]  # the archived owner is left out


def test_outcomes_follow_the_contacts_deal_associations() -> None:
    links = deserialize(
        "associations_contacts_deals",
        "BatchResponsePublicAssociationMultiWithLabelWithErrors",
        AssociationsClient,
    )
    pairs = pd.DataFrame(mapping.deal_links(links.results), columns=["lead_id", "deal_id"])
    assert pairs.values.tolist() == [
        ["10000002", "40000001"],
        ["10000003", "40000002"],
        ["10000005", "40000009"],
    ]
    deals = deserialize("deals_batch_read", "BatchResponseSimplePublicObject").results
    outcomes = mapping.outcomes_frame(pairs, deals)
    assert list(outcomes.columns) == mapping.OUTCOME_COLUMNS
    # the recording's portal has one currency: no deal_currency_code; createdate comes with every deal
    assert outcomes.fillna({"close_date": "", "currency": "-"}).values.tolist() == [
        ["10000002", "40000001", "appointmentscheduled", False, False, 5900.0, "", "-", "2026-12-04T16:32:45.000Z"],
        ["10000003", "40000002", "closedwon", True, True, 5700.0, "2026-12-01", "-", "2026-12-04T16:32:45.000Z"],
        # no flags sent: the outcome loop's stage lists decide (closedlost: closed, not won)
        ["10000005", "40000009", "closedlost", pd.NA, pd.NA, 15900.0, "2026-12-02", "-", "2026-12-04T17:02:45.000Z"],
    ]  # fmt: skip


def test_existing_people_and_companies_read_lowercase() -> None:
    people = [Found("101", {"email": "Ada@Example.COM", "hubspot_owner_id": "7"})]
    companies = [Found("30000002", {"domain": "Quantum.com", "hubspot_owner_id": "005000000000002"})]
    found = mapping.existing_frame(people, companies)
    assert found.values.tolist() == [
        ["contact", "101", "ada@example.com", None, "7"],
        ["account", "30000002", None, "quantum.com", "005000000000002"],
    ]
    assert list(mapping.existing_frame([], []).columns) == mapping.EXISTING_COLUMNS


def test_batch_outcome_of_a_207_reply() -> None:
    reply = deserialize("batch_update_207", "BatchResponseSimplePublicObjectWithErrors")
    out = mapping.batch_outcome(["1", "2", "3"], reply)
    assert out["ok"].tolist() == [True, False, False] and out["retry"].tolist() == [False, False, True]
    assert out["error"].iloc[1] == "OBJECT_NOT_FOUND: Could not get some CONTACT objects"


def test_assignments_never_sent_and_the_properties_sent() -> None:
    frame = pd.DataFrame(
        {
            "lead_id": ["101", "00Q7", "102", "103"],
            "owner_id": ["7", "7", " ", "8"],
            "tier": ["VIP", "VIP", "VIP", None],
            "routing_reason": ["rule", "rule", "rule", "model"],
            "reopen": [False, False, False, True],
        }
    )
    refusal = mapping.refusals(frame)
    assert refusal.tolist() == ["", mapping.INVALID_ID, mapping.NO_OWNER, ""]
    sent = frame[refusal == ""]
    changes = mapping.property_changes(sent, mapping.WRITE_PROPERTIES, frozenset({"lead_tier"}), "OPEN")
    assert changes == [
        {"hubspot_owner_id": "7", "lead_tier": "VIP"},  # routing_reason: a property the portal lacks
        {"hubspot_owner_id": "8", "lead_tier": "", "hs_lead_status": "OPEN"},  # "" clears the property
    ]
    written = pd.DataFrame({"lead_id": ["101", "103"], "ok": True, "retry": False, "error": None})
    results = mapping.write_results(frame, refusal, [written])
    assert list(results.columns) == WRITE_RESULT_COLUMNS
    assert results["ok"].tolist() == [True, False, False, True] and not results["retry"].any()
    assert results["error"].tolist()[1:3] == [mapping.INVALID_ID, mapping.NO_OWNER]


def test_failed_calls_name_hubspots_error_and_never_the_token() -> None:
    refused = ApiException(status=400, reason="Bad Request")
    refused.body = json.dumps(
        {"status": "error", "category": "VALIDATION_ERROR", "message": "PROPERTY_DOESNT_EXIST lead_tier"}
    )
    assert mapping.property_error(refused)
    failed = mapping.failed_call(["1", "2"], refused)
    assert failed["error"].tolist() == ["VALIDATION_ERROR: PROPERTY_DOESNT_EXIST lead_tier"] * 2
    assert not failed["retry"].any()  # resending a refused request fails the same way
    owner = ApiException(status=400, reason="Bad Request")
    owner.body = json.dumps(
        {"category": "VALIDATION_ERROR", "message": "INVALID_OWNER_ID, PROPERTY_DOESNT_EXIST"}
    )
    assert not mapping.property_error(owner)  # a record's value: split the batch to find it
    down = mapping.failed_call(["1"], RuntimeError("limiter down (token pat-1)"), secret="pat-1")
    assert down["retry"].all() and down["error"].iloc[0] == "RuntimeError: limiter down (token ***)"


def test_only_numeric_ids_can_name_a_hubspot_record() -> None:
    assert mapping.readable_ids(["101", "00Q7", "101", None, "102"]) == ["101", "102"]


def test_first_touch_is_the_earliest_engagement_or_worked_status() -> None:
    reply = deserialize("batch_read_touches", "BatchResponseSimplePublicObject")
    touches = mapping.first_touches(reply.results).set_index("lead_id")["first_touch_at"]
    assert touches["1"] == pd.Timestamp("2026-11-22T10:01:00Z")
    assert pd.isna(touches["2"])
    assert touches["3"] == pd.Timestamp("2026-11-22T11:00:00Z")


def test_hubspot_rejection_is_the_latest_change_credited_to_the_owner_then() -> None:
    results = deserialize("batch_read_rejections", "BatchResponseSimplePublicObject").results
    # 7: rejected by A, then handed to B: still A's. 12: rejected before `since`, reopened, rejected again
    # after it; no owner history: the current owner. 3: before `since`. 4: another status.
    found = mapping.rejections_frame(results, mapping.REJECTED_STATUS, SINCE)
    assert list(found.columns) == REJECTION_COLUMNS and str(found["rejected_at"].dtype) == UTC_TS
    assert found.values.tolist() == [
        ["12", "005C", pd.Timestamp("2026-11-22T10:15:00.250Z")],
        ["7", "005A", pd.Timestamp("2026-11-22T10:20:00.250Z")],
    ]
    none = mapping.rejections_frame([], mapping.REJECTED_STATUS, SINCE)
    assert none.empty and list(none.columns) == REJECTION_COLUMNS
    assert str(none["rejected_at"].dtype) == UTC_TS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("237", 237),
        ("237.0", 237),
        ("25-50", 25),
        ("1000+", 1000),
        ("1,000", 1000),
        ("-70", -70),
        ("", None),
        (None, None),
    ],
)
def test_employee_counts_read_as_their_leading_integer(text: str | None, expected: int | None) -> None:
    value = mapping.leading_integer(pd.Series([text], dtype=object)).iloc[0]
    assert (pd.isna(value) and expected is None) or value == expected
