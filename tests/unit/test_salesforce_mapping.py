"""The Salesforce mapping as pure functions on REST payloads recorded from the local Salesforce server
(localapi/salesforce/, which answers in the documented shapes), kept in tests/data/salesforce. No HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from leadrouter.crm.base import ACCOUNT_COLUMNS, REJECTION_COLUMNS, WRITE_RESULT_COLUMNS
from leadrouter.crm.salesforce import mapping
from leadrouter.schema import LEAD_COLUMNS, UTC_TS

DATA = Path(__file__).parents[1] / "data" / "salesforce"


def payload(name: str) -> Any:
    return json.loads((DATA / f"{name}.json").read_text())


def records(name: str) -> list[dict]:
    return payload(name)["records"]


def test_lead_records_become_canonical_leads() -> None:
    leads = mapping.leads_frame(records("query_leads"), mapping.LEAD_FIELDS)
    assert list(leads.columns) == list(LEAD_COLUMNS) and len(leads) == 3
    assert leads.dtypes.astype(str).to_dict() == {k: str(v) for k, v in LEAD_COLUMNS.items()}
    first = leads.iloc[0]
    assert (first["lead_id"], first["first_name"], first["company"]) == (
        "00Q000000000001",
        "Aditya",
        "Biosync Energy Inc.",
    )
    assert first["message"] == "Hello dear, I have a business proposal for you." and pd.isna(
        first["employees"]
    )
    assert first["modified_at"] == pd.Timestamp(
        "2026-12-04T16:30:55Z"
    )  # Salesforce's +0000 offset read as UTC


def test_a_field_override_reads_a_custom_field() -> None:
    custom = [{**r, "Inquiry__c": f"inquiry {i}"} for i, r in enumerate(records("query_leads"))]
    leads = mapping.leads_frame(custom, {**mapping.LEAD_FIELDS, "message": "Inquiry__c"})
    assert leads["message"].tolist() == ["inquiry 0", "inquiry 1", "inquiry 2"]


def test_accounts_know_whether_their_owner_is_active() -> None:
    accounts = mapping.accounts_frame(records("query_accounts"), {"005000000000002"})
    assert list(accounts.columns) == list(ACCOUNT_COLUMNS)
    assert accounts["owner_active"].tolist() == [False, True, True]
    assert accounts["employees"].tolist() == [1708, 445, 152]
    assert accounts["annual_revenue"].iloc[0] == 607231000.0


def test_owners_are_users_and_queues() -> None:
    owners = mapping.owners_frame(records("query_users"), records("query_queues"))
    assert list(owners.columns) == ["owner_id", "name", "email", "role", "active"]
    assert owners["role"].tolist() == ["user"] * 3 + ["queue"] * 2 and owners["active"].all()
    assert owners.set_index("owner_id").loc["00G000000000002", "name"] == "Support Queue"
    assert owners["email"].iloc[3] is None


def test_accounts_match_a_domain_or_its_subdomains_and_emails_read_lowercase() -> None:
    accounts = mapping.match_account_domains(records("query_accounts"), ["quantum.com", "emberindustrie.com"])
    people = mapping.people_frame(records("query_leads_by_email"), "lead")
    found = mapping.existing_frame([people, accounts])
    assert list(found.columns) == ["kind", "record_id", "email", "domain", "owner_id"]
    assert found.values.tolist() == [
        ["lead", "00Q000000000001", "adityasharma15@yahoo.com", None, "005000000000001"],
        ["lead", "00Q000000000004", "marco.russo46@gmail.com", None, "005000000000004"],
        ["account", "001000000000002", None, "quantum.com", "005000000000002"],
        [
            "account",
            "001000000000003",
            None,
            "emberindustrie.com",
            "005000000000002",
        ],  # shop.emberindustrie.com
    ]


def test_site_host_is_the_bare_lowercase_host() -> None:
    assert mapping.site_host("https://www.Acme.com/about") == "acme.com"
    assert mapping.site_host("acme.co.uk") == "acme.co.uk"
    assert mapping.site_host(None) == mapping.site_host("") == ""


def test_write_records_carry_the_fields_the_org_has_and_reopen_handed_back_leads() -> None:
    decisions = pd.DataFrame(
        {
            "lead_id": ["00Q1", "00Q2"],
            "owner_id": ["0051", "0052"],
            "tier": ["VIP", None],
            "routing_reason": ["x" * 300, "rule"],
            "reopen": [False, True],
        }
    )
    writes = {"owner_id": "OwnerId", "tier": "Lead_Tier__c", "routing_reason": "Routing_Reason__c"}
    sent = mapping.write_records(decisions, writes, "Open - Not Contacted")
    assert sent[0] == {
        "attributes": {"type": "Lead"},
        "id": "00Q1",
        "OwnerId": "0051",
        "Lead_Tier__c": "VIP",
        "Routing_Reason__c": "x" * 255,  # a Text(255) field
    }
    assert sent[1]["Lead_Tier__c"] is None and sent[1]["Status"] == "Open - Not Contacted"
    assert mapping.write_records(decisions, {"owner_id": "OwnerId"}, "Open")[0].keys() == {
        "attributes",
        "id",
        "OwnerId",
    }


def test_a_collections_reply_is_read_per_record_and_locked_rows_go_again() -> None:
    sent = payload("collections_request")["records"]
    done, locked = mapping.collection_outcome(sent, payload("collections_reply"))
    assert done == [
        ("00Q000000000001", True, False, None),
        ("00Q000000000002", False, False, "ENTITY_IS_DELETED: entity is deleted"),  # the reply's id is null
        ("00Q000000000003", False, False, "INVALID_CROSS_REFERENCE_KEY: invalid cross reference id"),
    ]
    assert [r["id"] for r in locked] == ["00Q000000000004"]
    results = mapping.result_frame([*done, (locked[0]["id"], False, True, mapping.STILL_LOCKED)])
    assert list(results.columns) == WRITE_RESULT_COLUMNS and results["retry"].tolist() == [False] * 3 + [True]


def test_first_touch_is_the_earliest_task_or_status_change_else_the_last_activity_date() -> None:
    replies = payload("first_touch")
    touches = mapping.first_touch_frame(
        ["00Q000000000001", "00Q000000000044", "00Q000000000099"],
        replies["Task"]["records"],
        replies["LeadHistory"]["records"],
        replies["Lead"]["records"],
    ).set_index("lead_id")["first_touch_at"]
    assert str(touches.dtype) == UTC_TS
    assert touches["00Q000000000001"] == pd.Timestamp(
        "2026-12-04T16:05:10Z"
    )  # the status change, before the Task
    assert touches["00Q000000000044"] == pd.Timestamp("2026-12-03T00:00:00Z")  # handed back is not a touch
    assert pd.isna(touches["00Q000000000099"])
    assert mapping.first_touch_frame([], [], [], []).empty


def test_rejections_are_the_status_changes_to_a_rejection_status() -> None:
    found = mapping.rejections_frame(records("query_status_history"), mapping.REJECTION_STATUSES)
    assert list(found.columns) == REJECTION_COLUMNS and str(found["rejected_at"].dtype) == UTC_TS
    assert found.values.tolist() == [
        ["00Q000000000044", "005000000000005", pd.Timestamp("2026-12-04T16:02:17Z")]
    ]
    assert mapping.rejections_frame(records("query_status_history"), ["Working"])["lead_id"].tolist() == [
        "00Q000000000001"
    ]


def test_outcomes_join_converted_leads_to_the_opportunities_read() -> None:
    outcomes = mapping.outcomes_frame(records("query_converted_leads"), records("query_opportunities"))
    assert list(outcomes.columns) == list(mapping.OUTCOME_FIELDS.values())
    # the third lead's opportunity was not read: no outcome
    # recorded before the currency and creation stamp were asked for: both empty
    assert outcomes.fillna({"close_date": "", "currency": "-", "deal_created_at": "-"}).values.tolist() == [
        ["00Q000000000002", "006000000000001", "Discovery", False, False, 5900.0, "", "-", "-"],
        ["00Q000000000003", "006000000000002", "Closed Won", True, True, 5700.0, "2026-12-01", "-", "-"],
    ]
    assert mapping.outcomes_frame([], []).empty


def test_outcomes_carry_the_opportunitys_currency_and_creation_stamp() -> None:
    lead = {"Id": "00Q000000000002", "ConvertedOpportunityId": "006000000000001"}
    deal = {"Id": "006000000000001", "StageName": "Discovery", "IsClosed": False, "IsWon": False,
            "Amount": 5900.0, "CloseDate": None, "CreatedDate": "2026-11-02T09:15:00.000+0000",
            "CurrencyIsoCode": "EUR"}  # fmt: skip
    row = mapping.outcomes_frame([lead], [deal]).iloc[0]
    assert (row["currency"], row["deal_created_at"]) == ("EUR", "2026-11-02T09:15:00.000+0000")
