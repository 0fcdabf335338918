"""SOQL's tokens, literals and errors: the lexer, SOQL string escapes, Salesforce's query error codes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

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
