"""Statements every table family of the ledger shares: dialect-aware inserts and a bound on parameters."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Dialect,
    Insert,
    Table,
    any_,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeEngine

from leadrouter.store.engine import Store, json_bytes

if TYPE_CHECKING:
    from psycopg import Copy

CHUNK = 10_000  # bound on bound parameters per statement (SQLite allows 32766)


def insert_ignoring_duplicates(store: Store, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, in the store's dialect."""
    return (postgresql if store.is_postgres else sqlite).insert(table).on_conflict_do_nothing()


def among(conn: Connection, column: ColumnElement, values: list) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`, the array made by the server from one JSON
    parameter: SQLAlchemy and psycopg took longer to build a statement of ten thousand bound parameters than
    the server took to run it, and psycopg's array of ten thousand texts a microsecond a value. An array the
    server makes in a sub-select is searched in the column's index even on a table not analysed yet (a ledger
    a backlog fills), where a given array's ten thousand values were matched against every row."""
    if conn.dialect.name == "postgresql":
        given = func.jsonb_array_elements_text(cast(bindparam(None, json.dumps(list(values))), JSONB))
        value = given.table_valued("value").c.value
        aggregated = select(func.array_agg(cast(value, column.type))).scalar_subquery()
        # cast, it is one array: ANY((SELECT ...)) would compare the column with each row the select gives
        return column == any_(cast(aggregated, postgresql.ARRAY(column.type)))
    return column.in_(values)


def insert_columns(conn: Connection, table: Table, parts: Iterable[dict[str, list]]) -> None:
    """INSERT rows given in parts, each column by column: one COPY on PostgreSQL, one executemany per part
    elsewhere. Each column becomes the driver's values at once (see driver_values): SQLAlchemy's per-row
    parameter handling took seconds per 100,000 decisions. Parts are taken one at a time, so a caller can
    build each while the server takes in the one before (see copy_rows)."""
    if conn.dialect.driver == "psycopg":
        copy_rows(conn, table, parts)
        return
    for columns in parts:
        _execute_many(conn, table, columns)


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


def copy_rows(conn: Connection, table: Table, parts: Iterable[dict[str, list]]) -> None:
    """Rows given in parts, each column by column (plain Python values), into the table by one COPY FROM STDIN
    inside the connection's transaction (psycopg 3): PostgreSQL's bulk path, several times faster than an
    executemany. Each column is turned into COPY's text format at once, as UTF-8 bytes, and a part is written
    as one buffer; a column whose values are not all of one plain type goes row by row through psycopg's own
    dumpers instead. Writes are queued to psycopg's writer thread: the server takes in a part while this
    thread builds the next (a blocking write of each part waited 0.45 s per 20,000 decisions, the server's
    time, with nothing else to do). Every part has the first part's columns."""
    from psycopg.copy import QueuedLibpqWriter  # the driver of PostgreSQL stores only

    preparer, dialect = conn.dialect.identifier_preparer, conn.dialect
    parts = iter(parts)
    first = next(parts, None)
    if first is None:
        return
    names = list(first)
    sql = f"COPY {preparer.format_table(table)} ({', '.join(map(preparer.quote, names))}) FROM STDIN"
    kinds = [table.c[name].type for name in names]
    try:
        with (
            conn.connection.driver_connection.cursor() as cursor,
            cursor.copy(sql, writer=QueuedLibpqWriter(cursor)) as copy,
        ):
            for columns in itertools.chain([first], parts):
                _copy_part(copy, dialect, kinds, [columns[name] for name in names])
    except dialect.loaded_dbapi.Error as exc:  # as an INSERT raises them (IntegrityError for a duplicate)
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error) from exc


def _copy_part(copy: Copy, dialect: Dialect, kinds: list[TypeEngine], columns: list[list]) -> None:
    """One part's rows into the COPY."""
    texts = [
        copy_json(values) if isinstance(kind, JSON) else copy_text(driver_values(dialect, kind, values))
        for kind, values in zip(kinds, columns, strict=True)
    ]
    if all(text is not None for text in texts):
        # one buffer: callers bound the rows per part (record's are ROWS_AT_ONCE)
        copy.write(b"".join([b"\t".join(row) + b"\n" for row in zip(*texts, strict=True)]))
        return
    converted = [driver_values(dialect, kind, v) for kind, v in zip(kinds, columns, strict=True)]
    for row in zip(*converted, strict=True):
        copy.write_row(row)


NULL = "\\N"  # a null in COPY's text format


def copy_text(values: list) -> list[bytes] | None:
    """A column of driver values in COPY's text format, UTF-8 encoded (null \\N; text with backslash, tab and line
    breaks escaped; booleans t/f; stamps ISO 8601); None when its values are of more than one kind, or one this
    does not know. Each distinct value is rendered once (see each_once)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds:
        return [NULL.encode()] * len(values)
    kind = kinds.pop()
    if kinds or kind not in RENDER:
        return None
    render = RENDER[kind]
    # equal text, int and bool values have one text; an equal float (0.0, -0.0) or stamp (its offset) may not
    keys = values if kind in (str, int, bool) else list(map(id, values))
    return each_once(lambda v: (NULL if v is None else render(v)).encode(), values, keys)


def copy_json(values: list) -> list[bytearray]:
    """A JSON column's values as the engine's JSON (see json_bytes) in COPY's text format. A JSON serialiser
    writes every control character as an escape, so a tab or line break never appears raw and only backslashes
    need escaping: the other three replaces over each ~900-byte explanation cost 0.2 s per 100,000 decisions.
    Bytes throughout: an explanation's arrow made each text two bytes a character, and decoding, joining and
    encoding them again cost 0.4 s per 100,000. Each is kept as a compact copy: orjson's bytes keep the
    capacity they grew to, a kilobyte and more, and 5,000 of them held 17 MiB for 4."""
    return [bytearray(json_bytes(value).replace(b"\\", b"\\\\")) for value in values]


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
