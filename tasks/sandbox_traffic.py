"""sandbox-traffic's task: simulated inbound traffic and rep activity (the sandbox CRM only)."""

from __future__ import annotations

import pandas as pd
from prefect import task

from leadrouter.config import Settings
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.traffic import simulate_traffic
from tasks.options import ONCE


@task(name="simulate-traffic", **ONCE)
def simulate_sandbox_traffic(settings: Settings, leads_per_minute: float) -> dict:
    return simulate_traffic(SandboxCRM(settings.sandbox_path), pd.Timestamp.now(tz="UTC"), leads_per_minute)
