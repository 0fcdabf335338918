"""A CRM's contents as frames, read from a sandbox CRM file, to seed the local Salesforce and HubSpot servers.

Every adapter's contract test starts from the same world, so the three CRMs can be held to the same answers.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

TABLES = ["users", "accounts", "contacts", "leads", "activities", "deals"]
STAMPS = {"leads": ["created_at", "modified_at"], "activities": ["created_at"], "deals": ["created_at"]}


@dataclass
class World:
    users: pd.DataFrame
    accounts: pd.DataFrame
    contacts: pd.DataFrame
    leads: pd.DataFrame
    activities: pd.DataFrame
    deals: pd.DataFrame

    @classmethod
    def from_sandbox(cls, path: Path | str) -> World:
        """The sandbox's tables with their stamps parsed to UTC timestamps."""
        with sqlite3.connect(path) as db:
            frames = {t: pd.read_sql_query(f"SELECT * FROM {t}", db) for t in TABLES}
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
