"""Sandbox-only task: simulated inbound traffic and rep activity."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from leadrouter.config import Settings
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.traffic import simulate_traffic


@task(name="simulate-traffic", cache_policy=NO_CACHE)
def simulate_sandbox_traffic(settings: Settings, leads_per_minute: float) -> dict:
    return simulate_traffic(SandboxCRM(settings.sandbox_path), pd.Timestamp.now(tz="UTC"), leads_per_minute)
