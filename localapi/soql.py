"""Translate the SOQL subset the Salesforce adapter sends into SQLite, so the local server answers it exactly.

Covered: SELECT fields and MIN/MAX/COUNT aggregates (named expr0, expr1, … as Salesforce names them), FROM one
object, WHERE with AND/OR/NOT and parentheses, = != < <= > >= IN NOT IN LIKE, string literals with SOQL's
backslash escapes, datetime and date literals, true/false/null, GROUP BY, ORDER BY, LIMIT. Anything else is a
MALFORMED_QUERY, as it would be from Salesforce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC", "NULLS",
    "FIRST", "LAST", "LIMIT", "GROUP",
}  # fmt: skip
AGGREGATES = {"MIN", "MAX", "COUNT"}
TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))
  | (?P<date>\d{4}-\d\d-\d\d)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>!=|<>|<=|>=|=|<|>|\(|\)|,)
    """,
    re.VERBOSE | re.DOTALL,
)
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}


class MalformedQuery(ValueError):
    pass


@dataclass
class Translated:
    sql: str
    sobject: str
    aggregate: bool


def tokens(soql: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(soql):
        match = TOKEN.match(soql, pos)
        if not match:
            raise MalformedQuery(f"unexpected token at position {pos}: {soql[pos : pos + 20]!r}")
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
            raise MalformedQuery(f"invalid escape sequence \\{nxt} in a string literal")
        i += 2
    return "".join(out)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def datetime_text(literal: str) -> str:
    """A datetime literal in the server's storage form: UTC, whole seconds, fixed width."""
    import pandas as pd

    return pd.Timestamp(literal).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.000Z")


def translate(soql: str) -> Translated:
    toks = tokens(soql)
    upper = [v.upper() if k == "name" else v for k, v in toks]
    if not upper or upper[0] != "SELECT" or "FROM" not in upper:
        raise MalformedQuery("a query starts with SELECT … FROM")
    sobject = toks[upper.index("FROM") + 1][1]
    out: list[str] = []
    aggregate, expr_n, depth_in_select = False, 0, True
    i = 0
    while i < len(toks):
        kind, value = toks[i]
        word = upper[i]
        prev = upper[i - 1] if i else ""
        if kind == "name" and word in KEYWORDS and prev != "FROM":  # `FROM Group` names an object
            if word == "FROM":
                depth_in_select = False
            out.append(word)
        elif kind == "name" and word in AGGREGATES and i + 1 < len(toks) and toks[i + 1][1] == "(":
            close = upper.index(")", i)
            inner = " ".join(f'"{v}"' for k, v in toks[i + 2 : close] if k == "name")
            out.append(f"{word}({inner or '*'})")
            if depth_in_select:
                out.append(f"AS expr{expr_n}")
                expr_n += 1
                aggregate = True
            i = close
        elif kind == "name" and word in ("TRUE", "FALSE"):
            out.append("1" if word == "TRUE" else "0")
        elif kind == "name" and word == "NULL":
            # SOQL writes `= null` / `!= null`; SQL needs IS / IS NOT
            if out and out[-1] in ("=", "!="):
                out[-1] = "IS" if out[-1] == "=" else "IS NOT"
            out.append("NULL")
        elif kind == "name":
            out.append(f'"{value}"')
        elif kind == "string":
            text = unescape(value[1:-1], like=prev == "LIKE")
            out.append(sql_string(text) + (" ESCAPE '\\'" if prev == "LIKE" else ""))
        elif kind == "datetime":
            out.append(sql_string(datetime_text(value)))
        elif kind == "date":
            out.append(sql_string(value))
        elif value == "<>":
            out.append("!=")
        else:
            out.append(value)
        i += 1
    sql = " ".join(out).replace(f'FROM "{sobject}"', f'FROM "v_{sobject}"', 1)
    return Translated(sql=sql, sobject=sobject, aggregate=aggregate)
