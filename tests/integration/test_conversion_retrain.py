"""The outcome loop's conversion retrain (training.retrain_conversion) with enough matured outcomes: it trains,
proves out of time and keeps the model; a worse history (the older leads' outcomes shuffled) keeps the first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leadrouter.backtest.history import read_history
from leadrouter.classify.conversion.model import ConversionModel, conversion_path
from leadrouter.classify.local import VERSION
from leadrouter.classify.training import retrain_conversion
from leadrouter.config import Settings
from leadrouter.enrich.territory import load_territories
from leadrouter.fields import load_fields
from leadrouter.outcomes.hindsight import OUTCOME_COLUMNS
from leadrouter.sandbox.conversions import conversion_history


def test_retrain_conversion_keeps_a_better_model_and_not_a_worse_one(local_model, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for path in Path(Settings().model_dir).glob(f"{VERSION}-*.joblib"):  # the cached local model, a baseline
        (models / path.name).symlink_to(path)
    paths = conversion_history(1200, seed=5).write(tmp_path / "export")
    fields = load_fields(paths["fields"])
    history = read_history(paths["leads"], paths["deals"], paths["map"], load_territories(), fields)
    leads = history.leads.astype({"lead_id": "string"})
    outcomes = leads[["lead_id", *OUTCOME_COLUMNS]]

    # as labelled_leads hands them over: a lead labelled twice (decision and outcome) comes twice
    twice = pd.concat([leads, leads.head(40)], ignore_index=True)
    first = retrain_conversion(outcomes, twice, models, "sandbox", history.as_of, fields)
    assert first["kept"] is True, first["verdict"]
    assert first["leads"]["given"] == len(leads) == 1200
    assert first["leads"]["train"] + first["leads"]["test"] == first["leads"]["used"]
    assert first["auc"] > 0.6
    saved = ConversionModel.load(conversion_path(models))
    assert saved.card.held_out == first["leads"]["test"] and saved.card.out_of_time["auc"] == first["auc"]
    stamp = conversion_path(models).stat().st_mtime_ns

    # the older leads' outcomes shuffled among them: nothing to learn, the newest leads unchanged
    older = leads.sort_values("created_at", kind="stable").index[: round(len(leads) * 0.75)]
    shuffled = outcomes.copy()
    order = np.random.default_rng(0).permutation(len(older))
    shuffled.loc[older, OUTCOME_COLUMNS] = outcomes.loc[older, OUTCOME_COLUMNS].to_numpy()[order]
    second = retrain_conversion(shuffled, leads, models, "sandbox", history.as_of, fields)
    assert second["kept"] is False and second["verdict"].startswith("not kept"), second["verdict"]
    assert second["auc"] < first["auc"]
    assert conversion_path(models).stat().st_mtime_ns == stamp
    assert second["leads"] == first["leads"]  # the same leads, their outcomes only moved among the older ones
