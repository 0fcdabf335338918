"""HubSpot's CRM search, paged safely: every page is a fresh search from a cursor (a stamp and an id, or an id),
never `after` an offset into results sorted on a property that moves. The filters are built here; the call
goes through the adapter's `call` (its pacing, timeout and retries). Also what every paged read shares: the
batch size and the check that a `paging.next.after` moves on."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pandas as pd
from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest

from leadrouter.crm.errors import SearchStuck

PAGE = 200  # the largest search page
BATCH = 100  # inputs per batch read or update
MODIFIED_FIRST = {"propertyName": "lastmodifieddate", "direction": "ASCENDING"}
ID_FIRST = {"propertyName": "hs_object_id", "direction": "ASCENDING"}

Call = Callable[..., Any]  # the adapter's call(method, *args, **kwargs)
Cursor = tuple[pd.Timestamp, int]  # (lastmodifieddate, numeric id) of the last lead pulled


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


def ms(stamp: pd.Timestamp) -> str:
    """A filter value for a datetime property: milliseconds since the epoch."""
    return str((stamp - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1))


def ids_above(record_id: int | None) -> list[Filter]:
    """A filter for the ids above `record_id`; none for None."""
    above = Filter(property_name="hs_object_id", operator="GT", value=str(record_id))
    return [] if record_id is None else [above]


def after(lifecycle: list[Filter], cursor: Cursor | None) -> list[list[Filter]]:
    """Filter groups for leads after the cursor: a later stamp, or the same stamp and a greater id."""
    if cursor is None:
        return [lifecycle]
    stamp = ms(cursor[0])
    later = Filter(property_name="lastmodifieddate", operator="GT", value=stamp)
    same = Filter(property_name="lastmodifieddate", operator="EQ", value=stamp)
    return [[*lifecycle, later], [*lifecycle, same, *ids_above(cursor[1])]]


def within(lifecycle: list[Filter], stamp: pd.Timestamp) -> list[Filter]:
    """Filters for the leads of one stamp."""
    return [*lifecycle, Filter(property_name="lastmodifieddate", operator="EQ", value=ms(stamp))]


def page(call: Call, api: Any, groups: list[list[Filter]], sort: dict, properties: list[str]) -> list[Found]:
    """One page of a fresh search (OR of the non-empty filter groups)."""
    # one search schema serves every object type, so the contacts models do for companies too
    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=g) for g in groups if g], sorts=[sort], properties=properties,
        limit=PAGE,
    )  # fmt: skip
    return [Found(r["id"], r["properties"]) for r in call(raw, api.do_search, request)["results"]]


def by_id(
    call: Call, api: Any, filters: list[Filter], properties: list[str], after_id: int | None
) -> Iterator[list[Found]]:
    """Pages of the records matching `filters` with an id above `after_id`, by id: each page a fresh search
    from the last id seen, an order no edit can shuffle."""
    while True:
        found = page(call, api, [[*filters, *ids_above(after_id)]], ID_FIRST, properties)
        if found:
            yield found
        if len(found) < PAGE:
            return
        last = max(int(r.id) for r in found)
        if after_id is not None and last <= after_id:  # else the same page would be asked for forever
            raise SearchStuck(
                f"HubSpot's search served ids up to {last}, none above {after_id}: it does not advance"
            )
        after_id = last


def advanced(paging: Any, previous: str | None, call: str) -> str | None:
    """The `after` of a reply's next page, None on the last page; a cursor that does not move on raises (else
    the walk would ask for the same page forever)."""
    after = paging.next.after if paging is not None and paging.next is not None else None
    if after is not None and after == previous:
        raise SearchStuck(
            f"HubSpot's {call} answered paging.next.after={after!r} again: the cursor does not advance"
        )
    return after
