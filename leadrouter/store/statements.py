"""Statements every table family of the ledger shares: dialect-aware inserts and a bound on parameters."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Insert, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from leadrouter.store.engine import Store

CHUNK = 10_000  # bound on bound parameters per statement (SQLite allows 32766)


def insert_ignoring_duplicates(store: Store, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, in the store's dialect."""
    return (postgresql if store.is_postgres else sqlite).insert(table).on_conflict_do_nothing()


def among(conn: Connection, column: ColumnElement, values: list) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`, one parameter: SQLAlchemy and psycopg took
    longer to build a statement of ten thousand bound parameters than the server took to run it."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def insert_columns(conn: Connection, table: Table, columns: dict[str, list]) -> None:
    """INSERT rows given column by column: COPY on PostgreSQL, one executemany on the driver elsewhere. Each
    value goes through its column type's bind processor (a JSON column's serialiser, SQLite's datetime
    format), exactly what SQLAlchemy does for table.insert(), but over whole columns: its per-row parameter
    handling took seconds per 100,000 decisions."""
    names = list(columns)
    converted = {}
    for name in names:
        process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        converted[name] = list(map(process, columns[name])) if process else columns[name]
    if conn.dialect.driver == "psycopg":
        copy_rows(conn, table, converted)
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=names)
    if compiled.positional:
        rows = list(zip(*(converted[name] for name in compiled.positiontup), strict=True))
    else:
        rows = [dict(zip(names, row, strict=True)) for row in zip(*converted.values(), strict=True)]
    if rows:
        conn.exec_driver_sql(str(compiled), rows)


def copy_rows(conn: Connection, table: Table, columns: dict[str, list]) -> None:
    """Rows given column by column (the driver's values) into the table by COPY FROM STDIN, inside the
    connection's transaction (psycopg 3): PostgreSQL's bulk path, several times faster than an executemany.
    Each column is turned into COPY's text format at once and written in large buffers; a column whose values
    are not all of one plain type goes row by row through psycopg's own dumpers instead."""
    preparer = conn.dialect.identifier_preparer
    names = list(columns)
    sql = f"COPY {preparer.format_table(table)} ({', '.join(map(preparer.quote, names))}) FROM STDIN"
    serialize = conn.dialect._json_serializer or json.dumps
    texts = [copy_text(values, serialize) for values in columns.values()]
    dbapi = conn.dialect.loaded_dbapi
    try:
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            if all(text is not None for text in texts):
                lines = ["\t".join(row) + "\n" for row in zip(*texts, strict=True)]
                for start in range(0, len(lines), COPY_LINES):
                    copy.write("".join(lines[start : start + COPY_LINES]))
            else:
                for row in zip(*columns.values(), strict=True):
                    copy.write_row(row)
    except dbapi.Error as exc:  # the same error types an INSERT raises (IntegrityError for a duplicate)
        raise DBAPIError.instance(sql, None, exc, dbapi.Error) from exc


COPY_LINES = 5_000  # rows per buffer handed to the server
NULL = "\\N"


def copy_text(values: list, serialize: Callable[[object], str]) -> list[str] | None:
    """A column of driver values in COPY's text format (null \\N; text with backslash, tab and line breaks
    escaped; booleans t/f; stamps ISO 8601; JSON through the engine's serialiser); None when its values are of
    more than one kind, or one this does not know."""
    kinds = {type(v) for v in values} - {type(None)}
    if not kinds:
        return [NULL] * len(values)
    if len(kinds) > 1:
        return None
    kind = kinds.pop()
    if kind is str:
        render: Callable[[Any], str] = escaped
    elif kind is bool:
        render = lambda v: "t" if v else "f"  # noqa: E731
    elif kind is int or kind is float:
        render = repr
    elif kind is datetime:
        render = datetime.isoformat
    elif kind.__module__ == "psycopg.types.json":  # Json / Jsonb: SQLAlchemy's JSON bind, not yet dumped
        render = lambda v: escaped((v.dumps or serialize)(v.obj))  # noqa: E731
    else:
        return None
    return [NULL if v is None else render(v) for v in values]


def escaped(text: str) -> str:
    """Text as COPY's text format reads it back: backslash, tab and line breaks escaped (str.replace in C; a
    translate table took seconds per 20,000 explanations)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
