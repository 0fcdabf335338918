"""Retraining the local model from routed history: what rules and people decided, corrected by what the deals
became (leadrouter.outcomes.feedback.outcome_labels), with the leads re-read from the CRM (the ledger keeps decisions,
not lead text). A retrained model replaces the current one only if it is at least as accurate on held-out
routed leads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from leadrouter import clock
from leadrouter.classify.card import ModelCard, label_counts
from leadrouter.classify.conversion.learn import learn
from leadrouter.classify.conversion.model import ConversionModel, conversion_path
from leadrouter.classify.conversion.proof import TooLittleHistory
from leadrouter.classify.history import labelled_history
from leadrouter.classify.local import LocalModel
from leadrouter.classify.local_cache import default_model, trained_path
from leadrouter.config import Settings
from leadrouter.crm.base import CRM, chunks
from leadrouter.enrich import accounts_for_matching, enrich_leads
from leadrouter.enrich.firmographics import Provider
from leadrouter.enrich.territory import Territories, load_territories
from leadrouter.fields import LeadFields, configured_fields
from leadrouter.outcomes.feedback import outcome_labels
from leadrouter.outcomes.hindsight import OUTCOME_COLUMNS
from leadrouter.outcomes.stored import stored_outcomes
from leadrouter.router import open_provider
from leadrouter.store import Store
from leadrouter.store.history import decided_labels
from leadrouter.store.outcomes import read_rates
from leadrouter.validate.suite import validate_leads

FETCH_CHUNK = 500


def labelled_leads(
    labels: pd.DataFrame,
    crm: CRM,
    territories: Territories | None,
    provider: Provider | None = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The labelled leads as the router saw them: fetched by id, validated and enriched, labels joined."""
    fetched = [crm.fetch_leads(part) for part in chunks(labels["lead_id"].tolist(), FETCH_CHUNK)]
    leads = pd.concat(fetched, ignore_index=True) if fetched else pd.DataFrame(columns=["lead_id"])
    if leads.empty:
        return leads
    enriched = enrich_leads(validate_leads(leads).valid, accounts, provider, territories)
    return enriched.merge(
        labels.rename(columns={"tier": "label_tier", "category": "label_category"}), on="lead_id"
    )


@dataclass
class Retrained:
    model: LocalModel
    labels: int  # routed leads it learnt from
    synthetic: int  # generated leads mixed in
    holdout_accuracy: float  # tier accuracy on a fifth of the routed leads, held out
    baseline_accuracy: float  # the model it replaces, on the same fifth
    held_out: int = 0  # the routed leads held out


def retrain(
    history: pd.DataFrame, synthetic: pd.DataFrame | None, baseline: LocalModel, name: str
) -> Retrained:
    """Train on four fifths of the routed history (plus synthetic leads), compare with the current model on
    the fifth held out, then refit on everything."""
    holdout = history.sample(frac=0.2, random_state=0) if len(history) >= 50 else history.iloc[:0]
    train = history.drop(holdout.index)
    parts = [train, synthetic] if synthetic is not None else [train]
    fit_on = pd.concat(parts, ignore_index=True)
    model = LocalModel.train(fit_on, fit_on["label_tier"], fit_on["label_category"], name)
    accuracy, baseline_accuracy = (
        float((m.classify(holdout)["tier"] == holdout["label_tier"]).mean()) if len(holdout) else float("nan")
        for m in (model, baseline)
    )
    everything = pd.concat([history, *([] if synthetic is None else [synthetic])], ignore_index=True)
    final = LocalModel.train(everything, everything["label_tier"], everything["label_category"], name)
    return Retrained(
        final,
        len(history),
        0 if synthetic is None else len(synthetic),
        accuracy,
        baseline_accuracy,
        len(holdout),
    )


class TooFewLabels(ValueError):
    """Fewer labelled routed leads than the caller asked to train on."""

    def __init__(self, found: int, needed: int) -> None:
        super().__init__(f"only {found} labelled routed leads (rule, reviewer or outcome): need {needed}")
        self.found, self.needed = found, needed


def keep_if_better(result: Retrained, path: Path) -> bool:
    """Save the retrained model at path unless the current one is more accurate on the held-out leads (too few
    leads to hold out: nan, and the new model is kept)."""
    kept = not result.holdout_accuracy < result.baseline_accuracy
    if kept:
        result.model.save(path)
    return kept


def retrain_from_outcomes(
    store: Store,
    source: str,
    outcomes: pd.DataFrame,
    crm: CRM,
    territories: Territories | None,
    model_dir: Path | str,
    provider: Provider | None = None,
    accounts: pd.DataFrame | None = None,
    synthetic: pd.DataFrame | None = None,
    min_labels: int = 100,
    as_of: pd.Timestamp | None = None,
    allowed: frozenset[str] = frozenset(),
    fields: LeadFields | None = None,
) -> dict:
    """Retrain from rule and reviewer labels corrected by conclusive outcomes (`outcomes`: the source's
    LEAD_OUTCOME_COLUMNS frame; empty before the outcome loop first ran), keep the model only if it beats the
    current one, and say what happened; the conversion model too (retrain_conversion, `allowed` and `fields`
    passed on). Labels of one tier or one category only teach the local model nothing: it stays (`skipped`
    says why) and the conversion model is still retrained. Raises TooFewLabels below min_labels."""
    labels = outcome_labels(outcomes, decided_labels(store, source), as_of, read_rates(store))
    if len(labels) < min_labels:
        raise TooFewLabels(len(labels), min_labels)
    history = labelled_leads(labels, crm, territories, provider, accounts)
    conversion = retrain_conversion(outcomes, history, model_dir, source, as_of, fields, allowed)
    summary = {"labels": len(history), "synthetic": 0 if synthetic is None else len(synthetic),
               "outcome_labels": int((labels["label_source"] == "outcome").sum()), "conversion": conversion}  # fmt: skip
    taught = pd.concat([history, *([] if synthetic is None else [synthetic])], ignore_index=True)
    if one_sided := [c for c in ("label_tier", "label_category") if taught[c].nunique() < 2]:
        skipped = f"every label has the same {' and '.join(c.removeprefix('label_') for c in one_sided)}"
        nan = float("nan")
        return summary | {"model": default_model(model_dir).name, "holdout_accuracy": nan,
                          "previous_accuracy": nan, "kept": False, "skipped": f"{skipped}: the local model stays"}  # fmt: skip
    result = retrain(history, synthetic, default_model(model_dir), f"store-{source}-{len(history)}")
    result.model.card = training_card(result, history, source)
    kept = keep_if_better(result, trained_path(model_dir))
    return summary | {
        "model": result.model.name, "holdout_accuracy": round(result.holdout_accuracy, 4),
        "previous_accuracy": round(result.baseline_accuracy, 4), "kept": kept,
    }  # fmt: skip


def retrain_conversion(
    outcomes: pd.DataFrame,
    leads: pd.DataFrame,
    model_dir: Path | str,
    source: str,
    as_of: pd.Timestamp | None,
    fields: LeadFields | None = None,
    allowed: frozenset[str] = frozenset(),
) -> dict:
    """The conversion model learnt from the ledger's own outcomes (`outcomes`: LEAD_OUTCOME_COLUMNS; leads: the
    same leads as the router saw them), proven on the newest matured leads and kept only if it beats the
    current one there; with too few matured outcomes, says so and keeps the current model. allowed: suspected
    fields confirmed as known at arrival (leakage.refusals)."""
    if leads.empty or outcomes.empty:
        return {"kept": False, "verdict": "no outcomes yet: the current conversion model stays"}
    columns = ["lead_id", *OUTCOME_COLUMNS]
    # labelled_leads holds a lead once per label (a decision and an outcome): it is one lead to learn from
    frame = (
        leads.drop_duplicates("lead_id")
        .drop(columns=[c for c in OUTCOME_COLUMNS if c in leads])
        .merge(outcomes[columns].drop_duplicates("lead_id").astype({"lead_id": "string"}), on="lead_id")
    )
    path = conversion_path(model_dir)
    as_of = (
        as_of if as_of is not None else pd.Timestamp(clock.now())
    )  # a lead younger than 90 days is no label
    try:
        proof, model = learn(
            frame, fields or configured_fields(), f"store-{source}-{len(frame)}", None,
            default_model(model_dir), ConversionModel.load(path) if path.exists() else None, as_of,
            allowed=allowed,
        )  # fmt: skip
    except TooLittleHistory as exc:
        return {"kept": False, "verdict": f"{exc}; the current conversion model stays"}
    model.card = ModelCard(
        clock.now(), proof.leads["used"], 0, {"outcome": proof.leads["used"]}, source, proof.leads["test"],
        out_of_time=proof.model,
    )  # fmt: skip
    if proof.kept:
        model.save(path)
    current = proof.current["auc"] if proof.current is not None else None
    return {
        "kept": proof.kept, "verdict": proof.verdict, "auc": proof.model["auc"], "current_auc": current,
        "leads": proof.leads,
    }  # fmt: skip


def training_card(result: Retrained, history: pd.DataFrame, source: str) -> ModelCard:
    """What a retrained model learnt from (routed leads by label source, synthetic ones), now, and its held-out
    figures (None where nothing was held out)."""
    sources = label_counts(history["label_source"]) if "label_source" in history else {}
    if result.synthetic:
        sources["synthetic"] = result.synthetic
    held = result.held_out > 0
    return ModelCard(
        clock.now(), result.labels, result.synthetic, sources, source, result.held_out,
        result.holdout_accuracy if held else None, result.baseline_accuracy if held else None,
    )  # fmt: skip


def retrain_configured(
    store: Store,
    settings: Settings,
    crm: CRM,
    source: str,
    at: datetime,
    outcomes: pd.DataFrame | None = None,
    synthetic: int = 0,
    min_labels: int = 100,
) -> dict:
    """retrain_from_outcomes as `model train` and the outcome loop run it, everything else built from settings
    (territories, model folder, firmographics provider) and the CRM (its accounts). outcomes: default, the
    frame the outcome loop last saved (empty before its first run); synthetic: generated labelled leads mixed
    in. Raises TooFewLabels below min_labels."""
    if outcomes is None:
        outcomes, _ = stored_outcomes(store, source, compute_if_missing=False)
    territories = load_territories(settings.territories_path)
    generated = labelled_history(seed=1, leads=synthetic, territories=territories) if synthetic else None
    return retrain_from_outcomes(
        store, source, outcomes, crm, territories, settings.model_dir, open_provider(settings),
        accounts_for_matching(crm), generated, min_labels, pd.Timestamp(at), frozenset(settings.allow_fields),
        configured_fields(settings),
    )  # fmt: skip
