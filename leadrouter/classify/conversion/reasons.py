"""Top reasons in words: for each lead, the inputs whose value converted most above the average in the history
(`occupation is working professional: 2.4x the usual conversion`), and the strongest buying word of its text.
Learnt once with the model; explaining is a table lookup per input (no per-lead Python)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from leadrouter.classify.conversion.leakage import rate_table, value_codes

TOP = 3
MIN_LIFT = 1.2  # a value converting less than this much above the average is not a reason
MIN_LEADS = 30  # a value seen on fewer leads gives no reason (its rate is mostly the prior)


@dataclass
class Reasons:
    columns: list[str]
    edges: dict[str, np.ndarray | None]  # numeric columns' bin edges
    values: dict[str, pd.Index]  # text columns' known values, in code order
    lifts: dict[str, pd.Series]  # code -> the value's conversion over the average (1: average)
    words: np.ndarray  # the text vocabulary's feature names
    word_weight: np.ndarray  # the text model's weight per feature

    @classmethod
    def learn(
        cls,
        dense: pd.DataFrame,
        y: np.ndarray,
        words: TfidfVectorizer | None,
        text: LogisticRegression | None,
    ) -> Reasons:
        base = max(float(y.mean()), 1e-9)
        edges, values, lifts = {}, {}, {}
        for name in dense.columns:
            codes, edges[name] = value_codes(dense[name])
            if edges[name] is None:
                values[name] = pd.Index(pd.unique(dense[name].dropna()))
                codes = values[name].get_indexer(dense[name])
            counts = pd.Series(codes).value_counts()
            rates = rate_table(codes, y, base) / base
            lifts[name] = rates[rates.index.isin(counts.index[counts >= MIN_LEADS]) & (rates.index >= 0)]
        names = words.get_feature_names_out() if words is not None else np.array([], dtype=object)
        weights = text.coef_[0] if text is not None else np.array([])
        return cls(list(dense.columns), edges, values, lifts, names, weights)

    def explain(self, dense: pd.DataFrame, words: sparse.csr_matrix | None) -> pd.Series:
        """Up to TOP reasons per lead, strongest first, joined by "; " ("no strong signal" when none)."""
        n = len(dense)
        lift = np.ones((n, len(self.columns)))
        said = np.empty((n, len(self.columns)), dtype=object)
        for j, name in enumerate(self.columns):
            if self.edges[name] is not None:
                codes, _ = value_codes(dense[name], self.edges[name])
                shown = _bin_labels(self.edges[name])
            else:
                codes = self.values[name].get_indexer(dense[name])
                shown = np.array([str(v)[:40] for v in self.values[name]], dtype=object)
            lift[:, j] = pd.Series(codes).map(self.lifts[name]).fillna(1.0).to_numpy()
            label = np.where(
                codes >= 0, shown[np.clip(codes, 0, max(len(shown) - 1, 0))] if len(shown) else "", ""
            )
            said[:, j] = name.replace("_", " ") + " " + label.astype(object)
        order = np.argsort(-lift, axis=1)[:, :TOP]
        rows = np.arange(n)[:, None]
        top_lift, top_said = lift[rows, order], said[rows, order]
        parts = np.where(
            top_lift >= MIN_LIFT,
            top_said + ": " + np.round(top_lift, 1).astype(str).astype(object) + "x the usual conversion",
            "",
        )
        word = self._best_word(words, n)
        columns = [*parts.T, word]
        joined = pd.Series([""] * n, dtype=object)
        for part in columns:
            part = pd.Series(part, dtype=object).fillna("")
            joined = joined.where(part == "", joined.where(joined == "", joined + "; ") + part)
        return pd.Series(
            joined.where(joined != "", "no strong signal").to_numpy(), index=dense.index, dtype="string"
        )

    def _best_word(self, words: sparse.csr_matrix | None, n: int) -> np.ndarray:
        """Each lead's term (word or pair) with the largest positive push in the text model, quoted as data.

        words: the leads' TF-IDF rows, as the text model read them (None: the model has no words)."""
        if words is None or not len(self.words):
            return np.full(n, "", dtype=object)
        weighted = words.multiply(np.maximum(self.word_weight, 0)).tocsr()
        best = np.asarray(weighted.argmax(axis=1)).ravel()
        strongest = np.asarray(weighted.max(axis=1).todense()).ravel()
        return np.where(strongest > 0.3, 'text says "' + self.words[best].astype(object) + '"', "")


def _bin_labels(edges: np.ndarray) -> np.ndarray:
    """'under 10', '10 to 25', ..., '500 or more' for the bins the edges cut."""
    if not len(edges):
        return np.array(["(any)"], dtype=object)
    shown = [f"{e:,.0f}" for e in edges]
    middle = [f"{a} to {b}" for a, b in itertools.pairwise(shown)]
    return np.array([f"under {shown[0]}", *middle, f"{shown[-1]} or more"], dtype=object)
