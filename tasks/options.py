"""The options tasks share, defined once (who retries what: see the package's docstring)."""

from __future__ import annotations

from typing import Any

from prefect.cache_policies import NO_CACHE

# a task's inputs (a Router, frames) make no cache key, and running a stage again must do its work again
ONCE: dict[str, Any] = {"cache_policy": NO_CACHE}
# a ledger transaction: a quick second and third try
LEDGER: dict[str, Any] = {**ONCE, "retries": 2, "retry_delay_seconds": 1}


def by_batch(name: str) -> dict[str, Any]:
    """A task's name, and each of its runs named by the batch it served (`pull-new-leads[batch 2]`) when it takes a
    `batch` argument: route-inbound runs its stages once a page, and the run page must tell them apart."""

    def run_name(parameters: dict[str, Any]) -> str:
        batch = parameters.get("batch")
        return name if batch is None else f"{name}[batch {batch}]"

    return {"name": name, "task_run_name": run_name}
