"""The unit layer runs without PostgreSQL and without Prefect: a unit test asking for either fails collection.
Such a test belongs in tests/integration (PostgreSQL) or tests/flows (Prefect)."""

from __future__ import annotations

from pathlib import Path

import pytest

UNIT = Path(__file__).parent
SERVER_FIXTURES = {"postgres_url", "pg_store_url", "prefect_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fails collection when a unit test requests a server fixture, directly or through another fixture."""
    wrong = [
        f"{item.nodeid} uses {', '.join(sorted(used))}"
        for item in items
        if item.path.is_relative_to(UNIT)
        and (used := SERVER_FIXTURES & set(getattr(item, "fixturenames", ())))
    ]
    if wrong:
        raise pytest.UsageError("unit tests use no PostgreSQL and no Prefect server:\n" + "\n".join(wrong))
