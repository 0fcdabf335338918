"""Request checks and reply bodies of the local HubSpot: HubSpot's documented error bodies, 429s and batch replies."""

from __future__ import annotations

import uuid

import pandas as pd
from starlette.requests import Request
from starlette.responses import JSONResponse

from localapi.hubspot.records import now_iso
from localapi.hubspot.specs import HISTORY_COLUMNS, LEAD_STATUS_OPTIONS, Spec


class ApiError(Exception):
    def __init__(self, status: int, category: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra


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
