"""A history to learn from, read from two CRM exports through the backtest's import (its column map, cleaning
and deal linking), enriched as routing enriches, each lead joined to what its deal became."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from leadrouter import clock
from leadrouter.backtest.column_map import load_export_map
from leadrouter.backtest.deal_import import DealImport, import_deals
from leadrouter.backtest.importer import ImportResult, import_leads
from leadrouter.backtest.replay import prepare
from leadrouter.classify.card import ModelCard
from leadrouter.classify.conversion.learn import Proof, learn, with_outcomes
from leadrouter.classify.conversion.model import ConversionModel, conversion_path
from leadrouter.classify.conversion.proof import TEST_SHARE
from leadrouter.classify.local import default_model
from leadrouter.classify.rules import load_rulebook
from leadrouter.config import Settings
from leadrouter.enrich.territory import Territories, load_territories
from leadrouter.fields import LeadFields
from leadrouter.outcomes.hindsight import DEFAULT_RULES, HindsightRules


@dataclass
class History:
    leads: pd.DataFrame  # enriched leads with the outcome columns (learn.OUTCOME_COLUMNS)
    imported: ImportResult
    deals: DealImport

    @property
    def as_of(self) -> pd.Timestamp:
        """When the exports were taken, at the latest: the last lead or deal date they hold."""
        stamps = [self.leads["created_at"].max(), self.deals.deals["first_seen_at"].max(),
                  self.deals.deals["close_date"].max()]  # fmt: skip
        return max(pd.Timestamp(s) for s in stamps if pd.notna(s))


def read_history(
    leads_csv: Path, deals_csv: Path, map_path: Path, fields: LeadFields, territories: Territories
) -> History:
    """Import both exports with the map (errors name the file, line and fix), enrich, join the deals."""
    export_map = load_export_map(map_path, fields)
    imported = import_leads(leads_csv, export_map, map_path)
    deals = import_deals(deals_csv, export_map, map_path, imported.leads)
    prepared = prepare(imported.leads, territories)
    return History(with_outcomes(prepared, deals.deals), imported, deals)


def train_from_exports(
    leads_csv: Path,
    deals_csv: Path,
    map_path: Path,
    settings: Settings,
    fields: LeadFields,
    rules: HindsightRules = DEFAULT_RULES,
    as_of: pd.Timestamp | None = None,
    test_share: float = TEST_SHARE,
) -> tuple[Proof, ConversionModel]:
    """`model train --history`: read the exports, learn and prove out of time beside the configured rulebook,
    the local model and the kept conversion model; save the new one (with its card) only if it beats the
    current one. Raises TooLittleHistory (the current model stays), ConfigError for a bad map or rulebook."""
    history = read_history(
        leads_csv, deals_csv, map_path, fields, load_territories(settings.territories_path)
    )
    book = load_rulebook(settings.rulebook_path, fields)
    path = conversion_path(settings.model_dir)
    current = ConversionModel.load(path) if path.exists() else None
    proof, model = learn(
        history.leads, fields, f"history-{leads_csv.stem}-{len(history.leads)}", book,
        default_model(settings.model_dir), current, as_of or history.as_of, rules, test_share,
    )  # fmt: skip
    model.card = ModelCard(
        clock.now(), routed=proof.leads["used"], synthetic=0, label_sources={"outcome": proof.leads["used"]},
        source=leads_csv.name, held_out=proof.leads["test"], out_of_time=proof.model,
    )  # fmt: skip
    if proof.kept:
        model.save(path)
    return proof, model


def write_proof(proof: Proof, out: Path) -> list[Path]:
    """proof.json, lift.csv, calibration.csv and single_fields.csv in out; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in ("proof.json", "lift.csv", "calibration.csv", "single_fields.csv")]
    paths[0].write_text(json.dumps(proof.summary(), indent=2, default=str), encoding="utf-8")
    proof.lift.to_csv(paths[1], index=False)
    proof.calibration.to_csv(paths[2], index=False)
    fields = pd.DataFrame({"field": list(proof.single_fields), "auc": list(proof.single_fields.values())})
    fields.assign(refused=fields["field"].isin([r.field for r in proof.refused])).to_csv(
        paths[3], index=False
    )
    return paths
