"""A clean day: `make run` for N minutes with sandbox traffic on, at least one SLA breach and one rejection, then
Ctrl-C. Prints JSON: the ERROR lines and tracebacks its log holds (the target is none), what sla-watch did,
and how long Ctrl-C took to stop everything (the target is 10 s).

    .venv/bin/python bench/soak.py [--minutes 30] [--out soak.json] [--keep DIR]

It runs on a Prefect home, PostgreSQL, ledger, sandbox and model of its own, on free ports. To force a breach
within minutes, its rulebook is config/rulebook.yaml with short, around-the-clock SLAs (the sandbox's reps
answer 8% of their leads late); the rejection is the README's `leadrouter reject`, on a lead a rep owns, plus
the ones the sandbox's reps make in the CRM (2%).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from prefect_server import ROOT, MakeRun, load_average, make_run

from leadrouter import sla
from leadrouter.store import open_store
from leadrouter.store.decisions import status_counts
from leadrouter.store.sla_events import events_since

# minutes, around the clock: a lead answered late (3 windows) breaches after one window
FAST_SLA = {
    "VIP": {"minutes": 1, "around_the_clock": True, "escalate_after": 1},
    "Standard": {"minutes": 2, "around_the_clock": True},
}
ERROR_LINE = re.compile(r"\|\s*ERROR\s*\||^ERROR[: ]|\bCRITICAL\b")
TRACEBACK = "Traceback (most recent call last)"
SAMPLES = 5  # error lines quoted in the result


def fast_rulebook(workdir: Path) -> Path:
    """config/rulebook.yaml with FAST_SLA: the same rules, clocks that lapse in minutes."""
    book = yaml.safe_load((ROOT / "config" / "rulebook.yaml").read_text())
    book["sla"] = FAST_SLA
    path = workdir / "rulebook.yaml"
    path.write_text(yaml.safe_dump(book, sort_keys=False))
    return path


def ledger_url(run: MakeRun) -> str:
    return run.env["LEADROUTER_STORE_URL"]


def written(run: MakeRun) -> int:
    """Leads written to their owner in the CRM so far (0 before the ledger exists)."""
    if not Path(ledger_url(run).removeprefix("sqlite:///")).exists():
        return 0
    with open_store(ledger_url(run)) as store:
        return status_counts(store, "sandbox").get("written", 0)


def reject_one(run: MakeRun) -> dict:
    """`leadrouter reject LEAD --reason …` on a lead whose rep's clock runs, as the README shows it."""
    with open_store(ledger_url(run)) as store:
        clocks = sla.open_clocks(store, "sandbox")
    if clocks.empty:
        return {"lead_id": None, "exit_code": None, "output": "no lead with a running clock yet"}
    lead = str(clocks["lead_id"].iloc[0])
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "leadrouter"), "reject", lead, "--reason", "soak: wrong territory"],
        cwd=ROOT,
        env=run.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return {
        "lead_id": lead,
        "exit_code": done.returncode,
        "output": (done.stdout + done.stderr).strip()[-400:],
    }


def sla_events(run: MakeRun, since: datetime) -> dict[str, int]:
    """SLA events of the soak by kind (breach, reject, reroute, escalation, first_touch, …)."""
    with open_store(ledger_url(run)) as store:
        events = events_since(store, "sandbox", since)
    return {str(k): int(n) for k, n in events["kind"].value_counts().sort_index().items()}


def log_findings(log: Path) -> dict:
    """ERROR lines and tracebacks in make run's output."""
    lines = log.read_text(errors="replace").splitlines()
    errors = [line for line in lines if ERROR_LINE.search(line)]
    return {
        "log_lines": len(lines),
        "error_lines": len(errors),
        "tracebacks": sum(TRACEBACK in line for line in lines),
        "error_samples": errors[:SAMPLES],
        "completed_task_lines": sum(
            "Task run" in line and "Finished in state Completed(" in line for line in lines
        ),
    }


def soak(minutes: float, workdir: Path) -> dict:
    since = datetime.now(UTC)
    # the day, not the first start: the project's trained model when there is one (bench/first_lead.py times
    # a first start, training included)
    if (ROOT / "var" / "models").is_dir():
        shutil.copytree(ROOT / "var" / "models", workdir / "var" / "models", dirs_exist_ok=True)
    with make_run(workdir, {"LEADROUTER_RULEBOOK_PATH": str(fast_rulebook(workdir))}) as run:
        end = time.monotonic() + minutes * 60
        first_written_s, rejection = None, None
        while time.monotonic() < end:
            if run.proc.poll() is not None:
                sys.exit(f"make run exited early with code {run.proc.returncode}: see {run.log}")
            if first_written_s is None and written(run):
                first_written_s = run.elapsed()
            if first_written_s is not None and (rejection is None or rejection["lead_id"] is None):
                rejection = reject_one(run)
            time.sleep(10)
        events = sla_events(run, since)
        leads = written(run)
        stop_s = run.interrupt()
    return {
        "minutes": minutes,
        "first_lead_written_s": first_written_s,
        "leads_written": leads,
        "sla_events": events,
        "cli_rejection": rejection,
        "ctrl_c_stop_s": stop_s,
        "ctrl_c_target_s": 10,
        **log_findings(run.log),
        "load_average": load_average(),
        "log": str(run.log),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument(
        "--keep", type=Path, default=None, help="run in this folder and keep it (log, ledger)"
    )
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = soak(args.minutes, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="leadrouter-soak-") as workdir:
            result = soak(args.minutes, Path(workdir))
            result["log_tail"] = Path(result["log"]).read_text(errors="replace").splitlines()[-20:]
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
