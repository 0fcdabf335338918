"""Databases on the session's PostgreSQL server (the `postgres_url` fixture in tests/conftest.py)."""

from __future__ import annotations

from deployments.postgres import ensure_database


def create_database(server_url: str) -> str:
    """A new, empty database on the server at server_url; its URL."""
    import uuid

    return ensure_database(server_url, f"t_{uuid.uuid4().hex[:10]}")
