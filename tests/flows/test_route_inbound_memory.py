"""route-inbound holds one page at a time: a 100k backlog's memory is one page's stages, not the run's pages."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pandas as pd
import pytest

from leadrouter import pull
from leadrouter.sandbox.crm import SandboxCRM

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SandboxCRM:
    monkeypatch.setenv("LEADROUTER_STORE_URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setenv("LEADROUTER_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    return SandboxCRM.create(tmp_path / "sandbox.db", seed=11, leads=300)


def test_a_page_is_freed_before_the_next_page_is_pulled(
    sandbox: SandboxCRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.route_inbound import route_inbound

    pages: list[weakref.ref[pd.DataFrame]] = []
    alive_at_pull: list[int] = []  # per pull after the first: how many earlier pages something still holds
    real_pull = pull.pull_new_leads

    def watched_pull(*args: object, **kwargs: object) -> tuple[pd.DataFrame, str | None]:
        if pages:
            gc.collect()  # only references count, not garbage waiting for a collection
            alive_at_pull.append(sum(page() is not None for page in pages))
        page, cursor = real_pull(*args, **kwargs)
        pages.append(weakref.ref(page))
        return page, cursor

    monkeypatch.setattr(pull, "pull_new_leads", watched_pull)
    summary = route_inbound(batch_size=100)
    assert summary["leads"] == 300
    # three pages of 100, then the page that finds only our own writes coming back
    assert alive_at_pull == [0, 0, 0]
