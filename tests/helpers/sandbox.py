"""A sandbox CRM and an empty ledger for a test, and the check that the two agree after routing."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.team import DEFAULT_QUEUE
from leadrouter.store import open_store


def sandbox_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, leads: int) -> SandboxCRM:
    """A sandbox CRM with `leads` new leads and an empty SQLite ledger in tmp_path, wired through LEADROUTER_*."""
    monkeypatch.setenv("LEADROUTER_STORE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    monkeypatch.setenv("LEADROUTER_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    monkeypatch.setenv("LEADROUTER_CRM", "sandbox")
    return SandboxCRM.create(tmp_path / "sandbox.db", seed=seed, leads=leads)


def assert_ledger_matches_crm(crm: SandboxCRM) -> pd.DataFrame:
    """Every lead: exactly one decision; written ones carry their owner in the CRM, written exactly once."""
    store = open_store(os.environ["LEADROUTER_STORE_URL"])
    with store.engine.connect() as conn:
        decided = pd.read_sql("SELECT lead_id, status, owner_id FROM decisions", conn)
    leads = crm.leads().set_index("id")
    assert decided["lead_id"].is_unique
    assert set(decided["lead_id"]) == set(leads.index)
    assert set(decided["status"]) <= {"written", "quarantined", "review"}
    written = decided[decided["status"] == "written"].set_index("lead_id")
    assert (leads.loc[written.index, "owner_id"] == written["owner_id"]).all()
    assert (
        leads.loc[decided.loc[decided["status"] != "written", "lead_id"], "owner_id"] == DEFAULT_QUEUE
    ).all()
    writes = crm.owner_write_counts()
    assert set(writes.index) == set(written.index) and (writes == 1).all()
    return decided
