"""A local HubSpot CRM API (v3 objects, owners, v4 associations) seeded from a World, kept in memory.

It answers with HubSpot's payloads, status codes and error bodies, so hubspot-api-client is tested over HTTP:
search with filter groups, one sort and the 10,000-result cap; batch read and update with 207 multi-status
and 400 for a property the portal lacks; the property list; owners with paging; contact→deal associations.
Faults are injected before any state is touched.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Awaitable, Callable

import numpy as np
import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from leadrouter.fields import NO_CUSTOM_FIELDS, LeadFields
from localapi.hubspot.admin import Admin
from localapi.hubspot.batch import Batches
from localapi.hubspot.records import copied, hubspot_ids, iso, lead_contacts, now_iso, number_text, records
from localapi.hubspot.replies import (
    ApiError,
    batch_ids,
    batch_response,
    boolean_param,
    checked_sorts,
    error_response,
    owner_entries,
    rate_limited,
    standard_error,
    whole_number,
)
from localapi.hubspot.specs import (
    AUTH_MESSAGE,
    COMPANIES,
    COMPANY_BASE,
    COMPANY_FIELDS,
    CONTACT_BASE,
    CONTACT_FIELDS,
    CONTACT_TO_DEAL,
    CONTACTS,
    DEAL_BASE,
    DEAL_STAGE,
    DEALS,
    FAULT_BODIES,
    LEAD_BASE,
    MAX_ASSOCIATION_BATCH,
    MAX_FILTERS,
    MAX_GROUP_FILTERS,
    MAX_GROUPS,
    MAX_OWNER_PAGE,
    MAX_PAGE,
    SEARCH_CAP,
    contacts_spec,
)
from localapi.hubspot.table import Table
from localapi.server import Faults
from localapi.world import World


class HubSpotAPI(Batches, Admin):
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

    def _properties(self, table: Table, request: Request, _: dict) -> tuple[int, dict]:
        """CollectionResponsePropertyNoPaging: the type's properties (none is archived here)."""
        archived = boolean_param(request, "archived")
        return 200, {"results": [] if archived else [table.describe(p) for p in table.spec.properties]}

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
