"""Time to the first routed lead on a fresh clone: `make run` on a fresh Prefect home, PostgreSQL, ledger,
sandbox and model folder (as after `make venv`), and the seconds until the UI answers, the model is ready,
and the first lead is written (the ledger marks it written once its owner is in the sandbox CRM), with the
seconds and CPU-seconds the model took to train. Target: 60 s.

    .venv/bin/python bench/first_lead.py [--out first_lead.json] [--timeout 600]

Prints JSON with each milestone in seconds from the start of `make run`, and the load average (the machine's
other work slows every milestone).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
import urllib.request
from pathlib import Path

from prefect_server import MakeRun, load_average, make_run
from sqlalchemy.exc import SQLAlchemyError

from leadrouter.store import open_store
from leadrouter.store.decisions import status_counts

TARGET_S = 60
POLL_S = 0.5
# run_local's line once the model is trained: its CPU-seconds are what the machine's load does not stretch
MODEL_READY = re.compile(r"the local model is ready: ([\d.]+) s, ([\d.]+) CPU-s")


def ui_up(run: MakeRun) -> bool:
    try:
        with urllib.request.urlopen(run.ui, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def model_ready(run: MakeRun) -> bool:
    return any(Path(run.env["LEADROUTER_MODEL_DIR"]).glob("*.joblib"))


def leads_written(run: MakeRun) -> int:
    """Leads the ledger marks written (their owner is in the sandbox CRM); 0 before the ledger exists."""
    url = run.env["LEADROUTER_STORE_URL"]
    if not Path(url.removeprefix("sqlite:///")).exists():
        return 0
    try:
        with open_store(url, migrate=False) as store:
            return status_counts(store, "sandbox").get("written", 0)
    except SQLAlchemyError:  # created but not yet migrated
        return 0


def first_lead(timeout_s: float) -> dict:
    milestones: dict[str, float | None] = {
        "ui_up_s": None,
        "model_ready_s": None,
        "first_lead_written_s": None,
    }
    checks = {"ui_up_s": ui_up, "model_ready_s": model_ready, "first_lead_written_s": leads_written}
    with (
        tempfile.TemporaryDirectory(prefix="leadrouter-first-lead-") as workdir,
        make_run(Path(workdir)) as run,
    ):
        deadline = time.monotonic() + timeout_s
        while None in milestones.values() and time.monotonic() < deadline:
            if run.proc.poll() is not None:
                raise SystemExit(
                    f"make run exited with code {run.proc.returncode}:\n{run.log.read_text()[-3000:]}"
                )
            for name, check in checks.items():
                if milestones[name] is None and check(run):
                    milestones[name] = run.elapsed()
            time.sleep(POLL_S)
        stop_s = run.interrupt()
        log = run.log.read_text(errors="replace")
    first = milestones["first_lead_written_s"]
    trained = MODEL_READY.search(log)
    return {
        **milestones,
        "model_training_s": float(trained[1]) if trained else None,
        "model_training_cpu_s": float(trained[2]) if trained else None,
        "target_s": TARGET_S,
        "met": first is not None and first <= TARGET_S,
        "ctrl_c_stop_s": stop_s,
        "load_average": load_average(),
        "log_tail": log.splitlines()[-8:],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    result = first_lead(args.timeout)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
