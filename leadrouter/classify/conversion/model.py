"""ConversionModel: the chance a lead becomes an opportunity within 90 days, learnt from the company's own
outcomes. Two stacked parts: a logistic regression over the lead's words (TF-IDF, sparse) whose out-of-fold
score joins the arrival fields as one input of scikit-learn's HistGradientBoostingClassifier; the trees'
probabilities are calibrated (isotonic, on the newest fifth of the training leads). Text is only ever counted: it cannot instruct it.

score(leads) gives per lead: score (P), expected_value (P times the typical won amount of its size segment)
and top_reasons (the inputs whose value converts most above the average, in words).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.preprocessing import OrdinalEncoder

from leadrouter.classify.card import ModelCard
from leadrouter.classify.conversion.features import Inputs, dense_frame, text_column, usable
from leadrouter.classify.conversion.reasons import Reasons
from leadrouter.classify.saved import load_model, one_thread, save_model
from leadrouter.schema import column, segments

VERSION = "conversion-1"  # bump when features change: a saved model of another version is not loaded
MIN_WON_PER_SEGMENT = 10


def _trees() -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        learning_rate=0.08, max_iter=200, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
        categorical_features="from_dtype", early_stopping=False, random_state=0,
    )  # fmt: skip


def _words() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=3, max_features=50_000, sublinear_tf=True)


@dataclass
class ConversionModel:
    inputs: Inputs
    words: TfidfVectorizer | None  # None: the history has no words to learn from (no title, no message)
    text: LogisticRegression | None
    encoder: OrdinalEncoder
    trees: CalibratedClassifierCV
    typical_won: dict[str, float]  # size segment (and "all") -> median won amount
    reasons: Reasons
    name: str
    card: ModelCard | None = None
    reference: np.ndarray = field(default_factory=lambda: np.array([]))  # scores of held-out leads, sorted

    @classmethod
    def train(cls, leads: pd.DataFrame, label: pd.Series, inputs: Inputs, name: str) -> ConversionModel:
        """Fit on enriched leads and their label (an opportunity within 90 days); amounts from `revenue`."""
        y = label.astype(bool).to_numpy()
        words, text, text_score = _text_part(text_column(leads), y)
        inputs = usable(inputs, dense_frame(leads, inputs))
        dense = dense_frame(leads, inputs)
        encoder = _encoder(inputs).fit(dense[list(inputs.categorical)]) if inputs.categorical else None
        x = _matrix(dense, inputs, encoder, text_score)
        with one_thread():
            trees = _calibrated_trees(x, y)
        reasons = Reasons.learn(dense, y, words, text)
        return cls(inputs, words, text, encoder, trees, _typical_won(leads, y), reasons, f"{VERSION}:{name}")

    def probability(self, leads: pd.DataFrame) -> np.ndarray:
        """P(an opportunity within 90 days) per lead."""
        return self._read(leads)[0]

    def score(self, leads: pd.DataFrame) -> pd.DataFrame:
        """score, expected_value and top_reasons per lead, indexed like leads."""
        p, dense, words = self._read(leads)
        typical = segments(leads).map(self.typical_won).fillna(self.typical_won.get("all", np.nan))
        return pd.DataFrame(
            {
                "score": pd.array(p.round(4), dtype="Float64"),
                "expected_value": pd.array((p * typical.to_numpy(dtype=float)).round(0), dtype="Float64"),
                "top_reasons": self.reasons.explain(dense, words),
            },
            index=leads.index,
        )

    def _read(self, leads: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, sparse.csr_matrix | None]:
        """The probabilities, with the dense inputs and the words' TF-IDF they were read from (each built once)."""
        dense = dense_frame(leads, self.inputs)
        if leads.empty:
            return np.array([]), dense, None
        words = _encoded_once(self.words, text_column(leads)) if self.words is not None else None
        text_score = (
            self.text.predict_proba(words)[:, 1] if words is not None and self.text is not None
            else np.zeros(len(leads))
        )  # fmt: skip
        x = _matrix(dense, self.inputs, self.encoder, text_score)
        with one_thread():
            return self.trees.predict_proba(x)[:, 1], dense, words

    def save(self, path: Path | str) -> None:
        save_model(self, path)

    @staticmethod
    def load(path: Path | str) -> ConversionModel:
        return load_model(
            path, ConversionModel, VERSION, "train it again with `leadrouter model train --history`"
        )


def _text_part(
    text: pd.Series, y: np.ndarray
) -> tuple[TfidfVectorizer | None, LogisticRegression | None, np.ndarray]:
    """The words' model and its out-of-fold score per lead (the trees' input); none without words."""
    words = _words()
    try:
        encoded = words.fit_transform(text)
    except ValueError:  # no term in at least min_df leads: nothing to learn from the text
        return None, None, np.zeros(len(y))
    model = LogisticRegression(C=1.0, max_iter=1000)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    score = cross_val_predict(model, encoded, y, cv=folds, method="predict_proba")[:, 1]
    return words, model.fit(encoded, y), score


def _encoded_once(words: TfidfVectorizer, text: pd.Series) -> sparse.csr_matrix:
    """The TF-IDF rows of text, each distinct text analysed once (forms and titles repeat: the analyser is
    Python per text, the row copy is not)."""
    codes, distinct = pd.factorize(text)
    return words.transform(distinct)[codes]


def _calibrated_trees(x: pd.DataFrame, y: np.ndarray) -> CalibratedClassifierCV:
    """Trees fitted on the older 80 % of the (time-ordered) rows, their probabilities calibrated on the newest
    20 %: one fit instead of one per fold, and calibrated to the most recent conversion rate."""
    cut = int(len(y) * 0.8)
    trees = _trees().fit(x.iloc[:cut], y[:cut])
    if y[cut:].min() == y[cut:].max():  # nothing to calibrate against: the trees' own probabilities
        return CalibratedClassifierCV(_trees(), method="sigmoid", cv=2).fit(x, y)
    return CalibratedClassifierCV(FrozenEstimator(trees), method="isotonic").fit(x.iloc[cut:], y[cut:])


def conversion_path(model_dir: Path | str) -> Path:
    """Where the kept conversion model lives."""
    return Path(model_dir) / f"{VERSION}.joblib"


def _encoder(inputs: Inputs) -> OrdinalEncoder:
    # rare values share one code; an unseen or missing value is unknown to the trees (NaN)
    return OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan,
        min_frequency=20, max_categories=60,
    )  # fmt: skip


def _matrix(
    dense: pd.DataFrame, inputs: Inputs, encoder: OrdinalEncoder | None, text_score: np.ndarray
) -> pd.DataFrame:
    """The trees' input: numbers, categories (as the pandas category dtype the trees read natively), text score."""
    out = dense[list(inputs.numeric)].copy()
    if encoder is not None:
        codes = encoder.transform(dense[list(inputs.categorical)])
        for i, name in enumerate(inputs.categorical):
            out[name] = pd.Categorical(codes[:, i], categories=np.arange(61, dtype=float))
    out["text_score"] = text_score
    return out


def _typical_won(leads: pd.DataFrame, converted: np.ndarray) -> dict[str, float]:
    """The median won amount per size segment with enough won deals, and over all ("all")."""
    revenue = pd.to_numeric(column(leads, "revenue", "object"), errors="coerce").astype(float)
    won = revenue.gt(0).to_numpy() & converted
    if not won.any():
        return {}
    amounts = revenue[won].groupby(segments(leads)[won])
    typical = amounts.median()[amounts.size() >= MIN_WON_PER_SEGMENT]
    return {**{str(k): float(v) for k, v in typical.items()}, "all": float(revenue[won].median())}
