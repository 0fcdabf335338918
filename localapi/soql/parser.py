"""SOQL checked against the describe schemas (localapi.sobjects) and translated into SQLite, so the local server
answers a query as Salesforce does, and refuses what Salesforce refuses, with its error code.

Covered: SELECT of fields, relationship paths (Owner.Name) and COUNT()/COUNT/COUNT_DISTINCT/MIN/MAX/SUM/AVG
(named expr0, expr1, … or their alias); FROM one object; WHERE with AND/OR/NOT and parentheses (AND and OR
never mixed unparenthesised), = != < <= > >= IN NOT IN LIKE; string literals with SOQL's backslash escapes,
datetime, date and relative date literals, numbers, true/false/null; GROUP BY; ORDER BY with ASC/DESC and
NULLS FIRST/LAST; LIMIT; OFFSET. Names of objects, fields and keywords are case-insensitive.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from localapi.sobjects import NUMBER_TYPES, SField
from localapi.soql.lexer import (
    AGGREGATES,
    KEYWORDS,
    MAX_OFFSET,
    Column,
    QueryError,
    Translated,
    malformed,
    tokens,
)
from localapi.soql.where import Conditions


def translate(
    soql: str,
    schemas: dict[str, dict[str, SField]],
    include_deleted: bool = False,
    now: pd.Timestamp | None = None,
) -> Translated:
    """The SQLite statement answering `soql`, or the QueryError Salesforce gives for it."""
    return Parser(tokens(soql), schemas, include_deleted, now or pd.Timestamp.now(tz="UTC")).query()


@dataclass
class Parser(Conditions):
    toks: list[tuple[str, str]]
    schemas: dict[str, dict[str, SField]]
    include_deleted: bool
    now: pd.Timestamp
    pos: int = 0
    aliases: int = 0

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        at = self.pos + ahead
        return self.toks[at] if at < len(self.toks) else ("end", "")

    def word(self, ahead: int = 0) -> str:
        kind, value = self.peek(ahead)
        return value.upper() if kind == "name" else value

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "end":
            raise malformed("unexpected end of query")
        self.pos += 1
        return tok

    def expect(self, word: str) -> None:
        if self.word() != word:
            raise malformed(f"unexpected token: '{self.peek()[1] or '<EOF>'}', expected {word}")
        self.pos += 1

    def accept(self, *words: str) -> bool:
        if self.word() == words[0] and all(self.word(i) == w for i, w in enumerate(words)):
            self.pos += len(words)
            return True
        return False

    def table(self, sobject: str) -> str:
        return f'"{sobject}"' if self.include_deleted else f'"v_{sobject}"'

    def field_of(self, sobject: str, name: str) -> SField:
        found = {k.lower(): f for k, f in self.schemas[sobject].items()}.get(name.lower())
        if found is None:
            raise QueryError(
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom field, be "
                "sure to append the '__c' after the custom field name.",
            )
        return found

    def relationship_of(self, sobject: str, name: str) -> SField:
        for f in self.schemas[sobject].values():
            if f.relationship and f.relationship.lower() == name.lower():
                return f
        raise QueryError(
            "INVALID_FIELD",
            f"Didn't understand relationship '{name}' in field path. If you are attempting to use a custom "
            "relationship, be sure to append the '__r' after the custom relationship name.",
        )

    def path(self, sobject: str, alias: str, parts: list[str]) -> tuple[str, SField, list[tuple[str, str]]]:
        """A field path's SQL value, its field, and (relationship name, SQL of the related id) per hop."""
        if len(parts) == 1:
            f = self.field_of(sobject, parts[0])
            return f'{alias}."{f.name}"', f, []
        ref = self.relationship_of(sobject, parts[0])
        values, found, hops, error = [], None, [], None
        for target in ref.references:
            self.aliases += 1
            inner = f"t{self.aliases}"
            try:
                sql, found_here, deeper = self.path(target, inner, parts[1:])
            except QueryError as exc:  # a polymorphic reference: the field may belong to some targets only
                error = exc
                continue
            found, hops = found_here, deeper
            values.append(f'(SELECT {sql} FROM "{target}" {inner} WHERE {inner}."Id" = {alias}."{ref.name}")')
        if found is None:
            raise error or malformed(f"no field at {'.'.join(parts)}")
        value = values[0] if len(values) == 1 else f"COALESCE({', '.join(values)})"
        return value, found, [(ref.relationship or "", f'{alias}."{ref.name}"'), *hops]

    def query(self) -> Translated:
        self.expect("SELECT")
        start = self.pos
        while self.peek()[0] != "end" and self.word() != "FROM":
            self.pos += 1
        self.expect("FROM")
        kind, name = self.take()
        sobject = next((s for s in self.schemas if s.lower() == name.lower()), None)
        if kind != "name" or sobject is None:
            raise QueryError("INVALID_TYPE", f"sObject type '{name}' is not supported.")
        rest = self.pos
        self.pos = start
        select = self.select_list(sobject)
        self.pos = rest
        where = f" WHERE {self.condition(sobject)}" if self.accept("WHERE") else ""
        group: list[tuple[str, tuple[str, ...]]] = []
        if self.accept("GROUP", "BY"):
            group = [(sql, key) for _ in self.commas() for sql, _, key in [self.expression(sobject)]]
        order = f" ORDER BY {', '.join(self.order_item(sobject) for _ in self.commas())}" if self.accept(
            "ORDER", "BY"
        ) else ""  # fmt: skip
        limit = f" LIMIT {self.whole('LIMIT')}" if self.accept("LIMIT") else ""
        offset = ""
        if self.accept("OFFSET"):
            n = self.whole("OFFSET")
            if n > MAX_OFFSET:
                raise QueryError("NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}")
            offset = f"{'' if limit else ' LIMIT -1'} OFFSET {n}"
        if self.peek()[0] != "end":
            raise malformed(f"unexpected token: '{self.peek()[1]}'")
        items, aggregate, count_only = select
        if aggregate or group:
            grouped = {key for _, key in group}
            loose = [
                c.key[-1] for _, c in items if not c.type.startswith("aggregate") and c.key not in grouped
            ]
            if loose:
                raise malformed(f"Field must be grouped or aggregated: {loose[0]}")
        names = [f"{sql} AS c{n}" for n, (sql, _) in enumerate(items)]
        relations: list[tuple[tuple[str, ...], int]] = []
        if not (aggregate or group):
            for _, column in items:
                for depth in range(1, len(column.key)):
                    key = column.key[:depth]
                    if key not in dict(relations):
                        relations.append((key, len(names)))
                        names.append(f"{self.hop_sql(sobject, key)} AS r{len(names)}")
        group_sql = f" GROUP BY {', '.join(sql for sql, _ in group)}" if group else ""
        sql = (
            f"SELECT {', '.join(names)} FROM {self.table(sobject)} t0{where}{group_sql}{order}{limit}{offset}"
        )
        columns = [c for _, c in items]
        return Translated(sql, sobject, aggregate or bool(group), count_only, columns, relations)

    def hop_sql(self, sobject: str, key: tuple[str, ...]) -> str:
        """The SQL of the id of the record a relationship path reaches (NULL when it reaches none)."""
        return self.path(sobject, "t0", [*key, "Id"])[0]

    def commas(self):
        """Yield once per comma-separated item (the caller parses it)."""
        yield
        while self.accept(","):
            yield

    def whole(self, clause: str) -> int:
        kind, value = self.take()
        if kind != "number" or not value.isdigit():
            raise malformed(f"{clause} takes a whole number, not '{value}'")
        return int(value)

    def select_list(self, sobject: str) -> tuple[list[tuple[str, Column]], bool, bool]:
        items: list[tuple[str, Column]] = []
        aggregate = count_only = False
        n_expr = 0
        for _ in self.commas():
            if self.word() == "COUNT" and self.word(1) == "(" and self.word(2) == ")":
                self.pos += 3
                count_only = True
                items.append(("COUNT(*)", Column(("expr0",), "aggregate_int")))
                continue
            if self.word() in AGGREGATES and self.word(1) == "(":
                sql, kind = self.aggregate(sobject)
                alias = f"expr{n_expr}"
                n_expr += 1
                if self.peek()[0] == "name" and self.word() not in KEYWORDS:
                    alias = self.take()[1]
                items.append((sql, Column((alias,), kind)))
                aggregate = True
                continue
            sql, f, key = self.expression(sobject)
            items.append((sql, Column(key, f.type)))
        if count_only and len(items) > 1:
            raise malformed("COUNT() must be the only element in the SELECT list")
        keys = [".".join(c.key) for _, c in items]
        if dupes := [k for n, k in enumerate(keys) if k.lower() in {x.lower() for x in keys[:n]}]:
            raise malformed(f"duplicate field selected: {dupes[0]}")
        return items, aggregate, count_only

    def aggregate(self, sobject: str) -> tuple[str, str]:
        function = self.take()[1].upper()
        self.expect("(")
        sql, f, _ = self.expression(sobject)
        self.expect(")")
        if function in ("SUM", "AVG") and f.type not in NUMBER_TYPES:
            raise malformed(f"field {f.name} does not support aggregate operator {function}")
        if function == "COUNT_DISTINCT":
            return f"COUNT(DISTINCT {sql})", "aggregate_int"
        return f"{function}({sql})", "aggregate_int" if function == "COUNT" else f"aggregate_{f.type}"

    def expression(self, sobject: str) -> tuple[str, SField, tuple[str, ...]]:
        kind, name = self.take()
        if kind != "name" or name.upper() in KEYWORDS:
            raise malformed(f"unexpected token: '{name}'")
        parts = name.split(".")
        sql, f, hops = self.path(sobject, "t0", parts)
        return sql, f, (*(h for h, _ in hops), f.name)

    def order_item(self, sobject: str) -> str:
        if self.word() in AGGREGATES and self.word(1) == "(":
            sql = self.aggregate(sobject)[0]
        else:
            sql, f, _ = self.expression(sobject)
            if not f.sortable:
                raise QueryError("INVALID_FIELD", f"field '{f.name}' can not be sorted in a query call")
        direction = self.take()[1].upper() if self.word() in ("ASC", "DESC") else "ASC"
        nulls = ""
        if self.accept("NULLS"):
            which = self.take()[1].upper()
            if which not in ("FIRST", "LAST"):
                raise malformed(f"unexpected token: '{which}'")
            nulls = f" NULLS {which}"
        return f"{sql} {direction}{nulls}"
