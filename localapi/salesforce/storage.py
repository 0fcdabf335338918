"""The local Salesforce's SQLite storage: one table per sObject of its describe schema, seeded from a World at
Salesforce's whole-second stamp precision.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from leadrouter.fields import CustomField, FieldType, read_values
from localapi.sobjects import TEXT_TYPES
from localapi.world import World

STORED = "%Y-%m-%dT%H:%M:%S.000Z"  # whole seconds, fixed width: text order is time order
READ_ONLY = frozenset({"SystemModstamp", "LastModifiedDate", "CreatedDate", "IsDeleted", "IsConverted"})
STORED_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
CUSTOM_FIELDS = {"Lead_Tier__c": "string", "Routing_Reason__c": "string"}
SALESFORCE_TYPES = {
    FieldType.TEXT: "string", FieldType.CATEGORY: "picklist", FieldType.NUMBER: "double",
    FieldType.BOOLEAN: "boolean", FieldType.DATE: "datetime",
}  # fmt: skip

# SQLite storage per SOAP type: text compares ignoring case, as SOQL does; ids, dates and stamps as text
SQL_TYPES = {
    **dict.fromkeys(TEXT_TYPES | {"anyType"}, "TEXT COLLATE NOCASE"), "int": "INTEGER", "double": "REAL",
    "currency": "REAL", "boolean": "INTEGER",
}  # fmt: skip
LEAD_FROM_WORLD = {
    "id": "Id", "first_name": "FirstName", "last_name": "LastName", "email": "Email", "phone": "Phone",
    "title": "Title", "company": "Company", "website": "Website", "country": "Country", "state": "State",
    "city": "City", "industry": "Industry", "employees": "NumberOfEmployees", "annual_revenue": "AnnualRevenue",
    "lead_source": "LeadSource", "message": "Description", "status": "Status", "owner_id": "OwnerId",
    "lead_tier": "Lead_Tier__c", "routing_reason": "Routing_Reason__c",
    "converted_opportunity_id": "ConvertedOpportunityId", "is_deleted": "IsDeleted",
    "created_at": "CreatedDate", "modified_at": "SystemModstamp",
}  # fmt: skip

ACCOUNT_FROM_WORLD = {
    "id": "Id", "name": "Name", "website": "Website", "industry": "Industry", "employees": "NumberOfEmployees",
    "annual_revenue": "AnnualRevenue", "country": "BillingCountry", "owner_id": "OwnerId",
}  # fmt: skip
CONTACT_FROM_WORLD = {
    "id": "Id", "account_id": "AccountId", "first_name": "FirstName", "last_name": "LastName", "email": "Email",
    "title": "Title", "owner_id": "OwnerId",
}  # fmt: skip
DEAL_FROM_WORLD = {
    "id": "Id", "stage": "StageName", "amount": "Amount", "close_date": "CloseDate", "is_closed": "IsClosed",
    "is_won": "IsWon",
}  # fmt: skip


def stored_value(values: pd.Series, field: CustomField) -> pd.Series:
    """A custom field's text (as the sandbox keeps it) as this server stores its Salesforce type."""
    typed = read_values(values, field)
    if field.type == FieldType.DATE:
        return stored(typed).astype(object).where(typed.notna(), None)
    if field.type == FieldType.BOOLEAN:
        return typed.astype("Int64").astype(object).where(typed.notna(), None)
    return typed.astype(object).where(typed.notna(), None)


def stored(ts: pd.Series | pd.Timestamp) -> pd.Series | str:
    return (
        ts.dt.floor("s").dt.strftime(STORED) if isinstance(ts, pd.Series) else ts.floor("s").strftime(STORED)
    )


class Storage:
    """SalesforceAPI's tables: created from the describe schemas, seeded from a World, leads added later."""

    def _create_tables(self) -> None:
        for name, fields in self.fields.items():
            columns = ", ".join(
                f'"{f.name}" {SQL_TYPES.get(f.type, "TEXT")}'
                for f in fields.values()
                if f.name != "IsDeleted"
            )
            self.db.execute(f'CREATE TABLE "{name}" ({columns}, "IsDeleted" INTEGER NOT NULL DEFAULT 0)')
            self.db.execute(f'CREATE VIEW "v_{name}" AS SELECT * FROM "{name}" WHERE "IsDeleted" = 0')
        self.db.execute('CREATE INDEX lead_stamp ON "Lead" ("SystemModstamp", "Id")')

    def _insert(self, sobject: str, frame: pd.DataFrame) -> None:
        frame = frame[[c for c in frame.columns if c in self.fields[sobject] or c == "IsDeleted"]]
        frame = frame.astype(object).where(frame.notna(), None)
        names = ", ".join(f'"{c}"' for c in frame.columns)
        marks = ", ".join("?" for _ in frame.columns)
        self.db.executemany(f'INSERT INTO "{sobject}" ({names}) VALUES ({marks})', frame.to_numpy().tolist())

    def _seed(self, world: World) -> None:
        people = world.users[world.users["role"] != "queue"]
        queues = world.users[world.users["role"] == "queue"]
        self._insert(
            "User",
            people.rename(columns={"id": "Id", "name": "Name", "email": "Email", "active": "IsActive"}),
        )
        self._insert("Group", queues.rename(columns={"id": "Id", "name": "Name"}).assign(Type="Queue"))
        self._insert("Account", world.accounts.rename(columns=ACCOUNT_FROM_WORLD))
        self._insert("Contact", world.contacts.rename(columns=CONTACT_FROM_WORLD))
        self._add_leads(world.leads, keep_stamps=True)
        tasks = world.activities.assign(
            Id=lambda f: "00T" + f["id"].astype(str).str.zfill(12),
            CreatedDate=lambda f: stored(f["created_at"]),
        ).rename(columns={"lead_id": "WhoId", "owner_id": "OwnerId", "type": "Subject"})
        self._insert("Task", tasks)
        first = tasks.sort_values("CreatedDate").drop_duplicates("WhoId")
        self._insert(
            "LeadHistory",
            first.assign(
                Id="017" + first["Id"].str[3:], Field="Status", OldValue="New", NewValue="Working",
                CreatedById=first["OwnerId"],
            ).rename(columns={"WhoId": "LeadId"}),
        )  # fmt: skip
        changes = world.status_changes.sort_values(["changed_at", "id"], kind="stable")
        self._status_history(
            pd.DataFrame(
                {
                    "LeadId": changes["lead_id"],
                    "OldValue": changes.groupby("lead_id")["status"].shift(),
                    "NewValue": changes["status"],
                    "CreatedById": changes["changed_by"],
                    "CreatedDate": stored(changes["changed_at"]),
                }
            )
        )
        last_activity = tasks.groupby("WhoId")["CreatedDate"].max().str[:10]
        self.db.executemany(
            'UPDATE "Lead" SET "LastActivityDate" = ? WHERE "Id" = ?',
            list(zip(last_activity.to_numpy(), last_activity.index, strict=True)),
        )
        deals = world.deals.assign(
            Name="Inbound " + world.deals["id"],
            CreatedDate=stored(pd.to_datetime(world.deals["created_at"], utc=True, format="mixed")),
        )
        self._insert("Opportunity", deals.rename(columns=DEAL_FROM_WORLD))
        self.db.commit()

    def _status_history(self, changes: pd.DataFrame) -> None:
        """LeadHistory rows for Status changes (LeadId, OldValue, NewValue, CreatedById, CreatedDate), with ids
        numbered on from the last one."""
        last = self.db.execute('SELECT MAX(CAST(substr("Id", 4) AS INTEGER)) FROM "LeadHistory"').fetchone()[
            0
        ]
        numbers = pd.Series(np.arange(len(changes)) + (last or 0) + 1, index=changes.index)
        self._insert(
            "LeadHistory", changes.assign(Id="017" + numbers.astype(str).str.zfill(12), Field="Status")
        )

    def _add_leads(self, leads: pd.DataFrame, keep_stamps: bool) -> None:
        table = leads.rename(columns=LEAD_FROM_WORLD)
        for field in self.lead_fields.custom:  # the sandbox keeps text: store each as its Salesforce type
            if field.salesforce and field.name in leads:
                table[field.salesforce] = stored_value(leads[field.name], field)
        now = stored(pd.Timestamp.now(tz="UTC"))
        table["CreatedDate"] = stored(table["CreatedDate"])
        table["SystemModstamp"] = stored(table["SystemModstamp"]) if keep_stamps else now
        table["LastModifiedDate"] = table["SystemModstamp"]
        table["IsConverted"] = table["ConvertedOpportunityId"].notna().astype(int)
        table["IsDeleted"] = table.get("IsDeleted", 0)
        self._insert("Lead", table)
