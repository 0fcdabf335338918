"""`leadrouter model train --history`: learning conversion from two exports of a generated history, proven out of
time, with the leaky fields refused; a history too small keeps the current model."""

from __future__ import annotations

import json
from pathlib import Path

from leadrouter.classify.conversion.model import ConversionModel, conversion_path
from leadrouter.classify.local import VERSION
from leadrouter.config import Settings
from leadrouter.sandbox.conversions import conversion_history
from tests.helpers.cli import run


def _train(paths: dict[str, Path], models: Path, out: Path):
    env = {"LEADROUTER_MODEL_DIR": str(models), "COLUMNS": "300"}
    args = ["--history", str(paths["leads"]), "--deals", str(paths["deals"]), "--map", str(paths["map"])]
    return run(
        "model", "train", *args, "--fields", str(paths["fields"]), "--out", str(out), "--json", env=env
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
