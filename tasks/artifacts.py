"""Artifacts a routing run leaves in the Prefect UI."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from leadrouter.router import Router
from leadrouter.store.decisions import run_tally
from leadrouter.summary import summarize_run, summary_markdown, validation_table


@task(name="publish-routing-summary", cache_policy=NO_CACHE)
def publish_routing_summary(router: Router, ledger_source: str, run_id: str) -> dict:
    summary = summarize_run(run_tally(router.store, ledger_source, run_id), router.roster)
    create_markdown_artifact(
        key="routing-summary", markdown=summary_markdown(summary), description="Leads routed by this run"
    )
    return summary


@task(name="publish-quarantine", cache_policy=NO_CACHE)
def publish_quarantine(quarantined: pd.DataFrame) -> None:
    """The quarantined rows and why; reasons carry escaped, truncated excerpts, never raw lead text."""
    if quarantined.empty:
        return
    table = quarantined[["lead_id", "reason"]].astype(str).to_dict(orient="records")
    create_table_artifact(
        key="quarantined-leads", table=table, description="Rows validation stopped, with reasons"
    )


@task(name="publish-validation", cache_policy=NO_CACHE)
def publish_validation(reports: list[pd.DataFrame]) -> list[dict]:
    """Every expectation of the run with pass/fail counts and sample failures."""
    table = validation_table(reports)
    if table:
        create_table_artifact(
            key="validation-report",
            table=table,
            description="Each expectation: evaluated, passed, failed, samples",
        )
    return table
