"""A million-row CRM export through `leadrouter backtest`: wall time per stage, peak memory and row accounting.
Prints JSON (and writes it with --json PATH).

The export (40 columns: config/backtest-map.yaml's 18, 10 custom fields as plain extra columns, 12 more a
report carries; 5 % messy rows, one kind of mess per row) is generated under /tmp once per size and seed and
reused. Targets: at most 120 s and 2 GiB peak RSS on the 2-core machine; every row clean, cleaned (each change
listed) or rejected (with a reason). The load average is recorded because other processes slow every stage.

    .venv/bin/python bench/import_export.py [--rows 1000000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from leadrouter.config import PROJECT_ROOT

MAP = PROJECT_ROOT / "config" / "backtest-map.yaml"
RULEBOOK = PROJECT_ROOT / "config" / "rulebook.yaml"
MESSY = 0.05
SPLIT = "\x1f"  # written as an unquoted comma: a broken line
FIRST = ["Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kara", "Liam",
         "Maria", "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Will", "Yara"]  # fmt: skip
LAST = ["Meyer", "Garcia", "Smith", "Nguyen", "Rossi", "Kowalski", "Brown", "Silva", "Schmidt", "Dubois",
        "Tanaka", "Okafor", "Larsen", "Novak", "Murphy", "Fischer", "Costa", "Walker", "Ivanova", "Moreau"]  # fmt: skip
TITLES = ["VP Sales", "Head of Revenue Operations", "Marketing Manager", "CTO", "Software Engineer",
          "Director of Operations", "CFO", "Account Executive", "Founder & CEO", "Procurement Lead"]  # fmt: skip
PLACES = [("US", "CA", "San Francisco"), ("US", "NY", "New York"), ("US", "TX", "Austin"), ("GB", "", "London"),
          ("DE", "", "Berlin"), ("FR", "", "Paris"), ("CA", "ON", "Toronto"), ("AU", "NSW", "Sydney")]  # fmt: skip
INDUSTRIES = ["Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Education"]
SOURCES = ["demo_request", "contact_form", "chat", "ebook", "webinar", "pricing_page", "free_trial"]
OWNERS = ["Maya Chen", "Diego Ramirez", "Priya Nair", "Tom Becker", "Wei Zhang", "Inbound triage"]
CUSTOM = {  # a report's own fields: the map does not name them, the import carries them through untouched
    "Lead Score": lambda rng, n: rng.integers(0, 100, n).astype(str),
    "Product Interest": lambda rng, n: rng.choice(["Core", "Analytics", "Add-on", ""], n),
    "Time on Site (s)": lambda rng, n: rng.integers(5, 3000, n).astype(str),
    "Lead Origin": lambda rng, n: rng.choice(["Landing Page", "API", "Import", "Form"], n),
    "Occupation": lambda rng, n: rng.choice(["Professional", "Student", "Unemployed", ""], n),
    "Newsletter": lambda rng, n: rng.choice(["true", "false"], n),
    "Last Activity": lambda rng, n: rng.choice(["Email Opened", "Page Visited", "Form Submitted"], n),
    "Budget": lambda rng, n: rng.choice(["<10k", "10-50k", "50k+", ""], n),
    "Campaign": lambda rng, n: np.char.add("CMP-", rng.integers(100, 999, n).astype(str)),
    "Tags": lambda rng, n: rng.choice(["", "hot", "partner;event", "reseller"], n),
}
EXTRA = ["Street", "Postal Code", "Fax", "Mobile", "Salutation", "Rating", "Status", "Converted", "Unread",
         "Created By", "Last Modified Date", "Email Opt Out"]  # fmt: skip
MESSES = ["placeholder", "casing", "country", "whitespace", "number", "date_format", "bad_date",
          "duplicate_row", "duplicate_lead_id", "missing_lead_id", "broken_line"]  # fmt: skip


def build_export(path: Path, rows: int, seed: int = 3) -> dict[str, int]:
    """Write the export; returns how many rows got each kind of mess."""
    rng = np.random.default_rng(seed)
    n = np.arange(rows)
    first, last = rng.choice(FIRST, rows), rng.choice(LAST, rows)
    company = rng.integers(0, 20_000, rows)
    place = rng.integers(0, len(PLACES), rows)
    country, state, city = (np.array([p[i] for p in PLACES])[place] for i in range(3))
    created = pd.Timestamp("2025-07-01") + pd.to_timedelta(rng.integers(0, 90 * 86_400, rows), unit="s")
    frame = pd.DataFrame(
        {
            "Lead ID": np.char.add("00Q", np.char.zfill(n.astype(str), 12)),
            "First Name": first,
            "Last Name": last,
            "Email": [
                f"{f.lower()}.{s.lower()}{i}@northwind{c}.com"
                for f, s, i, c in zip(first, last, n, company, strict=True)
            ],
            "Phone": np.char.add("+1 415 555 ", np.char.zfill((n % 10_000).astype(str), 4)),
            "Title": rng.choice(TITLES, rows),
            "Company / Account": np.char.add("Northwind ", company.astype(str)),
            "Website": np.char.add(np.char.add("https://www.northwind", company.astype(str)), ".com"),
            "Country": country,
            "State/Province": state,
            "City": city,
            "Industry": rng.choice(INDUSTRIES, rows),
            "No. of Employees": rng.integers(1, 20_000, rows).astype(str),
            "Annual Revenue": (rng.integers(1, 5_000, rows) * 10_000).astype(str),
            "Lead Source": rng.choice(SOURCES, rows),
            "Description": rng.choice(["", "Looking for a demo next week", "Pricing for 50 seats?"], rows),
            "Create Date": created.strftime("%m/%d/%Y %I:%M %p"),
            "Lead Owner": rng.choice(OWNERS, rows),
        }
    )
    for name, make in CUSTOM.items():
        frame[name] = make(rng, rows)
    for name in EXTRA:
        frame[name] = ""
    messy = rng.choice(rows, int(rows * MESSY), replace=False)
    counts = {}
    for kind, at in zip(MESSES, np.array_split(messy, len(MESSES)), strict=True):
        counts[kind] = len(at)
        _mess(frame, kind, np.sort(at), rows)
    _write(frame, path)
    return counts


def _write(frame: pd.DataFrame, path: Path, chunk: int = 100_000) -> None:
    """CSV in chunks; SPLIT becomes a bare separator (pandas would quote a comma)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        for start in range(0, len(frame), chunk):
            text = frame.iloc[start : start + chunk].to_csv(index=False, header=start == 0)
            handle.write(text.replace(SPLIT, ","))


def _mess(frame: pd.DataFrame, kind: str, at: np.ndarray, rows: int) -> None:
    """One kind of mess on the rows at `at` (copies take an earlier row: at is never row 0)."""
    col = frame.columns.get_loc
    if kind == "placeholder":
        frame.iloc[at, col("Title")] = "N/A"
    elif kind == "casing":
        frame.iloc[at, col("Email")] = frame.iloc[at, col("Email")].str.upper()
    elif kind == "country":
        frame.iloc[at, col("Country")] = "usa"
    elif kind == "whitespace":
        frame.iloc[at, col("Company / Account")] = "  " + frame.iloc[at, col("Company / Account")] + " "
    elif kind == "number":
        frame.iloc[at, col("No. of Employees")] = "1,200"
    elif kind == "date_format":
        frame.iloc[at, col("Create Date")] = "2025-08-01T10:00:00"
    elif kind == "bad_date":
        frame.iloc[at, col("Create Date")] = "soon"
    elif kind == "duplicate_row":
        frame.iloc[at] = frame.iloc[np.maximum(at - 1, 0)].to_numpy()
    elif kind == "duplicate_lead_id":
        frame.iloc[at, col("Lead ID")] = frame.iloc[np.maximum(at - 1, 0), col("Lead ID")].to_numpy()
    elif kind == "missing_lead_id":
        frame.iloc[at, col("Lead ID")] = ""
    elif kind == "broken_line":  # an unquoted separator in the last cell: one cell too many (see _write)
        frame.iloc[at, col("Email Opt Out")] = f"no{SPLIT}extra"


@contextmanager
def _stage(stages: dict, name: str) -> Iterator[None]:
    before = _rss_now_mib()
    _reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    stages[name] = {
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        # the stage's own peak (the high-water mark is reset as it starts) and what it started from
        "peak_rss_mib": _stage_peak_mib(),
        "rss_before_mib": before,
        "rss_after_mib": _rss_now_mib(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(name, stages[name], file=sys.stderr, flush=True)  # a run cut short still tells


def _rss_now_mib() -> float:
    with open("/proc/self/statm") as handle:  # Linux: resident pages, second field
        return round(int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def _reset_peak() -> None:
    """Reset the process's RSS high-water mark (Linux: clear_refs 5), so each stage reports its own peak."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def _stage_peak_mib() -> float:
    """The RSS high-water mark since the last _reset_peak (VmHWM)."""
    with open("/proc/self/status") as handle:
        kib = next(int(line.split()[1]) for line in handle if line.startswith("VmHWM:"))
    return round(kib / 1024, 1)


def _peak_mib() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mib": round(own, 1), "peak_rss_children_mib": round(children, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--until", choices=["read", "import", "replay"], default="replay", help="the last stage run"
    )
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = Path(f"/tmp/leadrouter-bench/export-{args.rows}.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    messed = path.with_suffix(".json")  # the kinds of mess of the file, beside it
    if args.build_only:
        messed.write_text(json.dumps(build_export(path, args.rows)), encoding="utf-8")
        return
    started, load = time.perf_counter(), [os.getloadavg()[0]]
    if not messed.exists():  # built in another process: its memory is not the import's
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--build-only"], check=True)
    built_s, build_peak = time.perf_counter() - started, _peak_mib()["peak_rss_children_mib"]
    messes = json.loads(messed.read_text(encoding="utf-8"))
    stages: dict[str, dict[str, float]] = {}
    from leadrouter.assign.roster import load_roster
    from leadrouter.backtest.column_map import load_export_map
    from leadrouter.backtest.files import Export
    from leadrouter.backtest.importer import import_leads
    from leadrouter.backtest.replay import prepare, replay
    from leadrouter.classify.rules import load_rulebook
    from leadrouter.config import Settings
    from leadrouter.enrich.territory import load_territories
    from leadrouter.memory import release_memory
    from leadrouter.router import open_chain

    with _stage(stages, "load_config"):
        settings, export_map = Settings(), load_export_map(MAP)
        book, roster = load_rulebook(RULEBOOK), load_roster(settings.roster_path)
        territories = load_territories(settings.territories_path)
    with _stage(stages, "read_only"):  # the file alone: decoding, splitting, framing
        read = sum(len(chunk) for chunk in Export(path).chunks())
    if args.until != "read":
        with _stage(stages, "import"):
            imported = import_leads(path, export_map, MAP)
            release_memory()  # as run_backtest does between its stages
    if args.until == "replay":
        with _stage(stages, "enrich"):
            prepared = prepare(imported.leads, territories)
            release_memory()
        with _stage(stages, "replay"):
            replayed = len(
                replay(prepared, None, book, roster, open_chain(settings, book), RULEBOOK.name).leads
            )
    load.append(os.getloadavg()[0])
    out = {
        "rows": args.rows,
        "columns": len(pd.read_csv(path, nrows=0).columns),
        "file_bytes": path.stat().st_size,
        "build_export_s": round(built_s, 1),
        "build_peak_rss_mib": build_peak,
        # per stage: wall seconds, this process's CPU seconds (the work, whatever the load), its own peak RSS,
        # RSS before and after it, and the load at its end
        "stages": stages,
        "total_s": round(sum(v["wall_s"] for k, v in stages.items() if k != "read_only"), 1),
        "peak_rss_mib": max(v["peak_rss_mib"] for v in stages.values()),
        "load_average_1min": [round(x, 2) for x in load],
        "cores": os.cpu_count(),
        "messed_rows": messes,
        "rows_read": read,
    }
    if args.until != "read":
        out |= _accounting(imported)
    if args.until == "replay":
        out["replayed_leads"] = replayed
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")


def _accounting(imported) -> dict:
    """Every row clean, cleaned or rejected; the changes listed; what the file was."""
    summary = imported.summary()
    return {
        "accounting": {
            "rows": summary["rows"],
            "clean": summary["clean"],
            "cleaned": summary["cleaned"],
            "rejected": summary["rejected"],
            "accounted": summary["clean"] + summary["cleaned"] + summary["rejected"] == summary["rows"],
            "rejected_by_reason": summary["rejected_by_reason"],
            "cleaned_by_change": summary["cleaned_by_change"],
            "changes_listed": len(imported.changes),
        },
        "file": summary["file"],
        "file_notes": summary["file_notes"],
    }


if __name__ == "__main__":
    main()
