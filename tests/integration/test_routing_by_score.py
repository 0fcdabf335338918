"""Sandbox leads routed with a conversion model trained on a small generated history: the score's tier for
sales leads no rule decided, and score, tier and reasons on every decision, in `explain` and in the brief."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadrouter.backtest.history import read_history
from leadrouter.classify.conversion.learn import learn
from leadrouter.classify.conversion.model import conversion_path
from leadrouter.classify.model import ModelChain
from leadrouter.config import Settings
from leadrouter.enrich.territory import load_territories
from leadrouter.fields import load_fields
from leadrouter.messages import assignment_messages
from leadrouter.pipeline import classify_batch
from leadrouter.record import BatchContext, record_batch
from leadrouter.router import open_router
from leadrouter.sandbox.conversions import conversion_history
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.schema import TIERS
from leadrouter.store.decisions import lead_decisions
from tests.helpers.cli import run
from tests.helpers.clock import WORKDAY


def train_conversion_model(folder: Path) -> Path:
    """A conversion model learnt from 3,000 generated leads, saved where routing looks for it; the model dir."""
    paths = conversion_history(3000, seed=3).write(folder / "export")
    fields = load_fields(paths["fields"])
    history = read_history(paths["leads"], paths["deals"], paths["map"], load_territories(), fields)
    proof, model = learn(history.leads, fields, "generated", as_of=history.as_of)
    assert proof.kept
    models = folder / "models"
    model.save(conversion_path(models))
    return models


def test_sandbox_leads_route_by_score(tmp_path: Path, local_model, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/ledger.db",
        sandbox_path=tmp_path / "sandbox.db",
        model_dir=train_conversion_model(tmp_path),
        model="none",  # the chain is the cached local model, set below (none would be trained in model_dir)
        vip_share=0.2,
    )
    SandboxCRM.create(settings.sandbox_path, seed=7, leads=120)
    with open_router(settings) as opened:
        assert opened.scorer is not None  # auto: a conversion model is saved
        router = opened.replace(chain=ModelChain([local_model], opened.rulebook.review.confidence_threshold))
        leads, _ = router.crm.fetch_new_leads(None, 500)
        batch = classify_batch(router, leads)
        ctx = BatchContext(router.source, "run-1", router.rulebook.version, at=WORKDAY)
        recorded = record_batch(router.store, ctx, batch.leads, batch.quarantined, router.roster)

    decided = batch.leads
    assert decided["score"].between(0, 1).all()
    assert decided["score_tier"].isin(TIERS).all() and decided["score_reasons"].str.len().gt(0).all()
    by_score = decided["decided_by"].str.startswith("model:conversion-1:").fillna(False)
    by_rule = decided["decided_by"].str.startswith("rule:").fillna(False)
    assert by_score.sum() > 0 and by_rule.sum() > 0
    assert (decided.loc[by_score, "tier"] == decided.loc[by_score, "score_tier"]).all()
    assert decided.loc[by_score, "category"].eq("sales").all()
    print(
        f"{len(decided)} leads: {by_rule.sum()} by rules, {by_score.sum()} by score;",
        decided["tier"].value_counts().to_dict(),
    )

    lead = decided.loc[by_score].iloc[0]
    with open_router(settings.model_copy(update={"tiers_from": "rules+model"})) as reopened:
        assert reopened.scorer is None
        row = lead_decisions(reopened.store, lead["lead_id"])[0]
    assert (row.score, row.score_tier, row.score_reasons) == (
        pytest.approx(lead["score"]), lead["score_tier"], lead["score_reasons"],
    )  # fmt: skip
    assert row.decided_by == lead["decided_by"]

    env = {"LEADROUTER_STORE_URL": settings.store_url, "COLUMNS": "300"}
    shown = run("explain", lead["lead_id"], env=env)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"score      {lead['score']:.3f} ({lead['score_tier']} by score)" in shown.stdout
    assert f"reasons    {lead['score_reasons'][:60]}" in shown.stdout

    # simulate shows the score too (a rule-decided lead: with no chain, the rest would wait for review)
    ruled = decided.loc[by_rule & decided["category"].eq("sales")].iloc[0]
    env |= {"LEADROUTER_SANDBOX_PATH": str(settings.sandbox_path), "LEADROUTER_MODEL_DIR": str(settings.model_dir),
            "LEADROUTER_MODEL": "none"}  # fmt: skip
    simulated = run("simulate", ruled["lead_id"], env=env)
    assert simulated.returncode == 0, simulated.stdout + simulated.stderr
    assert f"score      {ruled['score']:.3f} ({ruled['score_tier']} by score)" in simulated.stdout

    messages = assignment_messages(recorded, router.roster)
    scored = [m for m in messages if any(line.startswith("Score: ") for line in m.lines)]
    assert scored and len(scored) == len(messages)
    assert any(line.startswith("Reasons: ") for line in scored[0].lines)
