"""route-inbound's tasks in stage order: load accounts, pull, look up existing records, validate, enrich, find
duplicates, classify, record, notify owners (the write is tasks.shared), advance the watermark, escalate late reviews, publish."""

from __future__ import annotations

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from leadrouter import classify, clock, dedupe, departures, enrich, notify, pull, record, review
from leadrouter.messages import acknowledgements, assignment_messages
from leadrouter.router import Router
from leadrouter.store import watermarks
from leadrouter.store.decisions import run_tally
from leadrouter.summary import (
    counts_line,
    owner_names,
    repair_counts,
    summarize_run,
    summary_markdown,
)
from leadrouter.validate import suite as validate
from leadrouter.validate.tables import quarantine_table, validation_table
from tasks.options import LEDGER, ONCE, by_batch


@task(name="reroute-deactivated", **LEDGER)
def reroute_deactivated(router: Router) -> pd.DataFrame:
    """Untouched leads of reps whose CRM user was deactivated, re-routed through the pools."""
    at = clock.routing_now(router.settings)
    sla = router.rulebook.sla
    return departures.reroute_departed(
        router.store, router.source, router.roster, router.deactivated, sla, at
    )


@task(name="load-accounts", **ONCE)
def load_accounts(router: Router) -> pd.DataFrame:
    return enrich.accounts_for_matching(router.crm)


@task(**by_batch("pull-new-leads"), **ONCE)
def pull_new_leads(
    router: Router, ledger_source: str, limit: int, batch: int = 1, after: str | None = None
) -> tuple[pd.DataFrame, str | None]:
    """The next page (after the cursor `after`, else the watermark); a run's first page (batch 1) also looks
    back for late commits and brings released leads."""
    first = batch == 1
    lookback_s = router.settings.lookback_s if first else 0.0
    return pull.pull_new_leads(
        router.store, router.crm, ledger_source, limit, lookback_s, with_released=first, after=after
    )


@task(**by_batch("validate-leads"), **ONCE)
def validate_leads(leads: pd.DataFrame, batch: int = 1) -> validate.ValidationResult:
    return validate.validate_leads(leads)


@task(**by_batch("enrich-leads"), **ONCE)
def enrich_leads(leads: pd.DataFrame, router: Router, accounts: pd.DataFrame, batch: int = 1) -> pd.DataFrame:
    return enrich.enrich_leads(leads, accounts, router.provider, router.territories)


@task(**by_batch("look-up-existing"), **ONCE)
def look_up_existing(router: Router, page: pd.DataFrame, batch: int = 1) -> dedupe.LookedUp:
    """The CRM's leads and contacts with the page's emails, asked while validation runs."""
    return dedupe.look_up(router.crm, page)


@task(**by_batch("find-duplicates"), **ONCE)
def find_duplicates(
    router: Router, leads: pd.DataFrame, looked_up: dedupe.LookedUp | None = None, batch: int = 1
) -> pd.DataFrame:
    return dedupe.find_duplicates(router.crm, leads, router.roster, looked_up)


@task(**by_batch("classify-leads"), **ONCE)
def classify_leads(leads: pd.DataFrame, router: Router, batch: int = 1) -> pd.DataFrame:
    return classify.classify_leads(leads, router.rulebook, router.chain, router.scorer)


@task(**by_batch("record-decisions"), **LEDGER)
def record_decisions(
    router: Router,
    classified: pd.DataFrame,
    quarantined: pd.DataFrame,
    run_id: str,
    shadow: bool,
    batch: int = 1,
    write_claim: str | None = None,
) -> pd.DataFrame:
    """Assign owners and commit the decisions; a retry after a lost commit re-decides nothing already decided.
    write_claim: the claim of the write-back that follows, which takes the decisions as recorded (see
    record.BatchContext.claim)."""
    book = router.rulebook
    source, at = router.ledger_source(shadow), clock.routing_now(router.settings)
    ctx = record.BatchContext(
        source, run_id, book.version, shadow, book.review.sla, book.sla, at, write_claim
    )
    return record.record_batch(router.store, ctx, classified, quarantined, router.roster)


@task(**by_batch("notify-owners"), **ONCE)
def notify_owners(
    router: Router, recorded: pd.DataFrame, written: pd.DataFrame, channels: dict, ack: dict, batch: int = 1
) -> pd.DataFrame:
    """Each rep whose new lead was written to the CRM hears of it, with its context; with the acknowledgement
    hook on, a lead whose owner is off work gets a note saying who will reach out and when. Failures are
    recorded, never raised: a broken channel never stops routing."""
    if recorded.empty or written.empty or not (channels or ack):
        return pd.DataFrame()
    done = recorded[recorded["lead_id"].isin(written.loc[written["ok"].astype(bool), "lead_id"])]
    messages = assignment_messages(done, router.roster, "assigned", router.settings.crm_link_template)
    sent = notify.deliver(router.store, router.source, messages, channels) if channels else pd.DataFrame()
    if ack:
        at = clock.routing_now(router.settings)
        notify.deliver(router.store, router.source, acknowledgements(done, router.roster, at), ack)
    return sent


@task(**by_batch("advance-watermark"), **LEDGER)
def advance_watermark(router: Router, ledger_source: str, cursor: str | None, batch: int = 1) -> None:
    watermarks.advance_watermark(router.store, ledger_source, cursor)


@task(name="escalate-late-reviews", **ONCE)  # it sends messages: a retry could send them twice
def escalate_late_reviews(router: Router, source: str, channels: dict | None = None) -> int:
    """Review items past their due time go to the roster's escalation manager, who is told on the configured
    channels; the run's log says how many."""
    escalated = review.escalate_overdue(
        router.store, source, router.roster, clock.routing_now(router.settings)
    )
    if len(escalated) and channels:
        lines = [f"{row.lead_id}: was due {row.due_at:%Y-%m-%d %H:%M} UTC" for row in escalated.itertuples()]
        subject = f"{len(escalated)} review items are past their due time"
        notify.tell_manager(router.store, source, router.roster, "escalation", subject, lines[:50], channels)
    if len(escalated):
        get_run_logger().warning(
            "%d review items are late and escalated to %s",
            len(escalated),
            router.roster.escalation or "nobody",
        )
    return len(escalated)


@task(name="publish-quarantine", **ONCE)
def publish_quarantine(quarantined: pd.DataFrame) -> None:
    """Each quarantined lead's failed checks, blocking first, then warnings: lead, check, field, value, fix."""
    table = quarantine_table(quarantined)
    if table:
        create_table_artifact(
            key="quarantined-leads",
            table=table,
            description="Leads validation stopped: blocking failures first, then the warnings they also carry",
        )


@task(name="publish-validation", **ONCE)
def publish_validation(reports: list[pd.DataFrame]) -> list[dict]:
    """Every expectation of the run with pass/fail counts and sample failures."""
    table = validation_table(reports)
    if any(
        row["evaluated"] for row in table
    ):  # an empty poll leaves the key's history to the runs that routed
        create_table_artifact(
            key="validation-report",
            table=table,
            description="Each expectation: evaluated, passed, failed, samples",
        )
    return table


@task(name="publish-routing-summary", **ONCE)
def publish_routing_summary(
    router: Router,
    ledger_source: str,
    run_id: str,
    repairs: list[pd.DataFrame] | None = None,
    departed: pd.DataFrame | None = None,
) -> dict:
    """The run's counts: its routing-summary artifact (when it routed any lead), and its name in the run list
    (`222 leads: 203 written · 8 quarantined · 11 review`, `no new leads`), so a busy run stands out.
    repairs: each batch's values repaired before validation, counted per field and how."""
    summary = summarize_run(run_tally(router.store, ledger_source, run_id), router.roster)
    summary["repaired"] = repair_counts(repairs or [])
    summary["deactivated"] = departed_counts(router, departed)
    counts = counts_line(summary)
    if (
        summary["leads"] or summary["deactivated"]
    ):  # a key's versions are the runs that routed something, not every 30 s poll
        create_markdown_artifact(
            key="routing-summary", markdown=summary_markdown(summary), description=f"This run: {counts}"
        )
    if flow_run.id:
        with get_client(sync_client=True) as client:
            client.set_flow_run_name(flow_run.id, counts)
    return summary


def departed_counts(router: Router, departed: pd.DataFrame | None) -> dict[str, int]:
    """Per rep deactivated in the CRM (by name): how many of their untouched leads this run re-routed."""
    names = owner_names(router.roster)
    moved = departed["old_owner_id"].value_counts() if departed is not None and len(departed) else pd.Series()
    return {names.get(rep, rep): int(moved.get(rep, 0)) for rep in router.deactivated}
