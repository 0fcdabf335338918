"""sandbox-traffic: new inbound leads arrive, reps touch their leads, deals open and close."""

from __future__ import annotations

from prefect import flow

from blocks.load import load_settings
from tasks.sandbox_traffic import simulate_sandbox_traffic


@flow(name="sandbox-traffic")
def sandbox_traffic(leads_per_minute: float = 20.0, settings_block: str | None = None) -> dict:
    """Advance the sandbox CRM to now (only for the built-in sandbox)."""
    return simulate_sandbox_traffic(load_settings(settings_block), leads_per_minute)
