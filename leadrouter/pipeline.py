"""The routing pipeline's decision chain, written once: validate → enrich → dedupe → classify → assign.

route-inbound runs these stages as Prefect tasks, one a stage, and assigns inside the ledger transaction that
records the batch (record.record_batch). What else routes leads calls this module: `leadrouter simulate`
(`simulated_lead`, then `decide`, which assigns without taking a turn), `leadrouter rules explain`
(`enriched_lead`, then `local_answer` when no rule decides), bench/per_lead and the flow tests
(`classify_batch`, then record_batch).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from leadrouter import classify, dedupe, enrich
from leadrouter.assign.turns import preview_turns
from leadrouter.classify.rules import Rulebook
from leadrouter.config import Settings
from leadrouter.enrich.territory import load_territories
from leadrouter.fields import LeadFields, configured_fields, conform_leads
from leadrouter.memory import limit_arenas
from leadrouter.router import Router, open_chain, open_provider, preload
from leadrouter.schema import LEAD_COLUMNS, Status
from leadrouter.validate import suite as validate

log = logging.getLogger(__name__)

ROUTED = "routed"  # decide's status for a lead that would get an owner
YOUNG_OBJECTS = 50_000  # allocations (less frees) between two collections of the youngest generation


def warm_up(settings: Settings | None = None) -> None:
    """What a long-lived worker loads before its first run: Great Expectations and the suite, the language
    model, and the settings' rulebook, roster, territories and local model (router.preload); the first batch
    then validates and enriches as fast as the rest. What is loaded by then lives as long as the process:
    frozen, the collector never walks it again (half a million objects, 0.26 s a full collection, a dozen of
    which a 100k backlog triggered). The youngest generation is collected every YOUNG_OBJECTS allocations, not
    700: a page's frames allocate millions of objects, nearly all freed by their count, and two thousand
    collections of a 100k backlog took 0.3 s (0.7 s with the older generations they trigger)."""
    limit_arenas()  # before the threads that would each take an arena
    validate.warm_up()
    enrich.warm_up()
    try:
        preload(settings or Settings())
    except Exception as exc:  # the run that reads a bad file fails with the loader's error; the worker starts
        log.warning("routing config not preloaded: %s", exc)
    gc.collect()  # what is garbage now is not made immortal
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS)


def unknown_fields(lead: pd.DataFrame, fields: LeadFields | None = None) -> list[str]:
    """The lead's fields that are neither the schema's columns nor a custom field: conform leaves them out."""
    names = (fields or configured_fields()).names
    return sorted(set(lead.columns) - set(LEAD_COLUMNS) - set(names))


def simulated_lead(lead: pd.DataFrame, at: datetime, fields: LeadFields | None = None) -> pd.DataFrame:
    """The lead as a batch of one to route at `at`, in the schema's columns and the custom fields: a lead given
    without an id or a creation time gets them."""
    frame = conform_leads(lead, fields or configured_fields())
    frame["lead_id"] = frame["lead_id"].fillna("simulated")
    stamp = pd.Timestamp(at)
    frame["created_at"] = frame["created_at"].fillna(stamp if stamp.tz else stamp.tz_localize("UTC"))
    return frame


def enriched_lead(
    lead: pd.DataFrame, settings: Settings, accounts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The lead in the schema's columns and the custom fields, enriched as routing enriches it (the configured
    provider and territories), for following it through a rulebook: nothing is validated, deduplicated or
    classified."""
    territories = load_territories(settings.territories_path)
    frame = conform_leads(lead, configured_fields(settings))
    return enrich.enrich_leads(frame, accounts, open_provider(settings), territories)


@dataclass(frozen=True)
class Classified:
    """A batch through the stages before assignment."""

    leads: pd.DataFrame  # the valid leads: enriched, duplicates marked, tier (<NA>: the review queue)
    quarantined: pd.DataFrame  # lead_id, reason, reasons: the rows validation stopped
    report: pd.DataFrame  # validation's report, one row a check


def classify_batch(
    router: Router,
    leads: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Classified:
    """validate → enrich → dedupe (in the CRM and within the batch) → classify, as route-inbound does.

    accounts: the CRM's accounts for matching (enrich.accounts_for_matching), loaded once per run.
    on_stage: told each stage's name (validate, enrich, dedupe, classify) as it starts.
    """
    tell = on_stage or (lambda _stage: None)
    tell("validate")
    checked = validate.validate_leads(leads)
    tell("enrich")
    enriched = enrich.enrich_leads(checked.valid, accounts, router.provider, router.territories)
    tell("dedupe")
    deduped = dedupe.find_duplicates(router.crm, enriched, router.roster)
    tell("classify")
    classified = classify.classify_leads(deduped, router.rulebook, router.chain, router.scorer)
    return Classified(classified, checked.quarantined, checked.report)


def decide(
    router: Router,
    leads: pd.DataFrame,
    at: datetime,
    accounts: pd.DataFrame | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """The whole chain on a batch, writing nothing: classify_batch, then each resolved lead's owner as of `at`,
    from the round-robin state and the reps' loads in `source`'s ledger (default: the router's CRM), taking
    no turn. One row a lead, with `status`: routed (owner, pool, assign_method, routing_path, excluded),
    review (review_reason) or quarantined (reason)."""
    batch = classify_batch(router, leads, accounts)
    resolved = batch.leads[batch.leads["tier"].notna()]
    with router.store.snapshot() as conn:  # read without locks: a simulation never holds up routing
        assigned, _ = preview_turns(
            conn, resolved, router.roster, source or router.source, router.rulebook.sla, at
        )
    parts = [
        assigned.assign(status=ROUTED),
        batch.leads[batch.leads["tier"].isna()].assign(status=Status.REVIEW.value),
        batch.quarantined.assign(status=Status.QUARANTINED.value),
    ]
    frames = [part for part in parts if len(part)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["lead_id", "status"])


def local_answer(lead: pd.DataFrame, rulebook: Rulebook, settings: Settings) -> pd.Series | None:
    """The local model's answer for an enriched lead no rule decided (`rules explain`): what routing's chain
    falls back to, no remote model asked; None when the settings turn the model off."""
    chain = open_chain(settings, rulebook)
    return None if chain is None else chain.classify(lead).iloc[0]
