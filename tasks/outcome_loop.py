"""outcome-loop's tasks in stage order: fetch each lead's deal from the CRM, save it, read the first touches of
leads routed to a person, build the per-lead frame, save and publish the tables, retrain the local model."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from leadrouter import sla
from leadrouter.assign.roster import Roster
from leadrouter.classify import training
from leadrouter.config import Settings
from leadrouter.crm.base import CRM
from leadrouter.outcomes import loop, report, stored, warehouse
from leadrouter.outcomes import tables as outcome_tables
from leadrouter.outcomes.deals import DealStages
from leadrouter.store import Store
from tasks.options import LEDGER, ONCE

PROBLEMS_LOGGED = 20  # a CRM with thousands of bad amounts logs the first ones and the count


@task(name="fetch-outcomes", **ONCE)
def fetch_outcomes(crm: CRM, lead_ids: list[str]) -> pd.DataFrame:
    """The deal each lead became (leads without one are absent), from the CRM."""
    return crm.fetch_outcomes(lead_ids)


@task(name="save-outcomes", **LEDGER)
def save_outcomes(store: Store, source: str, fetched: pd.DataFrame, at: datetime, stages: DealStages) -> int:
    """Upsert the deals (outcomes.loop.save_deals); values the CRM sent that cannot be used are logged with the
    fix, never fatal."""
    saved, problems = loop.save_deals(store, source, fetched, at, stages)
    logger = get_run_logger()
    for problem in problems[:PROBLEMS_LOGGED]:
        logger.warning(problem)
    if len(problems) > PROBLEMS_LOGGED:
        logger.warning("%d more unusable outcome values", len(problems) - PROBLEMS_LOGGED)
    return saved


@task(name="read-first-touches", **ONCE)
def read_first_touches(
    store: Store, crm: CRM, queues: frozenset[str], since: datetime, chunk: int
) -> pd.DataFrame:
    """The first touch of every lead routed to a person since `since`, whatever its tier or clock, from the CRM."""
    return sla.read_touches(store, crm, crm.name, queues, since, chunk)


@task(name="build-lead-outcomes", **ONCE)
def build_lead_outcomes(store: Store, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every routed lead of the source joined to its SLA history and its deal; and each lead once per owner who
    had it (the rep and queue tables' rows)."""
    return stored.build_outcomes(store, source)


@task(name="read-fx-rates", **ONCE)
def read_fx_rates(store: Store) -> pd.DataFrame:
    """The user's fx_rates rows: deal amounts in several currencies are compared and summed through them."""
    return stored.fx_rates(store)


@task(name="save-analyst-tables", **LEDGER)
def save_analyst_tables(
    store: Store,
    source: str,
    frame: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    at: datetime,
    minutes: dict,
    rates: pd.DataFrame,
) -> dict[str, float | None]:
    """The analyst tables and headline figures of the per-lead frame, saved for the report and retraining."""
    return stored.save_outcome_tables(store, source, frame, tables, at, minutes, rates)


@task(name="save-star-schema", **LEDGER)
def save_star_schema(
    store: Store, source: str, frame: pd.DataFrame, roster: Roster, at: datetime, recheck_days: int,
    fiscal_start_month: int,
) -> dict[str, int]:  # fmt: skip
    """The fact table, the rep dimension (history kept), the calendar and the day's snapshot."""
    return warehouse.save_star_schema(store, source, frame, roster, at, recheck_days, fiscal_start_month)


@task(name="publish-outcome-tables", **ONCE)
def publish_outcome_tables(
    tables: dict[str, pd.DataFrame], headline: dict[str, float | None], minutes: dict
) -> None:
    create_markdown_artifact(
        outcome_tables.tables_markdown(tables, headline, minutes),
        key="outcome-tables",
        description="Routing outcomes by tier beside the operating thresholds",
    )


@task(name="publish-outcome-report", **ONCE)
def publish_outcome_report(
    tables: dict[str, pd.DataFrame], frame: pd.DataFrame, as_of: datetime, rates: pd.DataFrame
) -> None:
    """The full report (leadrouter.outcomes.report): charts, VIP precision and recall, Nurture turned hot, rules to re-tier."""
    create_markdown_artifact(
        report.report_markdown(tables, frame, as_of=pd.Timestamp(as_of), rates=rates),
        key="outcome-report",
        description="Conversion by tier, speed to lead, rules to re-tier",
    )


@task(name="retrain-model", **ONCE)
def retrain_model(
    store: Store, source: str, frame: pd.DataFrame, crm: CRM, settings: Settings, at: datetime
) -> dict:
    """The local model retrained on rule and reviewer labels corrected by conclusive outcomes; the router uses it
    only if it beats the current model on held-out routed leads."""
    try:
        return training.retrain_configured(store, settings, crm, source, at, outcomes=frame)
    except training.TooFewLabels as exc:
        get_run_logger().info("model not retrained: %s", exc)
        return {"kept": False, "skipped": str(exc)}
