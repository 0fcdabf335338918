"""HubSpot's history reads: first touches, rejections and outcomes, from contacts' property histories and
their deals. A mixin of the adapter in `client`, which brings the calls (pacing, timeout, retries)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from hubspot.crm import contacts
from hubspot.crm.associations import v4 as associations
from hubspot.crm.contacts import Filter
from hubspot.crm.deals import BatchReadInputSimplePublicObjectId as DealsRead
from hubspot.crm.deals import SimplePublicObjectId as DealId

from leadrouter.crm.base import chunks
from leadrouter.crm.hubspot import mapping, search
from leadrouter.crm.hubspot.mapping import (
    DEAL_PROPERTIES,
    OUTCOME_COLUMNS,
    TOUCH_DATES,
    UNWORKED,
    readable_ids,
)
from leadrouter.crm.hubspot.search import BATCH, advanced
from leadrouter.schema import UTC_TS

HISTORY_BATCH = 50  # inputs per batch read asking for propertiesWithHistory: HubSpot refuses more
ASSOCIATION_BATCH = 1000  # inputs per v4 association batch read


class HistoryReads:
    """What the CRM protocol reads of the past: when a lead was first worked, who rejected it, its deals."""

    # the adapter's (HubSpotCRM)
    rejection_status: str
    lifecycle: list[Filter]
    _call: Callable[..., Any]
    _search: Callable[..., Any]
    _contacts_search: Any
    _contacts_batch: Any
    _deals_batch: Any
    _associations: Any

    def first_touch(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        ids = readable_ids(lead_ids)
        properties = [*TOUCH_DATES, "notes_last_contacted"]
        results = self._read_with_history(ids, properties, ["hs_lead_status"])
        # a rep handing the lead back has not worked it
        touches = mapping.first_touches(results, UNWORKED | {self.rejection_status})
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
        saved = Filter(property_name="lastmodifieddate", operator="GTE", value=search.ms(since))
        filters = [*self.lifecycle, status, saved]
        pages = search.by_id(self._search, self._contacts_search, filters, ["hs_lead_status"], None)
        ids = [r.id for page in pages for r in page]
        found = self._read_with_history(ids, ["hubspot_owner_id"], ["hs_lead_status", "hubspot_owner_id"])
        return mapping.rejections_frame(found, self.rejection_status, since)

    def fetch_outcomes(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        links: list[tuple[str, str]] = []
        for part in chunks(readable_ids(lead_ids), ASSOCIATION_BATCH):
            links += self._deal_links(part)
        pairs = pd.DataFrame(links, columns=["lead_id", "deal_id"]).drop_duplicates()
        deals = []
        for part in chunks(pairs["deal_id"].unique().tolist(), BATCH):
            request = DealsRead(inputs=[DealId(id=i) for i in part], properties=DEAL_PROPERTIES)
            deals += self._call(self._deals_batch.read, request).results
        outcomes = mapping.outcomes_frame(pairs, deals)
        order = pd.DataFrame({"lead_id": pd.Series(list(dict.fromkeys(lead_ids)), dtype=object)})
        return order.merge(outcomes, on="lead_id")[OUTCOME_COLUMNS]

    def _deal_links(self, ids: list[str]) -> list[tuple[str, str]]:
        """(contact, deal) pairs of a v4 association batch read, following each contact's paging.next.after
        (sent back with the same id) until every contact's deals are read."""
        links: list[tuple[str, str]] = []
        pending: dict[str, str | None] = dict.fromkeys(ids)
        while pending:
            request = associations.BatchInputPublicFetchAssociationsBatchRequest(
                inputs=[
                    associations.PublicFetchAssociationsBatchRequest(id=i, after=a)
                    for i, a in pending.items()
                ]
            )
            reply = self._call(self._associations.get_page, "contacts", "deals", request)
            links += mapping.deal_links(reply.results)
            pending = {
                str(r._from.id): after
                for r in reply.results
                if (
                    after := advanced(
                        r.paging, pending.get(str(r._from.id)), "associations.v4.batch_api.get_page"
                    )
                )
            }
        return links
