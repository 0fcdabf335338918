"""The local Salesforce's query results as the REST API writes them: a SOQL query translated to SQLite
(localapi.soql) and its rows as records with attributes, related records and wire values. A mixin of
SalesforceAPI, which brings the database and the describe schemas."""

from __future__ import annotations

import sqlite3

from localapi.salesforce.storage import STORED_RE
from localapi.sobjects import SField, sobject_of
from localapi.soql import translate


class Records:
    """SOQL in, REST records out."""

    db: sqlite3.Connection  # SalesforceAPI's
    fields: dict[str, dict[str, SField]]

    def _run(self, soql: str, include_deleted: bool = False) -> tuple[int, list[dict]]:
        """The query's total size and its records as the REST API writes them."""
        query = translate(soql, self.fields, include_deleted)
        rows = self.db.execute(query.sql).fetchall()
        if query.count_only:  # SELECT COUNT(): the count is the totalSize, with no records
            return rows[0][0], []
        sobject = "AggregateResult" if query.aggregate else query.sobject
        at_id = next((n for n, c in enumerate(query.columns) if c.key == ("Id",)), None)
        out = []
        for row in rows:
            record: dict = {
                "attributes": self._attributes(sobject, row[at_id] if at_id is not None else None)
            }
            for key, at in query.relations:  # the related records, null when the reference is empty
                parent = self._at(record, key[:-1])
                if parent is not None:
                    parent[key[-1]] = (
                        {"attributes": self._attributes(sobject_of(row[at]), row[at])} if row[at] else None
                    )
            for column, value in zip(query.columns, row, strict=False):
                parent = self._at(record, column.key[:-1])
                if parent is not None:
                    parent[column.key[-1]] = self._wire(value, column.type.removeprefix("aggregate_"))
            out.append(record)
        return len(out), out

    @staticmethod
    def _attributes(sobject: str | None, record_id: str | None) -> dict:
        url = {"url": f"/services/data/v59.0/sobjects/{sobject}/{record_id}"} if record_id else {}
        return {"type": sobject, **url}

    @staticmethod
    def _at(record: dict, key: tuple[str, ...]) -> dict | None:
        for name in key:
            record = record.get(name)
            if record is None:
                return None
        return record

    @staticmethod
    def _wire(value: object, kind: str) -> object:
        """A stored value as the REST API writes it."""
        if kind == "boolean" and value is not None:
            return bool(value)
        if kind == "datetime" and isinstance(value, str) and STORED_RE.match(value):
            return value.replace("Z", "+0000")
        return value
