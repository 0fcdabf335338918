"""HubSpot as a CRM, through hubspot-api-client: contacts in an early lifecycle stage are the leads, and
hubspot_owner_id is the owner. Auth, HTTP, paging and retries here; the search pages in `search`, the history
reads (first touches, rejections, outcomes) in `history`, payload ⇄ frame in `mapping`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import urllib3
from hubspot import HubSpot
from hubspot.crm import contacts
from hubspot.crm.contacts import Filter

from leadrouter.crm.base import chunks, cursor_of, held_frame, parse_cursor
from leadrouter.crm.errors import SearchStuck
from leadrouter.crm.hubspot import mapping, search
from leadrouter.crm.hubspot.history import HistoryReads
from leadrouter.crm.hubspot.mapping import (
    ACCOUNT_PROPERTIES,
    LEAD_PROPERTIES,
    REJECTED_STATUS,
    REOPEN_STATUS,
    REQUEST_REFUSED,
    WRITE_PROPERTIES,
    failed_call,
    readable_ids,
)
from leadrouter.crm.hubspot.search import BATCH, MODIFIED_FIRST, PAGE, Cursor, Found, advanced, raw
from leadrouter.fields import LeadFields, configured_fields, conform_leads
from leadrouter.retry import RetryPolicy

IN_VALUES = 100  # values per IN filter
OWNER_PAGE = 500
ID_WIDTH = 20  # cursor ids zero-padded: the ledger compares cursors as text, HubSpot ids vary in length
# a read or connect timeout (a refused connection is a ConnectTimeoutError too), or a connection dropped
TRANSIENT = (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError)
# the client's own retries of a 429 or 5xx, per request (urllib3, after Retry-After)
HTTP_RETRY = RetryPolicy(attempts=7, first_delay_s=0.5)
# the adapter's retries of a call that timed out or lost its connection: a hung server costs a few timeouts
TIMEOUT_RETRY = RetryPolicy(attempts=3, first_delay_s=1.0)


def make_client(
    access_token: str, host: str = "https://api.hubapi.com", retry: RetryPolicy = HTTP_RETRY
) -> HubSpot:
    """A client that retries 429 (after Retry-After) and 5xx on every method, POST included (search is POST),
    `retry.attempts` tries in all, pausing as urllib3 does with `retry`'s first delay and cap.

    The last failed response is handed to the client, which raises its ApiException with HubSpot's error body,
    rather than a bare urllib3 MaxRetryError. One read error is retried at once (a keep-alive connection the
    server closed); timeouts are HubSpotCRM's, under its own policy, so a hung server costs a few timeouts
    rather than `retry.attempts` of them per call.
    """
    return HubSpot(
        access_token=access_token, retry=retry.as_urllib3(read=min(retry.attempts - 1, 1)), host=host
    )


def transient(exc: Exception) -> bool:
    """A timeout or dropped connection: bare, wrapped by urllib3 once out of retries, or by the client."""
    reason = getattr(exc, "reason", None)
    return (
        isinstance(exc, TRANSIENT)
        or isinstance(reason, TRANSIENT)
        or (getattr(exc, "status", None) == 0 and "Timeout" in str(reason))
    )


def cursor_row(frame: pd.DataFrame) -> Cursor | None:
    """(stamp, numeric id) of the last lead that has both: where the next search starts."""
    # digits only: "inf" or "1e5" parse as numbers but are no hs_object_id to search after
    digits = frame["lead_id"].astype("string").str.fullmatch(r"\d+").fillna(False)
    ids = pd.to_numeric(frame["lead_id"].where(digits), errors="coerce")
    usable = frame["modified_at"].notna() & digits
    if not usable.any():
        return None
    last = usable[usable].index[-1]
    return frame.at[last, "modified_at"], int(ids.at[last])


class HubSpotCRM(HistoryReads):
    """The CRM protocol over HubSpot. `pace()` runs before every HTTP request, e.g. a rate limiter's wait.

    timeout: (connect, read) seconds of every request; a call that times out or loses its connection is tried
    again under `retry` (a 429 or 5xx is the client's to retry: see make_client).
    """

    name = "hubspot"

    def __init__(
        self,
        client: HubSpot,
        pace: Callable[[], None] | None = None,
        search_pace: Callable[[], None] | None = None,
        lifecycle_stages: Sequence[str] = ("subscriber", "lead", "marketingqualifiedlead"),
        write_properties: Mapping[str, str] = WRITE_PROPERTIES,
        properties: Mapping[str, str] | None = None,
        timeout: tuple[float, float] = (10, 60),
        retry: RetryPolicy = TIMEOUT_RETRY,
        rejection_status: str = REJECTED_STATUS,
        reopen_status: str = REOPEN_STATUS,
        custom: LeadFields | None = None,
    ) -> None:
        self.pace = pace or (lambda: None)
        # searches are exempt from the ten-second limit and have their own per-second one (5/s per account)
        self.search_pace = search_pace or (lambda: None)
        self.custom = custom or configured_fields()  # the custom fields pulled, from contact properties
        self.rejection_status = rejection_status
        self.reopen_status = reopen_status
        self.timeout = timeout
        self.retry = retry
        self._token = str(getattr(client, "access_token", None) or "")  # kept out of error messages
        stages = [s.lower() for s in lifecycle_stages]  # HubSpot matches IN on text only in lowercase
        self.lifecycle = (
            [Filter(property_name="lifecyclestage", operator="IN", values=stages)] if stages else []
        )
        self.write_properties = dict(write_properties)
        self.lead_properties = {**LEAD_PROPERTIES, **(properties or {}), **self.custom.sources("hubspot")}
        # each property builds a new API client (and connection pool): build them once
        crm = client.crm
        self._contacts_search, self._contacts_batch = crm.contacts.search_api, crm.contacts.batch_api
        self._companies_search, self._deals_batch = crm.companies.search_api, crm.deals.batch_api
        self._owners, self._associations = crm.owners.owners_api, crm.associations.v4.batch_api
        self._properties, self._contact_properties = crm.properties.core_api, None

    def _call(self, method: Callable, *args: object, **kwargs: object) -> Any:
        """One API call, tried again under the policy while it times out or loses its connection (the client's
        own retries of a 429 or 5xx wait on Retry-After and its backoff instead)."""
        return self.retry.run(lambda: self._request(method, *args, **kwargs), transient=transient)

    def _search(self, method: Callable, *args: object, **kwargs: object) -> Any:
        """One search request: as `_call`, paced by the search limiter instead of the general one."""
        return self.retry.run(
            lambda: self._request(method, *args, paced=self.search_pace, **kwargs), transient=transient
        )

    def _request(
        self, method: Callable, *args: object, paced: Callable[[], None] | None = None, **kwargs: object
    ) -> Any:
        (paced or self.pace)()  # once per request we make
        return method(*args, _request_timeout=self.timeout, **kwargs)

    def fetch_new_leads(self, since: str | None, limit: int) -> tuple[pd.DataFrame, str | None]:
        stamp_text, id_text = parse_cursor(since)
        cursor = (pd.Timestamp(stamp_text), int(id_text or 0)) if stamp_text else None
        taken: list[pd.DataFrame] = []
        remaining, more = limit, True
        while remaining > 0 and more:
            frame, more = self._next_leads(cursor, remaining)
            if len(frame):
                taken.append(frame)
                remaining -= len(frame)
                cursor = cursor_row(frame) or cursor
        if not taken:
            return conform_leads(pd.DataFrame(), self.custom), since
        # a lead edited during the pull is met again at its new stamp: keep that, its latest state
        leads = pd.concat(taken, ignore_index=True).drop_duplicates("lead_id", keep="last", ignore_index=True)
        if cursor is None:  # no lead had a stamp and a numeric id: the cursor stays where it was
            return leads, since
        return leads, cursor_of(cursor[0], str(cursor[1]).zfill(ID_WIDTH))

    def _next_leads(self, cursor: Cursor | None, want: int) -> tuple[pd.DataFrame, bool]:
        """Up to `want` leads right after the cursor, in cursor order, none missing in between; and whether
        more may follow them."""
        groups = search.after(self.lifecycle, cursor)
        rows = search.page(self._search, self._contacts_search, groups, MODIFIED_FIRST, self._read)
        frame = mapping.in_cursor_order(mapping.leads_frame(rows, self.lead_properties, self.custom))
        # a contact without lastmodifieddate (the spec allows any property to be missing) matches no later
        # cursor filter: it is served now, first, and the cursor moves on the stamped ones
        unstamped, frame = frame[frame["modified_at"].isna()], frame[frame["modified_at"].notna()]

        def served(part: pd.DataFrame, more: bool) -> tuple[pd.DataFrame, bool]:
            return pd.concat([unstamped, part.iloc[:want]], ignore_index=True), more

        if len(rows) < PAGE:
            return served(frame, False)
        if not len(frame):
            raise SearchStuck("HubSpot's search served a full page of contacts without lastmodifieddate")
        # a full page may end inside a stamp (HubSpot's order within one is not guaranteed): keep whole stamps
        last = frame["modified_at"].iloc[-1]
        whole = frame[frame["modified_at"] < last]
        if len(whole):
            return served(whole, True)
        # one stamp fills the page: walk it by id, an order in which any cut is clean, then go on after it
        after_id = cursor[1] if cursor is not None and cursor[0] == last else None
        walked: list[Found] = []
        stamp = search.within(self.lifecycle, last)
        for page in search.by_id(self._search, self._contacts_search, stamp, self._read, after_id):
            walked += page
            if len(walked) >= want:
                break
        if not walked:  # else the pull would ask for the same page forever
            raise SearchStuck(
                f"HubSpot's search served a page of contacts stamped {last} but none filtered on it"
            )
        return served(
            mapping.in_cursor_order(mapping.leads_frame(walked, self.lead_properties, self.custom)), True
        )

    @property
    def _read(self) -> list[str]:
        return list(dict.fromkeys(self.lead_properties.values()))

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.reset_index(drop=True)
        refusal = mapping.refusals(frame)
        # HubSpot refuses a batch naming an id twice: a repeated lead is written once, with its last row
        writes = frame[refusal == ""].drop_duplicates("lead_id", keep="last")
        return mapping.write_results(frame, refusal, self._write(writes))

    def _write(self, writes: pd.DataFrame) -> list[pd.DataFrame]:
        """One outcome frame per batch of distinct, sendable assignments."""
        ids = writes["lead_id"].astype(str).tolist()
        if not ids:
            return []
        try:
            known = self._known_properties() if self.write_properties else frozenset()
        except Exception as exc:  # nothing written yet: every row may be tried again
            return [failed_call(ids, exc, self._token)]
        rows = mapping.property_changes(writes, self.write_properties, known, self.reopen_status)
        return [self._write_batch(i, r) for i, r in zip(chunks(ids, BATCH), chunks(rows, BATCH), strict=True)]

    def _known_properties(self) -> frozenset[str]:
        """The portal's contact property names, read once per adapter."""
        if self._contact_properties is None:
            reply = self._call(raw, self._properties.get_all, object_type="contacts", archived="false")
            self._contact_properties = frozenset(p["name"] for p in reply["results"])
        return self._contact_properties

    def _write_batch(self, ids: list[str], changes: list[dict]) -> pd.DataFrame:
        inputs = [
            contacts.SimplePublicObjectBatchInput(id=i, properties=c)
            for i, c in zip(ids, changes, strict=True)
        ]
        try:
            reply = self._call(
                self._contacts_batch.update, contacts.BatchInputSimplePublicObjectBatchInput(inputs=inputs)
            )
            return mapping.batch_outcome(ids, reply)
        except Exception as exc:  # anything, pace() included: this batch's rows fail, the next batches go on
            if (
                getattr(exc, "status", None) in REQUEST_REFUSED
                and len(ids) > 1
                and not mapping.property_error(exc)
            ):
                # some record made HubSpot refuse the whole batch (nothing was written): find it by halves
                halves = [slice(None, len(ids) // 2), slice(len(ids) // 2, None)]
                return pd.concat([self._write_batch(ids[h], changes[h]) for h in halves])
            return failed_call(ids, exc, self._token)

    def find_existing(self, emails: Sequence[str], domains: Sequence[str]) -> pd.DataFrame:
        emails = sorted({e.strip().lower() for e in emails if isinstance(e, str) and e.strip()})
        domains = sorted({d.strip().lower() for d in domains if isinstance(d, str) and d.strip()})
        people = self._search_in(self._contacts_search, "email", emails, ["email", "hubspot_owner_id"])
        companies = self._search_in(self._companies_search, "domain", domains, ["domain", "hubspot_owner_id"])
        return mapping.existing_frame(people, companies)

    def _search_in(self, api: Any, prop: str, values: list[str], properties: list[str]) -> list[Found]:
        found = []
        for part in chunks(values, IN_VALUES):
            filters = [Filter(property_name=prop, operator="IN", values=part)]
            for page in search.by_id(self._search, api, filters, properties, None):
                found += page
        return found

    def fetch_accounts(self) -> pd.DataFrame:
        pages = search.by_id(self._search, self._companies_search, [], ACCOUNT_PROPERTIES, None)
        companies = [c for page in pages for c in page]
        active = set(self.fetch_owners()["owner_id"].astype(str))
        return mapping.accounts_frame(companies, active)

    def fetch_owners(self) -> pd.DataFrame:
        return mapping.owners_frame(self._owner_pages("false"))

    def inactive_owners(self) -> pd.DataFrame:
        return mapping.inactive_frame(self._owner_pages("true"))

    def _owner_pages(self, archived: str) -> list:
        owners, after = [], None
        while True:
            # the spec types `archived` as a boolean: sent as `false`, not Python's `False`
            page = self._call(self._owners.get_page, limit=OWNER_PAGE, after=after, archived=archived)
            owners += page.results
            after = advanced(page.paging, after, "owners.get_page")
            if after is None:
                return owners

    def fetch_leads(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        results = self._read_contacts(lead_ids, list(dict.fromkeys(self.lead_properties.values())))
        return mapping.leads_frame(results, self.lead_properties, self.custom)

    def held_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        known = self._known_properties() if self.write_properties else frozenset()
        changes = mapping.property_changes(frame, self.write_properties, known, self.reopen_status)
        expected = pd.DataFrame(changes, index=frame.index, dtype=object).assign(lead_id=frame["lead_id"])
        properties = [*expected.columns.drop("lead_id"), "lastmodifieddate"]
        results = self._read_contacts(frame["lead_id"], properties)
        current = mapping.properties_frame(results, properties).rename_axis("lead_id").reset_index()
        return held_frame(expected, current.rename(columns={"lastmodifieddate": "modified_at"}))

    def _read_contacts(self, lead_ids: Sequence[str], properties: list[str]) -> list:
        """Contacts by id with `properties`, in batch reads of BATCH."""
        results = []
        for part in chunks(readable_ids(lead_ids), BATCH):
            request = contacts.BatchReadInputSimplePublicObjectId(
                inputs=[contacts.SimplePublicObjectId(id=i) for i in part], properties=properties
            )
            results += self._call(self._contacts_batch.read, request).results
        return results
