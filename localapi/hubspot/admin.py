"""The local HubSpot's admin methods, for tests: change the portal behind the adapter's back (called from other
threads), and read what was written."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from localapi.hubspot.records import iso, lead_contacts, now_iso
from localapi.hubspot.replies import owner_entries
from localapi.hubspot.specs import COMPANY_BASE, LEAD_BASE


class Admin:
    """Admin methods of HubSpotAPI: new leads, deletes, touches, rejections, throttling, search hooks."""

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

    def deactivate(self, owner_id: str) -> None:
        """A super admin deactivates the user: their owner is archived (listed by GET /crm/v3/owners?archived=true)."""
        with self._lock:
            self.owners.loc[self.owners["id"].eq(owner_id), "archived"] = True

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
