"""Everything a routing run needs, built once from settings: the store, the CRM, the rulebook, the roster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leadrouter.assign.roster import Roster, load_roster
from leadrouter.classify.rules import Rulebook, load_rulebook
from leadrouter.config import Settings
from leadrouter.crm.base import CRM
from leadrouter.crm.sandbox import SandboxCRM
from leadrouter.store import Store, open_store


@dataclass
class Router:
    settings: Settings
    store: Store
    crm: CRM
    rulebook: Rulebook
    roster: Roster

    @property
    def source(self) -> str:
        return self.crm.name


def open_crm(settings: Settings) -> CRM:
    """The CRM adapter the settings name. (Salesforce and HubSpot are built by their Prefect blocks.)"""
    factories = {"sandbox": lambda: SandboxCRM(settings.sandbox_path)}
    return factories[settings.crm]()


def open_router(settings: Settings, crm: CRM | None = None) -> Router:
    """Load config first, so a bad rulebook or roster fails before anything touches the store or the CRM."""
    rulebook = load_rulebook(settings.rulebook_path)
    roster = load_roster(settings.roster_path)
    return Router(settings, open_store(settings.store_url), crm or open_crm(settings), rulebook, roster)


def init_sandbox(settings: Settings, seed: int = 7, leads: int = 200, force: bool = False) -> bool:
    """Create the store and a seeded sandbox CRM at the configured paths; False if the sandbox already existed."""
    open_store(settings.store_url).dispose()
    if Path(settings.sandbox_path).exists() and not force:
        return False
    SandboxCRM.create(settings.sandbox_path, seed=seed, leads=leads)
    return True
