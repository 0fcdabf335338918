"""The local HubSpot portal's objects: their properties, types, read-only ones and defaults, and the
constants the server answers by.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from leadrouter.fields import NO_CUSTOM_FIELDS, FieldType, LeadFields

SEARCH_CAP = 10_000  # HubSpot answers no search page past its 10,000th result
MAX_PAGE, MAX_BATCH, MAX_ASSOCIATION_BATCH, MAX_OWNER_PAGE, MAX_IN_VALUES = 200, 100, 1000, 500, 100
CUSTOM_CONTACT_PROPERTIES = ("lead_tier", "routing_reason")  # the portal's own: created by its admin
ENUMERATIONS = frozenset({"hubspot_owner_id", "hs_lead_status", "lifecyclestage", "dealstage", "pipeline"})
MAX_GROUPS, MAX_GROUP_FILTERS, MAX_FILTERS = 5, 10, 25  # the search limits since August 2024
LEAD_BASE, CONTACT_BASE, COMPANY_BASE, DEAL_BASE = 10_000_000, 20_000_000, 30_000_000, 40_000_000
LEAD_STATUS = {
    "New": "NEW", "Working": "IN_PROGRESS", "Assigned": "OPEN", "Converted": "CONNECTED",
    "Rejected - Wrong Owner": "REJECTED_WRONG_OWNER",
}  # fmt: skip
# hs_lead_status options: HubSpot's defaults, and the one this portal's admin added for a rep handing a lead back
LEAD_STATUS_OPTIONS = (
    "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING",
    "REJECTED_WRONG_OWNER",
)  # fmt: skip
MAX_HISTORY_BATCH = 50  # inputs per batch read asking for propertiesWithHistory
HISTORY_COLUMNS = ["id", "value", "timestamp", "sourceType"]
DEAL_STAGE = {"Discovery": "appointmentscheduled", "Closed Won": "closedwon", "Closed Lost": "closedlost"}
CONTACT_TO_DEAL = {"category": "HUBSPOT_DEFINED", "typeId": 4, "label": None}
AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
    "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
FAULT_BODIES = {
    "502": {"message": "Bad Gateway", "category": "BAD_GATEWAY"},
    "503": {"message": "Service temporarily unavailable, please retry.", "category": "SERVICE_UNAVAILABLE"},
}
# fmt: off
# HubSpot property <- World column, copied as they are
LEAD_FIELDS = {
    "firstname": "first_name", "lastname": "last_name", "phone": "phone", "jobtitle": "title",
    "company": "company", "website": "website", "country": "country", "state": "state", "city": "city",
    "industry": "industry", "hs_analytics_source": "lead_source", "message": "message",
    "hubspot_owner_id": "owner_id", "lead_tier": "lead_tier", "routing_reason": "routing_reason",
}
CONTACT_FIELDS = {"firstname": "first_name", "lastname": "last_name", "jobtitle": "title",
                  "hubspot_owner_id": "owner_id"}
COMPANY_FIELDS = {"name": "name", "website": "website", "hubspot_owner_id": "owner_id",
                  "industry": "industry", "country": "country", "state": "state", "city": "city"}
# fmt: on


@dataclass(frozen=True)
class Spec:
    """What HubSpot knows about an object type's properties."""

    kind: str  # as HubSpot names the type in its messages
    properties: tuple[str, ...]
    dates: frozenset[str]
    numbers: frozenset[str]
    read_only: frozenset[str]
    modified: str  # the property HubSpot stamps on every change
    defaults: tuple[str, ...]  # returned when a request names no properties


def spec(kind: str, properties: str, dates: str, numbers: str, read_only: str, defaults: str) -> Spec:
    dates_ = frozenset(dates.split())
    modified = next(p for p in ("lastmodifieddate", "hs_lastmodifieddate") if p in dates_)
    return Spec(kind, tuple(properties.split()), dates_, frozenset(numbers.split()),
                frozenset(read_only.split()), modified, tuple(defaults.split()))  # fmt: skip


CONTACTS = spec(
    "CONTACT",
    "firstname lastname email phone jobtitle company website country state city industry numemployees "
    "annualrevenue hs_analytics_source message hubspot_owner_id hs_lead_status lifecyclestage lead_tier "
    "routing_reason createdate lastmodifieddate hs_sa_first_engagement_date hs_first_outreach_date "
    "notes_last_contacted hs_object_id",
    dates="createdate lastmodifieddate hs_sa_first_engagement_date hs_first_outreach_date "
    "notes_last_contacted",
    numbers="numemployees annualrevenue hs_object_id",
    read_only="createdate lastmodifieddate hs_object_id hs_sa_first_engagement_date",
    defaults="createdate email firstname hs_object_id lastmodifieddate lastname",
)


def contacts_spec(custom_properties: bool, fields: LeadFields = NO_CUSTOM_FIELDS) -> Spec:
    """The contact properties of a portal with, or without, its custom ones; plus a property for each custom
    lead field that names one (config/fields.yaml), typed as the field is."""
    kept = tuple(p for p in CONTACTS.properties if custom_properties or p not in CUSTOM_CONTACT_PROPERTIES)
    extra = [f for f in fields.custom if f.hubspot]
    numbers = {f.hubspot for f in extra if f.type == FieldType.NUMBER}
    dates = {f.hubspot for f in extra if f.type == FieldType.DATE}
    return dataclasses.replace(
        CONTACTS,
        properties=(*kept, *(f.hubspot for f in extra)),
        numbers=CONTACTS.numbers | numbers,
        dates=CONTACTS.dates | dates,
    )


COMPANIES = spec(
    "COMPANY",
    "name domain website hubspot_owner_id industry numberofemployees annualrevenue country state city "
    "notes_last_updated createdate hs_lastmodifieddate hs_object_id",
    dates="notes_last_updated createdate hs_lastmodifieddate",
    numbers="numberofemployees annualrevenue hs_object_id",
    read_only="notes_last_updated createdate hs_lastmodifieddate hs_object_id",
    defaults="createdate domain hs_lastmodifieddate hs_object_id name",
)
DEALS = spec(
    "DEAL",
    "dealname dealstage pipeline amount closedate hs_is_closed hs_is_closed_won hubspot_owner_id createdate "
    "hs_lastmodifieddate hs_object_id",
    dates="closedate createdate hs_lastmodifieddate",
    numbers="amount hs_object_id",
    read_only="createdate hs_lastmodifieddate hs_object_id hs_is_closed",
    defaults="amount closedate createdate dealname dealstage hs_lastmodifieddate hs_object_id pipeline",
)
