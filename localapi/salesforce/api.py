"""A local Salesforce: OAuth client-credentials login, SOQL query/queryMore, sObject Collections PATCH and describe.

Objects live in SQLite (SOQL is translated by localapi.soql), at Salesforce's whole-second stamp precision.
Responses and errors follow the REST API's documented shapes: `[{"message", "errorCode"}]` bodies, 401
INVALID_SESSION_ID, 403 REQUEST_LIMIT_EXCEEDED, 503 SERVER_UNAVAILABLE, per-record errors in collections.
"""

from __future__ import annotations

import base64
import secrets
import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence
from urllib.parse import parse_qs

import numpy as np
import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from leadrouter.fields import NO_CUSTOM_FIELDS, LeadFields
from localapi.salesforce.admin import Admin
from localapi.salesforce.records import Records
from localapi.salesforce.storage import CUSTOM_FIELDS, READ_ONLY, SALESFORCE_TYPES, Storage, stored
from localapi.server import Faults
from localapi.sobjects import OBJECTS, SField, with_custom
from localapi.soql import QueryError
from localapi.world import World


def errors(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse([{"message": message, "errorCode": code}], status_code=status, headers=headers)


class SalesforceAPI(Storage, Records, Admin):
    """The server's state and its Starlette `app`. Admin methods (add_leads, touch, …) are for tests."""

    def __init__(
        self,
        world: World,
        faults: Faults | None = None,
        client_id: str = "local-client-id",
        client_secret: str = "local-client-secret",
        custom_fields: bool = True,
        page_size: int = 2000,
        lock_rate: float = 0.0,
        lead_fields: LeadFields = NO_CUSTOM_FIELDS,
    ) -> None:
        self.faults = faults or Faults()
        self.throttled: list[int] = []  # Retry-After of each of the next calls answered 429 (see throttle)
        self.client_id, self.client_secret = client_id, client_secret
        # the org's own custom Lead fields, and one per custom lead field of config/fields.yaml that names one
        self.lead_fields = lead_fields
        custom = {f.salesforce: SALESFORCE_TYPES[f.type] for f in lead_fields.custom if f.salesforce}
        self.fields: dict[str, dict[str, SField]] = with_custom(
            OBJECTS, {**(CUSTOM_FIELDS if custom_fields else {}), **custom}
        )
        self.page_size = page_size
        self.lock_rate, self.lock_rng = lock_rate, np.random.default_rng(1)
        self.calls: Counter = Counter()
        self.queries: list[str] = []
        self.write_log: Counter = Counter()  # owner writes per lead: the audit that nothing was written twice
        self.tokens: set[str] = set()
        self.locators: dict[str, list[dict]] = {}
        self.lock = threading.Lock()
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self._create_tables()
        self._seed(world)
        self.url = ""  # set by whoever serves the app: instance_url in token responses
        self.app = Starlette(
            routes=[
                Route("/services/oauth2/token", self.token, methods=["POST"]),
                Route("/services/data/{version}/query/", self.query, methods=["GET"]),
                Route("/services/data/{version}/queryAll/", self.query, methods=["GET"]),
                Route("/services/data/{version}/query/{locator}", self.query_more, methods=["GET"]),
                Route("/services/data/{version}/composite/sobjects", self.collections, methods=["PATCH"]),
                Route("/services/data/{version}/sobjects/{sobject}/describe", self.describe, methods=["GET"]),
                Route(
                    "/services/data/{version}/sobjects/{sobject}/describe/", self.describe, methods=["GET"]
                ),
            ]
        )

    def _guard(self, request: Request, name: str) -> Response | None:
        """Count the call; refuse a bad session; inject a fault before anything changes."""
        self.calls[name] += 1
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if self.throttled:
            wait = str(self.throttled.pop(0))
            return errors(429, "REQUEST_LIMIT_EXCEEDED", "Too many requests.", {"Retry-After": wait})
        fault = self.faults.pick(["503", "REQUEST_LIMIT_EXCEEDED"])
        if fault == "503":
            return errors(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable; try again later")
        if fault:
            return errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        return None

    async def token(self, request: Request) -> Response:
        self.calls["oauth2.token"] += 1
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, 400
            )
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "invalid client credentials"}, 400
            )
        token = "00D" + secrets.token_hex(16)
        with self.lock:
            self.tokens.add(token)
        return JSONResponse(
            {
                "access_token": token,
                "instance_url": self.url,
                "id": f"{self.url}/id/00D000000000001/005000000000099",
                "token_type": "Bearer",
                "issued_at": str(pd.Timestamp.now(tz="UTC").value // 1_000_000),
                "signature": "local",
            }
        )

    async def query(self, request: Request) -> Response:
        if refused := self._guard(request, "query"):
            return refused
        soql = request.query_params.get("q", "")
        try:
            with self.lock:
                self.queries.append(soql)
                total, records = self._run(
                    soql, include_deleted=request.url.path.rstrip("/").endswith("queryAll")
                )
        except QueryError as exc:
            return errors(400, exc.code, str(exc))
        except sqlite3.Error as exc:
            return errors(400, "MALFORMED_QUERY", f"malformed query: {exc}")
        return JSONResponse(self._page(records, 0, request.path_params["version"], total=total))

    async def query_more(self, request: Request) -> Response:
        if refused := self._guard(request, "queryMore"):
            return refused
        locator, _, offset = request.path_params["locator"].rpartition("-")
        with self.lock:
            records = self.locators.get(locator)
        if records is None:
            return errors(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return JSONResponse(self._page(records, int(offset), request.path_params["version"], locator))

    def _page(
        self,
        records: list[dict],
        offset: int,
        version: str,
        locator: str | None = None,
        total: int | None = None,
    ) -> dict:
        end = offset + self.page_size
        size = len(records) if total is None else total
        page = {"totalSize": size, "done": end >= len(records), "records": records[offset:end]}
        if not page["done"]:
            locator = locator or "01g" + secrets.token_hex(6)
            with self.lock:
                self.locators[locator] = records
            page["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{end}"
        return page

    async def collections(self, request: Request) -> Response:
        if refused := self._guard(request, "composite.sobjects.patch"):
            return refused
        body = await request.json()
        records = body.get("records", [])
        if len(records) > 200:
            return errors(
                400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records"
            )
        with self.lock:
            results = [self._update(r) for r in records]
            if body.get("allOrNone") and not all(r["success"] for r in results):
                self.db.rollback()
                results = [
                    r
                    if not r["success"]
                    else self._failure("ALL_OR_NONE_OPERATION_ROLLED_BACK", "rolled back")
                    for r in results
                ]
            else:
                self.db.commit()
                for record, result in zip(records, results, strict=True):
                    if result["success"] and "OwnerId" in record:
                        self.write_log[record["id"]] += 1
        return JSONResponse(results)

    @staticmethod
    def _failure(code: str, message: str, fields: Sequence[str] = ()) -> dict:
        return {
            "success": False,
            "errors": [{"statusCode": code, "message": message, "fields": list(fields)}],
        }

    def _update(self, record: dict) -> dict:
        sobject, lead_id = record.get("attributes", {}).get("type"), record.get("id")
        if sobject != "Lead":
            return self._failure("INVALID_TYPE", f"sObject type '{sobject}' is not supported here")
        values = {k: v for k, v in record.items() if k not in ("attributes", "id")}
        unknown = [k for k in values if k not in self.fields["Lead"]]
        if unknown:
            return self._failure(
                "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type Lead", unknown
            )
        row = self.db.execute('SELECT "IsDeleted" FROM "Lead" WHERE "Id" = ?', (lead_id,)).fetchone()
        if row is None:
            return self._failure("INVALID_ID_FIELD", f"invalid record id: {lead_id}", ["Id"])
        if row[0]:
            return self._failure("ENTITY_IS_DELETED", "entity is deleted")
        if "OwnerId" in values and not self._is_owner(values["OwnerId"]):
            return self._failure("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["OwnerId"])
        if self.lock_rate and self.lock_rng.random() < self.lock_rate:
            return self._failure(
                "UNABLE_TO_LOCK_ROW", f"unable to obtain exclusive access to this record: {lead_id}"
            )
        now = stored(pd.Timestamp.now(tz="UTC"))
        values |= {"SystemModstamp": now, "LastModifiedDate": now}
        assignments = ", ".join(f'"{k}" = ?' for k in values)
        self.db.execute(f'UPDATE "Lead" SET {assignments} WHERE "Id" = ?', [*values.values(), lead_id])
        return {"id": lead_id, "success": True, "errors": []}

    def _is_owner(self, owner_id: str) -> bool:
        return bool(
            self.db.execute(
                'SELECT 1 FROM "User" WHERE "Id" = ? AND "IsActive" = 1 '
                'UNION SELECT 1 FROM "Group" WHERE "Id" = ? AND "Type" = \'Queue\'',
                (owner_id, owner_id),
            ).fetchone()
        )

    async def describe(self, request: Request) -> Response:
        if refused := self._guard(request, "describe"):
            return refused
        sobject = request.path_params["sobject"]
        if sobject not in self.fields:
            return errors(404, "NOT_FOUND", f"The requested resource does not exist: {sobject}")
        fields = [
            {
                "name": f.name, "type": f.type, "custom": f.name.endswith("__c"), "filterable": f.filterable,
                "sortable": f.sortable, "groupable": f.sortable, "nillable": f.name != "Id",
                "referenceTo": list(f.references), "relationshipName": f.relationship,
                "updateable": f.name not in READ_ONLY and f.type not in ("id", "anyType"),
            }
            for f in self.fields[sobject].values()
        ]  # fmt: skip
        return JSONResponse({"name": sobject, "custom": False, "fields": fields})
