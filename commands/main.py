"""leadrouter: route inbound leads from your CRM to the right rep, fast."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from commands.assign import explain, reject, simulate
from commands.backtest import backtest
from commands.console import console, fail
from commands.model import model_app
from commands.report import report
from commands.reps import handover, rep
from commands.review import review_app
from commands.rules import rules_app
from leadrouter.config import Settings
from leadrouter.inert import terminal

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
app.add_typer(rules_app, name="rules")
app.add_typer(model_app, name="model")
app.command()(explain)
app.command()(simulate)
app.command()(reject)
app.command()(handover)
app.command("rep")(rep)
app.command()(backtest)
app.command()(report)


def _isolated_prefect(home: Path) -> None:
    """The demo's own Prefect: a fresh home under `home` and an ephemeral server on it, so nothing the demo makes
    reaches `make run`'s server or its database. Every PREFECT_* variable is dropped first (an API URL, a
    database URL, a profile naming either); Prefect reads them when first imported, which the demo does after."""
    for name in [k for k in os.environ if k.startswith("PREFECT_")]:
        del os.environ[name]
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    # a fresh PREFECT_HOME migrates its database first: on a busy machine that outlasts the default 20 s
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "90"


@app.command()
def init(
    seed: Annotated[int, typer.Option(help="Seed of the sandbox's generated data")] = 7,
    leads: Annotated[int, typer.Option(help="New leads waiting in the sandbox")] = 200,
    force: Annotated[bool, typer.Option(help="Recreate the sandbox even if it exists")] = False,
) -> None:
    """Create the store and a seeded sandbox CRM at the configured paths (LEADROUTER_* variables)."""
    from leadrouter.router import init_sandbox

    settings = Settings()
    created = init_sandbox(settings, seed=seed, leads=leads, force=force)
    from sqlalchemy.engine import make_url

    console.print(f"store    {make_url(settings.store_url).render_as_string(hide_password=True)}  (migrated)")
    state = "created" if created else "exists, kept (use --force to recreate)"
    console.print(f"sandbox  {settings.sandbox_path}  ({state})")


@app.command()
def demo(
    leads: Annotated[int, typer.Option(help="Leads to generate and route")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the generated data")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Route generated leads once, end to end, on a fresh temporary sandbox, store and Prefect server (never the
    server of `make run`)."""
    if "prefect" in sys.modules:
        fail("demo runs on its own Prefect server: start it in a fresh process (`leadrouter demo`)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="leadrouter-demo-") as tmp:
        _isolated_prefect(Path(tmp) / "prefect")
        os.environ["LEADROUTER_STORE_URL"] = f"sqlite:///{tmp}/ledger.db"
        os.environ["LEADROUTER_SANDBOX_PATH"] = f"{tmp}/sandbox.db"
        os.environ["LEADROUTER_CRM"] = "sandbox"
        from flows.route_inbound import route_inbound
        from leadrouter.sandbox.crm import SandboxCRM

        crm = SandboxCRM.create(Path(tmp) / "sandbox.db", seed=seed, leads=leads)
        summary = route_inbound(batch_size=Settings().batch_size, return_state=False)
        summary["double_assigned"] = int((crm.owner_write_counts() > 1).sum())
    summary["elapsed_s"] = round(time.perf_counter() - started, 2)
    if as_json:
        print(json.dumps(summary))
    else:
        _print_summary(summary)


def _print_summary(summary: dict) -> None:
    head = Table(title="leadrouter demo")
    head.add_column("")
    head.add_column("value", justify="right")
    for key in ("leads", "written", "quarantined", "review", "write_failed", "double_assigned", "elapsed_s"):
        head.add_row(key.replace("_", " "), str(summary[key]))
    console.print(head)
    for title, counts in (("tier", summary["by_tier"]), ("owner", summary["by_owner"])):
        table = Table(title=f"by {title}")
        table.add_column(title)
        table.add_column("leads", justify="right")
        for name, n in counts.items():
            table.add_row(terminal(name), str(n))
        console.print(table)


quarantine_app = typer.Typer(help="Leads validation stopped: list them, release them once fixed in the CRM.")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(review_app, name="review")


@quarantine_app.command("list")
def quarantine_list(
    source: Annotated[str | None, typer.Option(help="Only this source (default: the configured CRM)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include released leads")] = False,
) -> None:
    """Quarantined leads, oldest first, with the reason and the fix (values are escaped excerpts)."""
    from leadrouter.store import open_store
    from leadrouter.store.quarantine import quarantined

    settings = Settings()
    with open_store(settings.store_url) as store:
        rows = quarantined(store, source or settings.crm, include_released=all_)
    table = Table(title=f"quarantine ({len(rows)})")
    for column in ("lead", "since", "released", "reason"):
        table.add_column(column, overflow="fold")
    for row in rows.itertuples(index=False):
        released = "" if pd.isna(row.released_at) else str(row.released_at)[:19]
        table.add_row(terminal(row.lead_id), str(row.created_at)[:19], released, terminal(row.reason))
    console.print(table)


@quarantine_app.command("release")
def quarantine_release(
    lead_id: Annotated[str, typer.Argument(help="The CRM id of the lead")],
    source: Annotated[str | None, typer.Option(help="Its source (default: the configured CRM)")] = None,
) -> None:
    """Route the lead again on the next run (fix its data in the CRM first)."""
    from leadrouter.store import open_store
    from leadrouter.store.quarantine import release

    settings = Settings()
    with open_store(settings.store_url) as store:
        released = release(store, source or settings.crm, lead_id)
    if not released:
        fail(f"{lead_id} is not in the quarantine of {source or settings.crm}")
    console.print(f"released {terminal(lead_id)}: the next route-inbound run fetches and routes it")


def main() -> None:
    app()
