"""A sandbox CRM whose new leads went through the core pipeline (no Prefect) into a SQLite ledger."""

from __future__ import annotations

from pathlib import Path

from leadrouter.assign.roster import load_roster
from leadrouter.classify import classify_leads
from leadrouter.classify.local import LocalModel
from leadrouter.classify.model import ModelChain
from leadrouter.classify.rules import load_rulebook
from leadrouter.config import PROJECT_ROOT
from leadrouter.enrich import enrich_leads
from leadrouter.enrich.territory import load_territories
from leadrouter.record import BatchContext, record_batch
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import open_store
from leadrouter.validate.suite import validate_leads
from tests.helpers.clock import WORKDAY


def routed_sandbox(
    folder: Path, model: LocalModel, seed: int, leads: int, shadow: bool = False
) -> tuple[SandboxCRM, str]:
    """The sandbox (folder/sandbox.db) and the ledger's URL (folder/ledger.db) after one recorded batch,
    classified by the shipped rulebook and `model`, assigned at the tests' working day; with shadow, the same
    batch is also recorded in the shadow ledger (source sandbox:shadow), as a shadow run of route-inbound."""
    crm = SandboxCRM.create(folder / "sandbox.db", seed=seed, leads=leads)
    new, _ = crm.fetch_new_leads(None, 10_000)
    checked = validate_leads(new)
    enriched = enrich_leads(checked.valid, crm.fetch_accounts(), None, load_territories())
    book = load_rulebook(PROJECT_ROOT / "config" / "rulebook.yaml")
    classified = classify_leads(enriched, book, ModelChain([model], 0.7))
    url = f"sqlite:///{folder}/ledger.db"
    with open_store(url) as store:
        roster = load_roster(PROJECT_ROOT / "config" / "roster.yaml")
        ctx = BatchContext("sandbox", "r1", book.version, at=WORKDAY)
        record_batch(store, ctx, classified, checked.quarantined, roster)
        if shadow:
            ctx = BatchContext("sandbox:shadow", "r1-shadow", book.version, shadow=True, at=WORKDAY)
            record_batch(store, ctx, classified, checked.quarantined, roster)
    return crm, url
