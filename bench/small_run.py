"""A one-lead run's fixed costs in a warm worker: open_router (config files, the CRM's owners, the local model)
and validating one lead, the first time in the process and then run after run (median of the next five).
The CRM answers with 200 ms per call, as in bench/speed_to_route.py. Prints one JSON object.

    .venv/bin/python bench/small_run.py
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

LATENCY_S = 0.2


def timed(action: Callable[[], object], repeat: int = 5) -> dict:
    """Seconds of the first call, then the median of the next `repeat`."""
    start = time.perf_counter()
    action()
    first = time.perf_counter() - start
    later = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        later.append(time.perf_counter() - start)
    return {"first_s": round(first, 3), "warm_median_s": round(statistics.median(later), 3)}


def main() -> dict:
    from leadrouter.config import Settings
    from leadrouter.router import open_router
    from leadrouter.sandbox.crm import SandboxCRM
    from leadrouter.validate.suite import validate_leads

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sandbox.db"
        crm = SandboxCRM.create(path, seed=7, leads=1)
        lead = crm.fetch_new_leads(None, 1)[0]
        settings = Settings(
            sandbox_path=path, sandbox_latency_s=LATENCY_S, store_url=f"sqlite:///{Path(tmp) / 'ledger.db'}"
        )
        crm_with_latency = SandboxCRM(path, latency_s=LATENCY_S)

        def open_one() -> None:
            open_router(settings, crm=crm_with_latency).store.dispose()

        return {
            "crm_latency_s": LATENCY_S,
            "open_router": timed(open_one),
            "validate_one_lead": timed(lambda: validate_leads(lead)),
            "load_average": os.getloadavg()[0],
        }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
