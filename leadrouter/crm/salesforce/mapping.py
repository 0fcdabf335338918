"""Salesforce payloads ⇄ canonical frames, pure: query records (as the REST API returns them, `attributes`
included) in, frames out; decision rows in, sObject Collections records out. No HTTP here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from leadrouter.crm.base import ACCOUNT_COLUMNS, REJECTION_COLUMNS, WRITE_RESULT_COLUMNS
from leadrouter.fields import NO_CUSTOM_FIELDS, LeadFields, conform_leads
from leadrouter.schema import UTC_TS, conform

Record = dict[str, Any]
Result = tuple[str, bool, bool, str | None]  # a WRITE_RESULT_COLUMNS row

# canonical lead column -> Lead field; lead_id and modified_at are fixed: they are the pull cursor
LEAD_FIELDS = {
    "lead_id": "Id", "first_name": "FirstName", "last_name": "LastName", "email": "Email", "phone": "Phone",
    "title": "Title", "company": "Company", "website": "Website", "country": "Country", "state": "State",
    "city": "City", "industry": "Industry", "employees": "NumberOfEmployees", "annual_revenue": "AnnualRevenue",
    "lead_source": "LeadSource", "message": "Description", "crm_owner_id": "OwnerId",
    "created_at": "CreatedDate", "modified_at": "SystemModstamp",
}  # fmt: skip
# decision column -> Lead field written back; custom fields are skipped when the org does not have them
WRITE_FIELDS = {"owner_id": "OwnerId", "tier": "Lead_Tier__c", "routing_reason": "Routing_Reason__c"}
ACCOUNT_FIELDS = {
    "Id": "account_id", "Name": "name", "Website": "website", "OwnerId": "owner_id",
    "LastActivityDate": "last_activity_at", "NumberOfEmployees": "employees", "Industry": "industry",
    "AnnualRevenue": "annual_revenue",
}  # fmt: skip
OUTCOME_FIELDS = {
    "Id": "lead_id", "ConvertedOpportunityId": "deal_id", "StageName": "stage", "IsClosed": "is_closed",
    "IsWon": "is_won", "Amount": "amount", "CloseDate": "close_date", "CurrencyIsoCode": "currency",
    "CreatedDate": "deal_created_at",
}  # fmt: skip
DEAL_FIELDS = ["Id", "StageName", "IsClosed", "IsWon", "Amount", "CloseDate", "CreatedDate"]
CURRENCY_FIELD = "CurrencyIsoCode"  # only in multi-currency orgs: asked for only where describe lists it
# transient per-record errors: the same write succeeds later (a trigger's lock wait surfaces as the second)
RETRY_RECORD_ERRORS = {"UNABLE_TO_LOCK_ROW"}
LOCK_IN_MESSAGE = "UNABLE_TO_LOCK_ROW"
STILL_LOCKED = "UNABLE_TO_LOCK_ROW: still locked after retries"
# Lead Status values a rep sets to hand a lead back (picklist API names)
REJECTION_STATUSES = ("Rejected - Wrong Owner",)
REOPEN_STATUS = "Open - Not Contacted"  # a handed-back lead's status once it has a new owner


def records_frame(records: Sequence[Record], columns: Sequence[str]) -> pd.DataFrame:
    """Query records as a frame of exactly `columns` (the record's `attributes` left out)."""
    return pd.DataFrame.from_records(list(records), columns=list(columns))


def leads_frame(
    records: Sequence[Record], fields: Mapping[str, str], custom: LeadFields = NO_CUSTOM_FIELDS
) -> pd.DataFrame:
    """Lead records as canonical leads plus the custom fields; `fields` maps each lead column (and custom
    field) to the Lead field read for it."""
    rows = records_frame(records, list(fields.values()))
    return conform_leads(rows.rename(columns={v: k for k, v in fields.items()}), custom)


def site_host(website: str | None) -> str:
    """'https://www.Acme.com/about' -> 'acme.com'."""
    if not website:
        return ""
    text = website.strip().lower()
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    return host.removeprefix("www.")


def accounts_frame(records: Sequence[Record], active_owners: set[str]) -> pd.DataFrame:
    """Account records as ACCOUNT_COLUMNS; owner_active when the owner is among `active_owners`."""
    accounts = records_frame(records, list(ACCOUNT_FIELDS))
    accounts["owner_active"] = accounts["OwnerId"].isin(active_owners)
    return conform(accounts.rename(columns=ACCOUNT_FIELDS), ACCOUNT_COLUMNS)


def inactive_frame(users: Sequence[Record]) -> pd.DataFrame:
    """Deactivated User records as owner_id, email."""
    frame = records_frame(users, ["Id", "Email"]).rename(columns={"Id": "owner_id", "Email": "email"})
    return frame[["owner_id", "email"]]


def owners_frame(users: Sequence[Record], queues: Sequence[Record]) -> pd.DataFrame:
    """Active User records and queue (Group) records as owner_id, name, email, role, active."""
    people = records_frame(users, ["Id", "Name", "Email", "IsActive"]).assign(role="user")
    groups = records_frame(queues, ["Id", "Name"]).assign(Email=None, IsActive=True, role="queue")
    owners = pd.concat([people, groups], ignore_index=True)
    owners = owners.rename(columns={"Id": "owner_id", "Name": "name", "Email": "email", "IsActive": "active"})
    return owners.astype({"active": bool})[["owner_id", "name", "email", "role", "active"]]


def people_frame(records: Sequence[Record], kind: str) -> pd.DataFrame:
    """Lead or Contact records found by email, as rows of `existing_frame`'s input."""
    return records_frame(records, ["Id", "Email", "OwnerId"]).assign(kind=kind, domain=None)


def match_account_domains(records: Sequence[Record], domains: Sequence[str]) -> pd.DataFrame:
    """Keep accounts whose website host is one of `domains` (or a subdomain of one); LIKE only narrowed them."""
    accounts = records_frame(records, ["Id", "Website", "OwnerId"])
    host = accounts["Website"].map(site_host).astype("string")
    domain = pd.Series(pd.NA, index=accounts.index, dtype="string")
    for candidate in sorted(domains, key=len):  # the longest matching domain wins
        domain = domain.mask(host.eq(candidate) | host.str.endswith("." + candidate), candidate)
    out = accounts.assign(domain=domain, kind="account", Email=None)
    return out[out["domain"].notna()].drop(columns="Website")


def existing_frame(found: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """People and accounts found as kind, record_id, email (lowercase), domain, owner_id."""
    out = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    out = out.rename(columns={"Id": "record_id", "Email": "email", "OwnerId": "owner_id"})
    out = out.reindex(columns=["kind", "record_id", "email", "domain", "owner_id"])
    out["email"] = out["email"].str.lower()
    return out.reset_index(drop=True)


def write_records(frame: pd.DataFrame, writes: Mapping[str, str], reopen_status: str) -> list[Record]:
    """sObject Collections records for the decisions in `frame`: the `writes` columns as Lead fields, and the
    reopen status for a lead whose `reopen` is set."""
    values = frame[[c for c in writes if c in frame.columns]].rename(columns=writes)
    if "Routing_Reason__c" in values:  # a Text(255) field
        values["Routing_Reason__c"] = values["Routing_Reason__c"].str.slice(0, 255)
    values = values.astype(object).where(values.notna(), None)
    reopen = frame["reopen"] if "reopen" in frame else pd.Series(False, index=frame.index)
    return [
        {
            "attributes": {"type": "Lead"},
            "id": lead_id,
            **fields,
            **({"Status": reopen_status} if back else {}),
        }
        for lead_id, fields, back in zip(frame["lead_id"], values.to_dict("records"), reopen, strict=True)
    ]


def collection_outcome(
    records: Sequence[Record], answers: Sequence[Record]
) -> tuple[list[Result], list[Record]]:
    """A Collections reply read against the records sent: a result per record done (written or refused for
    good), and the records that failed on a row lock, to send again. Answers come in request order; a failed
    record's id may be null."""
    done: list[Result] = []
    locked: list[Record] = []
    for record, answer in zip(records, answers, strict=True):
        if answer.get("success"):
            done.append((record["id"], True, False, None))
            continue
        first = (answer.get("errors") or [{}])[0]
        code, message = first.get("statusCode", "UNKNOWN"), first.get("message", "")
        if code in RETRY_RECORD_ERRORS or LOCK_IN_MESSAGE in message:
            locked.append(record)
            continue
        done.append((record["id"], False, False, f"{code}: {message}"[:500]))
    return done, locked


def first_touch_frame(
    lead_ids: Sequence[str],
    tasks: Sequence[Record],
    status_changes: Sequence[Record],
    activity: Sequence[Record],
    rejection_statuses: Sequence[str] = REJECTION_STATUSES,
) -> pd.DataFrame:
    """lead_id, first_touch_at: the earliest Task on the lead (WhoId) or Status change (LeadHistory), a change
    to a rejection status excepted; else its LastActivityDate (a date: midnight UTC)."""
    touched = records_frame(tasks, ["WhoId", "CreatedDate"]).set_axis(["lead_id", "at"], axis=1)
    status = records_frame(status_changes, ["LeadId", "NewValue", "CreatedDate"])
    # a rep handing the lead back has not worked it (NewValue is anyType: SOQL cannot filter on it)
    status = status[~status["NewValue"].isin(rejection_statuses)].drop(columns="NewValue")
    events = pd.concat([touched, status.set_axis(["lead_id", "at"], axis=1)])
    fallback = records_frame(activity, ["Id", "LastActivityDate"]).set_axis(["lead_id", "fallback"], axis=1)
    events["at"] = pd.to_datetime(events["at"], utc=True, format="ISO8601")
    first = events.groupby("lead_id")["at"].min()
    later = pd.to_datetime(fallback.set_index("lead_id")["fallback"], utc=True, format="ISO8601")
    out = pd.DataFrame({"lead_id": list(lead_ids)})
    # reindex, not map: pandas cannot map through an empty datetime series
    touched_at = first.reindex(out["lead_id"]).astype(UTC_TS)
    active = later.reindex(out["lead_id"]).astype(UTC_TS)
    out["first_touch_at"] = touched_at.fillna(active).set_axis(out.index)
    return out.astype({"first_touch_at": UTC_TS})


def rejections_frame(changes: Sequence[Record], rejection_statuses: Sequence[str]) -> pd.DataFrame:
    """LeadHistory Status changes as REJECTION_COLUMNS, those to a rejection status only: CreatedById set it."""
    history = records_frame(changes, ["LeadId", "NewValue", "CreatedById", "CreatedDate"])
    rejected = history[history["NewValue"].isin(rejection_statuses)]
    out = rejected.rename(
        columns={"LeadId": "lead_id", "CreatedById": "owner_id", "CreatedDate": "rejected_at"}
    )
    out["rejected_at"] = pd.to_datetime(out["rejected_at"], utc=True, format="ISO8601").astype(UTC_TS)
    return out[REJECTION_COLUMNS].reset_index(drop=True)


def outcomes_frame(converted: Sequence[Record], deals: Sequence[Record]) -> pd.DataFrame:
    """Converted Lead records (Id, ConvertedOpportunityId) joined to their Opportunity records."""
    leads = records_frame(converted, ["Id", "ConvertedOpportunityId"])
    opportunities = records_frame(deals, [*DEAL_FIELDS, CURRENCY_FIELD])
    out = leads.merge(opportunities, left_on="ConvertedOpportunityId", right_on="Id", suffixes=("", "_deal"))
    out = out.rename(columns=OUTCOME_FIELDS)[list(OUTCOME_FIELDS.values())]
    return out.astype({"is_closed": bool, "is_won": bool, "amount": float}).reset_index(drop=True)


def error_text(exc: Exception) -> str:
    """An exception as a result's error: its type and text, cut to 500 characters."""
    return f"{type(exc).__name__}: {exc}"[:500]


def result_frame(rows: Sequence[Result]) -> pd.DataFrame:
    """WRITE_RESULT_COLUMNS rows as a frame of their dtypes."""
    out = pd.DataFrame(list(rows), columns=WRITE_RESULT_COLUMNS)
    return out.astype({"ok": bool, "retry": bool, "error": "string"})
