"""Connecting to the store: SQLite by default, PostgreSQL by URL; migrations by alembic."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x1EAD_0001  # advisory lock id held while migrating


class Store:
    """A ledger database. `transaction()` serialises writers: BEGIN IMMEDIATE on SQLite, row locks on PostgreSQL.

    A context manager: `with open_store(url) as store:` closes its connections on the way out."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A connection for reads that takes no write lock and is rolled back: a preview never holds up writers."""
        with self.engine.connect() as conn:
            try:
                yield conn
            finally:
                conn.rollback()

    def migrate(self) -> None:
        """Bring the schema to the latest alembic revision."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            if self.is_postgres:  # two routers starting at once: the second waits, then finds head
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()


def open_store(url: str, migrate: bool = True) -> Store:
    """Open (and by default migrate) the store at a SQLAlchemy URL; creates the folder of a SQLite file."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": 60} if url.startswith("sqlite") else {},
        # every decision carries its explanation as JSON: orjson reads and writes it several times faster
        json_serializer=json_text,
        json_deserializer=orjson.loads,
    )
    if engine.dialect.name == "sqlite":
        _sqlite_begin_immediate(engine)
    store = Store(engine)
    if migrate:
        store.migrate()
    return store


# a \u0000 escape (not an escaped backslash followed by "u0000"): PostgreSQL refuses it when it reads a JSON value
# as text (->>), so one NUL in a lead's text would break every query reading that decision's explanation
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def json_bytes(value: object) -> bytes:
    """JSON for the store's JSON columns, UTF-8 encoded; a NUL in any string is kept as U+FFFD."""
    raw = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    return _NUL_ESCAPE.sub(rb"\1\\ufffd", raw) if b"\\u0000" in raw else raw


def json_text(value: object) -> str:
    """json_bytes as text: what the JSON type binds on SQLite."""
    return json_bytes(value).decode()


def _switch_to_wal(dbapi_conn) -> None:
    """WAL mode; switching ignores the busy timeout, so a new file another router is creating is retried."""
    for attempt in range(100):
        try:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == 99:
                raise
            time.sleep(0.1)


def _sqlite_begin_immediate(engine: Engine) -> None:
    """Take SQLite's write lock at BEGIN, so two routers queue instead of failing on lock upgrade."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        dbapi_conn.execute("PRAGMA busy_timeout=60000")
        _switch_to_wal(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
