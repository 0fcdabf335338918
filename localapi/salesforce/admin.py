"""The local Salesforce's admin methods, for tests: change the org behind the adapter's back and read what was
written."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from localapi.salesforce.storage import stored


class Admin:
    """Admin methods of SalesforceAPI: new leads, deletes, touches, rejections, throttling, expired sessions."""

    def crm_id(self, world_lead_id: str) -> str:
        return world_lead_id

    def add_leads(self, leads: pd.DataFrame) -> None:
        """Insert leads shaped like World.leads, stamped now as Salesforce stamps a save."""
        with self.lock:
            self._add_leads(leads, keep_stamps=False)
            self.db.commit()

    def delete_lead(self, lead_id: str) -> None:
        with self.lock:
            self.db.execute('UPDATE "Lead" SET "IsDeleted" = 1 WHERE "Id" = ?', (lead_id,))
            self.db.commit()

    def deactivate(self, user_id: str) -> None:
        """An admin deactivates the user (Setup → Users → Active off): IsActive false, the record kept."""
        with self.lock:
            self.db.execute('UPDATE "User" SET "IsActive" = 0 WHERE "Id" = ?', (user_id,))
            self.db.commit()

    def touch(self, lead_id: str, at: pd.Timestamp) -> None:
        """A rep logs a call on the lead and moves it to Working."""
        with self.lock:
            n = self.db.execute('SELECT COUNT(*) FROM "Task"').fetchone()[0] + 1
            self.db.execute(
                'INSERT INTO "Task" ("Id", "WhoId", "Subject", "CreatedDate") VALUES (?, ?, \'call\', ?)',
                (f"00T{n:012d}", lead_id, stored(at)),
            )
            self.db.commit()

    def reject(
        self, lead_ids: Sequence[str], at: pd.Timestamp | pd.Series, status: str = "Rejected - Wrong Owner"
    ) -> None:
        """Each lead's owner sets its Status to `status` at `at` (one time, or one per lead). As field history
        does, a lead already in that status gains no LeadHistory row."""
        when = (at if isinstance(at, pd.Series) else pd.Series([at] * len(lead_ids))).set_axis(list(lead_ids))
        with self.lock:
            marks = ", ".join("?" for _ in lead_ids)
            leads = pd.read_sql_query(
                f'SELECT "Id", "Status", "OwnerId" FROM "v_Lead" WHERE "Id" IN ({marks})',
                self.db,
                params=list(lead_ids),
            ).set_index("Id")
            moved = leads[leads["Status"].ne(status).fillna(True)]
            self._status_history(
                pd.DataFrame(
                    {
                        "LeadId": moved.index,
                        "OldValue": moved["Status"].to_numpy(),
                        "NewValue": status,
                        "CreatedById": moved["OwnerId"].to_numpy(),
                        "CreatedDate": stored(pd.to_datetime(when.loc[moved.index], utc=True)).to_numpy(),
                    }
                )
            )
            now = stored(pd.Timestamp.now(tz="UTC"))
            self.db.executemany(
                'UPDATE "Lead" SET "Status" = ?, "SystemModstamp" = ?, "LastModifiedDate" = ? WHERE "Id" = ?',
                [(status, now, now, lead_id) for lead_id in moved.index],
            )
            self.db.commit()

    def owners_of(self, lead_ids: Sequence[str]) -> pd.Series:
        with self.lock:
            rows = pd.read_sql_query('SELECT "Id", "OwnerId" FROM "Lead"', self.db).set_index("Id")["OwnerId"]
        return rows.reindex(list(lead_ids))

    def owner_writes(self) -> pd.Series:
        with self.lock:
            return pd.Series(dict(self.write_log), dtype="int64")

    def throttle(self, times: int, retry_after_s: int = 1) -> None:
        """Answer the next `times` API calls 429 with `Retry-After: retry_after_s` (as a gateway in front of the
        org may). A fault control, off by default, that draws nothing from the seeded fault sequence."""
        self.throttled = [retry_after_s] * times

    def expire_sessions(self) -> None:
        with self.lock:
            self.tokens.clear()
