"""The outcome loop learns conversion from the ledger's own outcomes, end to end: a generated year of leads is
routed in monthly batches into the ledger, their deals open in the CRM and the loop records them as it would
day by day, then retrain_configured (the outcome loop's retrain) reads decided_labels → labelled_leads →
retrain_conversion, proves the model out of time and keeps it, and the next leads route by its score."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.backtest.history import read_history
from leadrouter.classify.conversion.model import ConversionModel, conversion_path
from leadrouter.classify.local import VERSION
from leadrouter.classify.model import ModelChain
from leadrouter.classify.training import retrain_configured
from leadrouter.config import Settings
from leadrouter.enrich.territory import load_territories
from leadrouter.fields import load_fields
from leadrouter.outcomes.deals import clean_outcomes, configured_stages
from leadrouter.outcomes.join import HORIZON_DAYS, lead_outcomes
from leadrouter.pipeline import classify_batch
from leadrouter.record import BatchContext, record_batch
from leadrouter.router import Router, open_router
from leadrouter.sandbox.conversions import conversion_history
from leadrouter.schema import TIERS
from leadrouter.store.decisions import lead_decisions
from leadrouter.store.outcomes import due_lead_ids, read_inputs, upsert_outcomes
from tests.helpers.export_ledger import export_sandbox, open_deals

SOURCE = "sandbox"
HELD_BACK = 150  # the newest leads, routed only once the model is trained
GRACE = timedelta(days=HORIZON_DAYS + 7)  # the outcome loop's window: days + grace_days


def route(router: Router, leads: pd.DataFrame, run: str, at: pd.Timestamp) -> pd.DataFrame:
    """One route-inbound batch of these leads (re-read from the CRM) decided at `at`; the classified leads."""
    batch = classify_batch(router, router.crm.fetch_leads(leads["lead_id"].tolist()))
    ctx = BatchContext(SOURCE, run, router.rulebook.version, at=at.to_pydatetime())
    record_batch(router.store, ctx, batch.leads, batch.quarantined, router.roster)
    return batch.leads


def test_the_outcome_loop_learns_conversion_from_the_ledger(
    tmp_path: Path, local_model, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated = conversion_history(3000, seed=5)
    paths = generated.write(tmp_path / "export")
    models = tmp_path / "models"
    models.mkdir()
    for path in Path(Settings().model_dir).glob(f"{VERSION}-*.joblib"):  # the cached local model
        (models / path.name).symlink_to(path)
    env = {"LEADROUTER_STORE_URL": f"sqlite:///{tmp_path}/ledger.db", "LEADROUTER_SANDBOX_PATH":
           str(tmp_path / "sandbox.db"), "LEADROUTER_MODEL_DIR": str(models), "LEADROUTER_FIELDS_PATH":
           str(paths["fields"]), "LEADROUTER_MODEL": "none"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    fields = load_fields(paths["fields"])
    history = read_history(paths["leads"], paths["deals"], paths["map"], load_territories(), fields)
    leads = history.leads.sort_values("created_at", kind="stable")
    routed, later = leads.iloc[:-HELD_BACK], leads.iloc[-HELD_BACK:]
    crm = export_sandbox(settings.sandbox_path, leads, fields)
    deals = generated.deals.assign(
        opened=pd.to_datetime(generated.deals["Created Date"], utc=True).dt.ceil("D")
    )
    deals = deals[deals["Lead ID"].isin(routed["lead_id"])]

    # a year of the two flows: route-inbound monthly, the outcome loop each day a deal opens
    last = routed["created_at"].max().tz_convert("UTC") + pd.Timedelta(days=31)
    months = pd.date_range(pd.Timestamp("2025-02-01", tz="UTC"), last, freq="MS")
    moments = sorted(set(months) | set(deals["opened"].dt.tz_convert("UTC")))
    stages = configured_stages(settings)
    opened = decided = pd.Timestamp(0, tz="UTC")
    with open_router(settings) as opened_router:
        router = opened_router.replace(
            chain=ModelChain([local_model], opened_router.rulebook.review.confidence_threshold)
        )
        assert router.scorer is None  # no conversion model yet: tiers from rules and the model chain
        for at in moments:
            if at in months:
                batch = routed[(routed["created_at"] >= decided) & (routed["created_at"] < at)]
                route(router, batch, f"month-{at:%Y-%m}", at)
                decided = at
            open_deals(crm, deals[(deals["opened"] > opened) & (deals["opened"] <= at)])
            opened = at
            due = due_lead_ids(router.store, SOURCE, at - GRACE)
            found, problems = clean_outcomes(crm.fetch_outcomes(due), stages)
            assert problems == []
            upsert_outcomes(router.store, SOURCE, found, at.to_pydatetime())

        # the outcome loop's run at the end: its per-lead frame, then its retrain
        frame = lead_outcomes(**read_inputs(router.store, SOURCE))
        # the loop sees a deal that opens within its window of the lead's decision (decided at the routing
        # moment): one opening later is never asked about, as in production
        decided_at = pd.to_datetime(frame.set_index("lead_id")["decided_at"], utc=True)
        seen = deals[deals["opened"] - deals["Lead ID"].map(decided_at) <= GRACE]
        assert len(frame) == len(routed) and int(frame["opportunity"].sum()) == len(seen) > 0.6 * len(deals)
        summary = retrain_configured(router.store, settings, crm, SOURCE, history.as_of, outcomes=frame)

    conversion = summary["conversion"]
    assert conversion["kept"] is True, conversion["verdict"]
    used = conversion["leads"]
    assert used["given"] == summary["labels"] and used["train"] + used["test"] == used["used"]
    # every routed lead matured by now; the few missing are review-queued ones and model-decided Others that
    # never became an opportunity (outcome_labels: no deal says nothing about press or spam)
    assert used["immature"] == 0 and used["used"] == used["given"] - used["undated"]
    assert used["given"] >= 0.9 * len(routed)
    # the export's leads are all sales leads: one category teaches the local model nothing, it stays
    assert summary["kept"] is False
    assert summary["skipped"] == "every label has the same category: the local model stays"
    assert conversion["auc"] > 0.65 and conversion["current_auc"] is None  # it beat the local model's order
    model = ConversionModel.load(conversion_path(models))
    assert model.name == f"conversion-1:store-{SOURCE}-{used['given']}"
    assert (model.card.source, model.card.held_out, model.card.out_of_time["auc"]) == (
        SOURCE, used["test"], conversion["auc"],
    )  # fmt: skip
    assert "rep_tags" not in model.inputs.dense  # written after the outcome: refused by the leakage guard

    # routing now scores every lead and takes the tier of a sales lead no rule decided from the score
    with open_router(settings) as reopened:
        assert reopened.scorer is not None and reopened.scorer.model.name == model.name
        router = reopened.replace(
            chain=ModelChain([local_model], reopened.rulebook.review.confidence_threshold)
        )
        decided_now = route(router, later, "after-retrain", history.as_of)
        assert len(decided_now) == HELD_BACK and decided_now["score"].between(0, 1).all()
        assert decided_now["score_tier"].isin(TIERS).all()
        by_score = decided_now["decided_by"].eq(f"model:{model.name}"[:80]).fillna(False)
        assert by_score.sum() > 0
        lead = decided_now[by_score].iloc[0]
        row = lead_decisions(router.store, lead["lead_id"])[0]
    assert (row.score, row.tier, row.decided_by) == (
        pytest.approx(lead["score"]),
        lead["score_tier"],
        lead["decided_by"],
    )
