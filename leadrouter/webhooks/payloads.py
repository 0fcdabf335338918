"""Webhook bodies → the ids of the leads they announce. Bodies are untrusted: errors name the field and the fix."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

# HubSpot: legacy "contact.creation", and the developer platform's "object.creation" of type 0-1 (contacts)
_CONTACT_TYPE_ID = "0-1"
_SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_OUTBOUND = "{http://soap.sforce.com/2005/09/outbound}"
_SOBJECT = "{urn:sobject.enterprise.soap.sforce.com}"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# the acknowledgement Salesforce waits for; without it the Outbound Message is retried for 24 hours
OUTBOUND_MESSAGE_ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
    "</notificationsResponse></soapenv:Body></soapenv:Envelope>"
)


class PayloadError(ValueError):
    """The body is not what the CRM documents; the message names the field and what was expected."""


def hubspot_contact_ids(body: bytes) -> list[str]:
    """The contact ids of the contact-creation events in a HubSpot webhook batch (other events are skipped)."""
    events = _json(body)
    if not isinstance(events, list):
        raise PayloadError("body: expected a JSON array of subscription events, as HubSpot sends")
    ids: list[str] = []
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise PayloadError(f"[{index}]: expected an event object")
        kind = event.get("subscriptionType")
        if kind == "contact.creation" or (
            kind == "object.creation" and str(event.get("objectTypeId")) == _CONTACT_TYPE_ID
        ):
            ids.append(_hubspot_id(event.get("objectId"), index))
    return _unique(ids)


def salesforce_flow_lead_ids(body: bytes) -> list[str]:
    """The lead ids of a Flow HTTP callout: {"lead_ids": ["00Q…", …]}."""
    data = _json(body)
    ids = data.get("lead_ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not ids:
        raise PayloadError('lead_ids: expected {"lead_ids": ["00Q…"]}, a non-empty list of Lead Ids')
    return _unique([_salesforce_id(value, f"lead_ids[{index}]") for index, value in enumerate(ids)])


def salesforce_outbound_message(body: bytes) -> tuple[str, list[str]]:
    """(OrganizationId, lead ids) of an Outbound Message's SOAP notifications; non-Lead sObjects are skipped."""
    if b"<!DOCTYPE" in body.upper():
        raise PayloadError("body: a DOCTYPE is not allowed in a SOAP message")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise PayloadError(f"body: not well-formed XML ({exc})") from exc
    notifications = root.find(f".//{_OUTBOUND}notifications")
    if notifications is None:
        raise PayloadError(
            "notifications: no <notifications> element of the outbound namespace in the envelope"
        )
    org_id = _salesforce_id(notifications.findtext(f"{_OUTBOUND}OrganizationId"), "OrganizationId")
    ids = []
    for index, notification in enumerate(notifications.iter(f"{_OUTBOUND}Notification")):
        sobject = notification.find(f"{_OUTBOUND}sObject")
        if sobject is None:
            raise PayloadError(f"Notification[{index}].sObject: missing")
        if sobject.get(_XSI_TYPE, "").rpartition(":")[2] == "Lead":
            ids.append(_salesforce_id(sobject.findtext(f"{_SOBJECT}Id"), f"Notification[{index}].sObject.Id"))
    return org_id, _unique(ids)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body: not valid JSON ({exc})") from exc


def _hubspot_id(value: Any, index: int) -> str:
    # bool is an int in Python; HubSpot ids are positive integers (sometimes sent as strings)
    if isinstance(value, bool) or not str(value).isdigit():
        raise PayloadError(
            f"[{index}].objectId: expected the contact's numeric id, got {type(value).__name__}"
        )
    return str(int(value))


def _salesforce_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _SALESFORCE_ID.fullmatch(value.strip()):
        raise PayloadError(f"{field}: expected a 15- or 18-character Salesforce Id")
    return value.strip()


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))
