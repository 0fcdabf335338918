"""Proof out of time: the newest leads held out by created_at, and how a score ranks them: ROC AUC, precision
and recall at the VIP cut, lift by decile, a calibration table. Pure numpy and pandas over arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

TEST_SHARE = 0.25
VIP_SHARE = 0.10  # the VIP cut: the top tenth of scores
MIN_TRAIN, MIN_POSITIVES = 200, 20


class TooLittleHistory(ValueError):
    """The history is too small or too one-sided to learn from: the current model stays."""


def out_of_time(created_at: pd.Series, test_share: float = TEST_SHARE) -> np.ndarray:
    """True for the newest test_share of leads by created_at (ties broken by position), the test set."""
    if not 0 < test_share < 1:
        raise ValueError(f"test_share {test_share!r} must be between 0 and 1 (0.25: the newest quarter)")
    order = np.argsort(pd.to_datetime(created_at, utc=True).to_numpy(), kind="stable")
    test = np.zeros(len(order), dtype=bool)
    test[order[len(order) - round(len(order) * test_share) :]] = True
    return test


def check_enough(label: np.ndarray, test: np.ndarray) -> None:
    """Raise TooLittleHistory, saying what is missing, unless both sides have enough leads of both kinds."""
    train, held = label[~test], label[test]
    problems = []
    if len(train) < MIN_TRAIN:
        problems.append(f"{len(train)} older leads to train on (need {MIN_TRAIN})")
    for side, y in (("older", train), ("newest", held)):
        yes, no = int(y.sum()), int(len(y) - y.sum())
        if min(yes, no) < MIN_POSITIVES:
            problems.append(
                f"{yes} converted and {no} unconverted among the {side} leads (need {MIN_POSITIVES} of each)"
            )
    if problems:
        raise TooLittleHistory("too little history to learn from: " + "; ".join(problems))


def auc(label: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(label, score))


def at_cut(label: np.ndarray, score: np.ndarray, share: float = VIP_SHARE) -> dict[str, float]:
    """Precision and recall of the top `share` of scores (ties at the cut included in score order)."""
    k = max(1, round(len(score) * share))
    top = np.argsort(-score, kind="stable")[:k]
    hits = float(label[top].sum())
    return {"share": share, "leads": k, "precision": hits / k, "recall": hits / max(float(label.sum()), 1.0)}


def lift_by_decile(label: np.ndarray, score: np.ndarray) -> pd.DataFrame:
    """Deciles of score (1: the highest), their leads, conversion and lift over the average."""
    order = np.argsort(-score, kind="stable")
    decile = np.empty(len(score), dtype=int)
    decile[order] = np.arange(len(score)) * 10 // len(score) + 1
    frame = pd.DataFrame({"decile": decile, "converted": label, "score": score})
    table = frame.groupby("decile").agg(
        leads=("converted", "size"), conversion=("converted", "mean"), mean_score=("score", "mean")
    )
    table["lift"] = table["conversion"] / max(float(label.mean()), 1e-12)
    return table.reset_index().round(4)


def calibration(label: np.ndarray, probability: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Leads by predicted probability (equal-width bins): mean predicted against observed conversion."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(probability, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": which, "predicted": probability, "observed": label})
    table = frame.groupby("bin").agg(
        leads=("observed", "size"), predicted=("predicted", "mean"), observed=("observed", "mean")
    )
    table.insert(0, "from", edges[table.index])
    table.insert(1, "to", edges[table.index + 1])
    return table.reset_index(drop=True).round(4)


def figures(label: np.ndarray, score: np.ndarray) -> dict[str, object]:
    """ROC AUC and the VIP cut's precision and recall of one score on the held-out leads."""
    cut = at_cut(label, score)
    return {"auc": round(auc(label, score), 4), "vip_precision": round(cut["precision"], 4),
            "vip_recall": round(cut["recall"], 4)}  # fmt: skip
