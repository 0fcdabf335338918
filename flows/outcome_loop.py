"""outcome-loop: every day, the deal each recent routing decision became, joined into the analyst tables."""

from __future__ import annotations

from datetime import timedelta

from prefect import State, flow, get_run_logger
from prefect.states import Completed

from blocks.load import load_crm, load_settings
from leadrouter import clock
from leadrouter.classify.rules import load_rulebook
from leadrouter.crm.base import chunks
from leadrouter.outcomes import join as outcomes
from leadrouter.outcomes import loop
from leadrouter.outcomes.deals import configured_stages
from leadrouter.outcomes.star import RECHECK_DAYS
from leadrouter.outcomes.stored import loop_tables
from leadrouter.outcomes.thresholds import sla_minutes
from leadrouter.router import routing_roster
from leadrouter.store import open_store
from tasks.outcome_loop import (
    build_lead_outcomes,
    fetch_outcomes,
    publish_outcome_report,
    publish_outcome_tables,
    read_first_touches,
    read_fx_rates,
    retrain_model,
    save_analyst_tables,
    save_outcomes,
    save_star_schema,
)
from tasks.shared import name_run


@flow(name="outcome-loop")
def outcome_loop(
    days: int = outcomes.HORIZON_DAYS,
    grace_days: int = 7,
    chunk: int = 2000,
    retrain: bool = True,
    settings_block: str | None = None,
    recheck_days: int = RECHECK_DAYS,
    fiscal_year_start_month: int = 1,
) -> State:
    """Decisions of the last `days` (+ `grace_days` to close them out) → their deals from the CRM, chunk by
    chunk → outcomes upserted → the first touches of those routed to a person (any tier, clock or not) → the
    per-lead frame of every decision → analyst tables and the star schema → artifacts → the local model
    retrained from what the outcomes taught (kept only if better). Deals still open are re-checked until they
    close or `recheck_days` after their decision; the star schema's calendar starts its fiscal year in
    `fiscal_year_start_month`. The run's name and final state's message say its counts."""
    settings = load_settings(settings_block)
    crm = load_crm(settings)
    now = clock.routing_now(settings)
    with open_store(settings.store_url) as store:
        due = loop.due_leads(store, crm.name, now, days + grace_days, recheck_days)
        deals, stages = 0, configured_stages(settings)
        for part in chunks(due, chunk):
            deals += save_outcomes(store, crm.name, fetch_outcomes(crm, part), now, stages)
        roster = routing_roster(settings, lambda: crm)
        queues = frozenset(roster.queues)
        touched = read_first_touches(store, crm, queues, now - timedelta(days=days + grace_days), chunk)
        frame, stints = build_lead_outcomes(store, crm.name)
        rates = read_fx_rates(store)  # one read: the tables, the headline and the report convert alike
        tables = loop_tables(frame, stints, queues, rates)
        minutes = sla_minutes(load_rulebook(settings.rulebook_path).sla)  # each tier judged by its own SLA
        headline = save_analyst_tables(store, crm.name, frame, tables, now, minutes, rates)
        star = save_star_schema(store, crm.name, frame, roster, now, recheck_days, fiscal_year_start_month)
        publish_outcome_tables(tables, headline, minutes)
        publish_outcome_report(tables, frame, now, rates)
        model = retrain_model(store, crm.name, frame, crm, settings, now) if retrain else {"kept": False}
    summary = {
        "checked": len(due),
        "deals": deals,
        "touched": len(touched),
        "leads": len(frame),
        "model_kept": bool(model.get("kept")),
        **star,
        **headline,
    }
    line = loop.loop_line(summary)
    name_run(line)
    get_run_logger().info(line)
    return Completed(message=line, data=summary)
