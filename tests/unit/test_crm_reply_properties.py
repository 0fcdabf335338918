"""A reply the vendor's spec allows never crashes a batch: hypothesis builds replies within the documented
response shapes (HubSpot: ids are strings, every property is an optional nullable string, enumerations may hold
options the portal added; Salesforce: query records with every selected field present, nullable, picklists
holding any value), each adapter's mapping reads them, and every lead comes out as exactly one row that either
routes or is quarantined with reasons naming the field.

HubSpot's batch-read, association and owner replies go through the client's own deserializer, as the adapter
reads them."""

from __future__ import annotations

import json
import string
from types import SimpleNamespace
from typing import Any

import pandas as pd
from hubspot.crm.associations.v4 import ApiClient as AssociationsClient
from hubspot.crm.contacts import ApiClient as ContactsClient
from hubspot.crm.deals import ApiClient as DealsClient
from hubspot.crm.owners import ApiClient as OwnersClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leadrouter.crm.hubspot import client as hubspot_client
from leadrouter.crm.hubspot import mapping as hubspot
from leadrouter.crm.hubspot.search import Found
from leadrouter.crm.salesforce import mapping as salesforce
from leadrouter.fields import configured_fields
from leadrouter.schema import LEAD_COLUMNS
from leadrouter.validate.suite import validate_leads

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# each lead example runs the validation suite (Great Expectations): fewer of them
LEAD_SETTINGS = settings(SETTINGS, max_examples=15)
STARTED = "2026-11-30T12:00:00.000Z"

stamps = st.datetimes(
    min_value=pd.Timestamp("2015-01-01").to_pydatetime(), max_value=pd.Timestamp("2026-11-30").to_pydatetime()
)
iso_ms = stamps.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z")
iso_s = stamps.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
text = st.text(max_size=40)
blank = st.sampled_from([None, ""])
hubspot_id = st.one_of(
    st.integers(1, 10**13).map(str),
    st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=16),
)
ENUM_OPTIONS = {
    "hs_lead_status": ["NEW", "OPEN", "IN_PROGRESS", "UNQUALIFIED", "REJECTED_WRONG_OWNER"],
    "lifecyclestage": ["subscriber", "lead", "marketingqualifiedlead", "customer"],
    "hs_analytics_source": ["ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "DIRECT_TRAFFIC"],
    "dealstage": ["appointmentscheduled", "closedwon", "closedlost"],
}

DATETIMES = frozenset({"createdate", "lastmodifieddate", "notes_last_contacted", *hubspot.TOUCH_DATES})


def enumeration(prop: str) -> st.SearchStrategy[str | None]:
    """A documented option, one the portal added (any internal name), or nothing."""
    return st.one_of(
        blank, st.sampled_from(ENUM_OPTIONS[prop]), st.text(string.ascii_uppercase + "_", max_size=20)
    )


def property_value(prop: str) -> st.SearchStrategy[str | None]:
    """A contact property's value as HubSpot sends it: a string, or null."""
    if prop in ENUM_OPTIONS:
        return enumeration(prop)
    if prop in DATETIMES:  # HubSpot checks a datetime property's format on write: ISO 8601 when set
        return st.one_of(blank, iso_ms, iso_s)
    if prop == "numemployees":
        return st.one_of(blank, st.sampled_from(["1-5", "25-50", "1000+", "237", "10,000"]), text)
    if prop == "annualrevenue":
        return st.one_of(blank, st.floats(0, 1e10, allow_nan=False).map(str), text)
    if prop == "hubspot_owner_id":
        return st.one_of(blank, st.integers(1, 10**9).map(str))
    if prop == "email":
        return st.one_of(blank, st.emails(), text)
    return st.one_of(blank, text)


def objects(properties: list[str], most: int = 12) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A page of SimplePublicObjects, possibly empty, ids unique: each property may be absent or null."""
    props = st.fixed_dictionaries({}, optional={p: property_value(p) for p in properties})
    record = st.fixed_dictionaries({"id": hubspot_id, "properties": props})
    return st.lists(record, max_size=most, unique_by=lambda r: r["id"])


def deserialized(client: type, payload: dict, klass: str) -> Any:
    """A JSON reply read by the hubspot-api-client's deserializer, as the adapter's calls read it."""
    return client().deserialize(SimpleNamespace(data=json.dumps(payload)), klass)


def batch(results: list[dict], client: type, klass: str = "BatchResponseSimplePublicObject") -> list:
    stamped = [r | {"createdAt": STARTED, "updatedAt": STARTED, "archived": False} for r in results]
    reply = {"status": "COMPLETE", "results": stamped, "startedAt": STARTED, "completedAt": STARTED}
    return deserialized(client, reply, klass).results


def assert_routed_or_quarantined(leads: pd.DataFrame, ids: list[str]) -> None:
    """Every lead read is one row, and validation puts it in exactly one of valid and quarantined, a quarantined
    one with reasons that each name a lead column."""
    assert set(LEAD_COLUMNS) <= set(leads.columns)
    assert sorted(leads["lead_id"].astype(str)) == sorted(ids)
    result = validate_leads(leads)
    routed, held = (
        result.valid["lead_id"].astype(str).tolist(),
        result.quarantined["lead_id"].astype(str).tolist(),
    )
    assert sorted(routed + held) == sorted(ids)
    for reasons in result.quarantined["reasons"]:
        assert reasons and all(r["column"] in leads.columns for r in reasons)


@LEAD_SETTINGS
@given(page=objects(list(dict.fromkeys(hubspot.LEAD_PROPERTIES.values()))))
@example(page=[{"id": i, "properties": {"lastmodifieddate": STARTED}} for i in ("inf", "1e5", "0042", "7")])
def test_hubspot_search_results_route_or_quarantine(page: list[dict]) -> None:
    custom = configured_fields()
    properties = {**hubspot.LEAD_PROPERTIES, **custom.sources("hubspot")}
    found = [Found(r["id"], r["properties"]) for r in page]
    leads = hubspot.in_cursor_order(hubspot.leads_frame(found, properties, custom))
    # the next search starts after the latest stamp held by a lead whose id is a number
    numeric = leads["lead_id"].str.fullmatch(r"\d+")
    usable = leads[leads["modified_at"].notna() & numeric]
    cursor = hubspot_client.cursor_row(leads)
    assert (cursor is None) == usable.empty
    if cursor is not None:
        assert cursor[0] == usable["modified_at"].max()
        latest = usable.loc[usable["modified_at"].eq(cursor[0]), "lead_id"]
        assert cursor[1] in set(latest.astype(int))
    assert_routed_or_quarantined(leads, [r["id"] for r in page])


@LEAD_SETTINGS
@given(page=objects(list(dict.fromkeys(hubspot.LEAD_PROPERTIES.values()))))
def test_hubspot_batch_read_contacts_route_or_quarantine(page: list[dict]) -> None:
    custom = configured_fields()
    leads = hubspot.leads_frame(batch(page, ContactsClient), hubspot.LEAD_PROPERTIES, custom)
    assert_routed_or_quarantined(leads, [r["id"] for r in page])


history_entry = st.fixed_dictionaries(
    {"value": enumeration("hs_lead_status").map(lambda v: v or ""), "timestamp": iso_ms},
    optional={"sourceType": st.sampled_from(["CRM_UI", "API", "INTEGRATION"])},
)


@SETTINGS
@given(
    page=objects([*hubspot.TOUCH_DATES, "notes_last_contacted", "hubspot_owner_id"]),
    histories=st.lists(st.lists(history_entry, max_size=4), min_size=12, max_size=12),
)
def test_hubspot_touches_and_rejections_read_any_history(page: list[dict], histories: list[list]) -> None:
    for record, entries in zip(page, histories, strict=False):
        owners = [{"value": e["value"] and "17", "timestamp": e["timestamp"]} for e in entries[:2]]
        record["propertiesWithHistory"] = {"hs_lead_status": entries, "hubspot_owner_id": owners}
    found = batch(page, ContactsClient)
    touches = hubspot.first_touches(found, hubspot.UNWORKED | {hubspot.REJECTED_STATUS})
    assert sorted(touches["lead_id"]) == sorted(r["id"] for r in page)
    since = pd.Timestamp("2010-01-01", tz="UTC")
    rejected = hubspot.rejections_frame(found, hubspot.REJECTED_STATUS, since)
    wanted = {
        r["id"]
        for r, h in zip(page, histories, strict=False)
        if any(e["value"] == hubspot.REJECTED_STATUS for e in h)
    }
    assert set(rejected["lead_id"]) == wanted


association = st.fixed_dictionaries(
    {
        "from": st.fixed_dictionaries({"id": hubspot_id}),
        "to": st.lists(
            st.fixed_dictionaries(
                {
                    "toObjectId": st.integers(1, 10**12),
                    "associationTypes": st.just(
                        [{"category": "HUBSPOT_DEFINED", "typeId": 4, "label": None}]
                    ),
                }
            ),
            max_size=4,
        ),
    },
    optional={"paging": st.just({"next": {"after": "MTA="}})},
)


@SETTINGS
@given(
    links=st.lists(association, max_size=6, unique_by=lambda r: r["from"]["id"]),
    deal_properties=st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "dealstage": enumeration("dealstage"),
                "amount": st.one_of(blank, st.floats(0, 1e9, allow_nan=False).map(str), text),
                "closedate": st.one_of(blank, iso_ms),
                "hs_is_closed": st.sampled_from([None, "", "true", "false"]),
                "hs_is_closed_won": st.sampled_from([None, "", "true", "false"]),
            },
        ),
        min_size=24,
        max_size=24,
    ),
)
def test_hubspot_outcomes_read_any_association_page_and_deal(
    links: list[dict], deal_properties: list
) -> None:
    reply = {"status": "COMPLETE", "results": links, "startedAt": STARTED, "completedAt": STARTED}
    results = deserialized(AssociationsClient, reply, "BatchResponsePublicAssociationMultiWithLabel").results
    pairs = pd.DataFrame(hubspot.deal_links(results), columns=["lead_id", "deal_id"]).drop_duplicates()
    deal_ids = pairs["deal_id"].unique().tolist()
    deals = batch(
        [{"id": i, "properties": p} for i, p in zip(deal_ids, deal_properties, strict=False)], DealsClient
    )
    outcomes = hubspot.outcomes_frame(pairs, deals)
    assert list(outcomes.columns) == hubspot.OUTCOME_COLUMNS
    served = {d.id for d in deals}
    assert len(outcomes) == int(pairs["deal_id"].isin(served).sum())


owner = st.fixed_dictionaries(
    {
        "id": hubspot_id,
        "archived": st.booleans(),
        "createdAt": st.just(STARTED),
        "updatedAt": st.just(STARTED),
    },
    optional={
        "firstName": st.one_of(st.none(), text),
        "lastName": st.one_of(st.none(), text),
        "email": st.one_of(st.none(), st.emails()),
        "type": st.one_of(st.sampled_from(["PERSON", "QUEUE"]), st.text(string.ascii_uppercase, max_size=8)),
        "userId": st.integers(1, 10**9),
    },
)


@SETTINGS
@given(owners=st.lists(owner, max_size=8))
def test_hubspot_owners_read_any_page(owners: list[dict]) -> None:
    page = deserialized(OwnersClient, {"results": owners}, "CollectionResponsePublicOwnerForwardPaging")
    frame = hubspot.owners_frame(page.results)
    assert frame["owner_id"].tolist() == [o["id"] for o in owners if not o["archived"]]
    assert set(frame["role"]) <= {"user", "queue"}


salesforce_id = st.text(string.ascii_letters + string.digits, min_size=18, max_size=18)
sf_stamp = stamps.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.000+0000"))
SF_VALUES: dict[str, st.SearchStrategy] = {
    "Id": salesforce_id,
    "NumberOfEmployees": st.one_of(st.none(), st.integers(0, 10**7)),
    "AnnualRevenue": st.one_of(st.none(), st.floats(0, 1e12, allow_nan=False)),
    "OwnerId": st.one_of(
        salesforce_id.map(lambda i: "005" + i[3:]), salesforce_id.map(lambda i: "00G" + i[3:])
    ),
    "CreatedDate": sf_stamp,  # system fields: never null
    "SystemModstamp": sf_stamp,
    "Email": st.one_of(st.none(), st.emails(), text),
}


def lead_record() -> st.SearchStrategy[dict[str, Any]]:
    """A Lead query record: every selected field present, nullable; picklists (LeadSource, Industry) any text."""
    fields = dict.fromkeys(salesforce.LEAD_FIELDS.values())
    values = {f: SF_VALUES.get(f, st.one_of(st.none(), text)) for f in fields}
    attributes = st.just({"type": "Lead", "url": "/services/data/v59.0/sobjects/Lead/x"})
    return st.fixed_dictionaries({"attributes": attributes, **values})


@LEAD_SETTINGS
@given(records=st.lists(lead_record(), max_size=12, unique_by=lambda r: r["Id"]))
def test_salesforce_lead_records_route_or_quarantine(records: list[dict]) -> None:
    leads = salesforce.leads_frame(records, salesforce.LEAD_FIELDS, configured_fields())
    assert_routed_or_quarantined(leads, [r["Id"] for r in records])


@SETTINGS
@given(
    lead_ids=st.lists(salesforce_id, max_size=6, unique=True),
    picks=st.lists(st.tuples(st.integers(0, 5), sf_stamp, st.one_of(st.none(), text)), max_size=10),
    activity=st.lists(st.one_of(st.none(), stamps.map(lambda d: d.strftime("%Y-%m-%d"))), max_size=6),
)
def test_salesforce_touches_and_rejections_read_any_history(
    lead_ids: list[str], picks: list[tuple], activity: list[str | None]
) -> None:
    if not lead_ids:
        lead_ids = ["00Q000000000001AAA"]
    who = [lead_ids[i % len(lead_ids)] for i, _, _ in picks]
    tasks = [{"WhoId": w, "CreatedDate": at} for w, (_, at, _) in zip(who, picks, strict=True)]
    changes = [
        {"LeadId": w, "NewValue": value, "CreatedById": "005000000000001AAA", "CreatedDate": at}
        for w, (_, at, value) in zip(who, picks, strict=True)
    ]
    # one record per lead asked for, as a query by Id answers
    last = [{"Id": i, "LastActivityDate": d} for i, d in zip(lead_ids, activity, strict=False)]
    touches = salesforce.first_touch_frame(lead_ids, tasks, changes, last)
    assert touches["lead_id"].tolist() == lead_ids
    rejected = salesforce.rejections_frame(
        changes, ["Rejected - Wrong Owner", *(v for _, _, v in picks[:1] if v)]
    )
    assert len(rejected) <= len(changes)


@SETTINGS
@given(
    converted=st.lists(
        st.fixed_dictionaries(
            {"Id": salesforce_id, "ConvertedOpportunityId": st.one_of(st.none(), salesforce_id)}
        ),
        max_size=6,
    ),
    stage=st.one_of(st.none(), text),
    amount=st.one_of(st.none(), st.floats(0, 1e9, allow_nan=False)),
    close=st.one_of(st.none(), stamps.map(lambda d: d.strftime("%Y-%m-%d"))),
)
def test_salesforce_outcomes_read_any_opportunity(
    converted: list[dict], stage: str | None, amount: float | None, close: str | None
) -> None:
    opportunities = dict.fromkeys(
        c["ConvertedOpportunityId"] for c in converted if c["ConvertedOpportunityId"]
    )
    deals = [
        {"Id": i, "StageName": stage, "IsClosed": False, "IsWon": False, "Amount": amount, "CloseDate": close}
        for i in opportunities
    ]
    outcomes = salesforce.outcomes_frame(converted, deals)
    assert len(outcomes) == sum(1 for c in converted if c["ConvertedOpportunityId"])
