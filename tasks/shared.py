"""Tasks more than one flow runs."""

from __future__ import annotations

import pandas as pd
from prefect import task

from leadrouter import writeback
from leadrouter.router import Router
from tasks.options import ONCE, by_batch


@task(**by_batch("write-assignments"), **ONCE)
def write_assignments(router: Router, claim: str, batch: int | None = None) -> pd.DataFrame:
    """Write every recorded owner to the CRM; per-lead results. `batch` names the run (route-inbound's page)."""
    return writeback.write_back(router.store, router.crm, router.source, claim)
