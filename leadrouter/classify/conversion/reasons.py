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
        """Up to TOP reasons per lead, strongest first, joined by "; " ("no strong signal" when none).

        Lifts are looked up for every input; text is built only for each lead's chosen few (the hot path)."""
        n, rows = len(dense), np.arange(len(dense))
        lift = np.ones((n, len(self.columns)))
        codes = np.full((n, len(self.columns)), -1)
        said = []  # per input: "<name> <value>" per code
        for j, name in enumerate(self.columns):
            if self.edges[name] is not None:
                codes[:, j], _ = value_codes(dense[name], self.edges[name])
                shown = _bin_labels(self.edges[name])
            else:
                codes[:, j] = self.values[name].get_indexer(dense[name])
                shown = np.array([str(v)[:40] for v in self.values[name]], dtype=object)
            lift[:, j] = pd.Series(codes[:, j]).map(self.lifts[name]).fillna(1.0).to_numpy()
            said.append(
                name.replace("_", " ") + " " + (shown if len(shown) else np.array([""], dtype=object))
            )
        order = np.argsort(-lift, axis=1)[:, :TOP]
        top_lift, top_code = lift[rows[:, None], order], codes[rows[:, None], order]
        parts = []
        for k in range(order.shape[1]):
            part = np.full(n, "", dtype=object)
            strong = top_lift[:, k] >= MIN_LIFT  # a known value's lift: unknown ones read 1
            for j in np.unique(order[strong, k]):
                at = strong & (order[:, k] == j)
                label = said[j][np.clip(top_code[at, k], 0, len(said[j]) - 1)]
                shown = np.round(top_lift[at, k], 1).astype(str).astype(object)
                part[at] = label + ": " + shown + "x the usual conversion"
            parts.append(part)
        parts.append(self._best_word(words, n))
        joined = parts[0]
        for part in parts[1:]:
            joined = np.where(part == "", joined, np.where(joined == "", part, joined + "; " + part))
        joined = np.where(joined == "", "no strong signal", joined)
        return pd.Series(joined, index=dense.index, dtype="string")

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
