"""Statements every table family of the ledger shares: dialect-aware inserts and a bound on parameters."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, Dialect, Insert, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeEngine

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
    column becomes the driver's values at once (see driver_values): SQLAlchemy's per-row parameter handling
    took seconds per 100,000 decisions."""
    insert_batches(conn, table, [columns])


def insert_batches(conn: Connection, table: Table, batches: Iterable[dict[str, list]]) -> None:
    """insert_columns for each batch in turn. On PostgreSQL a batch's COPY goes to the server from a thread of
    its own while the next batch is built and rendered: the server's work on one overlaps the router's on the
    next (the COPYs still run one after another on the connection, in order)."""
    if conn.dialect.driver != "psycopg":
        for columns in batches:
            _execute_many(conn, table, columns)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="copy") as sender:
        sending: Future | None = None
        for columns in batches:
            rendered = render_copy(conn, table, columns)
            if sending is not None:
                sending.result()
            sending = sender.submit(send_copy, conn, rendered)
        if sending is not None:
            sending.result()


def _execute_many(conn: Connection, table: Table, columns: dict[str, list]) -> None:
    names = list(columns)
    converted = {name: driver_values(conn.dialect, table.c[name].type, columns[name]) for name in names}
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=names)
    if compiled.positional:
        rows = list(zip(*(converted[name] for name in compiled.positiontup), strict=True))
    else:
        rows = [dict(zip(names, row, strict=True)) for row in zip(*converted.values(), strict=True)]
    if rows:
        conn.exec_driver_sql(str(compiled), rows)


def driver_values(dialect: Dialect, kind: TypeEngine, values: list) -> list:
    """A column's plain Python values as the driver takes them: through the type's bind processor (SQLite's
    datetime format, ...), exactly as table.insert() does, once per distinct object; a JSON column's as JSON
    text from the engine's serialiser (None is JSON null, as the JSON type's none_as_null=False has it), the
    text its bind processor gives SQLite and, wrapped in psycopg's Json, PostgreSQL's COPY: the wrapping cost
    a second per 100,000 decisions."""
    if isinstance(kind, JSON):
        return list(map(dialect._json_serializer or json.dumps, values))
    process = kind.dialect_impl(dialect).bind_processor(dialect)
    return each_once(process, values, list(map(id, values))) if process else values


def each_once(render: Callable[[Any], Any], values: list, keys: list) -> list:
    """[render(v) for v in values], rendered once per distinct key (keys[i] stands for values[i]): a column
    repeats a few values (a tier, a run's stamp) and a call per value took a second per 100,000 decisions."""
    done = {key: render(value) for key, value in dict(zip(keys, values, strict=True)).items()}
    return list(map(done.__getitem__, keys))


@dataclass(frozen=True)
class RenderedCopy:
    """A COPY FROM STDIN statement and its rows: one buffer in COPY's text format, or (a column whose values
    are not all of one plain type) the rows for psycopg's own dumpers."""

    sql: str
    text: str | None
    rows: list[tuple] | None


def render_copy(conn: Connection, table: Table, columns: dict[str, list]) -> RenderedCopy:
    """Rows given column by column (plain Python values) as a COPY into the table: each column through
    driver_values, then into COPY's text format at once."""
    converted = {
        name: driver_values(conn.dialect, table.c[name].type, values) for name, values in columns.items()
    }
    preparer = conn.dialect.identifier_preparer
    sql = f"COPY {preparer.format_table(table)} ({', '.join(map(preparer.quote, converted))}) FROM STDIN"
    texts = [
        copy_json(values) if isinstance(table.c[name].type, JSON) else copy_text(values)
        for name, values in converted.items()
    ]
    if all(text is not None for text in texts):
        # one buffer: callers bound the rows per batch (record sends ROWS_AT_ONCE)
        return RenderedCopy(
            sql, "".join(f"{line}\n" for line in map("\t".join, zip(*texts, strict=True))), None
        )
    return RenderedCopy(sql, None, list(zip(*converted.values(), strict=True)))


def send_copy(conn: Connection, copy: RenderedCopy) -> None:
    """Run the COPY inside the connection's transaction (psycopg 3): PostgreSQL's bulk path, several times
    faster than an executemany. Raises the error types an INSERT raises (IntegrityError for a duplicate)."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(copy.sql) as stream:
            if copy.text is not None:
                stream.write(copy.text)
            else:
                for row in copy.rows or []:
                    stream.write_row(row)
    except dbapi.Error as exc:
        raise DBAPIError.instance(copy.sql, None, exc, dbapi.Error) from exc


NULL = "\\N"


def copy_text(values: list) -> list[str] | None:
    """A column of driver values in COPY's text format (null \\N; text with backslash, tab and line breaks
    escaped; booleans t/f; stamps ISO 8601); None when its values are of more than one kind, or one this does
    not know. Each distinct value is rendered once (see each_once)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds:
        return [NULL] * len(values)
    kind = kinds.pop()
    if kinds or kind not in RENDER:
        return None
    render = RENDER[kind]
    # equal text, int and bool values have one text; an equal float (0.0, -0.0) or stamp (its offset) may not
    keys = values if kind in (str, int, bool) else list(map(id, values))
    return each_once(lambda v: NULL if v is None else render(v), values, keys)


def copy_json(texts: list[str]) -> list[str]:
    """A JSON column's texts (see driver_values) in COPY's text format. A JSON serialiser writes every control
    character as an escape, so a tab or line break never appears raw and only backslashes need escaping: the
    other three replaces over each ~900-byte explanation cost 0.2 s per 100,000 decisions."""
    return [text.replace("\\", "\\\\") for text in texts]


def _boolean(value: bool) -> str:
    return "t" if value else "f"


def escaped(text: str) -> str:
    """Text as COPY's text format reads it back: backslash, tab and line breaks escaped (str.replace in C; a
    translate table took seconds per 20,000 explanations)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# how COPY's text format writes a value of each type (exactly that type: a subclass goes through psycopg)
RENDER: dict[type, Callable[[Any], str]] = {
    str: escaped, bool: _boolean, int: repr, float: repr, datetime: datetime.isoformat,
}  # fmt: skip
