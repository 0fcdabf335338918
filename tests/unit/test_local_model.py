"""The local model: answers and persistence (retraining: integration/test_retraining)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import OneHotEncoder

from leadrouter.classify.local import LocalModel, model_features, same_fitted, shares_features
from leadrouter.classify.model import ANSWER_COLUMNS

LEAD = {
    "lead_id": ["a", "b"],
    "first_name": ["Ana", "Bo"],
    "last_name": ["Lima", "Berg"],
    "title": ["VP of Sales", "Student"],
    "company": ["Northwind Software", None],
    "employees": pd.array([800, None], dtype="Int64"),
    "lead_source": ["contact_form", "chat"],
    "message": ["We'd like a demo for 200 reps. Please call me ASAP.", "just curious, no rush"],
}


def test_answers_have_every_column_a_brief_and_an_urgency(local_model: LocalModel) -> None:
    out = local_model.classify(pd.DataFrame(LEAD))
    assert list(out.columns) == list(ANSWER_COLUMNS)
    assert set(out["tier"]) <= {"VIP", "Standard", "Nurture", "Other"}
    assert out["urgency"].tolist() == ["high", "low"]
    assert out["brief"][0].startswith(
        'Ana Lima, VP of Sales at Northwind Software (800 employees) wrote: "We'
    )
    assert out["rationale"].str.len().gt(5).all() and (out["cost_usd"] == 0).all()


def test_a_saved_model_loads_and_a_foreign_file_is_refused(local_model: LocalModel, tmp_path: Path) -> None:
    local_model.save(tmp_path / "m.joblib")
    again = LocalModel.load(tmp_path / "m.joblib")
    frame = pd.DataFrame(LEAD)
    pd.testing.assert_frame_equal(again.classify(frame), local_model.classify(frame))
    import joblib

    joblib.dump({"not": "a model"}, tmp_path / "other.joblib")
    with pytest.raises(ValueError, match="is not a local-1 model"):
        LocalModel.load(tmp_path / "other.joblib")


def test_two_processes_wanting_the_default_model_train_it_once(
    local_model: LocalModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """make run trains it in a child while a routing run may ask for it: the second waits for the first's."""
    import threading
    import time

    from leadrouter.classify import local, local_cache

    trained: list[int] = []

    def slow_training() -> LocalModel:
        trained.append(1)
        time.sleep(0.5)  # long enough for the other caller to find no cached file and reach the lock
        return local_model

    monkeypatch.setattr(local.LocalModel, "synthetic", staticmethod(slow_training))
    got: list[LocalModel] = []
    callers = [
        threading.Thread(target=lambda: got.append(local_cache.default_model(tmp_path))) for _ in range(2)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(trained) == 1
    assert [m.name for m in got] == [local_model.name, local_model.name]
    assert len(list(tmp_path.glob("*.joblib"))) == 1


def _categories(model: LocalModel, frame: pd.DataFrame) -> np.ndarray:
    """Category probabilities through the category pipeline's own feature step."""
    return model.category.predict_proba(model_features(frame))


def test_the_category_model_reads_the_tier_features_only_when_its_own_are_the_same(
    local_model: LocalModel,
) -> None:
    frame = pd.DataFrame(LEAD)
    features = model_features(frame)
    assert shares_features(local_model)  # both pipelines are fitted on one frame
    encoded = local_model.tier.named_steps["features"].transform(features)
    # a transform leaves what the step learnt as it was (sklearn notes the stop words' id(): not compared)
    assert same_fitted(local_model.tier.named_steps["features"], local_model.category.named_steps["features"])
    shared = local_model.category.named_steps["model"].predict_proba(encoded)
    np.testing.assert_array_equal(shared, _categories(local_model, frame))

    other = copy.deepcopy(local_model)
    message = other.category.named_steps["features"].named_transformers_["message"]
    message.idf_ = message.idf_[::-1].copy()  # its own word weights now differ from the tier's
    assert not same_fitted(other.tier.named_steps["features"], other.category.named_steps["features"])
    assert not shares_features(other)
    answers = other.classify(frame)
    assert not np.array_equal(_categories(other, frame), _categories(local_model, frame))
    sales = other.category.classes_ == "sales"
    picked = np.where(sales, -1.0, _categories(other, frame)).argmax(axis=1)
    expected = np.where(answers["tier"] == "Other", other.category.classes_[picked], "sales")
    assert answers["category"].tolist() == expected.tolist()


def test_same_fitted_compares_learnt_values() -> None:
    first = OneHotEncoder().fit(pd.DataFrame({"a": ["x", "y"]}))
    assert same_fitted(first, OneHotEncoder().fit(pd.DataFrame({"a": ["x", "y"]})))
    assert not same_fitted(first, OneHotEncoder().fit(pd.DataFrame({"a": ["x", "z"]})))


def test_the_cached_default_is_trained_again_when_the_code_that_trains_it_changes(
    local_model: LocalModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model cached by older code routes differently from the one this code trains: upgrades retrain it."""
    from leadrouter.classify import local, local_cache

    trained: list[int] = []
    monkeypatch.setattr(local.LocalModel, "synthetic", staticmethod(lambda: trained.append(1) or local_model))
    local_cache.default_model(tmp_path)
    local_cache.default_model(tmp_path)
    assert trained == [1]  # cached for the same code
    (old,) = tmp_path.glob("*.joblib")
    monkeypatch.setattr(local_cache, "training_code", lambda: "the next release's code")
    local_cache.default_model(tmp_path)
    assert trained == [1, 1]
    (new,) = set(tmp_path.glob(f"{local.VERSION}-*.joblib"))  # the one cached by older code is gone
    assert new != old


def test_the_training_code_digest_follows_every_source_file_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadrouter.classify import local_cache

    for name in local_cache.TRAINING_CODE:
        path = tmp_path / name if name.endswith(".py") else tmp_path / name / "deep" / "module.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")
    (tmp_path / "unrelated.py").write_text("x = 1\n")
    monkeypatch.setattr(local_cache, "PACKAGE", tmp_path)
    digest = local_cache.training_code.__wrapped__
    before = digest()
    (tmp_path / "unrelated.py").write_text("x = 2\n")
    assert digest() == before  # code outside training leaves the cached model alone
    for name in local_cache.TRAINING_CODE:
        path = tmp_path / name if name.endswith(".py") else tmp_path / name / "deep" / "module.py"
        path.write_text(path.read_text() + "changed = True\n")
        assert digest() != before, name
        before = digest()
