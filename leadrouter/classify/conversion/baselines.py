"""The three baselines a conversion model is measured beside, on the same out-of-time split: the rulebook alone
(its tier order), the current local model (its tier probabilities as an expected tier) and the best single
field (its values' conversion rates, learnt on the older leads)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadrouter.classify.conversion.leakage import rate_table, value_codes
from leadrouter.classify.local import LocalModel, model_features
from leadrouter.classify.rules import Rulebook, classify_by_rules
from leadrouter.schema import Tier

# a higher rank is a hotter tier; a lead no rule decides sits between Standard and Nurture
TIER_RANK = {Tier.VIP.value: 3.0, Tier.STANDARD.value: 2.0, Tier.NURTURE.value: 1.0, Tier.OTHER.value: 0.0}
UNDECIDED_RANK = 1.5


def rulebook_score(leads: pd.DataFrame, book: Rulebook) -> np.ndarray:
    """The tier each lead gets from the rules alone, as a rank."""
    tiers = classify_by_rules(leads, book)["tier"].astype("string")
    return tiers.map(TIER_RANK).astype("Float64").fillna(UNDECIDED_RANK).to_numpy(dtype=float)


def local_model_score(leads: pd.DataFrame, model: LocalModel) -> np.ndarray:
    """The local model's expected tier rank: its tier probabilities weighted by TIER_RANK."""
    probabilities = model.tier.predict_proba(model_features(leads))
    ranks = np.array([TIER_RANK.get(str(c), UNDECIDED_RANK) for c in model.tier.classes_])
    return probabilities @ ranks


def single_field_score(train: pd.Series, label: np.ndarray, test: pd.Series) -> np.ndarray:
    """One field's values scored by their conversion rate among the older leads (unseen values: the average)."""
    codes, edges = value_codes(train)
    base = float(label.mean())
    if edges is None:
        known = pd.Index(pd.unique(train.dropna()))
        codes, test_codes = known.get_indexer(train), known.get_indexer(test)
    else:
        test_codes, _ = value_codes(test, edges)
    rates = rate_table(codes, label, base)
    return pd.Series(test_codes).map(rates).fillna(base).to_numpy(dtype=float)
