"""Tasks more than one flow runs."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from leadrouter import writeback
from leadrouter.router import Router
from tasks.options import ONCE, by_batch


@task(**by_batch("write-assignments"), **ONCE)
def write_assignments(router: Router, claim: str, batch: int | None = None) -> pd.DataFrame:
    """Write every recorded owner to the CRM; per-lead results. `batch` names the run (route-inbound's page)."""
    return writeback.write_back(router.store, router.crm, router.source, claim)


@task(name="name-run", **ONCE)
def name_run(line: str) -> None:
    """The run's counts as its name in the run list (as route-inbound's), so a run that did something stands
    out among the quiet ones."""
    if flow_run.id:
        with get_client(sync_client=True) as client:
            client.set_flow_run_name(flow_run.id, line)
