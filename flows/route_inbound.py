"""route-inbound: pull new leads, validate, enrich, classify, assign and record, write owners back."""

from __future__ import annotations

import dataclasses
import time
import uuid

import pandas as pd
from prefect import State, flow, get_run_logger
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Completed

from blocks.load import load_ack_channel, load_channels, load_crm, load_remote_model, load_settings
from leadrouter.memory import release_memory
from leadrouter.messages import NOTICE_COLUMNS
from leadrouter.router import Router, open_router, switch_off_deactivated
from leadrouter.summary import counts_line
from leadrouter.validate.suite import ValidationResult
from tasks.route_inbound import (
    advance_watermark,
    classify_leads,
    enrich_leads,
    escalate_late_reviews,
    find_duplicates,
    load_accounts,
    look_up_existing,
    notify_owners,
    publish_quarantine,
    publish_routing_summary,
    publish_validation,
    pull_new_leads,
    record_decisions,
    reroute_deactivated,
    validate_leads,
)
from tasks.shared import write_assignments
from tasks.sla_watch import notify_reroutes

RELEASE_AFTER = 1_000  # leads in a page whose freed memory is handed back (a webhook's one lead has none)
LINGER_PAUSE_S = 0.3  # between two looks for new leads while a run lingers: a CRM call each


@flow(name="route-inbound")
def route_inbound(
    batch_size: int | None = None,
    max_batches: int = 20,
    shadow: bool = False,
    settings_block: str | None = None,
    linger_s: float = 0.0,
) -> State:
    """Route every lead that arrived since the last run, batch by batch. Its result is the run's summary
    (leadrouter.summary.summarize_run); its final state's message and the run's name carry the counts.

    batch_size: leads per batch (default: the settings' batch_size, LEADROUTER_BATCH_SIZE).
    shadow: decide and record, but write nothing to the CRM (compare against current routing first).
    linger_s: after routing a lead, keep looking for new ones this long (a CRM call every LINGER_PAUSE_S and
    more): a lead that arrives while a run routes is routed by that run, not by a run queued behind it.
    """
    logger = get_run_logger()
    settings = load_settings(settings_block)
    batch_size = batch_size or settings.batch_size
    run_id = flow_run.id or uuid.uuid4().hex
    channels, ack = load_channels(settings), load_ack_channel(settings)
    quarantined, reports, repairs = [], [], []
    crm, remote_model = load_crm(settings), load_remote_model(settings)
    with open_router(settings, crm=crm, remote_model=remote_model, departures=False) as opened:
        source = opened.ledger_source(shadow)
        # the first page and the accounts come from the CRM while its deactivated users do: a run's first
        # lead waits for one call, not three
        first_page = pull_new_leads.submit(opened, source, batch_size, batch=1)
        accounts = load_accounts.submit(opened)
        router = switch_off_deactivated(opened, opened.crm.inactive_owners())
        # nobody deactivated (most runs): no task run to wait for
        departed = reroute_deactivated(router) if router.deactivated and not shadow else None
        if departed is not None and len(departed):
            write_assignments(router, claim=run_id)
            notify_reroutes(router, departed, channels)
        lingers_until, behind = 0.0, None
        for batch in range(
            1, max_batches + 1
        ):  # each task run is named by its batch: validate-leads[batch 2]
            if batch == 1:
                leads, cursor = first_page.result()
                first_page = None  # a finished future keeps its result: the first page would outlive its turn
            else:
                # read on after the last page, whose watermark moves once its owners are written
                leads, cursor = pull_new_leads(router, source, batch_size, batch=batch, after=cursor)
            # a later page of only decided leads (our own owner writes re-surface them) has nothing to route
            if batch == 1 or not leads.empty:
                kept, behind = route_page(
                    router, leads, cursor, accounts, channels, ack, run_id, shadow, batch, behind
                )
                quarantined.append(kept.quarantined)
                reports.append(kept.report)
                repairs.append(kept.repairs)
            else:
                settle(router, source, behind)
                behind = None
                advance_watermark(router, source, cursor, batch=batch)
            routed, leads = len(leads), None  # the next page is pulled while this name holds the last one
            empty = not routed
            if routed >= RELEASE_AFTER:
                # the page's frames are gone, but glibc keeps their pages: the next page would peak on top.
                # Their cycles are young: a full collection also walks what the run keeps (40 ms a page), for
                # the same peak
                release_memory(generation=1)
            if not empty:
                lingers_until = time.monotonic() + linger_s
            # a later page with nothing undecided is our own writes coming back (a 100k backlog's 100k):
            # reading on would only drop them; anything behind them is the next run's, unless it lingers
            if cursor is None or (batch > 1 and empty):
                if time.monotonic() >= lingers_until:
                    break
                time.sleep(LINGER_PAUSE_S)
        settle(router, source, behind)
        accounts.result()  # an empty poll used none: its call still ends (or fails) inside the run
        escalate_late_reviews(router, source, channels)
        # the artifacts are independent API calls: made at once, the run ends (and the next queued run
        # starts) sooner; every owner is written by now
        published = [
            publish_quarantine.submit(pd.concat(quarantined, ignore_index=True)),
            publish_validation.submit(reports),
        ]
        summary = publish_routing_summary(router, source, run_id, repairs, departed)
        for future in published:
            future.result()  # a failed artifact fails the run, as before
    counts = counts_line(summary)
    logger.info("routed %s", counts)
    return Completed(message=counts, data=summary)


@dataclasses.dataclass(frozen=True)
class Behind:
    """A page's write-back and notices, running while the next page is pulled and validated (the CRM's and the
    ledger's time overlaps the router's own), and the cursor its watermark moves to once they are done."""

    futures: tuple[PrefectFuture, ...]
    cursor: str | None
    batch: int


def settle(router: Router, source: str, behind: Behind | None) -> None:
    """Wait for the last page's write-back and notices, raising what they raised; then move its watermark."""
    if behind is None:
        return
    for future in behind.futures:  # in stage order: a failed write raises its own error, not the notices'
        future.result()
    advance_watermark(router, source, behind.cursor, batch=behind.batch)


def route_page(
    router: Router,
    leads: pd.DataFrame,
    cursor: str | None,
    accounts: PrefectFuture,
    channels: dict,
    ack: dict,
    run_id: str,
    shadow: bool,
    batch: int,
    behind: Behind | None,
) -> tuple[ValidationResult, Behind]:
    """One page through validation, enrichment, duplicates, classification and the ledger; its CRM write and
    notices then run behind the next page (see Behind), which settles the last page's before it looks up
    duplicates: the CRM has that page's owners by then. Returns what the run's artifacts need of its
    validation (the valid leads left out), and the page's Behind. Its stage frames die when it returns: held
    by the loop, a page's would stay alive while the next page is pulled and routed."""
    # the CRM is asked for the page's emails while validation runs (unless the last page's owners are still
    # being written: then while enrichment runs): find-duplicates then waits for no call of its own
    looked_up = look_up_existing.submit(router, leads, batch=batch) if behind is None else None
    checked = validate_leads(leads, batch=batch)
    if behind is not None:
        settle(router, router.ledger_source(shadow), behind)
        looked_up = look_up_existing.submit(router, leads, batch=batch)
    # one name for the page as it goes through the stages: each stage's frame dies when the next one's is made
    frame, checked = checked.valid, dataclasses.replace(checked, valid=checked.valid.iloc[:0])
    frame = enrich_leads(frame, router, accounts, batch=batch)
    frame = find_duplicates(router, frame, looked_up.result(), batch=batch)
    frame = classify_leads(frame, router, batch=batch)
    # recorded claimed for this run's write-back, which then takes them without rewriting their rows
    recorded = record_decisions(
        router, frame, checked.quarantined, run_id, shadow, batch=batch, write_claim=run_id
    )
    frame = None
    if shadow:
        return checked, Behind((), cursor, batch)
    # the write also finishes what a crashed run recorded
    written = write_assignments.submit(router, claim=run_id, batch=batch)
    # only what the notices say of each lead outlives the page while its owners are written
    told = recorded.filter(items=NOTICE_COLUMNS)
    notified = notify_owners.submit(router, told, written, channels, ack, batch=batch)
    return checked, Behind((written, notified), cursor, batch)
