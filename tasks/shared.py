"""Tasks more than one flow runs."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from leadrouter import warm, writeback
from leadrouter.router import Router, owners_key
from tasks.options import ONCE, by_batch


@task(**by_batch("write-assignments"), **ONCE)
def write_assignments(router: Router, claim: str, batch: int | None = None) -> pd.DataFrame:
    """Write every recorded owner to the CRM; per-lead results. `batch` names the run (route-inbound's page)."""
    written = writeback.write_back(router.store, router.crm, router.source, claim)
    if len(written) and not written["ok"].all():
        # a refused write may name a user the CRM no longer has: the next run maps the roster afresh
        warm.forget_owners(owners_key(router.settings))
    return written


@task(name="name-run", **ONCE)
def name_run(line: str) -> None:
    """The run's counts as its name in the run list (as route-inbound's), so a run that did something stands
    out among the quiet ones."""
    if flow_run.id:
        with get_client(sync_client=True) as client:
            client.set_flow_run_name(flow_run.id, line)
