"""SOQL checked against the describe schemas (localapi.sobjects) and translated into SQLite, so the local server
answers a query as Salesforce does, and refuses what Salesforce refuses, with its error code.

Covered: SELECT of fields, relationship paths (Owner.Name) and COUNT()/COUNT/COUNT_DISTINCT/MIN/MAX/SUM/AVG
(named expr0, expr1, … or their alias); FROM one object; WHERE with AND/OR/NOT and parentheses (AND and OR
never mixed unparenthesised), = != < <= > >= IN NOT IN LIKE; string literals with SOQL's backslash escapes,
datetime, date and relative date literals, numbers, true/false/null; GROUP BY; ORDER BY with ASC/DESC and
NULLS FIRST/LAST; LIMIT; OFFSET. Names of objects, fields and keywords are case-insensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from localapi.sobjects import ID_TYPES, NUMBER_TYPES, TEXT_TYPES, SField
from localapi.soql_dates import date_range, is_date_literal

KEYWORDS = frozenset({
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC", "NULLS", "FIRST",
    "LAST", "LIMIT", "OFFSET", "GROUP", "HAVING", "TRUE", "FALSE", "NULL",
})  # fmt: skip
AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"})
COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
MAX_OFFSET = 2000
RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))
  | (?P<date>\d{4}-\d\d-\d\d)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*(?::\d+)?)
  | (?P<op>!=|<>|<=|>=|=|<|>|\(|\)|,)
    """,
    re.VERBOSE | re.DOTALL,
)
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}
STORED = "%Y-%m-%dT%H:%M:%S.000Z"


class QueryError(ValueError):
    """A query Salesforce refuses: its errorCode and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def malformed(message: str) -> QueryError:
    return QueryError("MALFORMED_QUERY", message)


@dataclass(frozen=True)
class Column:
    """An output value: its key path in the record (("Owner", "Name")) and its field's type."""

    key: tuple[str, ...]
    type: str


@dataclass
class Translated:
    sql: str
    sobject: str
    aggregate: bool
    count_only: bool = False
    columns: list[Column] = field(default_factory=list)
    # relationship key paths, each with the position of the related record's id among the SQL's columns
    relations: list[tuple[tuple[str, ...], int]] = field(default_factory=list)


def tokens(soql: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(soql):
        match = TOKEN.match(soql, pos)
        if not match:
            raise malformed(f"unexpected token at position {pos}: {soql[pos : pos + 20]!r}")
        pos = match.end()
        if match.lastgroup != "space":
            out.append((match.lastgroup, match.group()))
    return out


def unescape(body: str, like: bool) -> str:
    """SOQL string body -> its value; in a LIKE pattern \\% and \\_ stay escaped (SQLite uses ESCAPE '\\')."""
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if like and nxt in ("%", "_", "\\"):
            out.append("\\" + nxt)
        elif nxt in ESCAPES:
            out.append(ESCAPES[nxt])
        else:
            raise malformed(f"invalid escape sequence \\{nxt} in a string literal")
        i += 2
    return "".join(out)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def datetime_text(literal: str) -> str:
    """A datetime literal in the server's storage form: UTC, whole seconds, fixed width."""
    return pd.Timestamp(literal).tz_convert("UTC").strftime(STORED)


def translate(
    soql: str,
    schemas: dict[str, dict[str, SField]],
    include_deleted: bool = False,
    now: pd.Timestamp | None = None,
) -> Translated:
    """The SQLite statement answering `soql`, or the QueryError Salesforce gives for it."""
    return Parser(tokens(soql), schemas, include_deleted, now or pd.Timestamp.now(tz="UTC")).query()


@dataclass
class Parser:
    toks: list[tuple[str, str]]
    schemas: dict[str, dict[str, SField]]
    include_deleted: bool
    now: pd.Timestamp
    pos: int = 0
    aliases: int = 0

    # --- tokens ---------------------------------------------------------------------------------------------

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

    # --- names ----------------------------------------------------------------------------------------------

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

    # --- the query ------------------------------------------------------------------------------------------

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

    # --- WHERE ----------------------------------------------------------------------------------------------

    def condition(self, sobject: str) -> str:
        """Operands joined by one connective: SOQL refuses `a AND b OR c` without parentheses."""
        parts = [self.operand(sobject)]
        joiner = None
        while self.word() in ("AND", "OR"):
            word = self.take()[1].upper()
            if joiner and word != joiner:
                raise malformed(f"unexpected token: '{word}' (use parentheses to mix AND and OR)")
            joiner = word
            parts.append(self.operand(sobject))
        return f" {joiner} ".join(parts) if joiner else parts[0]

    def operand(self, sobject: str) -> str:
        if self.accept("NOT"):
            return f"NOT ({self.operand(sobject)})"
        if self.accept("("):
            inner = self.condition(sobject)
            self.expect(")")
            return f"({inner})"
        return self.comparison(sobject)

    def comparison(self, sobject: str) -> str:
        sql, f, _ = self.expression(sobject)
        if not f.filterable:
            raise QueryError(
                "INVALID_QUERY_FILTER_OPERATOR", f"field '{f.name}' can not be filtered in query call"
            )
        negated = self.accept("NOT")
        op = self.take()[1].upper()
        if op == "<>":
            op = "!="
        if op == "IN":
            self.expect("(")
            if self.word() == ")":
                raise malformed("unexpected token: ')'")
            values = [self.value(f, "IN") for _ in self.commas()]
            self.expect(")")
            if "NULL" in values:
                values.remove("NULL")
                test = f"({sql} IN ({', '.join(values)}) OR {sql} IS NULL)" if values else f"{sql} IS NULL"
            else:
                test = f"{sql} IN ({', '.join(values)})"
            return f"NOT {test}" if negated else test
        if negated:
            raise malformed(f"unexpected token: '{op}' after NOT")
        if op == "LIKE":
            if f.type not in TEXT_TYPES:
                raise QueryError("INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on {f.type} field: LIKE")
            kind, value = self.take()
            if kind != "string":
                raise malformed(f"LIKE takes a string, not {value}")
            return f"{sql} LIKE {sql_string(unescape(value[1:-1], like=True))} ESCAPE '\\'"
        if op not in COMPARISONS:
            raise malformed(f"unexpected token: '{op}'")
        if f.type == "boolean" and op not in ("=", "!="):
            raise QueryError("INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on boolean field: {op}")
        if f.type in ("date", "datetime") and is_date_literal(self.word()):
            return self.in_range(sql, f, op, self.take()[1].upper())
        value = self.value(f, op)
        if value == "NULL":
            if op not in ("=", "!="):
                raise malformed(f"null can only be compared with = or !=, not {op}")
            return f"{sql} IS NULL" if op == "=" else f"{sql} IS NOT NULL"
        return f"{sql} {op} {value}"

    def in_range(self, sql: str, f: SField, op: str, literal: str) -> str:
        """A comparison with a relative date literal: the range of days it names, evaluated now."""
        start, end = date_range(literal, self.now)
        text = "%Y-%m-%d" if f.type == "date" else STORED
        s, e = sql_string(start.strftime(text)), sql_string(end.strftime(text))
        return {
            "=": f"({sql} >= {s} AND {sql} < {e})", "!=": f"({sql} < {s} OR {sql} >= {e})",
            ">": f"{sql} >= {e}", ">=": f"{sql} >= {s}", "<": f"{sql} < {s}", "<=": f"{sql} < {e}",
        }[op]  # fmt: skip

    def value(self, f: SField, op: str) -> str:
        """A literal as SQL, after checking it suits the field's type."""
        kind, raw = self.take()
        word = raw.upper() if kind == "name" else raw
        if kind == "name" and word == "NULL":
            return "NULL"

        def mismatch(expected: str) -> QueryError:
            return malformed(f"value of filter criterion for field '{f.name}' must be of type {expected}"
                             + (" and should not be enclosed in quotes" if kind == "string" else ""))  # fmt: skip

        if f.type == "boolean":
            if kind == "name" and word in ("TRUE", "FALSE"):
                return "1" if word == "TRUE" else "0"
            raise mismatch("boolean")
        if f.type == "datetime":
            if kind == "datetime":
                return sql_string(datetime_text(raw))
            raise mismatch("dateTime")
        if f.type == "date":
            if kind == "date":
                return sql_string(raw)
            raise mismatch("date")
        if f.type in NUMBER_TYPES:
            if kind == "number":
                return raw
            raise mismatch("double" if f.type != "int" else "int")
        if kind != "string":
            raise mismatch("string")
        text = unescape(raw[1:-1], like=False)
        if f.type in ID_TYPES and text and not RECORD_ID.match(text):
            raise QueryError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {text}")
        return sql_string(text)
