"""The options tasks share, defined once (who retries what: see the package's docstring)."""

from __future__ import annotations

from typing import Any

from prefect.cache_policies import NO_CACHE

# a task's inputs (a Router, frames) make no cache key, and running a stage again must do its work again
ONCE: dict[str, Any] = {"cache_policy": NO_CACHE}
# a ledger transaction: a quick second and third try
LEDGER: dict[str, Any] = {**ONCE, "retries": 2, "retry_delay_seconds": 1}
