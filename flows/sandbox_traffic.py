"""sandbox-traffic: new inbound leads arrive, reps touch their leads, deals open and close."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.states import Completed

from blocks.load import load_settings
from tasks.sandbox_traffic import simulate_sandbox_traffic
from tasks.shared import name_run


@flow(name="sandbox-traffic")
def sandbox_traffic(leads_per_minute: float = 20.0, settings_block: str | None = None):
    """Advance the sandbox CRM to now (only for the built-in sandbox)."""
    happened = simulate_sandbox_traffic(load_settings(settings_block), leads_per_minute)
    line = traffic_line(happened)
    name_run(line)
    get_run_logger().info(line)
    return Completed(message=line, data=happened)


def traffic_line(happened: dict) -> str:
    """What one tick did, as the run's name and message: `3 new · 2 touched · 0 rejected · 1 deal opened · 0 closed`."""
    deals = "deal" if happened["deals_opened"] == 1 else "deals"
    return (
        f"{happened['new_leads']} new · {happened['touched']} touched · {happened['rejected']} rejected · "
        f"{happened['deals_opened']} {deals} opened · {happened['deals_closed']} closed"
    )
