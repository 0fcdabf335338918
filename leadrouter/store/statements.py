"""Statements every table family of the ledger shares: dialect-aware inserts and a bound on parameters."""

from __future__ import annotations

from collections.abc import Iterable

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
        copy_rows(conn, table, names, zip(*(converted[name] for name in names), strict=True))
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=names)
    if compiled.positional:
        rows = list(zip(*(converted[name] for name in compiled.positiontup), strict=True))
    else:
        rows = [dict(zip(names, row, strict=True)) for row in zip(*converted.values(), strict=True)]
    if rows:
        conn.exec_driver_sql(str(compiled), rows)


def copy_rows(conn: Connection, table: Table, names: list[str], rows: Iterable[tuple]) -> None:
    """Rows into the table by COPY FROM STDIN, inside the connection's transaction (psycopg 3): PostgreSQL's
    bulk path, several times faster than an executemany of the same rows."""
    preparer = conn.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in names)
    sql = f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN"
    dbapi = conn.dialect.loaded_dbapi
    try:
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi.Error as exc:  # the same error types an INSERT raises (IntegrityError for a duplicate)
        raise DBAPIError.instance(sql, None, exc, dbapi.Error) from exc
