"""An export's history as rules are judged on it: every usable lead, enriched as routing enriches it, with
its outcome from the deals export. Read through the backtest's import (files, column map, cleaning, deal
links), never a second reader.

A lead converted when it became an opportunity within 90 days (hindsight VIP or Standard). A lead whose
deal has no date cannot be told either way, and a lead younger than 90 days when the export was taken may
still convert: both are left out and counted, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from leadrouter.backtest.column_map import load_export_map
from leadrouter.backtest.deal_import import DealImport, import_deals
from leadrouter.backtest.importer import ImportResult, import_leads
from leadrouter.backtest.replay import DEAL_COLUMNS, prepare
from leadrouter.enrich.territory import Territories
from leadrouter.fields import LeadFields
from leadrouter.outcomes.join import HORIZON_DAYS, hindsight_tier, lead_outcomes, matured
from leadrouter.schema import Status, Tier

SOURCE = "history"
OUTCOME_COLUMNS = ["converted", "hindsight_tier", "pipeline", "days_to_opportunity"]


@dataclass
class History:
    """leads: the export's usable leads with a known outcome, oldest first: the lead and enriched columns, the
    custom fields, and OUTCOME_COLUMNS (converted: bool). young and undated: leads left out, and why."""

    leads: pd.DataFrame
    fields: LeadFields
    imported: ImportResult
    deals: DealImport
    as_of: pd.Timestamp  # when the export was taken, as far as it tells: its newest lead or deal
    young: int  # leads whose 90 days were not over at as_of
    undated: int  # leads whose opportunity has no date

    @property
    def base_rate(self) -> float:
        """The share of leads that converted."""
        return float(self.leads["converted"].mean()) if len(self.leads) else float("nan")


def load_history(leads_csv: Path, deals_csv: Path, map_path: Path, territories: Territories) -> History:
    """Import both exports through the map (errors: ConfigError, MostRowsRejected), enrich the leads and
    join each to its outcome."""
    export_map = load_export_map(map_path)
    imported = import_leads(leads_csv, export_map, map_path)
    deals = import_deals(deals_csv, export_map, map_path, imported.leads)
    prepared = prepare(imported.leads, territories)
    leads, as_of, young, undated = with_outcomes(prepared, deals.deals)
    return History(leads, export_map.fields, imported, deals, as_of, young, undated)


def with_outcomes(prepared: pd.DataFrame, deals: pd.DataFrame) -> tuple[pd.DataFrame, pd.Timestamp, int, int]:
    """The leads whose outcome is known, each with OUTCOME_COLUMNS, oldest first; as_of; how many were too
    young; how many had an undated opportunity. deals: one row per lead with a deal (DealImport.deals)."""
    created = prepared["created_at"]
    decisions = pd.DataFrame(
        {
            "source": SOURCE,
            "lead_id": prepared["lead_id"].astype("string"),
            "status": Status.RECORDED.value,
            "tier": pd.Series(pd.NA, index=prepared.index, dtype="string"),
            "decided_by": SOURCE,  # no decider: only the outcome is wanted (an all-null column fails the join)
            "owner_id": pd.Series(pd.NA, index=prepared.index, dtype="string"),
            "lead_created_at": created,
            "decided_at": created,
            "first_touch_at": pd.NaT,
        }
    )
    outcomes = (deals if len(deals) else pd.DataFrame(columns=DEAL_COLUMNS)).assign(source=SOURCE)
    events = pd.DataFrame(columns=["source", "lead_id", "kind", "owner_id", "at"])
    joined = lead_outcomes(decisions, outcomes, events, pd.DataFrame(columns=["source", "lead_id"]))
    as_of = max(created.max(), pd.to_datetime(outcomes["first_seen_at"], utc=True).max(skipna=True))
    as_of = created.max() if pd.isna(as_of) else as_of
    ripe = matured(joined, as_of)
    tiers = hindsight_tier(ripe)
    known = ripe[tiers.notna().to_numpy()].assign(
        hindsight_tier=tiers.dropna(),
        converted=tiers.dropna().isin([Tier.VIP.value, Tier.STANDARD.value]).to_numpy(dtype=bool),
    )
    outcome = known.set_index("lead_id")[OUTCOME_COLUMNS]
    leads = prepared.join(outcome, on="lead_id", how="inner").sort_values("created_at", kind="stable")
    return leads.reset_index(drop=True), as_of, len(joined) - len(ripe), int(tiers.isna().sum())


def describe(history: History) -> str:
    """One line: what was read and what was left out."""
    return (
        f"{len(history.leads):,} leads with a known outcome, {history.base_rate:.1%} converted (an opportunity "
        f"within {HORIZON_DAYS} days); left out: {history.young:,} younger than {HORIZON_DAYS} days at "
        f"{history.as_of:%Y-%m-%d}, {history.undated:,} with an undated opportunity"
    )
