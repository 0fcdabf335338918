"""Routing throughput, memory and CRM API calls, end to end through route-inbound: writes bench/results.json.

Each size runs `leadrouter demo --json` in a fresh process (Prefect start included) and records its wall time
and the child's peak RSS.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

SIZES = [2_000, 20_000]
OUT = Path(__file__).with_name("results.json")


def run_demo(leads: int) -> dict:
    cmd = [
        sys.executable,
        "-c",
        "from commands.main import main; main()",
        "demo",
        "--leads",
        str(leads),
        "--json",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
    return {
        "leads": summary["leads"],
        "elapsed_s": summary["elapsed_s"],
        "leads_per_s": round(summary["leads"] / summary["elapsed_s"], 1),
        "double_assigned": summary["double_assigned"],
        "peak_rss_mb": round(peak_mb, 1),
    }


def script_json(name: str) -> dict:
    """The JSON line a bench script prints, run in a fresh process."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name(name))], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def peaks(results: dict, path: str = "") -> Iterator[tuple[float, str]]:
    """Every peak_rss_mb a child reported, with where it sits in the results."""
    for key, value in results.items():
        if key == "peak_rss_mb":
            yield value, path or key
        elif isinstance(value, dict):
            yield from peaks(value, f"{path}.{key}" if path else key)


def main() -> None:
    results = {f"demo_{n}": run_demo(n) for n in SIZES}
    results["validate_enrich_100k"] = script_json("stages.py")  # target: ≤ 5 s after imports
    results["crm_calls_per_1000_leads"] = script_json("crm_calls.py")
    results["rules_50_over_100k"] = script_json("rules.py")  # target: best ≤ 1 s
    results["assign_100k"] = script_json("assign.py")  # target: best ≤ 2.5 s (languages and skills)
    results["language_20k"] = script_json("language.py")  # targets: best ≤ 2 s; ≥ 95 % on ≥ 20 characters
    results["outcomes_1m"] = script_json("outcomes.py")  # target: best ≤ 20 s, peak RSS ≤ 2 GiB
    results["owner_tables_1m"] = script_json("owner_tables.py")  # target: best ≤ 5 s, peak RSS ≤ 2 GiB
    # targets: 100k ≤ 20 s (SQLite and PostgreSQL ledgers) and ≥ 50× the per-lead baseline
    results |= script_json("backlog.py")
    results |= script_json("speed_to_route.py")  # targets: event p95 ≤ 2.5 s, poll p95 ≤ interval + 2 s
    results["peak_rss_mb"], results["peak_rss_of"] = max(peaks(results))  # the largest child of them all
    OUT.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
