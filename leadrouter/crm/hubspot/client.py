"""HubSpot as a CRM, through hubspot-api-client: contacts in an early lifecycle stage are the leads, and
hubspot_owner_id is the owner. HTTP and paging in the HubSpotCRM methods; payload → frame mapping in the
pure functions at the bottom.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import urllib3
from hubspot import HubSpot
from hubspot.crm import contacts
from hubspot.crm.associations import v4 as associations
from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest
from hubspot.crm.deals import BatchReadInputSimplePublicObjectId as DealsRead
from hubspot.crm.deals import SimplePublicObjectId as DealId
from urllib3.util import Retry

from leadrouter.crm.base import (
    ACCOUNT_COLUMNS,
    REJECTION_COLUMNS,
    WRITE_RESULT_COLUMNS,
    chunks,
    cursor_of,
    parse_cursor,
)
from leadrouter.schema import LEAD_COLUMNS, UTC_TS, conform

PAGE = 200  # the largest search page; every page is a fresh search from a cursor, never `after` an offset
BATCH = 100  # inputs per batch read or update
HISTORY_BATCH = 50  # inputs per batch read asking for propertiesWithHistory: HubSpot refuses more
ASSOCIATION_BATCH = 1000  # inputs per v4 association batch read
IN_VALUES = 100  # values per IN filter
OWNER_PAGE = 500
ID_WIDTH = 20  # cursor ids zero-padded: the ledger compares cursors as text, HubSpot ids vary in length
UNWORKED = frozenset({"NEW", "OPEN"})  # lead statuses that say nobody has worked the lead yet
# the hs_lead_status option a rep sets to hand a lead back: a portal's own option (internal names are upper snake)
REJECTED_STATUS = "REJECTED_WRONG_OWNER"
REQUEST_REFUSED = frozenset({400, 404, 422})  # the batch itself was refused: resending it fails the same way
# a 400 naming a property the portal lacks (or will not let us write): every batch fails alike, so never split
PROPERTY_ERRORS = ("PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE", "Property values were not valid")
RECORD_VALUE_ERRORS = ("INVALID_OWNER_ID",)  # ...unless it is a record's value: split to find that record
TOUCH_DATES = ["hs_sa_first_engagement_date", "hs_first_outreach_date"]
ACCOUNT_PROPERTIES = [
    "name", "website", "domain", "hubspot_owner_id", "notes_last_updated", "numberofemployees", "industry",
    "annualrevenue",
]  # fmt: skip
DEAL_PROPERTIES = ["dealstage", "amount", "closedate", "hs_is_closed", "hs_is_closed_won"]
EXISTING_COLUMNS = ["kind", "record_id", "email", "domain", "owner_id"]
OUTCOME_COLUMNS = ["lead_id", "deal_id", "stage", "is_closed", "is_won", "amount", "close_date"]
INVALID_ID, NO_OWNER = "INVALID_ID: a HubSpot record id is a number", "NO_OWNER: the assignment has no owner"
WRITE_PROPERTIES = MappingProxyType({"tier": "lead_tier", "routing_reason": "routing_reason"})
# canonical lead column -> HubSpot contact property
LEAD_PROPERTIES = MappingProxyType(
    {
        "first_name": "firstname", "last_name": "lastname", "email": "email", "phone": "phone",
        "title": "jobtitle", "company": "company", "website": "website", "country": "country",
        "state": "state", "city": "city", "industry": "industry", "employees": "numemployees",
        "annual_revenue": "annualrevenue", "lead_source": "hs_analytics_source", "message": "message",
        "crm_owner_id": "hubspot_owner_id",
        "created_at": "createdate", "modified_at": "lastmodifieddate",
    }
)  # fmt: skip
MODIFIED_FIRST = {"propertyName": "lastmodifieddate", "direction": "ASCENDING"}
ID_FIRST = {"propertyName": "hs_object_id", "direction": "ASCENDING"}
# a read or connect timeout (a refused connection is a ConnectTimeoutError too), or a connection dropped
TRANSIENT = (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError)


def make_client(
    access_token: str, host: str = "https://api.hubapi.com", retries: int = 6, backoff_s: float = 0.5
) -> HubSpot:
    """A client that retries 429 (after Retry-After) and 5xx on every method, POST included (search is POST).

    raise_on_status=False hands the last failed response to the client, which raises its ApiException with
    HubSpot's error body, rather than a bare urllib3 MaxRetryError. One read error is retried at once (a
    keep-alive connection the server closed); timeouts are HubSpotCRM's, with its own backoff, so a hung
    server costs a few timeouts rather than `retries` of them per call.
    """
    retry = Retry(
        total=retries, read=min(retries, 1), backoff_factor=backoff_s,
        status_forcelist=(429, 500, 502, 503, 504), allowed_methods=None, respect_retry_after_header=True,
        raise_on_status=False,
    )  # fmt: skip
    return HubSpot(access_token=access_token, retry=retry, host=host)


def transient(exc: Exception) -> bool:
    """A timeout or dropped connection: bare, wrapped by urllib3 once out of retries, or by the client."""
    reason = getattr(exc, "reason", None)
    return (
        isinstance(exc, TRANSIENT)
        or isinstance(reason, TRANSIENT)
        or (getattr(exc, "status", None) == 0 and "Timeout" in str(reason))
    )


class Found(NamedTuple):
    """A search result: all we read of a SimplePublicObject."""

    id: str
    properties: dict[str, str | None]


def raw(method: Callable, *args: object, **kwargs: object) -> Any:
    """A call's JSON reply, read here rather than into the client's models: those parse two datetimes per
    search result with dateutil, most of a pull's CPU. Errors still raise the client's ApiException."""
    reply = method(*args, _preload_content=False, **kwargs)
    try:
        return json.loads(reply.data)
    finally:
        reply.release_conn()


def ids_above(record_id: int | None) -> list[Filter]:
    """A filter for the ids above `record_id`; none for None."""
    above = Filter(property_name="hs_object_id", operator="GT", value=str(record_id))
    return [] if record_id is None else [above]


def ms(stamp: pd.Timestamp) -> str:
    """A filter value for a datetime property: milliseconds since the epoch."""
    return str((stamp - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1))


class HubSpotCRM:
    """The CRM protocol over HubSpot. `pace()` runs before every HTTP request, e.g. a rate limiter's wait.

    timeout: (connect, read) seconds of every request; a call that times out is tried `timeout_attempts` times
    in all, the pause between tries starting at `timeout_backoff_s` and doubling.
    """

    name = "hubspot"

    def __init__(
        self,
        client: HubSpot,
        pace: Callable[[], None] | None = None,
        lifecycle_stages: Sequence[str] = ("subscriber", "lead", "marketingqualifiedlead"),
        write_properties: Mapping[str, str] = WRITE_PROPERTIES,
        properties: Mapping[str, str] | None = None,
        timeout: tuple[float, float] = (10, 60),
        timeout_attempts: int = 3,
        timeout_backoff_s: float = 1.0,
        rejection_status: str = REJECTED_STATUS,
        reopen_status: str = "OPEN",  # a handed-back lead's hs_lead_status once it has a new owner
    ) -> None:
        self.pace = pace or (lambda: None)
        self.rejection_status = rejection_status
        self.reopen_status = reopen_status
        self.timeout = timeout
        # a pause before each further try of a call that timed out
        self.timeout_pauses = [timeout_backoff_s * 2**i for i in range(timeout_attempts - 1)]
        self._token = str(getattr(client, "access_token", None) or "")  # kept out of error messages
        stages = [s.lower() for s in lifecycle_stages]  # HubSpot matches IN on text only in lowercase
        self.lifecycle = (
            [Filter(property_name="lifecyclestage", operator="IN", values=stages)] if stages else []
        )
        self.write_properties = dict(write_properties)
        self.lead_properties = {**LEAD_PROPERTIES, **(properties or {})}
        # each property builds a new API client (and connection pool): build them once
        crm = client.crm
        self._contacts_search, self._contacts_batch = crm.contacts.search_api, crm.contacts.batch_api
        self._companies_search, self._deals_batch = crm.companies.search_api, crm.deals.batch_api
        self._owners, self._associations = crm.owners.owners_api, crm.associations.v4.batch_api
        self._properties, self._contact_properties = crm.properties.core_api, None

    def _call(self, method: Callable, *args: object, **kwargs: object) -> object:
        """One API call, tried again after a growing pause while it times out (the client's own retries of
        a 429 or 5xx wait on Retry-After and its backoff instead)."""
        for pause in self.timeout_pauses:
            try:
                return self._request(method, *args, **kwargs)
            except Exception as exc:
                if not transient(exc):
                    raise
            time.sleep(pause)
        return self._request(method, *args, **kwargs)

    def _request(self, method: Callable, *args: object, **kwargs: object) -> object:
        self.pace()  # once per request we make
        return method(*args, _request_timeout=self.timeout, **kwargs)

    def _search(self, api: Any, groups: list[list[Filter]], sort: dict, properties: list[str]) -> list[Found]:
        """One page of a fresh search. Never paged on with `after`: an offset into results sorted on a
        property that moves skips a record whenever one already served moves away between two pages."""
        # one search schema serves every object type, so the contacts models do for companies too
        request = PublicObjectSearchRequest(
            filter_groups=[FilterGroup(filters=g) for g in groups if g], sorts=[sort], properties=properties,
            limit=PAGE,
        )  # fmt: skip
        return [Found(r["id"], r["properties"]) for r in self._call(raw, api.do_search, request)["results"]]

    def _by_id(
        self, api: Any, filters: list[Filter], properties: list[str], after_id: int | None
    ) -> Iterator:
        """Pages of the records matching `filters` with an id above `after_id`, by id: each page a fresh
        search from the last id seen, an order no edit can shuffle."""
        while True:
            page = self._search(api, [[*filters, *ids_above(after_id)]], ID_FIRST, properties)
            if page:
                yield page
            if len(page) < PAGE:
                return
            after_id = max(int(r.id) for r in page)

    # --- leads ---------------------------------------------------------------------------------------------

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
                cursor = (frame["modified_at"].iloc[-1], int(frame["lead_id"].iloc[-1]))
        if not taken:
            return conform(pd.DataFrame()), since
        # a lead edited during the pull is met again at its new stamp: keep that, its latest state
        leads = pd.concat(taken, ignore_index=True).drop_duplicates("lead_id", keep="last", ignore_index=True)
        return leads, cursor_of(leads["modified_at"].iloc[-1], leads["lead_id"].iloc[-1].zfill(ID_WIDTH))

    def _next_leads(self, cursor: tuple[pd.Timestamp, int] | None, want: int) -> tuple[pd.DataFrame, bool]:
        """Up to `want` leads right after the cursor, in cursor order, none missing in between; and whether
        more may follow them."""
        rows = self._search(self._contacts_search, self._after(cursor), MODIFIED_FIRST, self._read)
        frame = in_cursor_order(leads_frame(rows, self.lead_properties))
        if len(rows) < PAGE:
            return frame.iloc[:want], False
        # a full page may end inside a stamp (HubSpot's order within one is not guaranteed): keep whole stamps
        last = frame["modified_at"].iloc[-1]
        whole = frame[frame["modified_at"] < last]
        if len(whole):
            return whole.iloc[:want], True
        # one stamp fills the page: walk it by id, an order in which any cut is clean, then go on after it
        after_id = cursor[1] if cursor is not None and cursor[0] == last else None
        walked: list = []
        for page in self._by_id(self._contacts_search, self._within(last), self._read, after_id):
            walked += page
            if len(walked) >= want:
                break
        if not walked:  # else the pull would ask for the same page forever
            raise RuntimeError(
                f"HubSpot's search served a page of contacts stamped {last} but none filtered on it"
            )
        return in_cursor_order(leads_frame(walked, self.lead_properties)).iloc[:want], True

    @property
    def _read(self) -> list[str]:
        return list(dict.fromkeys(self.lead_properties.values()))

    def _after(self, cursor: tuple[pd.Timestamp, int] | None) -> list[list[Filter]]:
        """Filter groups for leads after the cursor: a later stamp, or the same stamp and a greater id."""
        if cursor is None:
            return [self.lifecycle]
        stamp = ms(cursor[0])
        later = Filter(property_name="lastmodifieddate", operator="GT", value=stamp)
        same = Filter(property_name="lastmodifieddate", operator="EQ", value=stamp)
        return [[*self.lifecycle, later], [*self.lifecycle, same, *ids_above(cursor[1])]]

    def _within(self, stamp: pd.Timestamp) -> list[Filter]:
        """Filters for the leads of one stamp."""
        return [*self.lifecycle, Filter(property_name="lastmodifieddate", operator="EQ", value=ms(stamp))]

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.reset_index(drop=True)
        numeric = frame["lead_id"].astype("string").str.fullmatch(r"\d+").fillna(False).to_numpy(bool)
        owned = frame["owner_id"].astype("string").str.strip().ne("").fillna(False).to_numpy(bool)
        # never sent: an id HubSpot cannot hold (it numbers its records), or no owner (it would clear hers)
        refusal = np.select([~numeric, ~owned], [INVALID_ID, NO_OWNER], "")
        # HubSpot refuses a batch naming an id twice: a repeated lead is written once, with its last row
        writes = frame[refusal == ""].drop_duplicates("lead_id", keep="last")
        outcome = pd.concat(
            [pd.DataFrame(columns=WRITE_RESULT_COLUMNS), *self._write(writes)], ignore_index=True
        )
        out = frame[["lead_id"]].merge(outcome, on="lead_id", how="left")
        refused = refusal != ""
        out.loc[refused, "error"] = refusal[refused]
        out.loc[refused, ["ok", "retry"]] = False
        return out.astype({"ok": bool, "retry": bool, "error": "string"})[WRITE_RESULT_COLUMNS]

    def _write(self, writes: pd.DataFrame) -> list[pd.DataFrame]:
        """One outcome frame per batch of distinct, sendable assignments."""
        ids = writes["lead_id"].astype(str).tolist()
        if not ids:
            return []
        try:
            known = self._known_properties() if self.write_properties else frozenset()
        except Exception as exc:  # nothing written yet: every row may be tried again
            return [failed_call(ids, exc, self._token)]
        # a property the portal lacks would make HubSpot refuse every batch: write the owner without it
        routing = {p: writes[c] for c, p in self.write_properties.items() if c in writes and p in known}
        changes = pd.DataFrame({"hubspot_owner_id": writes["owner_id"], **routing})
        rows = changes.astype("string").fillna("").to_dict("records")  # an empty string clears a property
        reopen = writes["reopen"] if "reopen" in writes else pd.Series(False, index=writes.index)
        rows = [
            row | {"hs_lead_status": self.reopen_status} if back else row
            for row, back in zip(rows, reopen, strict=True)
        ]
        return [self._write_batch(i, r) for i, r in zip(chunks(ids, BATCH), chunks(rows, BATCH), strict=True)]

    def _known_properties(self) -> frozenset[str]:
        """The portal's contact property names, read once per adapter."""
        if self._contact_properties is None:
            reply = self._call(raw, self._properties.get_all, object_type="contacts", archived=False)
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
            return batch_outcome(ids, reply)
        except Exception as exc:  # anything, pace() included: this batch's rows fail, the next batches go on
            if getattr(exc, "status", None) in REQUEST_REFUSED and len(ids) > 1 and not property_error(exc):
                # some record made HubSpot refuse the whole batch (nothing was written): find it by halves
                halves = [slice(None, len(ids) // 2), slice(len(ids) // 2, None)]
                return pd.concat([self._write_batch(ids[h], changes[h]) for h in halves])
            return failed_call(ids, exc, self._token)

    def find_existing(self, emails: Sequence[str], domains: Sequence[str]) -> pd.DataFrame:
        emails = sorted({e.strip().lower() for e in emails if isinstance(e, str) and e.strip()})
        domains = sorted({d.strip().lower() for d in domains if isinstance(d, str) and d.strip()})
        people = self._search_in(self._contacts_search, "email", emails, ["email", "hubspot_owner_id"])
        companies = self._search_in(self._companies_search, "domain", domains, ["domain", "hubspot_owner_id"])
        return existing_frame(people, companies)

    def _search_in(self, api: Any, prop: str, values: list[str], properties: list[str]) -> list:
        found = []
        for part in chunks(values, IN_VALUES):
            for page in self._by_id(
                api, [Filter(property_name=prop, operator="IN", values=part)], properties, None
            ):
                found += page
        return found

    def fetch_accounts(self) -> pd.DataFrame:
        companies = [
            c for page in self._by_id(self._companies_search, [], ACCOUNT_PROPERTIES, None) for c in page
        ]
        active = set(self.fetch_owners()["owner_id"].astype(str))
        return accounts_frame(companies, active)

    def fetch_owners(self) -> pd.DataFrame:
        owners, after = [], None
        while True:
            page = self._call(self._owners.get_page, limit=OWNER_PAGE, after=after, archived=False)
            owners += page.results
            after = page.paging.next.after if page.paging and page.paging.next else None
            if after is None:
                return owners_frame(owners)

    def fetch_leads(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        properties = list(dict.fromkeys(self.lead_properties.values()))
        results = []
        for part in chunks(readable_ids(lead_ids), BATCH):
            request = contacts.BatchReadInputSimplePublicObjectId(
                inputs=[contacts.SimplePublicObjectId(id=i) for i in part], properties=properties
            )
            results += self._call(self._contacts_batch.read, request).results
        return leads_frame(results, self.lead_properties)

    def first_touch(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        ids = readable_ids(lead_ids)
        properties = [*TOUCH_DATES, "notes_last_contacted"]
        results = self._read_with_history(ids, properties, ["hs_lead_status"])
        # a rep handing the lead back has not worked it
        touches = first_touches(results, UNWORKED | {self.rejection_status})
        out = pd.DataFrame({"lead_id": pd.Series(list(lead_ids), dtype=object)}).merge(
            touches, on="lead_id", how="left"
        )
        out["first_touch_at"] = pd.to_datetime(out["first_touch_at"], utc=True).astype(UTC_TS)
        return out

    def _read_with_history(self, ids: list[str], properties: list[str], histories: list[str]) -> list:
        """Contacts by id with the history of `histories`, in batches of HISTORY_BATCH."""
        results = []
        for part in chunks(ids, HISTORY_BATCH):
            request = contacts.BatchReadInputSimplePublicObjectId(
                inputs=[contacts.SimplePublicObjectId(id=i) for i in part], properties=properties,
                properties_with_history=histories,
            )  # fmt: skip
            results += self._call(self._contacts_batch.read, request).results
        return results

    def rejections(self, since: pd.Timestamp) -> pd.DataFrame:
        """Leads whose hs_lead_status is the rejection option, set after `since`; owner_id is the owner then.

        The search finds the leads still holding the option and saved since `since`; their hs_lead_status
        history gives when it was set (the latest such change), and their hubspot_owner_id history who owned
        the lead at that moment. A lead whose owner history starts after the rejection (or is empty) is
        credited to its current owner.
        """
        status = Filter(property_name="hs_lead_status", operator="EQ", value=self.rejection_status)
        saved = Filter(property_name="lastmodifieddate", operator="GTE", value=ms(since))
        pages = self._by_id(self._contacts_search, [*self.lifecycle, status, saved], ["hs_lead_status"], None)
        ids = [r.id for page in pages for r in page]
        found = self._read_with_history(ids, ["hubspot_owner_id"], ["hs_lead_status", "hubspot_owner_id"])
        return rejections_frame(found, self.rejection_status, since)

    def fetch_outcomes(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        links: list[tuple[str, str]] = []
        for part in chunks(readable_ids(lead_ids), ASSOCIATION_BATCH):
            request = associations.BatchInputPublicFetchAssociationsBatchRequest(
                inputs=[associations.PublicFetchAssociationsBatchRequest(id=i) for i in part]
            )
            reply = self._call(self._associations.get_page, "contacts", "deals", request)
            links += [(r._from.id, str(to.to_object_id)) for r in reply.results for to in r.to]
        pairs = pd.DataFrame(links, columns=["lead_id", "deal_id"])
        deals = []
        for part in chunks(pairs["deal_id"].unique().tolist(), BATCH):
            request = DealsRead(inputs=[DealId(id=i) for i in part], properties=DEAL_PROPERTIES)
            deals += self._call(self._deals_batch.read, request).results
        outcomes = outcomes_frame(pairs, deals)
        order = pd.DataFrame({"lead_id": pd.Series(list(dict.fromkeys(lead_ids)), dtype=object)})
        return order.merge(outcomes, on="lead_id")[OUTCOME_COLUMNS]


# --- payload -> canonical frames (pure) ----------------------------------------------------------------


def readable_ids(lead_ids: Sequence[str]) -> list[str]:
    """The distinct ids that can name a HubSpot record (it numbers its records)."""
    return [i for i in dict.fromkeys(lead_ids) if isinstance(i, str) and i.isdigit()]


def properties_frame(objects: list, columns: Sequence[str]) -> pd.DataFrame:
    """SimplePublicObjects' properties as a frame indexed by record id, `columns` always present."""
    frame = pd.DataFrame([o.properties for o in objects], columns=list(columns), dtype=object)
    return frame.set_axis(pd.Index([o.id for o in objects], dtype=object), axis=0)


def leading_integer(values: pd.Series) -> pd.Series:
    """237 from "237", "237.0" or a HubSpot range such as "25-50"; "1000+" gives 1000."""
    digits = values.astype("string").str.replace(",", "").str.extract(r"^\s*(-?\d+)", expand=False)
    return pd.to_numeric(digits, errors="coerce")


def leads_frame(objects: list, properties: Mapping[str, str]) -> pd.DataFrame:
    """Contacts as canonical leads."""
    raw = properties_frame(objects, list(dict.fromkeys(properties.values())))
    frame = pd.DataFrame({column: raw[prop].to_numpy() for column, prop in properties.items()})
    frame["lead_id"] = raw.index.to_numpy()
    frame["employees"] = leading_integer(frame["employees"])
    frame["annual_revenue"] = pd.to_numeric(frame["annual_revenue"], errors="coerce")
    return conform(frame, LEAD_COLUMNS)


def in_cursor_order(leads: pd.DataFrame) -> pd.DataFrame:
    """Sorted by (modified_at, numeric id): the order the cursor moves in."""
    numeric_id = pd.to_numeric(leads["lead_id"])
    return leads.assign(_id=numeric_id).sort_values(["modified_at", "_id"], kind="stable").drop(columns="_id")


def batch_outcome(ids: list[str], reply: object) -> pd.DataFrame:
    """One result per id of a batch update answered 200 or 207."""
    written = {r.id for r in reply.results}
    refused = getattr(reply, "errors", None) or []  # only a 207 reply has errors
    errors = {i: f"{e.category}: {e.message}" for e in refused for i in (e.context or {}).get("ids", [])}
    out = pd.DataFrame({"lead_id": ids})
    out["ok"] = out["lead_id"].isin(written)
    out["error"] = out["lead_id"].map(errors).astype("string")
    unanswered = ~out["ok"] & out["error"].isna()  # neither written nor refused: try again later
    out["retry"] = unanswered
    out.loc[unanswered, "error"] = "HubSpot's reply named neither a result nor an error for this contact"
    return out[WRITE_RESULT_COLUMNS]


def failed_call(ids: list[str], exc: Exception, secret: str = "") -> pd.DataFrame:
    """Every id of a call that failed as a whole: retry unless HubSpot refused the request itself."""
    status = getattr(exc, "status", None)
    return pd.DataFrame(
        {"lead_id": ids, "ok": False, "retry": status not in REQUEST_REFUSED, "error": describe(exc, secret)}
    )


def property_error(exc: Exception) -> bool:
    """Whether HubSpot refused a batch for a property the portal lacks or will not let us write (the same
    for every batch), rather than for one record's value."""
    body = str(getattr(exc, "body", None) or "")
    named = any(marker in body for marker in PROPERTY_ERRORS)
    return getattr(exc, "status", None) == 400 and named and not any(e in body for e in RECORD_VALUE_ERRORS)


def describe(exc: Exception, secret: str = "") -> str:
    """HubSpot's category and message when the failure carries its error body, else the exception type and
    text; never `secret` (the access token)."""
    status = getattr(exc, "status", None)
    try:
        body = json.loads(getattr(exc, "body", None) or "")
        text = f"{body.get('category', f'HTTP {status}')}: {body.get('message', '')}"
    except (ValueError, TypeError, AttributeError):
        text = f"HTTP {status}: {getattr(exc, 'reason', exc)}" if status else f"{type(exc).__name__}: {exc}"
    return (text.replace(secret, "***") if secret else text)[:500]


def existing_frame(people: list, companies: list) -> pd.DataFrame:
    people_ = properties_frame(people, ["email", "hubspot_owner_id"]).astype("string")
    accounts = properties_frame(companies, ["domain", "hubspot_owner_id"]).astype("string")
    found = [
        pd.DataFrame({"kind": "contact", "record_id": people_.index.to_numpy(),
                      "email": people_["email"].str.lower().to_numpy(), "domain": None,
                      "owner_id": people_["hubspot_owner_id"].to_numpy()}),
        pd.DataFrame({"kind": "account", "record_id": accounts.index.to_numpy(), "email": None,
                      "domain": accounts["domain"].str.lower().to_numpy(),
                      "owner_id": accounts["hubspot_owner_id"].to_numpy()}),
    ]  # fmt: skip
    return pd.concat(
        [f for f in found if len(f)] or [pd.DataFrame(columns=EXISTING_COLUMNS)], ignore_index=True
    )


def accounts_frame(companies: list, active_owners: set[str]) -> pd.DataFrame:
    """Companies as ACCOUNT_COLUMNS; owner_active when the owner is among `active_owners`."""
    props = properties_frame(companies, ACCOUNT_PROPERTIES).astype("string")
    website = props["website"].where(props["website"].str.strip().ne("").fillna(False))
    domain = props["domain"].str.strip()
    website = website.fillna(("https://" + domain).where(domain.ne("").fillna(False)))
    owner = props["hubspot_owner_id"]
    frame = pd.DataFrame(
        {
            "account_id": props.index.to_numpy(), "name": props["name"].to_numpy(),
            "website": website.to_numpy(), "owner_id": owner.to_numpy(),
            "owner_active": owner.isin(active_owners).fillna(False).to_numpy(bool),
            "last_activity_at": props["notes_last_updated"].to_numpy(),
            "employees": leading_integer(props["numberofemployees"]).to_numpy(),
            "industry": props["industry"].to_numpy(),
            "annual_revenue": pd.to_numeric(props["annualrevenue"], errors="coerce").to_numpy(),
        }
    )  # fmt: skip
    return conform(frame, ACCOUNT_COLUMNS)


def owners_frame(owners: list) -> pd.DataFrame:
    live = [o for o in owners if not o.archived]
    names = [" ".join(n for n in (o.first_name, o.last_name) if n) for o in live]
    return pd.DataFrame(
        {
            "owner_id": [o.id for o in live], "name": names, "email": [o.email for o in live],
            "role": ["queue" if o.type == "QUEUE" else "user" for o in live], "active": True,
        },
        columns=["owner_id", "name", "email", "role", "active"],
    )  # fmt: skip


def property_history(objects: list, prop: str) -> pd.DataFrame:
    """lead_id, value, timestamp (UTC): every value `prop` held, as propertiesWithHistory lists them."""
    values = [(o.id, (o.properties_with_history or {}).get(prop) or []) for o in objects]
    history = pd.DataFrame(
        [(i, v.value, v.timestamp) for i, entries in values for v in entries],
        columns=["lead_id", "value", "timestamp"],
    )
    history["timestamp"] = pd.to_datetime(history["timestamp"], utc=True, format="ISO8601").astype(UTC_TS)
    return history


def first_touches(objects: list, unworked: frozenset[str] = UNWORKED) -> pd.DataFrame:
    """lead_id, first_touch_at: the earliest engagement or outreach stamp, or the first lead status that says
    the lead was worked (any but `unworked`); failing those, when it was last contacted."""
    props = properties_frame(objects, [*TOUCH_DATES, "notes_last_contacted"])
    dates = props.apply(lambda column: pd.to_datetime(column, utc=True, format="ISO8601"))
    history = property_history(objects, "hs_lead_status")
    worked = history[~history["value"].isin(unworked)]
    dates["status"] = pd.to_datetime(worked.groupby("lead_id")["timestamp"].min(), utc=True).reindex(
        dates.index
    )
    first = dates[[*TOUCH_DATES, "status"]].min(axis=1).fillna(dates["notes_last_contacted"])
    return pd.DataFrame({"lead_id": dates.index.astype(str), "first_touch_at": first.to_numpy()})


def outcomes_frame(pairs: pd.DataFrame, deals: list) -> pd.DataFrame:
    props = properties_frame(deals, DEAL_PROPERTIES).astype("string")
    stage = props["dealstage"]
    closed = (props["hs_is_closed"].eq("true") | stage.isin(["closedwon", "closedlost"])).fillna(False)
    won = (props["hs_is_closed_won"].eq("true") | stage.eq("closedwon")).fillna(False)
    deal = pd.DataFrame(
        {
            "deal_id": props.index.to_numpy(), "stage": stage.to_numpy(object),
            "is_closed": closed.to_numpy(bool), "is_won": won.to_numpy(bool),
            "amount": pd.to_numeric(props["amount"], errors="coerce").astype(float).to_numpy(),
            "close_date": props["closedate"].str[:10].to_numpy(object),
        }
    )  # fmt: skip
    return pairs.merge(deal, on="deal_id")[OUTCOME_COLUMNS]


def rejections_frame(objects: list, rejection_status: str, since: pd.Timestamp) -> pd.DataFrame:
    """REJECTION_COLUMNS, oldest first: per contact, the latest change of hs_lead_status to `rejection_status`
    after `since`, credited to the hubspot_owner_id it held at that moment (else to its current owner)."""
    statuses = property_history(objects, "hs_lead_status")
    set_then = statuses["value"].eq(rejection_status) & statuses["timestamp"].gt(since)
    latest = (
        statuses[set_then].sort_values("timestamp", kind="stable").drop_duplicates("lead_id", keep="last")
    )
    owners = property_history(objects, "hubspot_owner_id").sort_values("timestamp", kind="stable")
    # the owner entry at or before each rejection (merge_asof wants both sides sorted on the time)
    found = pd.merge_asof(
        latest.rename(columns={"timestamp": "rejected_at"}).drop(columns="value"),
        owners.rename(columns={"timestamp": "rejected_at", "value": "owner_id"}),
        on="rejected_at",
        by="lead_id",
        direction="backward",
    )
    current = properties_frame(objects, ["hubspot_owner_id"])["hubspot_owner_id"]
    found["owner_id"] = found["owner_id"].fillna(found["lead_id"].map(current)).replace("", None)
    found["_id"] = pd.to_numeric(found["lead_id"])
    found = found.sort_values(["rejected_at", "_id"], kind="stable")
    return found[REJECTION_COLUMNS].reset_index(drop=True)
