"""`leadrouter model train --history`: learning conversion from two exports of a generated history, proven out of
time, with the leaky fields refused; a history too small keeps the current model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from leadrouter.classify.conversion.model import ConversionModel, conversion_path
from leadrouter.classify.local import VERSION
from leadrouter.config import Settings
from leadrouter.sandbox.conversions import conversion_history
from tests.helpers.cli import run


def _train(paths: dict[str, Path], models: Path, out: Path, *more: str):
    env = {"LEADROUTER_MODEL_DIR": str(models), "COLUMNS": "300"}
    args = ["--history", str(paths["leads"]), "--deals", str(paths["deals"]), "--map", str(paths["map"])]
    return run(
        "model", "train", *args, "--fields", str(paths["fields"]), "--out", str(out), "--json", *more, env=env
    )


def test_model_train_from_history(local_model, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    # the shipped local model (a baseline) is reused from the test cache, not trained again
    for path in Path(Settings().model_dir).glob(f"{VERSION}-*.joblib"):
        (models / path.name).symlink_to(path)
    history = conversion_history(4000, seed=5)
    paths = history.write(tmp_path / "export")
    done = _train(paths, models, tmp_path / "proof")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    proof = json.loads(done.stdout)
    assert proof["leads"]["given"] == 4000
    assert proof["leads"]["train"] + proof["leads"]["test"] == proof["leads"]["used"]
    assert abs(proof["leads"]["test"] - 0.25 * proof["leads"]["used"]) <= 1
    assert [r["field"] for r in proof["refused"]] == ["rep_tags"]
    assert proof["known_later"] == ["lead_quality"]
    assert "lead_quality" not in proof["single_fields"]
    assert set(proof["baselines"]) == {"rulebook", "local_model", "best_field"}
    assert proof["model"]["auc"] > proof["baselines"]["best_field"]["auc"] + 0.05
    assert proof["model"]["auc"] > proof["baselines"]["rulebook"]["auc"] + 0.05
    assert proof["kept"] is True and proof["current"] is None
    assert sorted(p.name for p in (tmp_path / "proof").iterdir()) == [
        "calibration.csv", "lift.csv", "proof.json", "single_fields.csv",
    ]  # fmt: skip
    saved = ConversionModel.load(conversion_path(models))
    assert saved.card.out_of_time == proof["model"] and saved.card.held_out == proof["leads"]["test"]
    scored = saved.score(saved_leads := _leads_like(paths))
    assert scored["score"].between(0, 1).all() and len(scored) == len(saved_leads)
    assert scored["top_reasons"].str.len().gt(0).all()

    # a history far too small to learn from says so, and the model kept above stays
    stamp = conversion_path(models).stat().st_mtime_ns
    small = conversion_history(150, seed=6).write(tmp_path / "small")
    refused = _train(small, models, tmp_path / "proof-small")
    assert refused.returncode == 1
    assert "too little history to learn from" in refused.stdout
    assert "the current model stays" in refused.stdout
    assert conversion_path(models).stat().st_mtime_ns == stamp


def _leads_like(paths: dict[str, Path]):
    """A few leads as routing holds them: the generated export read through its map."""
    from leadrouter.backtest.history import read_history
    from leadrouter.enrich.territory import load_territories
    from leadrouter.fields import load_fields

    fields = load_fields(paths["fields"])
    return read_history(paths["leads"], paths["deals"], paths["map"], load_territories(), fields).leads.head(
        50
    )


def test_a_suspected_field_needs_confirmation(local_model, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for path in Path(Settings().model_dir).glob(f"{VERSION}-*.joblib"):
        (models / path.name).symlink_to(path)
    history = conversion_history(2000, seed=7)
    paths = history.write(tmp_path / "export")
    # a rep's score that tells converters apart almost, not quite, perfectly: alone, ROC AUC about 0.92
    opened = history.deals.set_index("Lead ID")["Created Date"].reindex(history.leads["Lead ID"])
    opened_at = pd.to_datetime(opened, utc=True).reset_index(drop=True)
    days = (opened_at - pd.to_datetime(history.leads["Create Date"], utc=True)).dt.days
    converted = (days < 90).to_numpy()  # NaN (no deal) compares False
    coin = np.random.default_rng(0).random(len(converted))
    hot = np.where(converted, coin < 0.88, coin < 0.04)
    history.leads.assign(**{"Rep Score": np.where(hot, "hot", "cold")}).to_csv(paths["leads"], index=False)
    with paths["fields"].open("a", encoding="utf-8") as fields:
        fields.write("  - {name: rep_score, type: category, known_at: arrival, column: Rep Score}\n")

    refused = json.loads(_train(paths, models, tmp_path / "proof").stdout)
    why = {r["field"]: r["why"] for r in refused["refused"]}
    assert sorted(why) == ["rep_score", "rep_tags"] and 0.90 <= refused["single_fields"]["rep_score"] < 0.95
    assert why["rep_score"].startswith(
        f"rep_score alone predicts the outcome with ROC AUC {refused['single_fields']['rep_score']:.3f} (at least "
        "0.90): suspected"
    )
    assert "`--allow-field rep_score`" in why["rep_score"] and refused["suspected"] == {}

    allowed = json.loads(_train(paths, models, tmp_path / "proof", "--allow-field", "rep_score").stdout)
    assert [r["field"] for r in allowed["refused"]] == ["rep_tags"]
    assert list(allowed["suspected"]) == ["rep_score"]

    typo = _train(paths, models, tmp_path / "proof", "--allow-field", "rep_scor")
    assert typo.returncode == 2 and "rep_scor" in typo.stdout and "Fix the name or drop it" in typo.stdout
