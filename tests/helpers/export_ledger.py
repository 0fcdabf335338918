"""A sandbox CRM holding a generated export's leads (leadrouter.sandbox.conversions), and its deals opened in the
CRM as time passes: the history the outcome loop would have seen had the router routed those leads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadrouter.fields import LeadFields
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.edits import insert_fields, stamp
from leadrouter.sandbox.team import DEFAULT_QUEUE

LEAD_COLUMNS = ["lead_id", "first_name", "last_name", "email", "phone", "title", "company", "website", "country",
                "state", "city", "industry", "employees", "annual_revenue", "lead_source", "message"]  # fmt: skip


def export_sandbox(path: Path, leads: pd.DataFrame, fields: LeadFields) -> SandboxCRM:
    """A fresh sandbox (team, accounts) whose leads are `leads` (read_history's canonical leads), with their
    custom field values known at arrival."""
    crm = SandboxCRM.create(path, seed=3, fields=fields)
    table = leads[LEAD_COLUMNS].rename(columns={"lead_id": "id"})
    table = table.assign(
        status="New", owner_id=DEFAULT_QUEUE, created_at=stamp(leads["created_at"]),
        modified_at=stamp(leads["created_at"]),
    )  # fmt: skip
    arrival = [f.name for f in fields.custom if f.known_at == "arrival"]
    with crm._db() as db:
        table.to_sql("leads", db, if_exists="append", index=False)
        insert_fields(db, leads[["lead_id", *arrival]])
    return crm


def open_deals(crm: SandboxCRM, deals: pd.DataFrame) -> None:
    """Put the export's deals (its own column names) in the CRM, each lead converted to its deal."""
    won = deals["Stage"].eq("Closed Won")
    table = pd.DataFrame(
        {
            "id": deals["Opportunity ID"], "lead_id": deals["Lead ID"], "stage": deals["Stage"],
            "amount": deals["Amount"], "close_date": deals["Close Date"].replace("", None),
            "is_closed": deals["Stage"].str.startswith("Closed").astype(int), "is_won": won.astype(int),
            "created_at": deals["Created Date"],
        }
    )  # fmt: skip
    with crm._db() as db:
        table.to_sql("deals", db, if_exists="append", index=False)
        db.executemany(
            "UPDATE leads SET converted_opportunity_id = ? WHERE id = ?",
            list(zip(table["id"], table["lead_id"], strict=True)),
        )
