"""Tiers from scores under the user's control: cut-offs set as shares of leads or as capacity, turned into score
thresholds on the model's reference scores (its held-out leads), so one lead's tier never depends on the
batch it arrives in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadrouter.schema import Tier


@dataclass(frozen=True)
class Cutoffs:
    """vip_share / standard_share: at most this share of leads in the tier (standard counted below VIP);
    vip_capacity: leads a day the VIP pool can answer within its SLA, with leads_per_day, caps vip_share."""

    vip_share: float = 0.10
    standard_share: float = 0.30
    vip_capacity: float | None = None
    leads_per_day: float | None = None

    def shares(self) -> tuple[float, float]:
        vip = self.vip_share
        if self.vip_capacity is not None and self.leads_per_day:
            vip = min(vip, self.vip_capacity / self.leads_per_day)
        return vip, self.standard_share


def thresholds(reference: np.ndarray, cutoffs: Cutoffs) -> tuple[float, float]:
    """The scores at or above which a lead is VIP, and Standard, on the reference scores."""
    if not len(reference):
        raise ValueError("the model keeps no reference scores: train it again with `leadrouter model train`")
    vip, standard = cutoffs.shares()
    return float(np.quantile(reference, 1 - vip)), float(np.quantile(reference, 1 - vip - standard))


def tiers_from_scores(scores: pd.Series, reference: np.ndarray, cutoffs: Cutoffs = Cutoffs()) -> pd.Series:
    """VIP, Standard or Nurture per score (rules still decide first, where they fire)."""
    vip, standard = thresholds(reference, cutoffs)
    x = scores.astype(float).to_numpy()
    tier = np.select([x >= vip, x >= standard], [Tier.VIP.value, Tier.STANDARD.value], Tier.NURTURE.value)
    return pd.Series(tier, index=scores.index, dtype="string")
