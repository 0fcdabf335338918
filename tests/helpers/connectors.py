"""A local Salesforce or HubSpot wired to the router through its Prefect connection block."""

from __future__ import annotations

from pathlib import Path

import pytest

from localapi.harness import Harness, connection_block


def connect(h: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Save the CRM's connection block and point the router's settings at it."""
    name = f"{h.kind}-{tmp_path.name}".lower().replace("_", "-")[:60]
    options = {"requests_per_10s": 5000} if h.kind == "hubspot" else {}
    connection_block(h, retries=8, backoff_s=0.01, **options).save(name, overwrite=True)
    monkeypatch.setenv("LEADROUTER_CRM", h.kind)
    monkeypatch.setenv("LEADROUTER_CRM_BLOCK", name)
    monkeypatch.setenv("LEADROUTER_STORE_URL", f"sqlite:///{tmp_path}/ledger.db")
