"""Statements every table family of the ledger shares: dialect-aware inserts and a bound on parameters."""

from __future__ import annotations

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite

from leadrouter.store.engine import Store

CHUNK = 10_000  # bound on bound parameters per statement (SQLite allows 32766)


def insert_ignoring_duplicates(store: Store, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, in the store's dialect."""
    return (postgresql if store.is_postgres else sqlite).insert(table).on_conflict_do_nothing()


def insert_columns(conn: Connection, table: Table, columns: dict[str, list]) -> None:
    """INSERT rows given column by column, in one executemany on the driver. Each value goes through its
    column type's bind processor (a JSON column's serialiser, SQLite's datetime format), exactly what
    SQLAlchemy does for table.insert(), but over whole columns: its per-row parameter handling took seconds
    per 100,000 decisions."""
    names = list(columns)
    converted = {}
    for name in names:
        process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        converted[name] = list(map(process, columns[name])) if process else columns[name]
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=names)
    if compiled.positional:
        rows = list(zip(*(converted[name] for name in compiled.positiontup), strict=True))
    else:
        rows = [dict(zip(names, row, strict=True)) for row in zip(*converted.values(), strict=True)]
    if rows:
        conn.exec_driver_sql(str(compiled), rows)
