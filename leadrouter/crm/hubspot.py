"""HubSpot as a CRM, through hubspot-api-client: contacts in an early lifecycle stage are the leads, and
hubspot_owner_id is the owner. HTTP and paging in the HubSpotCRM methods; payload → frame mapping in the
pure functions at the bottom.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

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

from leadrouter.crm.base import WRITE_RESULT_COLUMNS, cursor_of, parse_cursor
from leadrouter.schema import LEAD_COLUMNS, UTC_TS, conform

PAGE = 200  # the largest search page
BATCH = 100  # inputs per batch read or update
ASSOCIATION_BATCH = 1000  # inputs per v4 association batch read
IN_VALUES = 100  # values per IN filter
SEARCH_CAP = 10_000  # search serves no result past the 10,000th of a query: re-query from a moved cursor
OWNER_PAGE = 500
WALK_AFTER = 1_000  # leads of one stamp before fetch_new_leads walks that stamp by id rather than page on
ID_WIDTH = 20  # cursor ids zero-padded: the ledger compares cursors as text, HubSpot ids vary in length
UNWORKED = frozenset({"NEW", "OPEN"})  # lead statuses that say nobody has worked the lead yet
REQUEST_REFUSED = frozenset({400, 404, 422})  # the batch itself was refused: resending it fails the same way
TOUCH_DATES = ["hs_sa_first_engagement_date", "hs_first_outreach_date"]
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
# every call that can fail after the client's own retries: each API package has its own exception class
CALL_ERRORS = (contacts.ApiException, urllib3.exceptions.HTTPError)


def make_client(
    access_token: str, host: str = "https://api.hubapi.com", retries: int = 6, backoff_s: float = 0.5
) -> HubSpot:
    """A client that retries 429 (after Retry-After) and 5xx on every method, POST included (search is POST).

    raise_on_status=False hands the last failed response to the client, which raises its ApiException with
    HubSpot's error body, rather than a bare urllib3 MaxRetryError.
    """
    retry = Retry(
        total=retries, backoff_factor=backoff_s, status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None, respect_retry_after_header=True, raise_on_status=False,
    )  # fmt: skip
    return HubSpot(access_token=access_token, retry=retry, host=host)


def chunked(items: Sequence, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def stamp_of(contact: Any) -> pd.Timestamp:
    return pd.Timestamp(contact.properties["lastmodifieddate"])


def ms(stamp: pd.Timestamp) -> str:
    """A filter value for a datetime property: milliseconds since the epoch."""
    return str((stamp - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1))


class HubSpotCRM:
    """The CRM protocol over HubSpot. `pace()` runs before every HTTP request, e.g. a rate limiter's wait."""

    name = "hubspot"

    def __init__(
        self,
        client: HubSpot,
        pace: Callable[[], None] | None = None,
        lifecycle_stages: Sequence[str] = ("subscriber", "lead", "marketingqualifiedlead"),
        write_properties: Mapping[str, str] = WRITE_PROPERTIES,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        self.pace = pace or (lambda: None)
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

    def _call(self, method: Callable, *args: object, **kwargs: object) -> object:
        # once per request we make; the client's own retries wait on Retry-After and its backoff instead
        self.pace()
        return method(*args, **kwargs)

    def _pages(
        self, api: Any, groups: list[list[Filter]], sort: dict, properties: list[str], want: int
    ) -> Iterator[tuple[list, bool]]:
        """The pages of one search, up to `want` (≤ 10,000) results, each with whether more follow."""
        got, after = 0, None
        while True:
            # one search schema serves every object type, so the contacts models do for companies too
            request = PublicObjectSearchRequest(
                filter_groups=[FilterGroup(filters=g) for g in groups if g], sorts=[sort],
                properties=properties, limit=min(PAGE, want - got), after=after,
            )  # fmt: skip
            page = self._call(api.do_search, request)
            got += len(page.results)
            after = page.paging.next.after if page.paging and page.paging.next else None
            yield page.results, after is not None
            if after is None or got >= want:
                return

    def _search(
        self, api: Any, groups: list[list[Filter]], sort: dict, properties: list[str], want: int
    ) -> list:
        return [r for page, _ in self._pages(api, groups, sort, properties, want) for r in page]

    # --- leads ---------------------------------------------------------------------------------------------

    def fetch_new_leads(self, since: str | None, limit: int) -> tuple[pd.DataFrame, str | None]:
        stamp_text, id_text = parse_cursor(since)
        cursor = (pd.Timestamp(stamp_text), int(id_text or 0)) if stamp_text else None
        taken: list[pd.DataFrame] = []
        remaining = limit
        while remaining > 0:
            want = min(remaining, SEARCH_CAP)
            frame, ran_out, walked = self._next_leads(cursor, want)
            if frame.empty:
                break
            taken.append(frame)
            remaining -= len(frame)
            cursor = (frame["modified_at"].iloc[-1], int(frame["lead_id"].iloc[-1]))
            if ran_out or (want < SEARCH_CAP and not walked):
                break  # only a query cut by the cap, or a stamp walked by id, goes on from the moved cursor
        if not taken:
            return conform(pd.DataFrame()), since
        leads = pd.concat(taken, ignore_index=True)
        return leads, cursor_of(leads["modified_at"].iloc[-1], leads["lead_id"].iloc[-1].zfill(ID_WIDTH))

    def _next_leads(
        self, cursor: tuple[pd.Timestamp, int] | None, want: int
    ) -> tuple[pd.DataFrame, bool, bool]:
        """Up to `want` leads after the cursor, in cursor order and ending where a stamp ends; whether the
        search ran out; and whether one stamp was walked by id."""
        rows: list = []
        ran_out = True
        for page, more in self._pages(
            self._contacts_search, self._after(cursor), MODIFIED_FIRST, self._read, want
        ):
            rows += page
            ran_out = not more
            if more and len(rows) >= WALK_AFTER and stamp_of(rows[0]) == stamp_of(rows[-1]):
                break  # a thousand leads and still one stamp: it may outgrow `want`, so walk it now
        frame = in_cursor_order(leads_frame(rows, self.lead_properties))
        if ran_out or frame.empty:
            return frame, True, False
        first, last = frame["modified_at"].iloc[0], frame["modified_at"].iloc[-1]
        if first != last:
            # HubSpot's order within a stamp is not guaranteed: pass only stamps fetched whole
            return frame[frame["modified_at"] < last], False, False
        # one stamp holds more leads than we may take: walk it by id, an order in which any cut is clean
        rows = self._search(self._contacts_search, self._within(first, cursor), ID_FIRST, self._read, want)
        return in_cursor_order(leads_frame(rows, self.lead_properties)), False, True

    @property
    def _read(self) -> list[str]:
        return list(dict.fromkeys(self.lead_properties.values()))

    def _after(self, cursor: tuple[pd.Timestamp, int] | None) -> list[list[Filter]]:
        """Filter groups for leads after the cursor: a later stamp, or the same stamp and a greater id."""
        if cursor is None:
            return [self.lifecycle]
        stamp, record_id = ms(cursor[0]), str(cursor[1])
        later = Filter(property_name="lastmodifieddate", operator="GT", value=stamp)
        same = Filter(property_name="lastmodifieddate", operator="EQ", value=stamp)
        greater = Filter(property_name="hs_object_id", operator="GT", value=record_id)
        return [[*self.lifecycle, later], [*self.lifecycle, same, greater]]

    def _within(self, stamp: pd.Timestamp, cursor: tuple[pd.Timestamp, int] | None) -> list[list[Filter]]:
        """Filter groups for the leads of one stamp after the cursor."""
        filters = [*self.lifecycle, Filter(property_name="lastmodifieddate", operator="EQ", value=ms(stamp))]
        if cursor is not None and cursor[0] == stamp:
            filters.append(Filter(property_name="hs_object_id", operator="GT", value=str(cursor[1])))
        return [filters]

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.reset_index(drop=True)
        numeric = frame["lead_id"].astype("string").str.fullmatch(r"\d+").fillna(False).to_numpy(bool)
        owned = frame["owner_id"].astype("string").str.strip().ne("").fillna(False).to_numpy(bool)
        # never sent: an id HubSpot cannot hold (it numbers its records), or no owner (it would clear hers)
        refusal = np.select([~numeric, ~owned], [INVALID_ID, NO_OWNER], "")
        # HubSpot refuses a batch naming an id twice: a repeated lead is written once, with its last row
        writes = frame[refusal == ""].drop_duplicates("lead_id", keep="last")
        routing = {p: writes[c] for c, p in self.write_properties.items() if c in writes}
        changes = pd.DataFrame({"hubspot_owner_id": writes["owner_id"], **routing})
        changes = changes.astype("string").fillna("")  # an empty string clears a property
        ids, rows = writes["lead_id"].astype(str).tolist(), changes.to_dict("records")
        results = [
            self._write_batch(i, r) for i, r in zip(chunked(ids, BATCH), chunked(rows, BATCH), strict=True)
        ]
        outcome = pd.concat([pd.DataFrame(columns=WRITE_RESULT_COLUMNS), *results], ignore_index=True)
        out = frame[["lead_id"]].merge(outcome, on="lead_id", how="left")
        refused = refusal != ""
        out.loc[refused, "error"] = refusal[refused]
        out.loc[refused, ["ok", "retry"]] = False
        return out.astype({"ok": bool, "retry": bool, "error": "string"})[WRITE_RESULT_COLUMNS]

    def _write_batch(self, ids: list[str], changes: list[dict]) -> pd.DataFrame:
        inputs = [
            contacts.SimplePublicObjectBatchInput(id=i, properties=c)
            for i, c in zip(ids, changes, strict=True)
        ]
        try:
            reply = self._call(
                self._contacts_batch.update, contacts.BatchInputSimplePublicObjectBatchInput(inputs=inputs)
            )
        except CALL_ERRORS as exc:
            if getattr(exc, "status", None) in REQUEST_REFUSED and len(ids) > 1:
                # some record made HubSpot refuse the whole batch (nothing was written): find it by halves
                halves = [slice(None, len(ids) // 2), slice(len(ids) // 2, None)]
                return pd.concat([self._write_batch(ids[h], changes[h]) for h in halves])
            return failed_call(ids, exc)
        return batch_outcome(ids, reply)

    def find_existing(self, emails: Sequence[str], domains: Sequence[str]) -> pd.DataFrame:
        emails = sorted({e.strip().lower() for e in emails if isinstance(e, str) and e.strip()})
        domains = sorted({d.strip().lower() for d in domains if isinstance(d, str) and d.strip()})
        people = self._search_in(self._contacts_search, "email", emails, ["email", "hubspot_owner_id"])
        companies = self._search_in(self._companies_search, "domain", domains, ["domain", "hubspot_owner_id"])
        return existing_frame(people, companies)

    def _search_in(self, api: Any, prop: str, values: list[str], properties: list[str]) -> list:
        found = []
        for part in chunked(values, IN_VALUES):
            groups = [[Filter(property_name=prop, operator="IN", values=part)]]
            found += self._search(api, groups, ID_FIRST, properties, SEARCH_CAP)
        return found

    def fetch_owners(self) -> pd.DataFrame:
        owners, after = [], None
        while True:
            page = self._call(self._owners.get_page, limit=OWNER_PAGE, after=after, archived=False)
            owners += page.results
            after = page.paging.next.after if page.paging and page.paging.next else None
            if after is None:
                return owners_frame(owners)

    def first_touch(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        ids = readable_ids(lead_ids)
        properties = [*TOUCH_DATES, "notes_last_contacted"]
        results = []
        for part in chunked(ids, BATCH):
            request = contacts.BatchReadInputSimplePublicObjectId(
                inputs=[contacts.SimplePublicObjectId(id=i) for i in part], properties=properties,
                properties_with_history=["hs_lead_status"],
            )  # fmt: skip
            results += self._call(self._contacts_batch.read, request).results
        out = pd.DataFrame({"lead_id": pd.Series(list(lead_ids), dtype=object)}).merge(
            first_touches(results), on="lead_id", how="left"
        )
        out["first_touch_at"] = pd.to_datetime(out["first_touch_at"], utc=True).astype(UTC_TS)
        return out

    def fetch_outcomes(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        links: list[tuple[str, str]] = []
        for part in chunked(readable_ids(lead_ids), ASSOCIATION_BATCH):
            request = associations.BatchInputPublicFetchAssociationsBatchRequest(
                inputs=[associations.PublicFetchAssociationsBatchRequest(id=i) for i in part]
            )
            reply = self._call(self._associations.get_page, "contacts", "deals", request)
            links += [(r._from.id, str(to.to_object_id)) for r in reply.results for to in r.to]
        pairs = pd.DataFrame(links, columns=["lead_id", "deal_id"])
        deals = []
        for part in chunked(pairs["deal_id"].unique().tolist(), BATCH):
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


def failed_call(ids: list[str], exc: Exception) -> pd.DataFrame:
    """Every id of a call that failed as a whole: retry unless HubSpot refused the request itself."""
    status = getattr(exc, "status", None)
    return pd.DataFrame(
        {"lead_id": ids, "ok": False, "retry": status not in REQUEST_REFUSED, "error": describe(exc)}
    )


def describe(exc: Exception) -> str:
    """HubSpot's category and message when the failure carries its error body, else the exception itself."""
    status = getattr(exc, "status", None)
    try:
        body = json.loads(getattr(exc, "body", None) or "")
        return f"{body.get('category', f'HTTP {status}')}: {body.get('message', '')}"[:500]
    except (ValueError, TypeError, AttributeError):
        return (f"HTTP {status}: {exc.reason}" if status else f"{type(exc).__name__}: {exc}")[:500]


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


def first_touches(objects: list) -> pd.DataFrame:
    """lead_id, first_touch_at: the earliest engagement or outreach stamp, or the first lead status that says
    the lead was worked; failing those, when it was last contacted."""
    props = properties_frame(objects, [*TOUCH_DATES, "notes_last_contacted"])
    dates = props.apply(lambda column: pd.to_datetime(column, utc=True, format="ISO8601"))
    statuses = [(o.id, (o.properties_with_history or {}).get("hs_lead_status") or []) for o in objects]
    history = pd.DataFrame(
        [(i, v.value, v.timestamp) for i, values in statuses for v in values],
        columns=["lead_id", "value", "timestamp"],
    )
    worked = history[~history["value"].isin(UNWORKED)]
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
