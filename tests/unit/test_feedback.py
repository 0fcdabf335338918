"""Retraining from outcomes, end to end on a real sandbox CRM and ledger: outcome labels replace the rules'
where the deal disagrees, and a retrained model that is worse than the current one is not kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadrouter.classify.history import labelled_history
from leadrouter.classify.local import LocalModel
from leadrouter.classify.local_cache import trained_path
from leadrouter.classify.training import TooFewLabels, retrain_from_outcomes
from leadrouter.enrich.territory import load_territories
from leadrouter.outcomes.feedback import label_tier, outcome_labels
from leadrouter.outcomes.hindsight import hindsight
from leadrouter.outcomes.join import decider_kind, lead_outcomes
from leadrouter.schema import Status
from leadrouter.store import open_store
from leadrouter.store.history import decided_labels
from leadrouter.store.outcomes import read_inputs
from tests.helpers.clock import WORKDAY
from tests.helpers.routed import routed_sandbox

AS_OF = pd.Timestamp(WORKDAY) + pd.Timedelta(days=1)  # a day after routing: only deals are conclusive yet


@pytest.fixture
def routed(tmp_path: Path, local_model: LocalModel):
    """A small sandbox routed through the core pipeline into a SQLite ledger."""
    crm, url = routed_sandbox(tmp_path, local_model, seed=5, leads=120)
    with open_store(url) as store:
        yield store, crm


def with_deals(frame: pd.DataFrame, lead_ids: pd.Index, pipeline: float) -> pd.DataFrame:
    """The outcome frame as if these leads had become opportunities worth `pipeline` ten days in."""
    won = frame["lead_id"].isin(lead_ids)
    out = frame.copy()
    out.loc[won, ["opportunity", "meeting"]] = True
    out.loc[won, "pipeline"] = pipeline
    out.loc[won, "days_to_opportunity"] = 10.0
    return out


def test_outcomes_relabel_rule_decisions_and_a_worse_model_is_not_kept(routed, local_model, tmp_path) -> None:
    store, crm = routed
    decided = decided_labels(store, "sandbox")
    frame = lead_outcomes(**read_inputs(store, "sandbox"))
    assert len(decided) > 60 and not frame["opportunity"].any()  # routed, no deal yet
    # leads a rule called Nurture or Standard became big deals: in hindsight they were VIPs
    undervalued = decided.loc[decided["tier"].isin(["Nurture", "Standard"]), "lead_id"].head(6)
    model_decided = frame.loc[frame["decided_kind"] == "model", "lead_id"].head(3)
    assert len(undervalued) == 6 and len(model_decided) == 3
    frame = with_deals(frame, pd.Index(undervalued), 120_000.0)
    frame = with_deals(frame, pd.Index(model_decided), 20_000.0)

    labels = outcome_labels(frame, decided, as_of=AS_OF).set_index("lead_id")
    assert (labels.loc[undervalued, "tier"] == "VIP").all()
    assert (labels.loc[undervalued, "label_source"] == "outcome").all()
    assert (labels.loc[model_decided, "tier"] == "Standard").all()
    untouched = decided[~decided["lead_id"].isin(undervalued)].set_index("lead_id")
    assert (labels.loc[untouched.index, "tier"] == untouched["tier"]).all()  # no deal yet: not conclusive
    assert len(labels) == len(decided) + len(model_decided)

    # the current model is the shipped one; the new one learns from a flood of mislabelled synthetic leads
    models = tmp_path / "models"
    local_model.save(trained_path(models))
    before = trained_path(models).read_bytes()
    noise = labelled_history(7, 150, load_territories())
    noise["label_tier"] = noise["label_tier"].sample(frac=1, random_state=1).to_numpy()
    summary = retrain_from_outcomes(
        store, "sandbox", frame, crm, load_territories(), models, synthetic=noise, min_labels=50, as_of=AS_OF
    )
    assert summary["outcome_labels"] == len(undervalued) + len(model_decided)
    assert summary["labels"] == len(labels)
    assert summary["holdout_accuracy"] < summary["previous_accuracy"]  # the new one is worse ...
    assert summary["kept"] is False and trained_path(models).read_bytes() == before  # ... and not kept

    with pytest.raises(TooFewLabels, match="need 100000"):
        retrain_from_outcomes(store, "sandbox", frame, crm, None, models, min_labels=100_000, as_of=AS_OF)


def test_decisions_with_no_decider_at_all_have_no_kind_or_rule_and_review_waits() -> None:
    decided_by = pd.Series([None, None, None], dtype="string")
    status = pd.Series([Status.REVIEW.value, Status.WRITTEN.value, Status.QUARANTINED.value])
    kind, rule = decider_kind(decided_by, status)
    assert kind.tolist() == ["review", pd.NA, pd.NA] and rule.isna().all()


def test_a_lead_that_never_became_an_opportunity_teaches_nurture_not_other() -> None:
    frame = pd.DataFrame(
        {
            "opportunity": [True, True, False],
            "days_to_opportunity": [10.0, 200.0, np.nan],
            "pipeline": [1000.0, 500.0, 0.0],
            "won": [True, False, False],
        }
    )
    # hindsight's Other says "never engaged"; the model's Other is a non-sales lead
    assert hindsight(frame)["hindsight"].tolist() == ["VIP", "Nurture", "Other"]
    assert label_tier(frame).tolist() == ["VIP", "Nurture", "Nurture"]
