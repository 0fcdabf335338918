"""Retraining the local model from routed history: in the core, and through `leadrouter model train`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.classify.history import labelled_history
from leadrouter.classify.local import LocalModel
from leadrouter.classify.local_cache import default_model, trained_path
from leadrouter.classify.training import labelled_leads, retrain
from leadrouter.enrich.territory import load_territories
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import open_store
from leadrouter.store.history import decided_labels
from tests.helpers.cli import run
from tests.helpers.routed import routed_sandbox


@pytest.fixture
def routed_env(tmp_path: Path, local_model: LocalModel) -> dict[str, str]:
    """A sandbox whose leads went through the core pipeline (no Prefect) into a ledger."""
    crm, url = routed_sandbox(tmp_path, local_model, seed=9, leads=600)
    return {
        "LEADROUTER_STORE_URL": url,
        "LEADROUTER_SANDBOX_PATH": str(crm.path),
    }


def test_retraining_learns_from_rule_decisions_never_from_the_model(routed_env, local_model) -> None:
    store = open_store(routed_env["LEADROUTER_STORE_URL"])
    labels = decided_labels(store, "sandbox")
    assert len(labels) > 300 and labels["decided_by"].str.startswith("rule:").all()
    crm = SandboxCRM(routed_env["LEADROUTER_SANDBOX_PATH"])
    history = labelled_leads(labels, crm, load_territories())
    assert len(history) == len(labels) and history["label_tier"].notna().all()
    result = retrain(history, None, local_model, "store-test")
    assert result.labels == len(history) and result.model.name == "local-1:store-test"
    assert result.holdout_accuracy > 0.8  # rule decisions are learnable: the model agrees on held-out leads


def test_model_train_command_replaces_a_worse_model(routed_env, tmp_path: Path) -> None:
    models = tmp_path / "models"
    history = labelled_history(4, 400, load_territories())
    shuffled = history["label_tier"].sample(frac=1, random_state=0).to_numpy()  # a model that learnt noise
    noise = LocalModel.train(
        history, pd.Series(shuffled, index=history.index), history["label_category"], "noise"
    )
    noise.save(trained_path(models))
    env = routed_env | {"LEADROUTER_MODEL_DIR": str(models), "COLUMNS": "300"}
    before = run("model", "info", env=env)
    assert before.returncode == 0 and before.stdout.splitlines()[:2] == [
        f"local-1:noise: retrained ({trained_path(models)})",
        "trained on: not recorded (a model saved before models kept a card)",
    ]
    out = run("model", "train", "--synthetic", "0", "--min-labels", "100", "--json", env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout)
    assert summary["labels"] > 300 and summary["kept"] is True
    assert summary["holdout_accuracy"] > summary["previous_accuracy"] + 0.2
    assert default_model(models).name.startswith("local-1:store-sandbox-")
    card = default_model(models).card
    held = round(0.2 * summary["labels"])  # retrain holds a fifth out
    assert (card.routed, card.synthetic, card.source, card.held_out) == (
        summary["labels"],
        0,
        "sandbox",
        held,
    )
    assert card.label_sources == {"rule": summary["labels"]}  # routed_sandbox's leads: all decided by rules
    assert card.holdout_accuracy == pytest.approx(summary["holdout_accuracy"], abs=1e-4)
    assert card.previous_accuracy == pytest.approx(summary["previous_accuracy"], abs=1e-4)
    info = run("model", "info", env=env).stdout.splitlines()
    assert info[1:] == [
        f"trained on: {summary['labels']:,} routed leads from sandbox; labels: {summary['labels']:,} rule",
        f"trained at: {card.trained_at:%Y-%m-%d %H:%M} UTC",
        f"held out: {held:,} routed leads; tier accuracy {card.holdout_accuracy:.1%}; the model it replaced: "
        f"{card.previous_accuracy:.1%}",
        "threshold and review SLA are in the rulebook",
    ]
    refused = run("model", "train", "--min-labels", "100000", env=env)
    assert refused.returncode == 1 and "need 100000" in refused.stdout
