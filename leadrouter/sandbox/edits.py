"""What happens to the sandbox CRM outside routing: new leads arriving, reps handing leads back, an admin
deactivating a user, custom fields edited; the audit reads tests make; and how the sandbox stores stamps and
custom values. A mixin of SandboxCRM (in `crm`), which brings the connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import numpy as np
import pandas as pd

from leadrouter.crm.base import STAMP
from leadrouter.fields import LeadFields
from leadrouter.sandbox.custom import custom_values
from leadrouter.sandbox.leads import generate_leads
from leadrouter.sandbox.team import DEFAULT_QUEUE

REJECTED = "Rejected - Wrong Owner"  # the lead status a rep sets to hand a lead back


def stamp(ts: pd.Series | pd.Timestamp) -> pd.Series | str:
    return ts.dt.strftime(STAMP) if isinstance(ts, pd.Series) else ts.strftime(STAMP)


class SandboxEdits:
    """The sandbox's own calls, beyond the CRM protocol: seeding, traffic and audit."""

    fields: LeadFields  # SandboxCRM's
    _db: Callable[[], AbstractContextManager[sqlite3.Connection]]

    def add_leads(
        self, n: int, rng: np.random.Generator, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        """Insert n new leads created between start and end, with values for the custom fields known at arrival;
        returns them with their generator labels."""
        with self._db() as db:
            accounts = pd.read_sql_query("SELECT id AS account_id, * FROM accounts", db)
            contacts = pd.read_sql_query("SELECT id AS contact_id, * FROM contacts", db)
            next_id = db.execute(
                "SELECT COALESCE(MAX(CAST(substr(id, 4) AS INTEGER)), 0) + 1 FROM leads"
            ).fetchone()[0]
        accounts["region"] = ""
        leads = generate_leads(rng, n, accounts, contacts, start, end, id_start=next_id)
        table = leads.drop(columns=["label_category", "label_tier", "label_kind"]).rename(
            columns={"lead_id": "id"}
        )
        table["created_at"] = stamp(table["created_at"])
        # stamped when inserted, as a CRM's SystemModstamp is: a lead created earlier but saved now must
        # sort after every change already pulled, or the watermark would pass it by
        table["modified_at"] = stamp(pd.Timestamp.now(tz="UTC"))
        table["owner_id"] = DEFAULT_QUEUE
        table["status"] = "New"
        labels = leads[["lead_id", "label_category", "label_tier", "label_kind"]]
        arrival = [f for f in self.fields.custom if f.known_at == "arrival"]
        values = custom_values(rng, arrival, leads["created_at"]).assign(lead_id=leads["lead_id"])
        with self._db() as db:
            table.to_sql("leads", db, if_exists="append", index=False)
            labels.to_sql("lead_labels", db, if_exists="append", index=False)
            insert_fields(db, values)
        return leads

    def deactivate_user(self, user_id: str) -> None:
        """The sandbox's admin deactivates a user (as Salesforce IsActive = false, a HubSpot owner archived)."""
        with self._db() as db:
            db.execute("UPDATE users SET active = 0 WHERE id = ?", (user_id,))

    def reject(self, lead_ids: Sequence[str], at: pd.Timestamp | pd.Series) -> None:
        """Each lead's owner hands it back at `at` (one time, or one per lead): status "Rejected - Wrong Owner",
        recorded in the status history."""
        when = stamp(pd.Series(at if isinstance(at, pd.Series) else [at] * len(lead_ids)))
        with self._db() as db:
            db.executemany(
                "INSERT INTO status_changes (lead_id, status, changed_by, changed_at) "
                "SELECT id, ?, owner_id, ? FROM leads WHERE id = ?",
                [(REJECTED, t, lid) for t, lid in zip(when, lead_ids, strict=True)],
            )
            db.executemany(
                "UPDATE leads SET status = ?, modified_at = ? WHERE id = ?",
                [(REJECTED, stamp(pd.Timestamp.now(tz="UTC")), lid) for lid in lead_ids],
            )

    def set_lead_fields(self, values: pd.DataFrame) -> None:
        """Set custom field values (lead_id, then a column per field; null clears one), saved as a CRM saves an
        edit: the lead's modification stamp moves."""
        now = stamp(pd.Timestamp.now(tz="UTC"))
        with self._db() as db:
            insert_fields(db, values)
            db.executemany(
                "UPDATE leads SET modified_at = ? WHERE id = ?", [(now, i) for i in values["lead_id"]]
            )

    def owner_write_counts(self) -> pd.Series:
        """How many times each lead's owner was written (an audit: routing must write each lead once)."""
        with self._db() as db:
            return pd.read_sql_query(
                "SELECT lead_id, COUNT(*) AS n FROM owner_writes GROUP BY lead_id", db
            ).set_index("lead_id")["n"]

    def leads(self) -> pd.DataFrame:
        with self._db() as db:
            return pd.read_sql_query("SELECT * FROM leads", db)

    def _state_get(self, key: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM sandbox_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _state_set(self, key: str, value: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO sandbox_state (key, value) VALUES (?, ?)", (key, value))


def insert_fields(db: sqlite3.Connection, values: pd.DataFrame) -> None:
    """Save custom field values (lead_id, then a column per field; null clears one) in lead_fields, as text."""
    if len(values.columns) < 2:
        return
    long = values.melt(id_vars="lead_id", var_name="name", value_name="value")
    text = long["value"].map(_as_text, na_action="ignore").astype(object)
    rows = list(zip(long["lead_id"], long["name"], text.where(text.notna(), None), strict=True))
    db.executemany("INSERT OR REPLACE INTO lead_fields (lead_id, name, value) VALUES (?, ?, ?)", rows)


def _as_text(value: object) -> str:
    """A custom value as the sandbox stores it: ISO stamps, lowercase booleans, numbers as written."""
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)
