"""The local model: answers and persistence (retraining: integration/test_retraining)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leadrouter.classify.local import LocalModel
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

    from leadrouter.classify import local

    trained: list[int] = []

    def slow_training() -> LocalModel:
        trained.append(1)
        time.sleep(0.5)  # long enough for the other caller to find no cached file and reach the lock
        return local_model

    monkeypatch.setattr(local.LocalModel, "synthetic", staticmethod(slow_training))
    got: list[LocalModel] = []
    callers = [threading.Thread(target=lambda: got.append(local.default_model(tmp_path))) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(trained) == 1
    assert [m.name for m in got] == [local_model.name, local_model.name]
    assert len(list(tmp_path.glob("*.joblib"))) == 1
