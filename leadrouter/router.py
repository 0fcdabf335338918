"""Everything a routing run needs, built once from settings: the store, the CRM, the rulebook, the roster."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd

from leadrouter import warm
from leadrouter.assign.roster import Roster, load_roster
from leadrouter.classify.conversion.routing import Scorer, open_scorer
from leadrouter.classify.model import Model, ModelChain
from leadrouter.classify.rules import Rulebook, load_rulebook
from leadrouter.config import ConfigError, Settings
from leadrouter.crm.base import CRM
from leadrouter.departures import deactivated_in_crm
from leadrouter.enrich.firmographics import HttpProvider, Provider
from leadrouter.enrich.territory import Territories, load_territories
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.schema import Tier
from leadrouter.store import Store, open_store

log = logging.getLogger(__name__)


class Router:
    """A plain class, not a dataclass: Prefect walks dataclass and pydantic task arguments field by field, and the
    rulebook and roster made that thousands of visits on every task call."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        crm: CRM,
        rulebook: Rulebook,
        roster: Roster,
        territories: Territories,
        provider: Provider | None = None,
        chain: ModelChain | None = None,
        scorer: Scorer | None = None,
        deactivated: list[str] | None = None,
    ) -> None:
        self.settings, self.store, self.crm = settings, store, crm
        self.rulebook, self.roster, self.territories = rulebook, roster, territories
        self.provider, self.chain, self.scorer = provider, chain, scorer
        # roster reps whose CRM user is deactivated: switched off in self.roster for this run
        self.deactivated = deactivated or []

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.store.dispose()

    def replace(self, **changes: object) -> Router:
        """A copy with some parts swapped (a simulated day moves the clock, a test swaps the rulebook)."""
        return Router(**{**vars(self), **changes})

    @property
    def source(self) -> str:
        return self.crm.name

    def ledger_source(self, shadow: bool) -> str:
        """Shadow runs keep a ledger of their own (decisions, watermark), so they never take leads from live routing."""
        return f"{self.source}:shadow" if shadow else self.source


def open_crm(settings: Settings) -> CRM:
    """The sandbox CRM. Salesforce and HubSpot hold credentials, so their Prefect blocks build them."""
    if settings.crm != "sandbox":
        raise ValueError(
            f"crm {settings.crm!r} is built from its connection block: set crm_block "
            "(LEADROUTER_CRM_BLOCK) to the block's name and run through the flow"
        )
    return SandboxCRM(settings.sandbox_path, latency_s=settings.sandbox_latency_s)


def open_router(
    settings: Settings,
    crm: CRM | None = None,
    remote_model: Callable[[Store], Model] | None = None,
    departures: bool = True,
) -> Router:
    """Load config first, so a bad rulebook or roster fails before anything touches the store or the CRM.

    remote_model: builds Claude (from its Prefect block) on the store, which caches its answers; the local
    model always stands behind it.
    departures: ask the CRM for its deactivated users now (switch_off_deactivated); False leaves that call to
    the caller, which makes it beside other CRM calls and routes with the router it returns (until then the
    roster still has those reps, and no scorer is loaded)."""
    # a warm worker's runs share the parsed files (until one changes) and the CRM's owners (for a minute)
    rulebook = _rulebook(settings)
    routing_crm = cache(lambda: crm or open_crm(settings))
    roster = routing_roster(settings, routing_crm, rulebook)
    inactive = routing_crm().inactive_owners() if departures else None
    territories = _territories(settings)
    store = open_store(settings.store_url)
    chain = open_chain(settings, rulebook, remote_model(store) if remote_model else None)
    provider = open_provider(settings)
    router = Router(settings, store, routing_crm(), rulebook, roster, territories, provider, chain)
    return router if inactive is None else switch_off_deactivated(router, inactive)


def preload(settings: Settings) -> None:
    """Read now, and keep (warm), what open_router reads of the settings' files without the CRM or the store:
    the rulebook, the roster, the territories and the local model. A worker's first run then starts as fast
    as the rest."""
    rulebook = _rulebook(settings)
    _roster_file(settings)
    _territories(settings)
    open_chain(settings, rulebook)
    # what open_scorer imports on a run's first call: scikit-learn's trees, 0.2 s
    importlib.import_module("leadrouter.classify.conversion.model")


# each file as a warm worker keeps it: parsed again only when it changes (or the custom fields do)
def _rulebook(settings: Settings) -> Rulebook:
    return warm.load_file("rulebook", settings.rulebook_path, load_rulebook, fields_stamp())


def _roster_file(settings: Settings) -> Roster:
    return warm.load_file("roster", settings.roster_path, load_roster, fields_stamp())


def _territories(settings: Settings) -> Territories:
    return warm.load_file("territories", settings.territories_path, load_territories)


def switch_off_deactivated(router: Router, inactive: pd.DataFrame) -> Router:
    """The router to route with: the reps whose CRM user is deactivated (inactive: the CRM's inactive_owners)
    switched off in its roster (no roster edit needed) and listed, and the scorer loaded for that roster.
    Asked on every run, not kept: a deactivation counts from the next run."""
    roster, gone = without_deactivated(router.roster, inactive)
    scorer = open_scorer(router.settings, vip_capacity(roster))
    if scorer is None:
        roster = without_pipeline(roster)
    return router.replace(roster=roster, scorer=scorer, deactivated=gone)


def without_pipeline(roster: Roster) -> Roster:
    """Pools balancing by pipeline need the conversion model's expected values: without a model they balance
    by count, and the log says so once at load."""
    pools = [p.name for p in roster.pools if p.balance == "pipeline"]
    if not pools:
        return roster
    log.warning(
        "pools %s balance by pipeline, but no conversion model scores leads (train one with `leadrouter model "
        "train --history`, or set LEADROUTER_TIERS_FROM): they balance by count until one does",
        ", ".join(pools),
    )
    data = roster.model_dump()
    for pool in data["pools"]:
        pool["balance"] = "count" if pool["balance"] == "pipeline" else pool["balance"]
    return Roster.model_validate(data)


def vip_capacity(roster: Roster) -> float | None:
    """Leads a day the VIP pools can answer within their SLA: the sum of their active reps' max_per_day, or
    None (no limit known) when one of them, or a queue, has no daily cap."""
    members = {roster.rep_id(m) for p in roster.pools if p.tier == Tier.VIP for m in p.reps}
    reps = {r.key: r for r in roster.reps if r.active}
    caps = [reps[m].max_per_day if m in reps else None for m in members if m in reps or roster.is_queue(m)]
    if not caps or any(c is None for c in caps):
        return None
    return float(sum(caps))


def routing_roster(settings: Settings, crm: Callable[[], CRM], rulebook: Rulebook | None = None) -> Roster:
    """The configured roster as routing uses it: checked against the rulebook's pools and owners when one is
    given, then reps listed by email get their CRM ids (crm() is called only then; deactivated users count, so
    their leads can still be found)."""
    roster = _roster_file(settings)
    if rulebook is not None:  # before the ids: a rule may name an owner by the email the roster lists
        check_rule_pools(rulebook, roster, settings.rulebook_path)
    if all(rep.id is not None for rep in roster.reps):
        return roster
    users = warm.owners(
        owners_key(settings),
        lambda: pd.concat([crm().fetch_owners(), crm().inactive_owners()], ignore_index=True),
    )
    return roster.with_crm_ids(users, settings.roster_path)


def crm_roster(
    settings: Settings, crm: Callable[[], CRM], rulebook: Rulebook | None = None
) -> tuple[Roster, list[str]]:
    """The routing roster with the reps whose CRM user is deactivated switched off, and their ids."""
    return without_deactivated(routing_roster(settings, crm, rulebook), crm().inactive_owners())


def without_deactivated(roster: Roster, inactive: pd.DataFrame) -> tuple[Roster, list[str]]:
    """The roster with its reps whose CRM user is deactivated (inactive: the CRM's inactive_owners) switched
    off, and their ids."""
    gone = deactivated_in_crm(roster, inactive)
    if gone:
        log.warning("reps deactivated in the CRM, switched off for this run: %s", ", ".join(gone))
    return (roster.without(set(gone)) if gone else roster), gone


def fields_stamp() -> tuple | None:
    """The custom fields file's stamp: the rulebook and roster are checked against its fields when parsed."""
    return warm.file_stamp(Settings().fields_path)


def owners_key(settings: Settings) -> tuple:
    """Which CRM a process keeps owners for: the settings that choose it."""
    return settings.crm, settings.crm_block, str(settings.sandbox_path)


def open_chain(
    settings: Settings, rulebook: Rulebook, remote_model: Model | None = None
) -> ModelChain | None:
    """The models that decide what rules leave open: the remote one first when there is one, then the local
    model; none when settings say so (every unresolved lead then goes to review)."""
    if settings.model == "none":
        return None
    from leadrouter.classify.local_cache import default_model

    models = [m for m in (remote_model, default_model(settings.model_dir)) if m is not None]
    return ModelChain(models, rulebook.review.confidence_threshold, settings.model_deadline_s)


def open_provider(settings: Settings) -> Provider | None:
    """The firmographics provider: an HTTP one when configured, else the sandbox's own data, else none."""
    if settings.enrichment_url:
        key = settings.enrichment_api_key.get_secret_value() if settings.enrichment_api_key else None
        return HttpProvider(settings.enrichment_url, api_key=key)
    if settings.crm == "sandbox" and Path(settings.sandbox_path).exists():
        return SandboxCRM(settings.sandbox_path).firmographics()
    return None


def check_rule_pools(rulebook: Rulebook, roster: Roster, path: Path) -> None:
    """A pool a rule names must exist in the roster and serve the rule's tier, and an owner it names must be
    on the roster; fails with the rule's line."""
    pools = {p.name: p for p in roster.pools}
    for i, rule in enumerate(rulebook.rules):
        if rule.pool and (rule.pool not in pools or pools[rule.pool].tier != rule.tier):
            problem = (
                "is not in the roster" if rule.pool not in pools else f"does not serve tier {rule.tier.value}"
            )
            line = rulebook.line_of(("rules", i, "pool"))
            raise ConfigError(path, line, f"rules[{i}].pool", f"pool {rule.pool!r} {problem}")
        if rule.owner and rule.owner not in roster.owner_ids():
            line = rulebook.line_of(("rules", i, "owner"))
            message = f"owner {rule.owner!r} is not a rep or queue of the roster: add it there first"
            raise ConfigError(path, line, f"rules[{i}].owner", message)


def init_sandbox(settings: Settings, seed: int = 7, leads: int = 200, force: bool = False) -> bool:
    """Create the store and a seeded sandbox CRM at the configured paths; False if the sandbox already existed."""
    open_store(settings.store_url).dispose()  # creates and migrates the ledger
    if Path(settings.sandbox_path).exists() and not force:
        return False
    SandboxCRM.create(settings.sandbox_path, seed=seed, leads=leads)
    return True
