"""Retraining the local model from routed history: what rules and people decided, with the leads re-read from
the CRM (the ledger keeps decisions, not lead text). The outcome loop adds what the deals became."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import or_, select

from leadrouter.classify.local import LocalModel
from leadrouter.crm.base import CRM, chunks
from leadrouter.enrich import enrich_leads
from leadrouter.enrich.firmographics import Provider
from leadrouter.enrich.territory import Territories
from leadrouter.store import Store
from leadrouter.store.tables import decisions
from leadrouter.validate import validate_leads

FETCH_CHUNK = 500


def decided_labels(store: Store, source: str) -> pd.DataFrame:
    """lead_id, tier, category, decided_by of every lead a rule or a person decided (model decisions are not
    labels: a model must not learn from itself)."""
    query = select(decisions.c.lead_id, decisions.c.tier, decisions.c.category, decisions.c.decided_by).where(
        decisions.c.source == source,
        decisions.c.tier.is_not(None),
        or_(decisions.c.decided_by.like("rule:%"), decisions.c.decided_by.like("review:%")),
    )
    with store.engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(query).mappings().all(), columns=["lead_id", "tier", "category", "decided_by"]
        )


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
        final, len(history), 0 if synthetic is None else len(synthetic), accuracy, baseline_accuracy
    )
