"""The local Salesforce is as strict as Salesforce: a battery of SOQL statements sent through simple-salesforce,
each either answered or refused with the errorCode Salesforce gives for it."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from leadrouter.crm.salesforce.session import client_credentials_login
from localapi.harness import Harness, open_harness, tls_session

VALID = [
    "SELECT Id, Email FROM Lead",
    "select id, email from lead",  # names are case-insensitive
    "SELECT Id FROM Lead WHERE IsConverted = false AND Email != null",
    "SELECT Id FROM Lead WHERE IsConverted = FALSE",
    "SELECT Id FROM Lead WHERE CreatedDate > 2026-01-01T00:00:00Z",
    "SELECT Id FROM Lead WHERE CreatedDate > 2026-01-01T00:00:00.000+02:00",
    "SELECT Id FROM Lead WHERE LastActivityDate >= 2026-01-01",
    "SELECT Id FROM Lead WHERE CreatedDate = TODAY",
    "SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:30",
    "SELECT Id FROM Lead WHERE CreatedDate < N_DAYS_AGO:7",
    "SELECT Id FROM Lead WHERE LastActivityDate = THIS_MONTH",
    "SELECT Id FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:90",
    "SELECT Id FROM Lead ORDER BY SystemModstamp, Id LIMIT 10 OFFSET 5",
    "SELECT Id FROM Lead ORDER BY CreatedDate DESC NULLS LAST LIMIT 3",
    "SELECT Id, Owner.Name FROM Lead LIMIT 5",
    "SELECT Id, Account.Name, Account.Owner.Email FROM Contact LIMIT 5",
    "SELECT Id FROM Lead WHERE Owner.IsActive = true",
    "SELECT Id, Who.Email FROM Task LIMIT 5",
    "SELECT Id FROM Lead WHERE Email LIKE '%@%' AND (Phone = null OR Country IN ('US', 'DE'))",
    "SELECT Id FROM Lead WHERE Status NOT IN ('Converted') AND NOT Country = 'US'",
    "SELECT Id FROM Lead WHERE Id IN ('00Q000000000001', '00Q000000000002AAA')",
    "SELECT LeadId, NewValue FROM LeadHistory WHERE Field = 'Status' ORDER BY CreatedDate",
    "SELECT COUNT() FROM Lead",
    "SELECT Status, COUNT(Id) FROM Lead GROUP BY Status",
    "SELECT MAX(CreatedDate), MIN(NumberOfEmployees) total FROM Lead",
    "SELECT Id FROM Account WHERE NumberOfEmployees > 100 AND AnnualRevenue <= 1000000.5",
    "SELECT Id, Name FROM Group WHERE Type = 'Queue'",
    "SELECT Id FROM Lead WHERE Company = 'O\\'Brien \\\\ Sons'",
]
INVALID = [
    ("SELECT Id, Emial FROM Lead", "INVALID_FIELD"),
    ("SELECT Id FROM Lead WHERE Emial = 'Emial'", "INVALID_FIELD"),
    ("SELECT Id FROM Lead ORDER BY Emial", "INVALID_FIELD"),
    ("SELECT Id, Ownr.Name FROM Lead", "INVALID_FIELD"),
    ("SELECT Id, Owner.Nme FROM Lead", "INVALID_FIELD"),
    ("SELECT Id FROM Leed", "INVALID_TYPE"),
    ("SELECT Id FROM Lead WHERE CreatedDate > '2026-01-01T00:00:00Z'", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE CreatedDate > 2026-01-01", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE LastActivityDate > 2026-01-01T00:00:00Z", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE IsConverted = 'false'", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE NumberOfEmployees = '100'", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE Email = 5", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE CreatedDate > TODAYS", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS", "MALFORMED_QUERY"),
    ("SELECT LeadId FROM LeadHistory WHERE NewValue = 'Rejected'", "INVALID_QUERY_FILTER_OPERATOR"),
    ("SELECT Id FROM Lead WHERE Description LIKE '%x%'", "INVALID_QUERY_FILTER_OPERATOR"),
    ("SELECT Id FROM Lead ORDER BY Description", "INVALID_FIELD"),
    ("SELECT Id FROM Lead WHERE IsConverted > false", "INVALID_QUERY_FILTER_OPERATOR"),
    ("SELECT Id FROM Lead WHERE NumberOfEmployees LIKE '1%'", "INVALID_QUERY_FILTER_OPERATOR"),
    ("SELECT Id FROM Lead WHERE Id = 'not-an-id'", "INVALID_QUERY_FILTER_OPERATOR"),
    ("SELECT Id, COUNT(Id) FROM Lead", "MALFORMED_QUERY"),
    ("SELECT Status, Country, COUNT(Id) FROM Lead GROUP BY Status", "MALFORMED_QUERY"),
    ("SELECT Id, COUNT() FROM Lead", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE Id IN ()", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE IsConverted = false AND Email != null OR Phone != null", "MALFORMED_QUERY"),
    ("SELECT Id, Id FROM Lead", "MALFORMED_QUERY"),
    ('SELECT Id FROM Lead WHERE Email = "x"', "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead LIMIT 5 ORDER BY Id", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
    ("SELECT Id FROM Lead WHERE CreatedDate < null", "MALFORMED_QUERY"),
    ("SELECT SUM(Email) FROM Lead", "MALFORMED_QUERY"),
    ("DELETE FROM Lead", "MALFORMED_QUERY"),
]


@pytest.fixture(scope="module")
def sf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = open_harness("salesforce", tmp_path_factory.mktemp("soql"), leads=120)
    yield h
    h.close()


@pytest.fixture(scope="module")
def client(sf: Harness) -> Salesforce:
    return client_credentials_login(
        sf.server.url, sf.api.client_id, sf.api.client_secret, tls_session(sf.server)
    )


def test_the_battery_has_at_least_forty_statements() -> None:
    assert len(VALID) + len(INVALID) >= 40
    assert len(set(VALID) | {q for q, _ in INVALID}) == len(VALID) + len(INVALID)


@pytest.mark.parametrize("soql", VALID)
def test_valid_soql_is_answered(client: Salesforce, soql: str) -> None:
    reply = client.query_all(soql)
    assert reply["totalSize"] == len(reply["records"]) or soql.startswith("SELECT COUNT()")


@pytest.mark.parametrize(("soql", "code"), INVALID)
def test_invalid_soql_is_refused_with_salesforces_error(client: Salesforce, soql: str, code: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        client.query(soql)
    assert refused.value.status == 400
    [error] = refused.value.content  # Salesforce's body: [{"message", "errorCode"}]
    assert set(error) == {"message", "errorCode"}
    assert error["errorCode"] == code


def live_leads(sf: Harness) -> pd.DataFrame:
    leads = sf.sandbox.leads()
    return leads[leads["is_deleted"].eq(0)].assign(created=pd.to_datetime(leads["created_at"], utc=True))


def test_date_literals_are_evaluated_as_ranges_of_days_not_compared_as_text(
    client: Salesforce, sf: Harness
) -> None:
    leads = live_leads(sf)
    today = pd.Timestamp.now(tz="UTC").normalize()
    count = {
        op: client.query(f"SELECT COUNT() FROM Lead WHERE CreatedDate {op} TODAY")["totalSize"]
        for op in ("<", "=", ">")
    }
    assert count == {
        "<": int((leads["created"] < today).sum()),
        "=": int(((leads["created"] >= today) & (leads["created"] < today + pd.Timedelta(days=1))).sum()),
        ">": int((leads["created"] >= today + pd.Timedelta(days=1)).sum()),
    }
    assert sum(count.values()) == len(leads)
    last_30 = client.query("SELECT COUNT() FROM Lead WHERE CreatedDate = LAST_N_DAYS:30")["totalSize"]
    window = (leads["created"] >= today - pd.Timedelta(days=30)) & (
        leads["created"] < today + pd.Timedelta(days=1)
    )
    assert last_30 == int(window.sum())


def test_an_unknown_field_no_longer_matches_every_row(client: Salesforce, sf: Harness) -> None:
    """SQLite reads an unknown double-quoted name as a string: the old translator matched every lead."""
    with pytest.raises(SalesforceMalformedRequest):
        client.query("SELECT Id FROM Lead WHERE Emial = 'Emial'")
    assert client.query("SELECT COUNT() FROM Lead")["totalSize"] == len(live_leads(sf))


def test_relationship_fields_come_back_nested_with_their_type(client: Salesforce, sf: Harness) -> None:
    records = client.query_all("SELECT Id, Owner.Name, OwnerId FROM Lead WHERE OwnerId != null")["records"]
    assert records
    for record in records:
        owner = record["Owner"]
        assert owner["attributes"]["type"] == ("User" if record["OwnerId"].startswith("005") else "Group")
        assert isinstance(owner["Name"], str) and owner["Name"]


def test_the_describe_says_what_can_be_filtered(client: Salesforce) -> None:
    fields = {f["name"]: f for f in client.restful("sobjects/LeadHistory/describe")["fields"]}
    assert (fields["NewValue"]["type"], fields["NewValue"]["filterable"]) == ("anyType", False)
    assert (fields["CreatedDate"]["type"], fields["CreatedDate"]["filterable"]) == ("datetime", True)
    assert fields["LeadId"]["referenceTo"] == ["Lead"]


def test_every_query_the_adapter_sent_in_a_contract_walk_is_valid(sf: Harness) -> None:
    """The adapter's own queries all pass the strict server (a refused one would raise here)."""
    since = None
    frame, since = sf.crm.fetch_new_leads(since, 50)
    ids = frame["lead_id"].tolist()
    # an id that cannot name a record is left out of the query (Salesforce refuses the whole query for it)
    assert sf.crm.fetch_leads([*ids[:3], "not-an-id"])["lead_id"].tolist() == ids[:3]
    sf.crm.fetch_owners()
    sf.crm.find_existing(frame["email"].dropna().tolist()[:5], ["example.com"])
    sf.crm.first_touch(ids)
    sf.crm.fetch_outcomes(ids)
    sf.crm.rejections(pd.Timestamp("2020-01-01", tz="UTC"))
    sf.crm.fetch_accounts()
    assert len(sf.api.queries) >= 8
