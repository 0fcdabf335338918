"""The leakage guard: fields declared known only later never reach training (leadrouter.fields, `known_at:
later`), and a field that alone predicts the label too well to be true is refused, named, with the reason: at
LEAK_AUC always; from SUSPECT_AUC unless a person confirmed it is known at arrival (`--allow-field NAME`, or
LEADROUTER_ALLOW_FIELDS), since a rep-written tag or status often sits just under the hard line.

A single field's power is measured as the ROC AUC of its value's conversion rate, learnt on other folds
(cross-fitted, so an identifier cannot score by memorising its rows); numbers are cut into quantile bins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadrouter.fields import LeadFields

LEAK_AUC = 0.95
SUSPECT_AUC = 0.90  # refused unless allowed: X Education's rep-written Tags scored 0.93 alone
BINS = 20
PRIOR = 20  # pseudo-leads at the base rate each value's rate is shrunk toward


@dataclass(frozen=True)
class Refusal:
    field: str
    auc: float

    @property
    def why(self) -> str:
        if self.auc < LEAK_AUC:
            return (
                f"{self.field} alone predicts the outcome with ROC AUC {self.auc:.3f} (at least {SUSPECT_AUC:.2f}): "
                "suspected of being written after the outcome (a rep's status, tag or score); left out of "
                f"training. If it truly is known when a lead arrives, confirm it with `--allow-field "
                f"{self.field}` (or LEADROUTER_ALLOW_FIELDS); if it is set later, declare it `known_at: later` "
                "in config/fields.yaml"
            )
        return (
            f"{self.field} alone predicts the outcome with ROC AUC {self.auc:.3f} (at least {LEAK_AUC}): a value "
            "that good is nearly always written after the outcome (a rep's status, tag or score) and would not "
            "be known when a lead arrives; left out of training. If it is set later, declare it `known_at: "
            "later` in config/fields.yaml; if it truly is known at arrival, check how the export fills it"
        )


def later_fields(fields: LeadFields) -> list[str]:
    """The custom fields declared known only after arrival: never model inputs."""
    return [f.name for f in fields.custom if f.known_at == "later"]


def value_codes(values: pd.Series, edges: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Integer codes per value (-1: unknown): quantile bins for numbers (edges learnt when not given), the
    distinct values for text. Returns the codes and the edges (None for text)."""
    if pd.api.types.is_float_dtype(values):
        x = values.to_numpy(dtype=float)
        if edges is None:
            known = x[~np.isnan(x)]
            qs = np.quantile(known, np.linspace(0, 1, BINS + 1)[1:-1]) if len(known) else np.array([])
            edges = np.unique(qs)
        codes = np.searchsorted(edges, x, side="right")
        return np.where(np.isnan(x), -1, codes), edges
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    return codes, None


def rate_table(codes: np.ndarray, label: np.ndarray, base: float) -> pd.Series:
    """The shrunk conversion rate per code (codes of unknown values included, as -1)."""
    frame = pd.DataFrame({"c": codes, "y": label})
    grouped = frame.groupby("c")["y"].agg(["sum", "count"])
    return (grouped["sum"] + PRIOR * base) / (grouped["count"] + PRIOR)


def single_field_auc(values: pd.Series, label: np.ndarray, folds: int = 3) -> float:
    """ROC AUC of one field alone, its value rates cross-fitted over contiguous folds (0.5: no signal)."""
    codes, _ = value_codes(values)
    if label.min() == label.max() or values.nunique(dropna=False) < 2:  # one value everywhere: no signal
        return 0.5
    base = float(label.mean())
    score = np.full(len(label), base)
    for part in np.array_split(np.arange(len(label)), folds):
        rest = np.setdiff1d(np.arange(len(label)), part)
        rates = rate_table(codes[rest], label[rest], base)
        score[part] = pd.Series(codes[part]).map(rates).fillna(base).to_numpy()
    return float(roc_auc_score(label, score))


def single_field_aucs(dense: pd.DataFrame, label: np.ndarray) -> dict[str, float]:
    """Each column's single_field_auc, highest first."""
    aucs = {name: single_field_auc(dense[name], label) for name in dense.columns}
    return dict(sorted(aucs.items(), key=lambda kv: -kv[1]))


def refusals(aucs: dict[str, float], allowed: frozenset[str] = frozenset()) -> list[Refusal]:
    """The fields whose single-field AUC reaches LEAK_AUC, and those from SUSPECT_AUC not in `allowed`."""
    return [
        Refusal(name, auc)
        for name, auc in aucs.items()
        if auc >= LEAK_AUC or (auc >= SUSPECT_AUC and name not in allowed)
    ]


def suspects(aucs: dict[str, float], allowed: frozenset[str] = frozenset()) -> dict[str, str]:
    """The allowed fields between SUSPECT_AUC and LEAK_AUC: used, as a person confirmed, and still named."""
    return {
        name: f"{name} alone predicts the outcome with ROC AUC {auc:.3f}: used, as allowed (--allow-field "
        f"{name}); make sure it is known when a lead arrives"
        for name, auc in aucs.items()
        if SUSPECT_AUC <= auc < LEAK_AUC and name in allowed
    }


def unknown_allowed(allowed: frozenset[str], aucs: dict[str, float]) -> list[str]:
    """Allowed names that are no input of this history: a typo would otherwise go unnoticed."""
    return sorted(allowed - set(aucs))
