"""An export's history: every usable lead of a leads export, enriched as routing enriches it, joined through
the outcome loop's own join (leadrouter.outcomes.join.lead_outcomes) to what its deal became, and labelled by
hindsight (leadrouter.outcomes.hindsight). The one reader of a history: rule mining and `rules check
--history` judge rules on it, `model train --history` learns from it.

A lead whose opportunity has no date cannot be told either way, and a lead younger than 90 days when the
export was taken may still convert: both are left out of `known` and counted, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from leadrouter.backtest.column_map import load_export_map
from leadrouter.backtest.deal_import import DealImport, import_deals
from leadrouter.backtest.importer import ImportResult, import_leads
from leadrouter.backtest.outcome_frame import deal_rows
from leadrouter.backtest.replay import prepare
from leadrouter.enrich.territory import Territories
from leadrouter.fields import LeadFields
from leadrouter.outcomes.hindsight import OUTCOME_COLUMNS, HindsightRules, configured_rules, labelled
from leadrouter.outcomes.join import lead_outcomes
from leadrouter.schema import Status

SOURCE = "history"


@dataclass
class History:
    """leads: every usable lead of the export, enriched, with OUTCOME_COLUMNS; known: those whose outcome is
    told (hindsight, hindsight_reason, a bool converted), oldest first; counts: given, undated, immature, used."""

    leads: pd.DataFrame
    fields: LeadFields
    imported: ImportResult
    deals: DealImport
    as_of: pd.Timestamp  # when the export was taken, as far as it tells (export_as_of)
    rules: HindsightRules = field(default_factory=configured_rules)

    @cached_property
    def _labelled(self) -> tuple[pd.DataFrame, dict[str, int]]:
        return labelled(self.leads, self.rules, self.as_of)

    @property
    def known(self) -> pd.DataFrame:
        """The leads whose outcome is known, oldest first, with hindsight, hindsight_reason and converted."""
        return self._labelled[0]

    @property
    def counts(self) -> dict[str, int]:
        """given, undated (an opportunity without a date), immature (younger than 90 days at as_of), used."""
        return self._labelled[1]

    @property
    def base_rate(self) -> float:
        """The share of the known leads that converted."""
        return float(self.known["converted"].mean()) if len(self.known) else float("nan")


def read_history(
    leads_csv: Path,
    deals_csv: Path,
    map_path: Path,
    territories: Territories,
    fields: LeadFields | None = None,
    rules: HindsightRules | None = None,
) -> History:
    """Import both exports through the map (fields: config/fields.yaml when None; errors: ConfigError,
    MostRowsRejected), enrich the leads and join each to its deal."""
    export_map = load_export_map(map_path, fields)
    imported = import_leads(leads_csv, export_map, map_path)
    deals = import_deals(deals_csv, export_map, map_path, imported.leads)
    leads = with_outcomes(prepare(imported.leads, territories), deals.deals)
    return History(
        leads,
        export_map.fields,
        imported,
        deals,
        export_as_of(leads, deals.deals),
        rules if rules is not None else configured_rules(),
    )


def with_outcomes(leads: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Leads with OUTCOME_COLUMNS from their deals (deals: one row per linked deal, DealImport.deals' shape)."""
    decisions = pd.DataFrame(
        {
            "source": SOURCE, "lead_id": leads["lead_id"].astype("string"), "status": Status.RECORDED.value,
            "tier": pd.Series(pd.NA, index=leads.index, dtype="string"),
            "decided_by": SOURCE,  # no decider: only the outcome is wanted
            "owner_id": pd.Series(pd.NA, index=leads.index, dtype="string"),
            "lead_created_at": leads["created_at"], "decided_at": leads["created_at"], "first_touch_at": pd.NaT,
        }
    )  # fmt: skip
    outcomes = deal_rows(deals, SOURCE)
    none = pd.DataFrame(columns=["source", "lead_id", "kind", "owner_id", "at"])
    frame = lead_outcomes(decisions, outcomes, none, none[["source", "lead_id"]])
    joined = frame.set_index("lead_id")[OUTCOME_COLUMNS]
    return leads.drop(columns=[c for c in OUTCOME_COLUMNS if c in leads]).join(joined, on="lead_id")


def export_as_of(leads: pd.DataFrame, deals: pd.DataFrame) -> pd.Timestamp:
    """When the exports were taken, at the earliest it can be: the newest lead, deal sighting or closed deal's
    close date (an open deal's close date is a forecast, possibly in the future)."""
    stamps = [leads["created_at"].max()]
    if len(deals):
        closed = deals["close_date"][deals["is_closed"].fillna(False).astype(bool).to_numpy()]
        stamps += [
            pd.to_datetime(deals["first_seen_at"], utc=True).max(),
            pd.to_datetime(closed, utc=True).max(),
        ]
    return max(pd.Timestamp(s) for s in stamps if pd.notna(s))


def describe(history: History) -> str:
    """One line: what was read and what was left out."""
    counts, days = history.counts, history.rules.horizon_days
    return (
        f"{counts['used']:,} leads with a known outcome, {history.base_rate:.1%} converted (an opportunity "
        f"within {days} days); left out: {counts['immature']:,} younger than {days} days at "
        f"{history.as_of:%Y-%m-%d}, {counts['undated']:,} with an undated opportunity"
    )
