"""A CRM's contents as frames, read from a sandbox CRM file, to seed the local Salesforce and HubSpot servers.

Every adapter's contract test starts from the same world, so the three CRMs can be held to the same answers.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

TABLES = ["users", "accounts", "contacts", "leads", "activities", "deals"]
STAMPS = {
    "leads": ["created_at", "modified_at"],
    "activities": ["created_at"],
    "deals": ["created_at"],
    "status_changes": ["changed_at"],
}
# added to the sandbox later: a sandbox file from before then has none
STATUS_CHANGE_COLUMNS = ["id", "lead_id", "status", "changed_by", "changed_at"]


def no_status_changes() -> pd.DataFrame:
    return pd.DataFrame(columns=STATUS_CHANGE_COLUMNS).astype({"changed_at": "datetime64[us, UTC]"})


@dataclass
class World:
    users: pd.DataFrame
    accounts: pd.DataFrame
    contacts: pd.DataFrame
    leads: pd.DataFrame
    activities: pd.DataFrame
    deals: pd.DataFrame
    # every lead status a rep set (lead_id, status, changed_by, changed_at): the CRMs' status history
    status_changes: pd.DataFrame = field(default_factory=no_status_changes)

    @classmethod
    def from_sandbox(cls, path: Path | str) -> World:
        """The sandbox's tables with their stamps parsed to UTC timestamps."""
        with sqlite3.connect(path) as db:
            frames = {t: pd.read_sql_query(f"SELECT * FROM {t}", db) for t in TABLES}
            known = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            frames["status_changes"] = (
                pd.read_sql_query("SELECT * FROM status_changes ORDER BY changed_at, id", db)
                if "status_changes" in known
                else no_status_changes()
            )
            if "lead_fields" in known:  # custom field values become columns of the leads, as text
                values = pd.read_sql_query("SELECT lead_id, name, value FROM lead_fields", db)
                wide = values.pivot(index="lead_id", columns="name", values="value")
                frames["leads"] = frames["leads"].join(wide, on="id")
        for table, columns in STAMPS.items():
            for column in columns:
                frames[table][column] = pd.to_datetime(frames[table][column], utc=True, format="ISO8601")
        return cls(**frames)

    @staticmethod
    def new_leads(path: Path | str, after_id: str) -> pd.DataFrame:
        """Leads a sandbox gained after `after_id` (e.g. from SandboxCRM.add_leads), stamps parsed."""
        with sqlite3.connect(path) as db:
            leads = pd.read_sql_query("SELECT * FROM leads WHERE id > ? ORDER BY id", db, params=(after_id,))
        for column in STAMPS["leads"]:
            leads[column] = pd.to_datetime(leads[column], utc=True, format="ISO8601")
        return leads
