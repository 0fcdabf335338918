"""LocalModel: TF-IDF over the lead's words plus its facts, a calibrated linear model per output. Offline,
fast (100k leads a second), and it cannot be instructed: text is only ever counted.

The default model is trained on labelled synthetic history from the sandbox generator (a fixed seed) the
first time it is needed and cached on disk (leadrouter.classify.local_cache); `leadrouter model train` retrains
it from routed history.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from leadrouter import clock
from leadrouter.classify.card import ModelCard
from leadrouter.classify.model import ANSWER_COLUMNS, empty_answers
from leadrouter.classify.saved import load_model, one_thread, save_model
from leadrouter.schema import Category, Tier, column

log = logging.getLogger(__name__)

VERSION = "local-1"  # bump when features change: cached models of another version are retrained
DEFAULT_SEED, DEFAULT_LEADS = 1, 20_000
SIZE_BINS = [-np.inf, 0, 10, 49, 199, 999, np.inf]
SIZE_NAMES = ["unknown", "1-10", "11-49", "50-199", "200-999", "1000+"]
FACTS = [
    "lead_source",
    "seniority",
    "region",
    "is_free_mail",
    "size",
    "has_message",
    "matched_account",
    "level_size",
]
HIGH_URGENCY = r"(?i)\b(?:asap|urgent\w*|this week|by (?:friday|monday|tomorrow|next week)|decision by|deadline|board meeting|before (?:q[1-4]|the end))\b"
LOW_URGENCY = (
    r"(?i)\b(?:no rush|just (?:exploring|curious|browsing)|saving this for later|someday|next year)\b"
)


def model_features(leads: pd.DataFrame) -> pd.DataFrame:
    """The columns the pipeline reads, from an enriched lead frame (absent columns read as unknown)."""
    get = lambda c: column(leads, c, "object")  # noqa: E731
    employees = pd.to_numeric(get("employees"), errors="coerce").astype(float).fillna(-1)
    message = column(leads, "message")
    features = pd.DataFrame(
        {
            "message": message.fillna("").str.slice(0, 4000),
            "title": get("title").astype("string").fillna("").str.slice(0, 200),
            "lead_source": get("lead_source").astype("string").fillna("unknown"),
            "seniority": get("seniority").astype("string").fillna("unknown"),
            "region": get("region").astype("string").fillna("unknown"),
            "is_free_mail": get("is_free_mail").astype("string").fillna("unknown"),
            "size": pd.cut(employees, SIZE_BINS, labels=SIZE_NAMES).astype("string"),
            "has_message": np.where(message.fillna("").str.strip().str.len() > 0, "yes", "no"),
            "matched_account": np.where(get("account_id").notna(), "yes", "no"),
        },
        index=leads.index,
    ).astype(object)
    # tiers hinge on seniority AND size together, which a linear model cannot combine by itself
    return features.assign(level_size=features["seniority"] + "|" + features["size"])


def _pipeline() -> Pipeline:
    columns = ColumnTransformer(
        [
            ("message", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), "message"),
            ("title", TfidfVectorizer(ngram_range=(1, 2), min_df=2), "title"),
            ("facts", OneHotEncoder(handle_unknown="ignore"), FACTS),
        ]
    )
    linear = LogisticRegression(C=4.0, max_iter=2000)
    return Pipeline(
        [("features", columns), ("model", CalibratedClassifierCV(linear, method="sigmoid", cv=3))]
    )


class LocalModel:
    """Two calibrated pipelines over the same features: one for the tier, one for the category."""

    def __init__(
        self, tier: Pipeline, category: Pipeline, trained_on: str, card: ModelCard | None = None
    ) -> None:
        self.tier, self.category, self.trained_on = tier, category, trained_on
        self.name = f"{VERSION}:{trained_on}"
        self.card = card  # what it learnt from, when, its held-out figures (None: not recorded)

    @classmethod
    def train(
        cls, leads: pd.DataFrame, tiers: pd.Series, categories: pd.Series, trained_on: str
    ) -> LocalModel:
        """Fit on enriched leads and their tier and category labels."""
        features = model_features(leads)
        tier, category = _pipeline(), _pipeline()
        with one_thread():
            tier.fit(features, tiers.astype(str))
            category.fit(features, categories.astype(str))
        return cls(tier, category, trained_on)

    @classmethod
    def synthetic(cls, seed: int = DEFAULT_SEED, leads: int = DEFAULT_LEADS) -> LocalModel:
        """Trained on the sandbox generator's labelled history (never the seeds tests evaluate on)."""
        from leadrouter.classify.history import labelled_history
        from leadrouter.enrich.territory import load_territories

        history = labelled_history(seed, leads, load_territories())
        model = cls.train(
            history, history["label_tier"], history["label_category"], f"synthetic-{seed}-{leads}"
        )
        model.card = ModelCard(
            clock.now(), routed=0, synthetic=len(history), label_sources={"synthetic": len(history)}
        )
        return model

    def save(self, path: Path | str) -> None:
        save_model(self, path)

    @staticmethod
    def load(path: Path | str) -> LocalModel:
        model = load_model(path, LocalModel, VERSION, "retrain it with `leadrouter model train`")
        model.card = getattr(model, "card", None)  # saved before models carried a card
        return model

    def classify(self, leads: pd.DataFrame, deadline_s: float | None = None) -> pd.DataFrame:
        """Answers for every lead (the local model always answers; deadline_s is not needed)."""
        out = empty_answers(leads.index, self.name)
        if leads.empty:
            return out
        features = model_features(leads)
        encoded = sparse.csr_matrix(self.tier.named_steps["features"].transform(features))
        tier_p = self.tier.named_steps["model"].predict_proba(encoded)
        tier_classes = self.tier.classes_
        best = tier_p.argmax(axis=1)
        out["tier"] = pd.array(tier_classes[best], dtype="string")
        out["confidence"] = pd.array(tier_p.max(axis=1).round(4), dtype="Float64")
        out["category"] = self._category(features, encoded, out["tier"])
        out["urgency"] = urgency(column(leads, "message"))
        out["rationale"] = self._rationale(encoded, best).set_axis(leads.index)
        out["brief"] = brief(leads, out)
        out[["input_tokens", "output_tokens"]] = 0
        out["cost_usd"] = 0.0
        return out.astype(ANSWER_COLUMNS)

    def _category(self, features: pd.DataFrame, encoded: sparse.csr_matrix, tier: pd.Series) -> pd.Series:
        """The likeliest category that agrees with the tier: sales for a sales tier, else the likeliest of the
        others (the two outputs are separate models, and must not contradict each other).

        encoded: the tier pipeline's features, which the category model reads as they are when its own
        feature step learnt the same (both are fitted on one frame): the text is then vectorised once."""
        if shares_features(self):
            p = self.category.named_steps["model"].predict_proba(encoded)
        else:
            p = self.category.predict_proba(features)
        sales = self.category.classes_ == Category.SALES.value
        other = np.where(sales, -1.0, p).argmax(axis=1)
        picked = np.where(
            tier.to_numpy() == Tier.OTHER.value, self.category.classes_[other], Category.SALES.value
        )
        return pd.Series(picked, index=features.index, dtype="string")

    def _rationale(self, encoded: sparse.csr_matrix, best: np.ndarray) -> pd.Series:
        """The three features that pushed hardest toward the chosen tier (averaged over the calibration folds).

        encoded: the tier pipeline's features (CSR, one row per lead); best: each lead's chosen tier."""
        coef = np.mean(
            [c.estimator.coef_ for c in self.tier.named_steps["model"].calibrated_classifiers_], axis=0
        )
        # each stored feature's push toward its row's tier, over the nonzeros only (never a dense row x feature)
        rows = np.repeat(np.arange(encoded.shape[0]), np.diff(encoded.indptr))
        push = encoded.data * coef[best[rows], encoded.indices]
        keep = push > 0
        rows, cols, push = rows[keep], encoded.indices[keep], push[keep]
        order = np.lexsort((-push, rows))  # by row, strongest first
        rows, cols = rows[order], cols[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows)  # 0 for a row's strongest feature
        top3 = rank < 3
        names = self.tier.named_steps["features"].get_feature_names_out()
        used, which = np.unique(cols[top3], return_inverse=True)
        slots = np.full((3, encoded.shape[0]), "", dtype=object)  # a row's first, second and third reasons
        slots[rank[top3], rows[top3]] = np.array([_readable(names[c]) for c in used], dtype=object)[which]
        first, second, third = slots
        said = first + np.where(second != "", "; " + second, "") + np.where(third != "", "; " + third, "")
        return pd.Series(np.where(first != "", said, "no strong signal"), dtype="string")


_SHARED: weakref.WeakKeyDictionary[LocalModel, bool] = weakref.WeakKeyDictionary()  # kept out of the pickle


def shares_features(model: LocalModel) -> bool:
    """Whether the model's tier and category pipelines turn a lead into the same features; asked once a
    model."""
    if model not in _SHARED:
        _SHARED[model] = same_fitted(
            model.tier.named_steps["features"], model.category.named_steps["features"]
        )
    return _SHARED[model]


# what an estimator stores about an object's identity, not what it learnt: sklearn's vectorisers note id() of
# the stop-word list on their first transform
_IDENTITIES = frozenset({"_stop_words_id"})


def same_fitted(a: object, b: object) -> bool:
    """Whether two fitted transformers are of one type and hold equal settings and learnt values (vocabularies,
    weights, categories), compared through their attributes, so that one's output stands for the other's."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (
            a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return False
        with contextlib.suppress(TypeError, ValueError):  # arrays among the values cannot say
            if a == b:  # a vocabulary (words to ints) in one step
                return True
        # estimators among the values compare by identity: each value is compared for what it holds
        return all(same_fitted(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(same_fitted, a, b))
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return same_fitted(*({k: v for k, v in vars(x).items() if k not in _IDENTITIES} for x in (a, b)))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _readable(feature: str) -> str:
    group, _, value = feature.partition("__")
    if group in ("message", "title"):
        return f'{group} says "{value}"'
    column, _, level = value.rpartition("_")
    return f"{column.replace('_', ' ')} {level}"


def urgency(message: pd.Series) -> pd.Series:
    text = message.astype("string")
    high = text.str.contains(HIGH_URGENCY, regex=True).fillna(False)
    low = text.str.contains(LOW_URGENCY, regex=True).fillna(False)
    return pd.Series(np.select([high, low], ["high", "low"], "normal"), index=message.index, dtype="string")


def brief(leads: pd.DataFrame, answers: pd.DataFrame) -> pd.Series:
    """Two sentences for the rep: who and what they wrote, then the verdict. Lead text is quoted as data."""
    name = (column(leads, "first_name").fillna("") + " " + column(leads, "last_name").fillna("")).str.strip()
    who = name.mask(name == "", "Someone") + (", " + column(leads, "title")).fillna("")
    where = (" at " + column(leads, "company")).fillna("")
    employees = pd.to_numeric(column(leads, "employees", "object"), errors="coerce").astype("Float64")
    size = (" (" + employees.round().astype("Int64").astype("string") + " employees)").fillna("")
    message = column(leads, "message").fillna("").str.slice(0, 160).str.replace(r"\s+", " ", regex=True)
    message = message.str.strip()
    said = (' wrote: "' + message + '"').where(message != "", " left no message")
    percent = (answers["confidence"].astype("Float64") * 100).round().astype("Int64").astype("string")
    verdict = (
        answers["tier"].fillna("?") + " lead (" + answers["category"].fillna("?") + "), "
        + answers["urgency"].fillna("normal") + " urgency, " + percent.fillna("?") + "% confident."
    )  # fmt: skip
    return (who + where + size + said + ". " + verdict).astype("string")
