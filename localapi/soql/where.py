"""SOQL's WHERE clause checked against the describe schemas and translated into SQLite: connectives, comparisons,
IN, LIKE, and values typed as the field is (datetime vs date literals, booleans, relative dates)."""

from __future__ import annotations

from localapi.sobjects import ID_TYPES, NUMBER_TYPES, TEXT_TYPES, SField
from localapi.soql.dates import date_range, is_date_literal
from localapi.soql.lexer import (
    COMPARISONS,
    RECORD_ID,
    STORED,
    QueryError,
    datetime_text,
    malformed,
    sql_string,
    unescape,
)


class Conditions:
    """The WHERE half of Parser: conditions, operands, comparisons and typed values."""

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
