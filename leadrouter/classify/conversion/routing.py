"""The conversion model in live routing: every lead scored (score, expected value, reasons, the score's tier),
and the tier of a sales lead no rule decided taken from the score's cut-offs (settings `tiers_from`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from leadrouter.classify.conversion.tiers import Cutoffs, tiers_from_scores
from leadrouter.config import Settings
from leadrouter.schema import SCORE_COLUMNS, Category

if TYPE_CHECKING:  # scikit-learn is imported only where a model is loaded
    from leadrouter.classify.conversion.model import ConversionModel


@dataclass(frozen=True)
class Scorer:
    """A kept conversion model and the cut-offs that turn its scores into tiers."""

    model: ConversionModel
    cutoffs: Cutoffs

    @property
    def decided_by(self) -> str:
        """What a decision's decided_by says when the score gave its tier: a model's decision, as the outcome
        tables, the monitor and the run summary count them ('model:conversion-1:…'; the ledger keeps 80 characters)."""
        return f"model:{self.model.name}"[:80]

    def score(self, leads: pd.DataFrame) -> pd.DataFrame:
        """SCORE_COLUMNS for every lead, on leads.index (one vectorised pass over the batch)."""
        scored = self.model.score(leads)
        return pd.DataFrame(
            {
                "score": scored["score"],
                "expected_value": scored["expected_value"],
                "score_tier": tiers_from_scores(scored["score"], self.model.reference, self.cutoffs),
                "score_reasons": scored["top_reasons"],
            },
            index=leads.index,
        ).astype(SCORE_COLUMNS)


def tiers_by_score(answers: pd.DataFrame, score_tier: pd.Series) -> pd.DataFrame:
    """The model chain's answers with the score's tier on every sales lead: the chain still gives the category
    (a non-sales one keeps its own tier, Other), its guards and its confidence still send a lead to review,
    where the score's tier is the suggestion."""
    sales = (answers["category"] == Category.SALES.value).fillna(False)
    return answers.assign(tier=answers["tier"].mask(sales, score_tier.reindex(answers.index)))


def score_summary(score: object, score_tier: object, expected_value: object) -> str | None:
    """'0.312 (Standard by score), expected value 12,400' for a person; None when no model scored the lead."""
    if score is None or pd.isna(score):
        return None
    value = (
        "" if expected_value is None or pd.isna(expected_value) else f", expected value {expected_value:,.0f}"
    )
    return f"{float(score):.3f} ({score_tier} by score){value}"


def empty_scores(index: pd.Index) -> pd.DataFrame:
    """SCORE_COLUMNS all <NA>: no conversion model scored these leads."""
    return pd.DataFrame({c: pd.Series(pd.NA, index=index, dtype=d) for c, d in SCORE_COLUMNS.items()})


def cutoffs(settings: Settings, vip_capacity: float | None = None) -> Cutoffs:
    """The cut-offs the settings set; vip_capacity (the VIP pools' daily caps) when the settings name none."""
    if settings.vip_share + settings.standard_share > 1:
        raise ValueError(
            f"LEADROUTER_VIP_SHARE ({settings.vip_share:g}) plus LEADROUTER_STANDARD_SHARE "
            f"({settings.standard_share:g}) is more than all leads: lower one so they add up to 1 at most"
        )
    capacity = settings.vip_capacity if settings.vip_capacity is not None else vip_capacity
    return Cutoffs(settings.vip_share, settings.standard_share, capacity, settings.leads_per_day)


def open_scorer(settings: Settings, vip_capacity: float | None = None) -> Scorer | None:
    """The scorer routing uses, or None when tiers come from rules and the model chain (tiers_from
    rules+model, or auto without a saved conversion model). tiers_from scores without one is an error."""
    from leadrouter.classify.conversion.model import ConversionModel, conversion_path

    path = conversion_path(settings.model_dir)
    if settings.tiers_from == "rules+model" or (settings.tiers_from == "auto" and not path.exists()):
        return None
    if not path.exists():
        raise ValueError(
            f"LEADROUTER_TIERS_FROM=scores but there is no conversion model at {path}: train one with "
            "`leadrouter model train --history leads.csv --deals deals.csv --map map.yaml`, or set "
            "LEADROUTER_TIERS_FROM=rules+model"
        )
    model = ConversionModel.load(path)
    if not len(model.reference):
        raise ValueError(f"{path} keeps no reference scores to set cut-offs on: train it again")
    return Scorer(model, cutoffs(settings, vip_capacity))
