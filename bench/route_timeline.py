"""Where a routed lead's time went, read back from the Prefect server and the ledger after a speed bench.

Per lead (its run is the decision's run_id): created in the CRM → the automation's trigger fired (event mode)
→ its flow run created → Pending (the worker claimed it; a queued run's concurrency-slot wait included) →
Running → its owner written. Per run: each stage's task run, the setup before the first task and the time
after the write. Medians and p95s, in seconds.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from pathlib import Path

import pandas as pd

ANNOUNCED = "leadrouter.lead.created"  # deployments/webhooks.py
TRIGGERED = "prefect.automation.triggered"


def api_json(api: str, path: str, body: dict | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{api}{path}", data, {"Content-Type": "application/json"}, method="GET" if data is None else "POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def stamp(values: object) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True, format="ISO8601")


def run_states(api: str, run_ids: list[str]) -> pd.DataFrame:
    """Per flow run: created, and when it first entered Pending, Running and a final state."""
    rows = []
    for run_id in run_ids:
        run = api_json(api, f"/flow_runs/{run_id}")
        states = pd.DataFrame(api_json(api, f"/flow_run_states/?flow_run_id={run_id}"))
        first = states.assign(at=stamp(states["timestamp"])).groupby("type")["at"].min()
        rows.append(
            {
                "run_id": run_id,
                "created": stamp([run["created"]]).iloc[0],
                "pending": first.get("PENDING"),
                "running": first.get("RUNNING"),
                "ended": stamp([run["end_time"]]).iloc[0] if run["end_time"] else pd.NaT,
            }
        )
    frame = pd.DataFrame(rows).set_index("run_id")
    # a run still going (a lingering one at the bench's end) has no end: keep every column in UTC all the same
    return frame.apply(lambda column: pd.to_datetime(column, utc=True))


def task_runs(api: str, run_ids: list[str]) -> pd.DataFrame:
    """Every task run of the runs: flow run, stage name (batch suffix dropped), start and end."""
    rows, offset = [], 0
    while True:
        page = api_json(
            api,
            "/task_runs/filter",
            {"flow_runs": {"id": {"any_": run_ids}}, "limit": 200, "offset": offset},
        )
        rows += page
        offset += len(page)
        if len(page) < 200:
            break
    if not rows:
        return pd.DataFrame(columns=["run_id", "stage", "start", "end"])
    frame = pd.DataFrame(rows)
    return pd.DataFrame(
        {
            "run_id": frame["flow_run_id"],
            "stage": frame["name"]
            .str.replace(r"\[.*$", "", regex=True)
            .str.replace(r"-[0-9a-f]{3}$", "", regex=True),
            "start": stamp(frame["start_time"]).array,
            "end": stamp(frame["end_time"]).array,
        }
    )


def events(api: str, since: pd.Timestamp, prefixes: list[str]) -> pd.DataFrame:
    """Events whose name starts with one of the prefixes, since `since`: name and when it occurred, in order."""
    body = {"filter": {"event": {"prefix": prefixes}, "occurred": {"since": since.isoformat()}}, "limit": 50}
    page = api_json(api, "/events/filter", body)
    found = list(page["events"])
    while page.get("next_page"):
        with urllib.request.urlopen(page["next_page"], timeout=30) as response:
            page = json.load(response)
        found += page["events"]
    frame = pd.DataFrame({"event": [e["event"] for e in found], "at": stamp([e["occurred"] for e in found])})
    return frame.sort_values("at", ignore_index=True)


def next_after(times: pd.Series, after: pd.Series) -> pd.Series:
    """For each instant of `after`, the first of the sorted `times` at or after it (NaT when none)."""
    at = times.searchsorted(after, side="left")
    # .array keeps the time zone (to_numpy() drops it when every value is NaT)
    return pd.Series(times.reindex(at).array, index=after.index)


def event_path(api: str, since: pd.Timestamp, created: pd.Series) -> dict:
    """Each webhook event → the automation's trigger firing after it → the first flow run created after that."""
    seen = events(api, since, [ANNOUNCED, TRIGGERED])
    announced = seen.loc[seen["event"].eq(ANNOUNCED), "at"].reset_index(drop=True)
    fired = seen.loc[seen["event"].eq(TRIGGERED), "at"].sort_values(ignore_index=True)
    runs = created.sort_values(ignore_index=True)
    if fired.empty:  # this server records no trigger events: event → run created in one span
        return {
            "announced": len(announced),
            "event_to_run_created": quantiles((next_after(runs, announced) - announced).dt.total_seconds()),
        }
    trigger = next_after(fired, announced)
    return {
        "announced": len(announced),
        "event_to_trigger": quantiles((trigger - announced).dt.total_seconds()),
        "trigger_to_run_created": quantiles(
            (next_after(runs, trigger.dropna()) - trigger.dropna()).dt.total_seconds()
        ),
    }


def quantiles(seconds: pd.Series) -> dict:
    seconds = seconds.dropna()
    if seconds.empty:
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50_s": round(float(seconds.median()), 3),
        "p95_s": round(float(seconds.quantile(0.95)), 3),
    }


def breakdown(api: str, sandbox: Path, ledger: Path, lead_ids: list[str]) -> dict:
    """The timeline of the timed leads and of the runs that routed them (see the module docstring)."""
    with sqlite3.connect(sandbox) as db:
        leads = pd.read_sql_query(
            "SELECT l.id AS lead_id, l.created_at, MIN(w.written_at) AS written_at "
            "FROM leads l JOIN owner_writes w ON w.lead_id = l.id GROUP BY l.id",
            db,
        )
    with sqlite3.connect(ledger) as db:
        runs_of = pd.read_sql_query("SELECT lead_id, run_id FROM decisions", db)
    leads = leads[leads["lead_id"].isin(set(lead_ids))].merge(runs_of, on="lead_id")
    if leads.empty:
        return {"leads": 0}
    leads = leads.assign(
        created_at=stamp(leads["created_at"]).to_numpy(), written_at=stamp(leads["written_at"]).to_numpy()
    )
    run_ids = sorted(leads["run_id"].unique())
    runs = run_states(api, run_ids)
    run = runs.reindex(leads["run_id"]).set_index(leads.index)
    # negative when the lead was created while its run was already running (a later page of that run)
    seconds = {
        "created_to_run_running": run["running"] - leads["created_at"],
        "running_to_written": leads["written_at"] - run["running"],
        "created_to_written": leads["written_at"] - leads["created_at"],
    }
    tasks = task_runs(api, run_ids)
    stages = {
        name: quantiles((group["end"] - group["start"]).dt.total_seconds())
        for name, group in tasks.groupby("stage", sort=False)
    }
    tasks = tasks.assign(took=(tasks["end"] - tasks["start"]).dt.total_seconds())
    by_run = tasks.groupby("run_id").agg(
        first=("start", "min"), last=("end", "max"), in_tasks=("took", "sum")
    )
    whole = runs.join(by_run)
    since = leads["created_at"].min() - pd.Timedelta(seconds=1)
    return {
        "leads": len(leads),
        "runs": len(runs),
        "event_path": event_path(api, since, runs["created"]),
        "per_lead": {k: quantiles(v.dt.total_seconds()) for k, v in seconds.items()},
        "per_run": {
            "created_to_pending": quantiles((whole["pending"] - whole["created"]).dt.total_seconds()),
            "pending_to_running": quantiles((whole["running"] - whole["pending"]).dt.total_seconds()),
            "in_tasks": quantiles(whole["in_tasks"]),
            "running_to_first_task": quantiles((whole["first"] - whole["running"]).dt.total_seconds()),
            "last_task_to_end": quantiles((whole["ended"] - whole["last"]).dt.total_seconds()),
            "running_to_end": quantiles((whole["ended"] - whole["running"]).dt.total_seconds()),
            "task_runs_per_run": round(len(tasks) / max(len(runs), 1), 1),
        },
        "stages": stages,
    }
