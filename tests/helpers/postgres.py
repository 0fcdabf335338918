"""Databases on the session's PostgreSQL server (the `postgres_url` fixture in tests/conftest.py)."""

from __future__ import annotations


def create_database(server_url: str) -> str:
    """A new, empty database on the server at server_url; its URL."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(server_url, name)


def _with_database(uri: str, name: str) -> str:
    """postgresql://user:@/postgres?host=... -> the same server, database `name`."""
    head, _, query = uri.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")
