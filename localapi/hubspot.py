"""A local HubSpot CRM API (v3 objects, owners, v4 associations) seeded from a World, kept in memory.

It answers with HubSpot's payloads, status codes and error bodies, so hubspot-api-client is tested over HTTP:
search with filter groups, one sort and the 10,000-result cap; batch read and update with 207 multi-status
and 400 for a property the portal lacks; the property list; owners with paging; contact→deal associations.
Faults are injected before any state is touched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from leadrouter.fields import NO_CUSTOM_FIELDS, FieldType, LeadFields
from localapi.server import Faults
from localapi.world import World

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


class ApiError(Exception):
    def __init__(self, status: int, category: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra


def iso(stamps: object) -> pd.Series:
    """HubSpot's datetime text at millisecond precision: fixed width, so text order is time order."""
    stamps = pd.Series(pd.to_datetime(pd.Series(stamps, dtype=object), utc=True, format="mixed"))
    text = stamps.dt.floor("ms").dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
    return text.where(stamps.notna(), None).astype("string").reset_index(drop=True)


def iso_instant(stamp: pd.Timestamp) -> str:
    """One instant as `iso` writes it (a naive stamp is UTC)."""
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.floor("ms").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_iso() -> str:
    return iso_instant(pd.Timestamp.now(tz="UTC"))


def number_text(values: pd.Series) -> pd.Series:
    """Numbers as HubSpot writes them: 237, not 237.0."""
    text = pd.to_numeric(values, errors="coerce").astype("Float64").astype("string")
    return text.str.replace(r"\.0$", "", regex=True)


def hubspot_ids(world_ids: pd.Series, base: int) -> pd.Series:
    """World ids ("00Q000000000042") as HubSpot's numeric ids: base + the number."""
    return (base + world_ids.str[3:].astype("int64")).astype(str).reset_index(drop=True)


def records(spec_: Spec, ids: pd.Series, values: dict[str, object]) -> pd.DataFrame:
    """A table: property text per id (missing properties empty), `_num` the numeric id, `archived`."""

    def column(value: object) -> np.ndarray:
        constant = value is None or isinstance(value, str)
        return np.full(len(ids), value, dtype=object) if constant else np.asarray(value, dtype=object)

    frame = pd.DataFrame({p: column(values.get(p)) for p in spec_.properties}, index=pd.Index(ids, name="id"))
    frame = frame.astype("string")
    frame["hs_object_id"] = frame.index.astype("string")
    frame["_num"] = frame.index.astype("int64")
    frame["archived"] = False
    return frame


def copied(frame: pd.DataFrame, fields: dict[str, str]) -> dict[str, np.ndarray]:
    return {prop: frame[col].to_numpy(object) for prop, col in fields.items()}


def lead_contacts(
    leads: pd.DataFrame, first_activity: pd.Series, saved: object, changes: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Contacts for world leads (rows shaped like World.leads) and their lead-status history; `changes` are
    statuses reps set (shaped like World.status_changes), kept in the history at the moment they were set."""
    ids = hubspot_ids(leads["id"], LEAD_BASE)
    engaged = iso(first_activity.reindex(leads["id"]).to_numpy())
    converted = (leads["status"].eq("Converted") | leads["converted_opportunity_id"].notna()).to_numpy(bool)
    status = leads["status"].map(LEAD_STATUS).fillna("NEW").reset_index(drop=True)
    created, modified = iso(leads["created_at"]), iso(saved)
    values = copied(leads, LEAD_FIELDS) | {
        "email": leads["email"], "numemployees": number_text(leads["employees"]),
        "annualrevenue": number_text(leads["annual_revenue"]), "hs_lead_status": status,
        "lifecyclestage": np.where(converted, "opportunity", "lead"), "createdate": created,
        "lastmodifieddate": modified, "hs_sa_first_engagement_date": engaged,
    }  # fmt: skip
    contacts = records(CONTACTS, ids, values)
    contacts["_world"] = leads["id"].to_numpy()
    # history: NEW when created, IN_PROGRESS at the first activity, each status a rep set when they set it,
    # then the status it was last saved with unless a rep's change already put it there
    changes = changes if changes is not None else pd.DataFrame(columns=["lead_id", "status", "changed_at"])
    changes = changes[changes["lead_id"].isin(set(leads["id"]))].sort_values("changed_at", kind="stable")
    set_last = leads["id"].map(changes.groupby("lead_id")["status"].last()).map(LEAD_STATUS)
    recorded = status.eq(set_last.reset_index(drop=True)).fillna(False)
    worked = engaged.notna()
    later = status.ne("NEW") & (status.ne("IN_PROGRESS") | ~worked) & ~recorded
    set_ids, set_values = hubspot_ids(changes["lead_id"], LEAD_BASE), changes["status"].map(LEAD_STATUS)
    steps = [(ids, "NEW", created, "FORM"), (ids[worked], "IN_PROGRESS", engaged[worked], "CRM_UI"),
             (set_ids, set_values.fillna("NEW").to_numpy(), iso(changes["changed_at"]), "CRM_UI"),
             (ids[later], status[later], modified[later], "CRM_UI")]  # fmt: skip
    history = pd.concat(
        [pd.DataFrame({"id": i, "value": v, "timestamp": t, "sourceType": s}) for i, v, t, s in steps],
        ignore_index=True,
    )
    return contacts, history


class HubSpotAPI:
    """HubSpot's CRM API over a World. `calls` counts requests per endpoint; the admin methods serve tests.

    custom_properties: whether the portal has the contact properties lead_tier and routing_reason.
    """

    def __init__(
        self,
        world: World,
        faults: Faults | None = None,
        retry_after_s: int = 1,
        token: str = "pat-local-test",
        custom_properties: bool = True,
        fields: LeadFields = NO_CUSTOM_FIELDS,
    ) -> None:
        self.faults, self.retry_after_s, self.token = faults, retry_after_s, token
        self.calls: Counter = Counter()
        # real HubSpot has been seen to reject a whole batch update that names a missing id; off by default
        self.reject_batches_with_missing_ids = False
        self.deepest_search = 0  # the largest after + limit any search asked for
        self.association_page = (
            500  # associations per contact per v4 batch-read result, as HubSpot pages them
        )
        # seconds to hold each of the next requests before answering them: a slow HubSpot
        self.stalls: list[float] = []
        self.throttled: list[int] = []  # Retry-After of each of the next requests answered 429 (see throttle)
        self._lock = threading.Lock()
        self._searches, self._search_hooks = 0, {}  # contacts searches answered; callbacks by that count
        self.fields = fields  # custom lead fields: a contact property each (world column -> property)
        self._seed(world, custom_properties)
        objects = "/crm/v3/objects/{object}"
        self.app = Starlette(
            routes=[
                Route(f"{objects}/search", self._endpoint("search", self._search), methods=["POST"]),
                Route(
                    f"{objects}/batch/read", self._endpoint("batch.read", self._batch_read), methods=["POST"]
                ),
                Route(
                    f"{objects}/batch/update", self._endpoint("batch.update", self._update), methods=["POST"]
                ),
                Route("/crm/v3/properties/{object}", self._endpoint("properties", self._properties)),
                Route("/crm/v3/owners/", self._endpoint("owners", self._owners)),
                Route("/crm/v3/owners", self._endpoint("owners", self._owners)),
                Route(
                    "/crm/v4/associations/{from}/{to}/batch/read",
                    self._endpoint("associations.batch.read", self._associations),
                    methods=["POST"],
                ),
            ]
        )

    def _seed(self, world: World, custom_properties: bool) -> None:
        seeded = now_iso()
        first_activity = world.activities.groupby("lead_id")["created_at"].min()
        leads, self.history = lead_contacts(
            world.leads, first_activity, world.leads["modified_at"], world.status_changes
        )
        for name, prop in self.fields.sources("hubspot").items():  # values as the sandbox keeps them: text
            values = world.leads[name] if name in world.leads else pd.Series(pd.NA, index=world.leads.index)
            leads[prop] = pd.array(values.to_numpy(object), dtype="string")
        people = world.contacts
        account_names = world.accounts.set_index("id")["name"]
        people = records(CONTACTS, hubspot_ids(people["id"], CONTACT_BASE), copied(people, CONTACT_FIELDS) | {
            "email": people["email"], "company": people["account_id"].map(account_names),
            "lifecyclestage": "customer", "createdate": seeded, "lastmodifieddate": seeded,
        }).assign(_world=people["id"].to_numpy())  # fmt: skip
        a, d = world.accounts, world.deals
        # last activity: the account's latest deal, as the sandbox counts it
        active = pd.to_datetime(d["created_at"], utc=True).groupby(d["account_id"]).max()
        companies = records(COMPANIES, hubspot_ids(a["id"], COMPANY_BASE), copied(a, COMPANY_FIELDS) | {
            "domain": a["domain"].str.lower(), "numberofemployees": number_text(a["employees"]),
            "annualrevenue": number_text(a["annual_revenue"]), "createdate": seeded,
            "hs_lastmodifieddate": seeded, "notes_last_updated": iso(active.reindex(a["id"]).to_numpy()),
        })  # fmt: skip
        company_of_lead = world.leads.set_index("id")["company"]
        deals = records(DEALS, hubspot_ids(d["id"], DEAL_BASE), {
            "dealname": d["lead_id"].map(company_of_lead).fillna("Inbound") + " deal",
            "dealstage": d["stage"].map(DEAL_STAGE), "pipeline": "default",
            "amount": number_text(d["amount"]), "closedate": iso(d["close_date"]),
            "createdate": iso(d["created_at"]), "hs_lastmodifieddate": seeded,
            "hs_is_closed": np.where(d["is_closed"].astype(bool), "true", "false"),
            "hs_is_closed_won": np.where(d["is_won"].astype(bool), "true", "false"),
        })  # fmt: skip
        self.tables = {
            "contacts": Table(contacts_spec(custom_properties, self.fields), pd.concat([leads, people])),
            "companies": Table(COMPANIES, companies),
            "deals": Table(DEALS, deals),
        }
        self.contacts = self.tables["contacts"]
        # the world keeps no owner history: a seeded contact is taken to have had its owner since it was created
        self.owner_history = owner_entries(self.contacts.frame, "createdate", "CRM_UI")
        converted = world.leads[world.leads["converted_opportunity_id"].isin(set(d["id"]))]
        self.contact_deals = pd.DataFrame({
            "contact": hubspot_ids(converted["id"], LEAD_BASE),
            "deal": hubspot_ids(converted["converted_opportunity_id"], DEAL_BASE),
        })  # fmt: skip
        users = world.users
        names = users["name"].str.split(" ", n=1)
        self.owners = pd.DataFrame({
            "id": users["id"], "email": users["email"], "firstName": names.str[0],
            "lastName": names.str[1].fillna(""), "userId": np.arange(len(users)) + 1001,
            "type": np.where(users["role"].eq("queue"), "QUEUE", "PERSON"), "archived": users["active"].eq(0),
            "createdAt": seeded, "updatedAt": seeded,
        })  # fmt: skip
        self.audit = pd.DataFrame({"id": pd.Series(dtype=str), "owner_id": pd.Series(dtype=str)})

    # --- request plumbing ----------------------------------------------------------------------------------

    def _endpoint(
        self, action: str, handle: Callable[[Table | None, Request, dict], tuple[int, dict]]
    ) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            obj = request.path_params.get("object")
            self.calls[f"{obj}.{action}" if obj else action] += 1
            if self.stalls:
                await asyncio.sleep(self.stalls.pop(0))
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return error_response(401, "INVALID_AUTHENTICATION", AUTH_MESSAGE)
            if self.throttled:
                return rate_limited(self.throttled.pop(0), action == "search")
            fault = self.faults.pick(["429", "502", "503"]) if self.faults else None
            if fault == "429":
                return rate_limited(self.retry_after_s, False)
            if fault:
                return error_response(int(fault), **FAULT_BODIES[fault])
            try:
                body = await request.json() if request.method == "POST" else {}
            except ValueError:
                return error_response(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
            try:
                table = self.tables.get(obj) if obj else None
                if obj and table is None:
                    raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {obj}")
                with self._lock:
                    status, payload = handle(table, request, body if isinstance(body, dict) else {})
                    hook = self._answered_search() if table is self.contacts and action == "search" else None
            except ApiError as exc:
                return error_response(exc.status, exc.category, exc.message, **exc.extra)
            if hook:
                hook()  # outside the lock: the hook edits records through the admin methods
            return JSONResponse(payload, status_code=status)

        return endpoint

    # --- search --------------------------------------------------------------------------------------------

    def _search(self, table: Table, _: Request, body: dict) -> tuple[int, dict]:
        limit, after = (
            whole_number(body.get("limit") or 10, "limit"),
            whole_number(body.get("after") or 0, "after"),
        )
        if not 0 < limit <= MAX_PAGE:
            raise ApiError(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_PAGE}, got {limit}")
        if after + limit > SEARCH_CAP:
            past = f"after ({after}) + limit ({limit}) is past it; narrow the query with filters"
            raise ApiError(
                400, "VALIDATION_ERROR", f"Search results are limited to {SEARCH_CAP} records: {past}"
            )
        self.deepest_search = max(self.deepest_search, after + limit)
        groups = [g.get("filters") or [] for g in body.get("filterGroups") or []]
        if (
            len(groups) > MAX_GROUPS
            or sum(map(len, groups)) > MAX_FILTERS
            or max(map(len, groups), default=0) > MAX_GROUP_FILTERS
        ):
            raise ApiError(400, "VALIDATION_ERROR", "Too many filter groups or filters in the search request")
        # every search reads the records as they are now, as HubSpot does: an edit between two pages shows
        frame = table.frame
        keep = ~frame["archived"].to_numpy(bool) & table.matching(frame, groups)
        found = table.order(frame, keep, checked_sorts(body.get("sorts") or []))
        page = frame.iloc[found[after : after + limit]]
        payload: dict = {"total": len(found), "results": table.objects(page, body.get("properties"))}
        if after + limit < len(found):
            payload["paging"] = {"next": {"after": str(after + limit), "link": f"?after={after + limit}"}}
        return 200, payload

    def _answered_search(self) -> Callable[[], None] | None:
        self._searches += 1
        return self._search_hooks.pop(self._searches, None)

    # --- properties ----------------------------------------------------------------------------------------

    def _properties(self, table: Table, request: Request, _: dict) -> tuple[int, dict]:
        """CollectionResponsePropertyNoPaging: the type's properties (none is archived here)."""
        archived = boolean_param(request, "archived")
        return 200, {"results": [] if archived else [table.describe(p) for p in table.spec.properties]}

    # --- batch read and update ---------------------------------------------------------------------------

    def _batch_read(self, table: Table, _: Request, body: dict) -> tuple[int, dict]:
        most = MAX_HISTORY_BATCH if body.get("propertiesWithHistory") else MAX_BATCH
        if body.get("propertiesWithHistory") and len(body.get("inputs") or []) > most:
            raise ApiError(
                400, "VALIDATION_ERROR", "The maximum number of inputs supported in a batch request for property "
                f"histories is {most}. Please reduce the number of items and try again."
            )  # fmt: skip
        started, ids = now_iso(), list(dict.fromkeys(batch_ids(body, most)))
        live = table.live()
        found, missing = [i for i in ids if i in live.index], [i for i in ids if i not in live.index]
        results = table.objects(live.loc[found], body.get("properties"))
        histories = {p: self._histories(table, found, p) for p in body.get("propertiesWithHistory") or []}
        for result in results if histories else []:
            result["propertiesWithHistory"] = {p: h.get(result["id"], []) for p, h in histories.items()}
        return batch_response(results, [not_found(table.spec, missing)] if missing else [], started)

    def _histories(self, table: Table, ids: list[str], prop: str) -> dict[str, list[dict]]:
        """Each record's values of `prop`, newest first as HubSpot lists them. Only a contact's hs_lead_status
        and hubspot_owner_id keep a full history here; other properties show their current value."""
        if table is self.contacts and prop == "hs_lead_status":
            rows = self.history[self.history["id"].isin(ids)]
        elif table is self.contacts and prop == "hubspot_owner_id":
            rows = self.owner_history[self.owner_history["id"].isin(ids)]
        elif prop in table.spec.properties:
            now = table.frame.loc[ids, [prop, table.spec.modified]].dropna(subset=[prop])
            rows = pd.DataFrame({"id": now.index, "value": now[prop], "timestamp": now[table.spec.modified],
                                 "sourceType": "CRM_UI"})  # fmt: skip
        else:
            return {}
        rows = rows.sort_values("timestamp", ascending=False, kind="stable")
        fields = ["value", "timestamp", "sourceType"]
        return {k: g[fields].to_dict("records") for k, g in rows.groupby("id", sort=False)}

    def _update(self, table: Table, _: Request, body: dict) -> tuple[int, dict]:
        started, ids = now_iso(), batch_ids(body, MAX_BATCH)
        duplicates = sorted(k for k, n in Counter(ids).items() if n > 1)
        if duplicates:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
            )
        changes = [
            {k: "" if v is None else str(v) for k, v in (i.get("properties") or {}).items()}
            for i in body.get("inputs") or []
        ]
        names = set().union(*changes)
        invalid = sorted((names - set(table.spec.properties)) | (names & table.spec.read_only))
        if invalid:
            raise ApiError(400, "VALIDATION_ERROR", "Property values were not valid: " + ", ".join(
                f'{{"isValid":false,"message":"Property \\"{p}\\" does not exist or is read-only",'
                f'"error":"PROPERTY_DOESNT_EXIST","name":"{p}"}}' for p in invalid))  # fmt: skip
        if table is self.contacts:
            refuse_invalid_options(changes)
        live = set(table.live().index)
        missing = [i for i in ids if i not in live]
        if missing and self.reject_batches_with_missing_ids:
            error = not_found(table.spec, missing)
            raise ApiError(404, "OBJECT_NOT_FOUND", error["message"], context=error["context"])
        owners = set(self.owners["id"]) | {""}
        bad_owner = [(i, c["hubspot_owner_id"]) for i, c in zip(ids, changes, strict=True)
                     if i in live and c.get("hubspot_owner_id", "") not in owners]  # fmt: skip
        errors = [not_found(table.spec, missing)] if missing else []
        errors += [
            standard_error("VALIDATION_ERROR", 'Property values were not valid: [{"isValid":false,"message":'
                           f'"{owner} is not a valid owner id","error":"INVALID_OWNER_ID",'
                           '"name":"hubspot_owner_id"}]', {"ids": [i]})
            for i, owner in bad_owner
        ]  # fmt: skip
        rejected = {i for i, _ in bad_owner}
        apply = [(i, c) for i, c in zip(ids, changes, strict=True) if i in live and i not in rejected]
        if apply:
            self._apply(table, [i for i, _ in apply], [c for _, c in apply])
        results = table.objects(table.frame.loc[[i for i, _ in apply]], sorted(names))
        return batch_response(results, errors, started)

    def _apply(self, table: Table, ids: list[str], changes: list[dict]) -> None:
        """Write the changes, stamp the records, keep the lead-status history and the owner-write audit."""
        stamp = now_iso()
        update = pd.DataFrame.from_records(changes, index=ids).astype("string")
        frame = table.frame
        for prop in update.columns:
            given = update[prop][update[prop].notna()]
            value = given.mask(given.eq(""))  # an empty string clears the property
            if table is self.contacts and prop == "hs_lead_status":
                moved = value.notna() & value.ne(frame.loc[value.index, prop]).fillna(True)
                self._record_status(value[moved], stamp, "INTEGRATION")
            if table is self.contacts and prop == "hubspot_owner_id":
                writes = pd.DataFrame({"id": given.index, "owner_id": value.to_numpy()})
                self.audit = pd.concat([self.audit, writes], ignore_index=True)
                moved = value.notna() & value.ne(frame.loc[value.index, prop]).fillna(True)
                owners = pd.DataFrame({"hubspot_owner_id": value[moved], "at": stamp})
                self.owner_history = pd.concat(
                    [self.owner_history, owner_entries(owners, "at", "INTEGRATION")], ignore_index=True
                )
            frame.loc[value.index, prop] = value.to_numpy()
        frame.loc[ids, table.spec.modified] = stamp

    def _record_status(self, moved: pd.Series, stamp: str, source: str) -> None:
        rows = pd.DataFrame(
            {"id": moved.index, "value": moved.to_numpy(), "timestamp": stamp, "sourceType": source}
        )
        self.history = pd.concat([self.history, rows], ignore_index=True)

    # --- owners and associations ---------------------------------------------------------------------------

    def _owners(self, _: Table | None, request: Request, __: dict) -> tuple[int, dict]:
        q = request.query_params
        limit, after = (
            whole_number(q.get("limit") or 100, "limit"),
            whole_number(q.get("after") or 0, "after"),
        )
        if not 0 < limit <= MAX_OWNER_PAGE:
            raise ApiError(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_OWNER_PAGE}")
        owners = self.owners[self.owners["archived"].eq(boolean_param(request, "archived"))]
        if q.get("email"):
            owners = owners[owners["email"].str.lower().eq(q["email"].lower())]
        page = owners.iloc[after : after + limit].to_dict("records")
        payload: dict = {"results": [owner | {"teams": []} for owner in page]}
        if after + limit < len(owners):
            payload["paging"] = {"next": {"after": str(after + limit), "link": f"?after={after + limit}"}}
        return 200, payload

    def _associations(self, _: Table | None, request: Request, body: dict) -> tuple[int, dict]:
        """v4 batch read: each contact's deals a page at a time; a result with more carries paging.next.after,
        which the client sends back with the same id (as {"id", "after"}) for the rest."""
        started, ids = now_iso(), batch_ids(body, MAX_ASSOCIATION_BATCH)
        afters = {str(i.get("id")): i.get("after") for i in body.get("inputs") or [] if isinstance(i, dict)}
        pair = (request.path_params["from"].rstrip("s"), request.path_params["to"].rstrip("s"))
        if pair != ("contact", "deal"):
            raise ApiError(400, "VALIDATION_ERROR", f"No {pair[0]}→{pair[1]} associations are kept here")
        links = self.contact_deals
        links = links[links["contact"].isin(ids) & links["deal"].isin(self.tables["deals"].live().index)]
        deals_of = links.groupby("contact")["deal"].agg(lambda d: sorted(d, key=int))
        results, errors = [], []
        for c in dict.fromkeys(ids):
            if c not in deals_of.index:
                errors.append(standard_error(
                    "OBJECT_NOT_FOUND", f"No deal is associated with contact {c}.", {"fromObjectId": [c]},
                    subCategory="crm.associations.NO_ASSOCIATIONS_FOUND"))  # fmt: skip
                continue
            start = whole_number(afters.get(c) or 0, "after")
            page = deals_of[c][start : start + self.association_page]
            result: dict = {"from": {"id": c}, "to": [
                {"toObjectId": int(d), "associationTypes": [CONTACT_TO_DEAL]} for d in page]}  # fmt: skip
            if start + self.association_page < len(deals_of[c]):
                result["paging"] = {"next": {"after": str(start + self.association_page), "link": None}}
            results.append(result)
        return batch_response(results, errors, started)

    # --- admin, for tests (called from other threads) -----------------------------------------------------

    @staticmethod
    def crm_id(world_lead_id: str) -> str:
        return str(LEAD_BASE + int(world_lead_id[3:]))

    @staticmethod
    def account_crm_id(world_account_id: str) -> str:
        """The company id seeded for a world account (as hubspot_ids numbers them)."""
        return str(COMPANY_BASE + int(world_account_id[3:]))

    def add_leads(self, leads: pd.DataFrame) -> None:
        """New contacts for leads shaped like World.leads, stamped as saved now."""
        with self._lock:
            saved = [pd.Timestamp.now(tz="UTC")] * len(leads)
            contacts, history = lead_contacts(leads, pd.Series(dtype=object), saved)
            frame = self.contacts.frame
            self.contacts.frame = pd.concat(
                [frame[~frame.index.isin(contacts.index)], contacts.reindex(columns=frame.columns)]
            )
            self.history = pd.concat([self.history, history], ignore_index=True)
            owners = owner_entries(contacts, "lastmodifieddate", "FORM")
            self.owner_history = pd.concat([self.owner_history, owners], ignore_index=True)

    def delete_lead(self, world_lead_id: str) -> None:
        with self._lock:
            self.contacts.frame.loc[self.crm_id(world_lead_id), "archived"] = True

    def owners_of(self, world_lead_ids: Sequence[str]) -> pd.Series:
        with self._lock:
            return self.contacts.frame.set_index("_world")["hubspot_owner_id"].reindex(list(world_lead_ids))

    def owner_writes(self) -> pd.Series:
        """How many times each lead's owner was written, by world lead id."""
        with self._lock:
            world_ids = self.audit["id"].map(self.contacts.frame["_world"])
            return world_ids.value_counts().rename_axis("lead_id").rename("n")

    def touch(self, world_lead_id: str, at: pd.Timestamp) -> None:
        """A rep works the lead at `at`: first engagement (if none yet) and lead status IN_PROGRESS."""
        record_id, stamp = self.crm_id(world_lead_id), str(iso([at]).iloc[0])
        with self._lock:
            frame = self.contacts.frame
            if pd.isna(frame.at[record_id, "hs_sa_first_engagement_date"]):
                frame.at[record_id, "hs_sa_first_engagement_date"] = stamp
            if frame.at[record_id, "hs_lead_status"] != "IN_PROGRESS":
                self._record_status(pd.Series(["IN_PROGRESS"], index=[record_id]), stamp, "CRM_UI")
            frame.at[record_id, "hs_lead_status"] = "IN_PROGRESS"
            frame.at[record_id, "lastmodifieddate"] = now_iso()

    def reject(
        self,
        world_lead_ids: Sequence[str],
        at: pd.Timestamp | pd.Series,
        status: str = "REJECTED_WRONG_OWNER",
    ) -> None:
        """Each lead's owner sets hs_lead_status to `status` at `at` (one time, or one per lead). As HubSpot
        keeps history, a lead already holding that value gains no entry."""
        ids = [self.crm_id(i) for i in world_lead_ids]
        when = iso(at if isinstance(at, pd.Series) else [at] * len(ids)).set_axis(ids)
        with self._lock:
            frame = self.contacts.frame
            moved = frame.loc[ids, "hs_lead_status"].ne(status).fillna(True)
            moved = moved[moved.to_numpy(bool)].index
            rows = pd.DataFrame({"id": moved, "value": status, "timestamp": when.loc[moved].to_numpy(),
                                 "sourceType": "CRM_UI"})  # fmt: skip
            self.history = pd.concat([self.history, rows], ignore_index=True)
            frame.loc[moved, "hs_lead_status"] = status
            frame.loc[moved, "lastmodifieddate"] = now_iso()

    def throttle(self, times: int, retry_after_s: int = 1) -> None:
        """Answer the next `times` requests 429 with `Retry-After: retry_after_s`, as HubSpot does past a limit.
        A fault control, off by default, that draws nothing from the seeded fault sequence."""
        self.throttled = [retry_after_s] * times

    def after_search(self, n: int, callback: Callable[[], None]) -> None:
        """Run `callback` once the nth contacts search from now is answered, before its reply is sent: an edit
        a client makes between two searches."""
        with self._lock:
            self._search_hooks[self._searches + n] = callback


@dataclass
class Table:
    """One object type's records, and how HubSpot filters, sorts and serialises them."""

    spec: Spec
    frame: pd.DataFrame  # property text indexed by id, plus `_num` (the numeric id) and `archived`

    def live(self) -> pd.DataFrame:
        return self.frame[~self.frame["archived"].to_numpy(bool)]

    def describe(self, name: str) -> dict:
        """A Property as the properties API describes it: its required fields, and a plausible type."""
        spec_ = self.spec
        kind, field_type = (
            ("datetime", "date") if name in spec_.dates
            else ("number", "number") if name in spec_.numbers
            else ("enumeration", "select") if name in ENUMERATIONS
            else ("string", "text")
        )  # fmt: skip
        return {
            "name": name, "label": name.replace("_", " ").capitalize(), "type": kind, "fieldType": field_type,
            "description": "", "groupName": f"{spec_.kind.lower()}information", "options": options(name),
            "hubspotDefined": name not in CUSTOM_CONTACT_PROPERTIES, "archived": False, "hidden": False,
            "calculated": False, "formField": False, "modificationMetadata": {
                "archivable": True, "readOnlyDefinition": True, "readOnlyValue": name in spec_.read_only},
        }  # fmt: skip

    def comparable(self, frame: pd.DataFrame, prop: str) -> pd.Series:
        """The column as HubSpot compares it: instants as fixed-width text, numbers, lowercased text."""
        if prop not in self.spec.properties:
            raise ApiError(400, "VALIDATION_ERROR", f"Property '{prop}' does not exist")
        if prop == "hs_object_id":
            return frame["_num"].astype("Int64")
        if prop in self.spec.numbers:
            return pd.to_numeric(frame[prop], errors="coerce")
        return frame[prop] if prop in self.spec.dates else frame[prop].str.lower()

    def operand(self, prop: str, value: object, lowercase: bool = True) -> object:
        """A filter value as `comparable` holds the column: dates accept ms epochs or ISO text."""
        if value is None:
            raise ApiError(400, "VALIDATION_ERROR", f"The filter on {prop} has no value")
        text = str(value).strip()
        try:
            if prop in self.spec.dates:
                epoch = text.lstrip("-").isdigit()
                return iso_instant(
                    pd.Timestamp(int(text), unit="ms", tz="UTC") if epoch else pd.Timestamp(text)
                )
            if prop in self.spec.numbers:
                return float(text)
        except (ValueError, TypeError) as exc:
            raise ApiError(400, "VALIDATION_ERROR", f"{text!r} is not a valid value for {prop}") from exc
        return text.lower() if lowercase else text

    def matching(self, frame: pd.DataFrame, groups: list[list[dict]]) -> np.ndarray:
        """Rows matching all filters of any group; a filter repeated across groups is run once."""
        masks: dict[str, np.ndarray] = {}

        def mask(f: dict) -> np.ndarray:
            key = json.dumps(f, sort_keys=True, default=str)
            if key not in masks:
                masks[key] = self.match(frame, f)
            return masks[key]

        if not groups:
            return np.ones(len(frame), bool)
        return np.logical_or.reduce(
            [np.logical_and.reduce([mask(f) for f in g], initial=True) for g in groups]
        )

    def match(self, frame: pd.DataFrame, f: dict) -> np.ndarray:
        prop, op = str(f.get("propertyName")), f.get("operator")
        if op is None:
            raise ApiError(400, "VALIDATION_ERROR", f"The filter on {prop} names no operator")
        left = self.comparable(frame, prop)
        if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            has = (left.notna() & left.astype("string").ne("")).fillna(False).to_numpy(bool)
            return has if op == "HAS_PROPERTY" else ~has
        if op in ("IN", "NOT_IN"):
            values = f.get("values") or []
            if len(values) > MAX_IN_VALUES:
                raise ApiError(400, "VALIDATION_ERROR", f"{op} takes at most {MAX_IN_VALUES} values")
            # HubSpot documents that IN matches text properties only with values given in lowercase
            found = left.isin([self.operand(prop, v, lowercase=False) for v in values]).fillna(False)
            return found.to_numpy(bool) if op == "IN" else ~found.to_numpy(bool)
        right = self.operand(prop, f.get("value"))
        if op == "BETWEEN":
            return (
                ((left >= right) & (left <= self.operand(prop, f.get("highValue"))))
                .fillna(False)
                .to_numpy(bool)
            )
        compare = {
            "EQ": left.eq,
            "NEQ": left.eq,
            "GT": left.gt,
            "GTE": left.ge,
            "LT": left.lt,
            "LTE": left.le,
        }
        if op not in compare:
            raise ApiError(400, "VALIDATION_ERROR", f"Unsupported operator {op}")
        hit = compare[op](right).fillna(False).to_numpy(bool)
        return ~hit if op == "NEQ" else hit  # a record without the property equals nothing

    def order(self, frame: pd.DataFrame, keep: np.ndarray, sorts: list) -> np.ndarray:
        """The positions of the kept rows in the sort's order: only keys are sorted, never the records."""
        if len(sorts) > 1:
            raise ApiError(400, "VALIDATION_ERROR", "Search accepts one sort")
        positions = np.flatnonzero(keep)
        ids = frame["_num"].to_numpy()[positions]
        if not sorts:
            return positions[np.argsort(ids, kind="stable")]
        sort = sorts[0]
        if isinstance(sort, str):  # the short form: "createdate" or "-createdate"
            prop, descending = sort.lstrip("-"), sort.startswith("-")
        else:
            prop, descending = str(sort.get("propertyName")), sort.get("direction") == "DESCENDING"
        keys = pd.DataFrame(
            {"key": self.comparable(frame, prop).iloc[positions].to_numpy(), "id": ids, "at": positions}
        )
        # ties broken by id, so pages never overlap or skip
        ordered = keys.sort_values(
            ["key", "id"], ascending=[not descending, True], na_position="last", kind="stable"
        )
        return ordered["at"].to_numpy()

    def objects(self, page: pd.DataFrame, requested: list | None) -> list[dict]:
        """SimplePublicObjects: the requested properties (HubSpot drops unknown ones) and the stamps."""
        wanted = [*(requested or self.spec.defaults), "hs_object_id", "createdate", self.spec.modified]
        known = [p for p in dict.fromkeys(wanted) if p in self.spec.properties]
        values = page[[*known, "createdate", self.spec.modified]].to_numpy(dtype=object, na_value=None)
        return [
            {"id": i, "properties": dict(zip(known, row, strict=False)), "createdAt": row[-2],
             "updatedAt": row[-1], "archived": False}
            for i, row in zip(page.index, values.tolist(), strict=True)
        ]  # fmt: skip


def options(name: str) -> list[dict]:
    """An enumeration property's options as the properties API lists them (only hs_lead_status's are kept)."""
    if name != "hs_lead_status":
        return []
    return [
        {"label": v.replace("_", " ").capitalize(), "value": v, "displayOrder": n, "hidden": False}
        for n, v in enumerate(LEAD_STATUS_OPTIONS)
    ]


def refuse_invalid_options(changes: list[dict]) -> None:
    """A 400 for the whole batch when an hs_lead_status value is none of its options, as HubSpot answers."""
    bad = sorted(
        {
            c["hs_lead_status"]
            for c in changes
            if c.get("hs_lead_status", "") not in ("", *LEAD_STATUS_OPTIONS)
        }
    )
    if bad:
        allowed = ", ".join(LEAD_STATUS_OPTIONS)
        raise ApiError(400, "VALIDATION_ERROR", "Property values were not valid: " + ", ".join(
            f'{{"isValid":false,"message":"{v} was not one of the allowed options: [{allowed}]",'
            f'"error":"INVALID_OPTION","name":"hs_lead_status"}}' for v in bad))  # fmt: skip


def owner_entries(frame: pd.DataFrame, stamp_column: str, source: str) -> pd.DataFrame:
    """hubspot_owner_id history entries (HISTORY_COLUMNS) for the records of `frame` that have an owner."""
    owned = frame[frame["hubspot_owner_id"].notna()]
    return pd.DataFrame(
        {"id": owned.index.to_numpy(), "value": owned["hubspot_owner_id"].to_numpy(),
         "timestamp": owned[stamp_column].to_numpy(), "sourceType": source},
        columns=HISTORY_COLUMNS,
    )  # fmt: skip


def boolean_param(request: Request, name: str) -> bool:
    """A boolean query parameter as the spec types it: `true` or `false`."""
    value = request.query_params.get(name, "false")
    if value not in ("true", "false"):
        raise ApiError(400, "VALIDATION_ERROR", f"{name} must be true or false, got {value!r}")
    return value == "true"


def checked_sorts(sorts: object) -> list:
    """The sorts of a search body: at most one, each {"propertyName", "direction"} (or the documented short
    form "prop" / "-prop"), the direction ASCENDING or DESCENDING."""
    if not isinstance(sorts, list) or len(sorts) > 1:
        raise ApiError(400, "VALIDATION_ERROR", "Search accepts one sort")
    for sort in sorts:
        if isinstance(sort, dict) and sort.get("direction", "ASCENDING") not in ("ASCENDING", "DESCENDING"):
            raise ApiError(400, "VALIDATION_ERROR", f"Invalid sort direction {sort.get('direction')!r}")
        if not isinstance(sort, dict | str) or (isinstance(sort, dict) and not sort.get("propertyName")):
            raise ApiError(400, "VALIDATION_ERROR", f"Invalid sort {sort!r}: a sort names a propertyName")
    return sorts


def whole_number(value: object, name: str) -> int:
    try:
        return int(str(value))
    except ValueError as exc:
        raise ApiError(400, "VALIDATION_ERROR", f"{name} must be a whole number, got {value!r}") from exc


def batch_ids(body: dict, most: int) -> list[str]:
    inputs = body.get("inputs") or []
    if len(inputs) > most:
        raise ApiError(400, "VALIDATION_ERROR", f"Batch input is limited to {most} inputs, got {len(inputs)}")
    return [str(i.get("id")) if isinstance(i, dict) else str(i) for i in inputs]


def batch_response(results: list[dict], errors: list[dict], started: str) -> tuple[int, dict]:
    """200 when every input succeeded, else 207 multi-status with the errors."""
    body = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now_iso()}
    return (207, body | {"numErrors": len(errors), "errors": errors}) if errors else (200, body)


def standard_error(category: str, message: str, context: dict[str, list[str]], **extra: object) -> dict:
    return {"status": "error", "category": category, "message": message, "context": context, "errors": [],
            "links": {}} | extra  # fmt: skip


def not_found(spec_: Spec, ids: list[str]) -> dict:
    message = (
        f"Could not get some {spec_.kind} objects, they may be deleted or not exist. "
        "Check that ids are valid."
    )
    return standard_error("OBJECT_NOT_FOUND", message, {"ids": ids})


def rate_limited(retry_after_s: int, search: bool) -> JSONResponse:
    """HubSpot's 429: the ten-second limit, or the search endpoints' own per-second one."""
    policy, window = ("SECONDLY", "secondly") if search else ("TEN_SECONDLY_ROLLING", "ten_secondly_rolling")
    return error_response(
        429, "RATE_LIMITS", f"You have reached your {window} limit.",
        headers={"Retry-After": str(retry_after_s)}, errorType="RATE_LIMIT", policyName=policy,
    )  # fmt: skip


def error_response(
    status: int, category: str, message: str, headers: dict[str, str] | None = None, **extra: object
) -> JSONResponse:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
    return JSONResponse(body | extra, status_code=status, headers=headers)
