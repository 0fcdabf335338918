"""`model train --history`: the conversion model learnt from two CRM exports (read by the one history reader,
leadrouter.backtest.history) and proven out of time; its proof written as files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from leadrouter import clock
from leadrouter.backtest.history import read_history
from leadrouter.classify.card import ModelCard
from leadrouter.classify.conversion.learn import Proof, learn
from leadrouter.classify.conversion.model import ConversionModel, conversion_path
from leadrouter.classify.conversion.proof import TEST_SHARE
from leadrouter.classify.local_cache import default_model
from leadrouter.classify.rules import load_rulebook
from leadrouter.config import Settings
from leadrouter.enrich.territory import load_territories
from leadrouter.fields import LeadFields, configured_fields, load_fields
from leadrouter.outcomes.hindsight import HindsightRules, configured_rules


def train_from_exports(
    leads_csv: Path,
    deals_csv: Path,
    map_path: Path,
    settings: Settings,
    fields: LeadFields,
    rules: HindsightRules | None = None,
    as_of: pd.Timestamp | None = None,
    test_share: float = TEST_SHARE,
    allowed: frozenset[str] | None = None,
) -> tuple[Proof, ConversionModel]:
    """`model train --history`: read the exports, learn and prove out of time beside the configured rulebook,
    the local model and the kept conversion model; save the new one (with its card) only if it beats the
    current one. allowed: suspected fields confirmed as known at arrival (default: settings.allow_fields).
    Raises TooLittleHistory (the current model stays), ConfigError for a bad map or rulebook."""
    rules = rules if rules is not None else configured_rules(settings)
    territories = load_territories(settings.territories_path)
    history = read_history(leads_csv, deals_csv, map_path, territories, fields, rules)
    book = load_rulebook(settings.rulebook_path, fields)
    path = conversion_path(settings.model_dir)
    current = ConversionModel.load(path) if path.exists() else None
    proof, model = learn(
        history.leads, fields, f"history-{leads_csv.stem}-{len(history.leads)}", book,
        default_model(settings.model_dir), current, as_of or history.as_of, rules, test_share,
        frozenset(settings.allow_fields) if allowed is None else allowed,
    )  # fmt: skip
    model.card = ModelCard(
        clock.now(), routed=proof.leads["used"], synthetic=0, label_sources={"outcome": proof.leads["used"]},
        source=leads_csv.name, held_out=proof.leads["test"], out_of_time=proof.model,
    )  # fmt: skip
    if proof.kept:
        model.save(path)
    return proof, model


@dataclass(frozen=True)
class HistoryOptions:
    """What one `model train --history` run overrides; None or empty: the settings' own."""

    fields_path: Path | None = None
    vip_share: float | None = None  # VIP in hindsight: the top share of won deals
    vip_amount: float | None = None  # VIP in hindsight: at least this amount (wins over a share)
    test_share: float = TEST_SHARE
    allow_fields: tuple[str, ...] = ()  # added to settings.allow_fields
    out: Path | None = None  # where the proof goes (default: <model dir>/proof)


def train_configured(
    leads_csv: Path, deals_csv: Path, map_path: Path, settings: Settings, options: HistoryOptions
) -> tuple[Proof, list[Path]]:
    """train_from_exports on the settings overridden by the run's options (an amount, from either, wins over a
    share), its proof written (write_proof); the proof and the paths written."""
    fields = load_fields(options.fields_path) if options.fields_path else configured_fields(settings)
    configured = configured_rules(settings)
    rules = HindsightRules(
        options.vip_share if options.vip_share is not None else configured.vip_share,
        options.vip_amount if options.vip_amount is not None else configured.vip_amount,
    )
    allowed = frozenset([*settings.allow_fields, *options.allow_fields])
    proof, _ = train_from_exports(
        leads_csv, deals_csv, map_path, settings, fields, rules, None, options.test_share, allowed
    )
    return proof, write_proof(proof, options.out or Path(settings.model_dir) / "proof")


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
