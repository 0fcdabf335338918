"""Salesforce through simple-salesforce: Lead pulls on SystemModstamp, sObject Collections writes, SOQL lookups.

Every value placed in SOQL goes through simple-salesforce's format_soql, which quotes and escapes it: lead
text never becomes query syntax.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pandas as pd
import requests
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from leadrouter.crm.base import (
    ACCOUNT_COLUMNS,
    REJECTION_COLUMNS,
    WRITE_RESULT_COLUMNS,
    chunks,
    cursor_of,
    parse_cursor,
)
from leadrouter.schema import LEAD_COLUMNS, UTC_TS, conform

T = TypeVar("T")

API_VERSION = "59.0"
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
    "IsWon": "is_won", "Amount": "amount", "CloseDate": "close_date",
}  # fmt: skip
# transient per-record errors: the same write succeeds later (a trigger's lock wait surfaces as the second)
RETRY_RECORD_ERRORS = {"UNABLE_TO_LOCK_ROW"}
LOCK_IN_MESSAGE = "UNABLE_TO_LOCK_ROW"
# Lead Status values a rep sets to hand a lead back (picklist API names)
REJECTION_STATUSES = ("Rejected - Wrong Owner",)
REOPEN_STATUS = "Open - Not Contacted"  # a handed-back lead's status once it has a new owner
COLLECTION_SIZE = 200  # sObject Collections' limit per call
IN_CHUNK = 100  # values per IN (…) list: keeps every query far below SOQL's 100,000-character limit


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff for transient failures (5xx, REQUEST_LIMIT_EXCEEDED, timeouts, row locks)."""

    attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.base_s * 2**attempt, self.cap_s)


def client_credentials_login(
    instance_url: str,
    client_id: str,
    client_secret: str,
    session: requests.Session | None = None,
    version: str = API_VERSION,
    timeout_s: float = 30.0,
) -> Salesforce:
    """A Salesforce client from the OAuth 2.0 client-credentials flow of a connected app (My Domain URL)."""
    session = session or requests.Session()
    response = session.post(
        f"{instance_url.rstrip('/')}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
        timeout=timeout_s,
    )
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code == 429 or response.status_code >= 500:  # the login service is busy: retry
        raise requests.ConnectionError(f"Salesforce login unavailable ({response.status_code})")
    if response.status_code != 200:
        # the error names the problem, never the secret
        raise PermissionError(
            f"Salesforce login failed ({response.status_code}): {body.get('error')}: {body.get('error_description')}"
        )
    return Salesforce(
        instance_url=body.get("instance_url") or instance_url,
        session_id=body["access_token"],
        session=session,
        version=version,
    )


def soql_datetime(stamp: str) -> str:
    """A cursor stamp as a SOQL datetime literal (Salesforce stamps are whole seconds)."""
    return pd.Timestamp(stamp).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def site_host(website: str | None) -> str:
    """'https://www.Acme.com/about' -> 'acme.com'."""
    if not website:
        return ""
    text = website.strip().lower()
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    return host.removeprefix("www.")


class SalesforceCRM:
    """The CRM protocol on a Salesforce org. `connect` logs in; it is called again when a session expires."""

    name = "salesforce"

    def __init__(
        self,
        connect: Callable[[], Salesforce],
        fields: Mapping[str, str] | None = None,
        write_fields: Mapping[str, str] | None = None,
        backoff: Backoff = Backoff(),
        timeout_s: float = 60.0,
        rejection_statuses: Sequence[str] = REJECTION_STATUSES,
        reopen_status: str = REOPEN_STATUS,
    ) -> None:
        self._connect = connect
        self.rejection_statuses = tuple(rejection_statuses)
        self.reopen_status = reopen_status
        self._sf: Salesforce | None = None
        self._wanted_fields = {
            **LEAD_FIELDS,
            **(fields or {}),
            "lead_id": "Id",
            "modified_at": "SystemModstamp",
        }
        self._wanted_writes = {**WRITE_FIELDS, **(write_fields or {})}
        self._fields: dict[str, str] | None = None
        self._writes: dict[str, str] | None = None
        self.backoff = backoff
        self.timeout_s = timeout_s

    # --- transport -----------------------------------------------------------------------------------------

    def _call(self, request: Callable[[Salesforce], T]) -> T:
        """Run one API request; re-login on an expired session; back off and retry transient failures."""
        for attempt in range(self.backoff.attempts):
            try:
                if self._sf is None:
                    self._sf = self._connect()
                return request(self._sf)
            except SalesforceExpiredSession:
                self._sf = None  # log in again on the next attempt
                if attempt == self.backoff.attempts - 1:
                    raise
            except (
                SalesforceGeneralError,
                SalesforceRefusedRequest,
                requests.ConnectionError,
                requests.Timeout,
            ) as exc:
                if not is_transient(exc) or attempt == self.backoff.attempts - 1:
                    raise
                time.sleep(self.backoff.delay(attempt))
        raise AssertionError("unreachable")

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every record of a SOQL query, following nextRecordsUrl page by page."""
        page = self._call(lambda sf: sf.query(soql, timeout=self.timeout_s))
        records = list(page["records"])
        while not page["done"]:
            next_url = page["nextRecordsUrl"]
            page = self._call(
                lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True, timeout=self.timeout_s)
            )
            records.extend(page["records"])
        return records

    def _query_frame(self, soql: str, columns: Sequence[str]) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.query(soql), columns=list(columns))

    def _resolve_fields(self) -> None:
        """Drop the custom fields this org does not have, from both the pull and the write-back (one describe)."""
        if self._fields is not None:
            return
        described = self._call(lambda sf: sf.restful("sobjects/Lead/describe", timeout=self.timeout_s))
        present = {f["name"] for f in described["fields"]}
        self._fields = {k: v for k, v in self._wanted_fields.items() if v in present}
        self._writes = {k: v for k, v in self._wanted_writes.items() if v in present}

    # --- the CRM protocol ----------------------------------------------------------------------------------

    def fetch_new_leads(self, since: str | None, limit: int) -> tuple[pd.DataFrame, str | None]:
        self._resolve_fields()
        after_stamp, after_id = parse_cursor(since)
        where = "IsConverted = false"
        if after_stamp and after_id:
            where += format_soql(
                " AND (SystemModstamp > {0:literal} OR (SystemModstamp = {0:literal} AND Id > {1}))",
                soql_datetime(after_stamp),
                after_id,
            )
        elif after_stamp:  # a rewound cursor has no id: everything from that second on
            where += f" AND SystemModstamp >= {soql_datetime(after_stamp)}"
        select = ", ".join(self._fields.values())
        soql = f"SELECT {select} FROM Lead WHERE {where} ORDER BY SystemModstamp, Id LIMIT {int(limit)}"
        rows = self._query_frame(soql, list(self._fields.values()))
        if rows.empty:
            return conform(pd.DataFrame()), since
        frame = conform(rows.rename(columns={v: k for k, v in self._fields.items()}), LEAD_COLUMNS)
        last = frame.iloc[-1]
        return frame, cursor_of(last["modified_at"], last["lead_id"])

    def fetch_leads(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        self._resolve_fields()
        select = ", ".join(self._fields.values())
        rows = pd.concat(
            [
                self._query_frame(
                    format_soql(f"SELECT {select} FROM Lead WHERE Id IN {{}}", part),
                    list(self._fields.values()),
                )
                for part in chunks(lead_ids, IN_CHUNK)
            ]
            or [pd.DataFrame(columns=list(self._fields.values()))]
        )
        return conform(rows.rename(columns={v: k for k, v in self._fields.items()}), LEAD_COLUMNS)

    def fetch_accounts(self) -> pd.DataFrame:
        fields = [
            "Id",
            "Name",
            "Website",
            "OwnerId",
            "LastActivityDate",
            "NumberOfEmployees",
            "Industry",
            "AnnualRevenue",
        ]
        accounts = self._query_frame(f"SELECT {', '.join(fields)} FROM Account ORDER BY Id", fields)
        active = set(self.fetch_owners()["owner_id"])
        accounts["owner_active"] = accounts["OwnerId"].isin(active)
        return conform(accounts.rename(columns=ACCOUNT_FIELDS), ACCOUNT_COLUMNS)

    def fetch_owners(self) -> pd.DataFrame:
        users = self._query_frame(
            "SELECT Id, Name, Email, IsActive FROM User WHERE IsActive = true",
            ["Id", "Name", "Email", "IsActive"],
        ).assign(role="user")
        queues = self._query_frame("SELECT Id, Name FROM Group WHERE Type = 'Queue'", ["Id", "Name"]).assign(
            Email=None, IsActive=True, role="queue"
        )
        owners = pd.concat([users, queues], ignore_index=True)
        owners = owners.rename(
            columns={"Id": "owner_id", "Name": "name", "Email": "email", "IsActive": "active"}
        )
        return owners.astype({"active": bool})[["owner_id", "name", "email", "role", "active"]]

    def find_existing(self, emails: Sequence[str], domains: Sequence[str]) -> pd.DataFrame:
        emails = sorted({e.strip().lower() for e in emails if e})
        domains = sorted({d.strip().lower() for d in domains if d})
        found = []
        for part in chunks(emails, IN_CHUNK):
            for kind, sobject, extra in (
                ("lead", "Lead", "IsConverted = false AND "),
                ("contact", "Contact", ""),
            ):
                soql = format_soql(
                    f"SELECT Id, Email, OwnerId FROM {sobject} WHERE {extra}Email IN {{}}", part
                )
                found.append(
                    self._query_frame(soql, ["Id", "Email", "OwnerId"]).assign(kind=kind, domain=None)
                )
        for part in chunks(domains, IN_CHUNK):
            likes = " OR ".join(format_soql("Website LIKE '%{:like}%'", d) for d in part)
            accounts = self._query_frame(
                f"SELECT Id, Website, OwnerId FROM Account WHERE {likes}", ["Id", "Website", "OwnerId"]
            )
            found.append(match_account_domains(accounts, part))
        out = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
        out = out.rename(columns={"Id": "record_id", "Email": "email", "OwnerId": "owner_id"})
        out = out.reindex(columns=["kind", "record_id", "email", "domain", "owner_id"])
        out["email"] = out["email"].str.lower()
        return out.reset_index(drop=True)

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        try:
            self._resolve_fields()
        except Exception as exc:  # nothing was written: every lead retries on the next run
            return result_frame([(lid, False, True, error_text(exc)) for lid in frame["lead_id"]])
        values = frame[[c for c in self._writes if c in frame.columns]].rename(columns=self._writes)
        if "Routing_Reason__c" in values:  # a Text(255) field
            values["Routing_Reason__c"] = values["Routing_Reason__c"].str.slice(0, 255)
        values = values.astype(object).where(values.notna(), None)
        reopen = frame["reopen"] if "reopen" in frame else pd.Series(False, index=frame.index)
        records = [
            {
                "attributes": {"type": "Lead"},
                "id": lead_id,
                **fields,
                **({"Status": self.reopen_status} if back else {}),
            }
            for lead_id, fields, back in zip(frame["lead_id"], values.to_dict("records"), reopen, strict=True)
        ]
        results = [self._write_collection(part) for part in chunks(records, COLLECTION_SIZE)]
        if not results:
            return pd.DataFrame(columns=WRITE_RESULT_COLUMNS)
        return pd.concat(results, ignore_index=True)[WRITE_RESULT_COLUMNS]

    def _write_collection(self, records: list[dict]) -> pd.DataFrame:
        """One sObject Collections PATCH (allOrNone false); records failing on a row lock are sent again."""
        done: list[tuple[str, bool, bool, str | None]] = []
        pending = records
        for attempt in range(self.backoff.attempts):
            if attempt:
                time.sleep(self.backoff.delay(attempt - 1))
            body = {"allOrNone": False, "records": pending}
            try:
                answers = self._call(
                    lambda sf, body=body: sf.restful(
                        "composite/sobjects", method="PATCH", json=body, timeout=self.timeout_s
                    )
                )
                if len(answers) != len(pending):
                    raise ValueError(f"{len(answers)} results for {len(pending)} records")
            except Exception as exc:  # the whole call failed after its retries: these leads retry next run
                return result_frame(done + [(r["id"], False, True, error_text(exc)) for r in pending])
            retry_next = []
            # results come back in request order; a failed record's id may be null
            for record, answer in zip(pending, answers, strict=True):
                if answer.get("success"):
                    done.append((record["id"], True, False, None))
                    continue
                first = (answer.get("errors") or [{}])[0]
                code, message = first.get("statusCode", "UNKNOWN"), first.get("message", "")
                if code in RETRY_RECORD_ERRORS or LOCK_IN_MESSAGE in message:
                    retry_next.append(record)
                    continue
                done.append((record["id"], False, False, f"{code}: {message}"[:500]))
            pending = retry_next
            if not pending:
                break
        done += [(r["id"], False, True, "UNABLE_TO_LOCK_ROW: still locked after retries") for r in pending]
        return result_frame(done)

    def first_touch(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        """The earliest Task on the lead or Status change; else its LastActivityDate (a date: midnight UTC)."""
        touches = []
        for part in chunks(lead_ids, IN_CHUNK):
            tasks = self._query_frame(
                format_soql("SELECT WhoId, CreatedDate FROM Task WHERE WhoId IN {}", part),
                ["WhoId", "CreatedDate"],
            ).set_axis(["lead_id", "at"], axis=1)
            status = self._query_frame(
                format_soql(
                    "SELECT LeadId, NewValue, CreatedDate FROM LeadHistory "
                    "WHERE Field = 'Status' AND LeadId IN {}",
                    part,
                ),
                ["LeadId", "NewValue", "CreatedDate"],
            )
            # a rep handing the lead back has not worked it (NewValue is anyType: SOQL cannot filter on it)
            status = status[~status["NewValue"].isin(self.rejection_statuses)].drop(columns="NewValue")
            status = status.set_axis(["lead_id", "at"], axis=1)
            activity = self._query_frame(
                format_soql(
                    "SELECT Id, LastActivityDate FROM Lead WHERE Id IN {} AND LastActivityDate != null", part
                ),
                ["Id", "LastActivityDate"],
            ).set_axis(["lead_id", "fallback"], axis=1)
            touches.append((pd.concat([tasks, status]), activity))
        events = pd.concat([t for t, _ in touches] or [pd.DataFrame(columns=["lead_id", "at"])])
        fallback = pd.concat([a for _, a in touches] or [pd.DataFrame(columns=["lead_id", "fallback"])])
        events["at"] = pd.to_datetime(events["at"], utc=True, format="ISO8601")
        first = events.groupby("lead_id")["at"].min()
        later = pd.to_datetime(fallback.set_index("lead_id")["fallback"], utc=True, format="ISO8601")
        out = pd.DataFrame({"lead_id": list(lead_ids)})
        # reindex, not map: pandas cannot map through an empty datetime series
        touched = first.reindex(out["lead_id"]).astype(UTC_TS)
        active = later.reindex(out["lead_id"]).astype(UTC_TS)
        out["first_touch_at"] = touched.fillna(active).set_axis(out.index)
        return out.astype({"first_touch_at": UTC_TS})

    def rejections(self, since: pd.Timestamp) -> pd.DataFrame:
        """Status changes to a rejection status after `since`, from LeadHistory: CreatedById is who set it.

        NewValue is anyType, which SOQL cannot filter on, so every Status change after `since` is read and the
        rejections picked here. History stamps are whole seconds: `> since` cut to its second is exact.
        """
        soql = format_soql(
            "SELECT LeadId, NewValue, CreatedById, CreatedDate FROM LeadHistory "
            "WHERE Field = 'Status' AND CreatedDate > {:literal} ORDER BY CreatedDate, Id",
            soql_datetime(since.isoformat()),
        )
        changes = self._query_frame(soql, ["LeadId", "NewValue", "CreatedById", "CreatedDate"])
        rejected = changes[changes["NewValue"].isin(self.rejection_statuses)]
        out = rejected.rename(
            columns={"LeadId": "lead_id", "CreatedById": "owner_id", "CreatedDate": "rejected_at"}
        )
        out["rejected_at"] = pd.to_datetime(out["rejected_at"], utc=True, format="ISO8601").astype(UTC_TS)
        return out[REJECTION_COLUMNS].reset_index(drop=True)

    def fetch_outcomes(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        converted = pd.concat(
            [
                self._query_frame(
                    format_soql(
                        "SELECT Id, ConvertedOpportunityId FROM Lead WHERE Id IN {} AND ConvertedOpportunityId != null",
                        part,
                    ),
                    ["Id", "ConvertedOpportunityId"],
                )
                for part in chunks(lead_ids, IN_CHUNK)
            ]
            or [pd.DataFrame(columns=["Id", "ConvertedOpportunityId"])]
        )
        columns = ["Id", "StageName", "IsClosed", "IsWon", "Amount", "CloseDate"]
        deals = pd.concat(
            [
                self._query_frame(
                    format_soql(f"SELECT {', '.join(columns)} FROM Opportunity WHERE Id IN {{}}", part),
                    columns,
                )
                for part in chunks(converted["ConvertedOpportunityId"].tolist(), IN_CHUNK)
            ]
            or [pd.DataFrame(columns=columns)]
        )
        out = converted.merge(deals, left_on="ConvertedOpportunityId", right_on="Id", suffixes=("", "_deal"))
        out = out.rename(columns=OUTCOME_FIELDS)[list(OUTCOME_FIELDS.values())]
        return out.astype({"is_closed": bool, "is_won": bool, "amount": float}).reset_index(drop=True)


def is_transient(exc: Exception) -> bool:
    """A failure worth retrying: server errors, the org's API limit, timeouts and dropped connections."""
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(exc, SalesforceRefusedRequest):
        return "REQUEST_LIMIT_EXCEEDED" in str(exc.content)
    return isinstance(exc, SalesforceGeneralError) and exc.status >= 500


def match_account_domains(accounts: pd.DataFrame, domains: Sequence[str]) -> pd.DataFrame:
    """Keep accounts whose website host is one of `domains` (or a subdomain of one); LIKE only narrowed them."""
    host = accounts["Website"].map(site_host).astype("string")
    domain = pd.Series(pd.NA, index=accounts.index, dtype="string")
    for candidate in sorted(domains, key=len):  # the longest matching domain wins
        domain = domain.mask(host.eq(candidate) | host.str.endswith("." + candidate), candidate)
    out = accounts.assign(domain=domain, kind="account", Email=None)
    return out[out["domain"].notna()].drop(columns="Website")


def error_text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def result_frame(rows: list[tuple[str, bool, bool, str | None]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=WRITE_RESULT_COLUMNS)
    return out.astype({"ok": bool, "retry": bool, "error": "string"})
