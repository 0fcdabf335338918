"""Salesforce through simple-salesforce: Lead pulls on SystemModstamp, sObject Collections writes, SOQL lookups.

Logging in, and which failures are tried again, are `session`'s. Every value placed in SOQL goes through simple-salesforce's format_soql, which quotes and escapes it: lead
text never becomes query syntax. The payloads are read into frames by `mapping`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import pandas as pd
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
)

from leadrouter.crm.base import WRITE_RESULT_COLUMNS, chunks, cursor_of, held_frame, parse_cursor
from leadrouter.crm.errors import RowsLocked, UnexpectedReply
from leadrouter.crm.salesforce import mapping
from leadrouter.crm.salesforce.mapping import (
    LEAD_FIELDS,
    REJECTION_STATUSES,
    REOPEN_STATUS,
    STILL_LOCKED,
    WRITE_FIELDS,
    Record,
    error_text,
    result_frame,
)
from leadrouter.crm.salesforce.session import is_transient, pause_for
from leadrouter.fields import LeadFields, configured_fields, conform_leads
from leadrouter.retry import RetryPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

COLLECTION_SIZE = 200  # sObject Collections' limit per call
IN_CHUNK = 100  # values per IN (…) list: keeps every query far below SOQL's 100,000-character limit
RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
RETRY = RetryPolicy(attempts=6, first_delay_s=0.5, max_delay_s=30.0)  # each call, and each row-lock resend


def record_ids(values: Sequence[str]) -> list[str]:
    """The distinct values that can be Salesforce record ids (15 or 18 letters and digits)."""
    return [v for v in dict.fromkeys(values) if isinstance(v, str) and RECORD_ID.match(v)]


def soql_datetime(stamp: str) -> str:
    """A cursor stamp as a SOQL datetime literal (Salesforce stamps are whole seconds)."""
    return pd.Timestamp(stamp).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


class SalesforceCRM:
    """The CRM protocol on a Salesforce org. `connect` logs in; it is called again when a session expires."""

    name = "salesforce"

    def __init__(
        self,
        connect: Callable[[], Salesforce],
        fields: Mapping[str, str] | None = None,
        write_fields: Mapping[str, str] | None = None,
        retry: RetryPolicy = RETRY,
        timeout_s: float = 60.0,
        rejection_statuses: Sequence[str] = REJECTION_STATUSES,
        reopen_status: str = REOPEN_STATUS,
        custom: LeadFields | None = None,
    ) -> None:
        self._connect = connect
        self.custom = custom or configured_fields()  # the custom fields pulled, from their __c fields
        self.rejection_statuses = tuple(rejection_statuses)
        self.reopen_status = reopen_status
        self._sf: Salesforce | None = None
        self._wanted_fields = {
            **LEAD_FIELDS,
            **(fields or {}),
            **self.custom.sources("salesforce"),
            "lead_id": "Id",
            "modified_at": "SystemModstamp",
        }
        self._wanted_writes = {**WRITE_FIELDS, **(write_fields or {})}
        self._fields: dict[str, str] | None = None
        self._opportunity_fields: list[str] | None = None
        self._writes: dict[str, str] | None = None
        self.retry = retry
        self.timeout_s = timeout_s

    def _call(self, request: Callable[[Salesforce], T]) -> T:
        """Run one API request under the retry policy; log in first when there is no live session."""

        def attempt() -> T:
            if self._sf is None:
                self._sf = self._connect()
            try:
                return request(self._sf)
            except SalesforceExpiredSession:
                self._sf = None  # log in again on the next attempt
                raise

        return self.retry.run(attempt, transient=is_transient, wait=pause_for)

    def query(self, soql: str) -> list[Record]:
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

    def _query_in(self, soql: str, values: Sequence[str]) -> list[Record]:
        """The records of a query whose `{}` is an IN list of record ids, asked IN_CHUNK values at a time. A value
        that cannot be a record id is left out: Salesforce refuses the whole query over it (invalid ID field)."""
        ids = record_ids(values)
        return [r for part in chunks(ids, IN_CHUNK) for r in self.query(format_soql(soql, part))]

    def _deal_fields(self) -> list[str]:
        """The Opportunity fields read, CurrencyIsoCode only where the org is multi-currency (one describe)."""
        if self._opportunity_fields is None:
            described = self._call(
                lambda sf: sf.restful("sobjects/Opportunity/describe", timeout=self.timeout_s)
            )
            present = {f["name"] for f in described["fields"]}
            self._opportunity_fields = [*mapping.DEAL_FIELDS] + (
                [mapping.CURRENCY_FIELD] if mapping.CURRENCY_FIELD in present else []
            )
        return self._opportunity_fields

    def _resolve_fields(self) -> None:
        """Drop the custom fields this org does not have, from both the pull and the write-back (one describe)."""
        if self._fields is not None:
            return
        described = self._call(lambda sf: sf.restful("sobjects/Lead/describe", timeout=self.timeout_s))
        present = {f["name"] for f in described["fields"]}
        self._fields = {k: v for k, v in self._wanted_fields.items() if v in present}
        self._writes = {k: v for k, v in self._wanted_writes.items() if v in present}
        if missing := sorted(
            v for k, v in self._wanted_fields.items() if k in self.custom.names and v not in present
        ):
            log.warning("the org's Lead has no field %s: those custom fields stay empty", ", ".join(missing))

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
        select = ", ".join(dict.fromkeys(self._fields.values()))  # a field named twice is refused
        soql = f"SELECT {select} FROM Lead WHERE {where} ORDER BY SystemModstamp, Id LIMIT {int(limit)}"
        records = self.query(soql)
        if not records:
            return conform_leads(pd.DataFrame(), self.custom), since
        frame = mapping.leads_frame(records, self._fields, self.custom)
        last = frame.iloc[-1]
        return frame, cursor_of(last["modified_at"], last["lead_id"])

    def fetch_leads(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        self._resolve_fields()
        select = ", ".join(dict.fromkeys(self._fields.values()))
        return mapping.leads_frame(
            self._query_in(f"SELECT {select} FROM Lead WHERE Id IN {{}}", lead_ids), self._fields, self.custom
        )

    def fetch_accounts(self) -> pd.DataFrame:
        accounts = self.query(f"SELECT {', '.join(mapping.ACCOUNT_FIELDS)} FROM Account ORDER BY Id")
        return mapping.accounts_frame(accounts, set(self.fetch_owners()["owner_id"]))

    def fetch_owners(self) -> pd.DataFrame:
        users = self.query("SELECT Id, Name, Email, IsActive FROM User WHERE IsActive = true")
        queues = self.query("SELECT Id, Name FROM Group WHERE Type = 'Queue'")
        return mapping.owners_frame(users, queues)

    def inactive_owners(self) -> pd.DataFrame:
        users = self.query("SELECT Id, Email FROM User WHERE IsActive = false ORDER BY Id")
        return mapping.inactive_frame(users)

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
                found.append(mapping.people_frame(self.query(soql), kind))
        for part in chunks(domains, IN_CHUNK):
            likes = " OR ".join(format_soql("Website LIKE '%{:like}%'", d) for d in part)
            accounts = self.query(f"SELECT Id, Website, OwnerId FROM Account WHERE {likes}")
            found.append(mapping.match_account_domains(accounts, part))
        return mapping.existing_frame(found)

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        try:
            self._resolve_fields()
        except Exception as exc:  # nothing was written: every lead retries on the next run
            return result_frame([(lid, False, True, error_text(exc)) for lid in frame["lead_id"]])
        records = mapping.write_records(frame, self._writes, self.reopen_status)
        results = [self._write_collection(part) for part in chunks(records, COLLECTION_SIZE)]
        if not results:
            return pd.DataFrame(columns=WRITE_RESULT_COLUMNS)
        return pd.concat(results, ignore_index=True)[WRITE_RESULT_COLUMNS]

    def held_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        self._resolve_fields()
        fields = list(self._writes.values())
        expected = mapping.records_frame(mapping.write_records(frame, self._writes, ""), ["id", *fields])
        soql = f"SELECT Id, SystemModstamp, {', '.join(fields)} FROM Lead WHERE Id IN {{}}"
        current = mapping.records_frame(
            self._query_in(soql, frame["lead_id"].tolist()), ["Id", "SystemModstamp", *fields]
        )
        return held_frame(
            expected.rename(columns={"id": "lead_id"}),
            current.rename(columns={"Id": "lead_id", "SystemModstamp": "modified_at"}),
        )

    def _write_collection(self, records: list[Record]) -> pd.DataFrame:
        """One sObject Collections PATCH (allOrNone false); records failing on a row lock are sent again, under
        the same policy as a failed call."""
        done: list[mapping.Result] = []
        pending = records

        def send() -> None:
            nonlocal pending
            body = {"allOrNone": False, "records": pending}
            answers = self._call(
                lambda sf: sf.restful("composite/sobjects", method="PATCH", json=body, timeout=self.timeout_s)
            )
            if len(answers) != len(pending):
                raise UnexpectedReply(f"{len(answers)} results for {len(pending)} records")
            written, pending = mapping.collection_outcome(pending, answers)
            done.extend(written)
            if pending:
                raise RowsLocked(f"{len(pending)} records locked")

        try:
            self.retry.run(send, transient=lambda exc: isinstance(exc, RowsLocked))
        except RowsLocked:
            done.extend((r["id"], False, True, STILL_LOCKED) for r in pending)
        except Exception as exc:  # the whole call failed after its retries: these leads retry next run
            done.extend((r["id"], False, True, error_text(exc)) for r in pending)
        return result_frame(done)

    def first_touch(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        """The earliest Task on the lead or Status change; else its LastActivityDate (a date: midnight UTC)."""
        tasks = self._query_in("SELECT WhoId, CreatedDate FROM Task WHERE WhoId IN {}", lead_ids)
        status = self._query_in(
            "SELECT LeadId, NewValue, CreatedDate FROM LeadHistory WHERE Field = 'Status' AND LeadId IN {}",
            lead_ids,
        )
        activity = self._query_in(
            "SELECT Id, LastActivityDate FROM Lead WHERE Id IN {} AND LastActivityDate != null", lead_ids
        )
        return mapping.first_touch_frame(lead_ids, tasks, status, activity, self.rejection_statuses)

    def rejections(self, since: pd.Timestamp) -> pd.DataFrame:
        """Status changes to a rejection status after `since`, from LeadHistory: CreatedById is who set it.

        NewValue is anyType, which SOQL cannot filter on, so every Status change after `since` is read and the
        rejections picked in the mapping. History stamps are whole seconds: `> since` cut to its second is exact.
        """
        soql = format_soql(
            "SELECT LeadId, NewValue, CreatedById, CreatedDate FROM LeadHistory "
            "WHERE Field = 'Status' AND CreatedDate > {:literal} ORDER BY CreatedDate, Id",
            soql_datetime(since.isoformat()),
        )
        return mapping.rejections_frame(self.query(soql), self.rejection_statuses)

    def fetch_outcomes(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        converted = self._query_in(
            "SELECT Id, ConvertedOpportunityId FROM Lead WHERE Id IN {} AND ConvertedOpportunityId != null",
            lead_ids,
        )
        deals = self._query_in(
            f"SELECT {', '.join(self._deal_fields())} FROM Opportunity WHERE Id IN {{}}",
            [r["ConvertedOpportunityId"] for r in converted],
        )
        return mapping.outcomes_frame(converted, deals)
