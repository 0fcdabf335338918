"""The conversion model's guards and proof, on literal frames: the out-of-time split, too little history, the
leakage refusal, fields known later, the proof's tables and tiers from scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadrouter.classify.conversion.features import arrival_inputs
from leadrouter.classify.conversion.leakage import (
    later_fields,
    refusals,
    single_field_aucs,
    suspects,
    unknown_allowed,
)
from leadrouter.classify.conversion.proof import (
    TooLittleHistory,
    at_cut,
    calibration,
    check_enough,
    lift_by_decile,
    out_of_time,
)
from leadrouter.classify.conversion.tiers import Cutoffs, thresholds, tiers_from_scores
from leadrouter.fields import LeadFields

FIELDS = LeadFields.model_validate(
    {
        "required": [],
        "custom": [
            {"name": "occupation", "type": "category", "known_at": "arrival"},
            {"name": "time_on_site", "type": "number", "known_at": "arrival"},
            {"name": "lead_quality", "type": "category", "known_at": "later"},
        ],
    }
)


def test_the_newest_leads_are_held_out() -> None:
    created = pd.Series(pd.to_datetime(["2025-03-01", "2025-01-01", "2025-04-01", "2025-02-01"], utc=True))
    assert out_of_time(created, 0.5).tolist() == [True, False, True, False]
    with pytest.raises(ValueError, match=r"test_share 1\.0 must be between 0 and 1"):
        out_of_time(created, 1.0)


def test_too_little_history_says_what_is_missing() -> None:
    label = np.array([True] * 5 + [False] * 295)
    test = np.zeros(300, dtype=bool)
    test[-100:] = True
    with pytest.raises(TooLittleHistory) as caught:
        check_enough(label, test)
    assert str(caught.value) == (
        "too little history to learn from: 5 converted and 195 unconverted among the older leads (need 20 of "
        "each); 0 converted and 100 unconverted among the newest leads (need 20 of each)"
    )
    check_enough(np.tile([True, False, False, False, False], 60), test)  # 20 of each kind on both sides


def test_later_fields_never_reach_the_model() -> None:
    inputs = arrival_inputs(FIELDS)
    assert later_fields(FIELDS) == ["lead_quality"]
    assert "lead_quality" not in inputs.dense
    assert {"occupation", "time_on_site"} <= set(inputs.dense)
    assert "first_name" not in inputs.dense and "message" not in inputs.dense
    assert "time_on_site" in inputs.numeric and "occupation" in inputs.categorical


def test_a_field_too_good_to_be_true_is_refused_by_name() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(2000) < 0.2
    dense = pd.DataFrame(
        {
            "tags": np.where(y, "closed by rep", "ringing").astype(object),  # written after the outcome
            "source": np.where(rng.random(2000) < 0.5, "demo", "ebook").astype(object),  # no signal
            "time": rng.normal(0, 1, 2000) + y,  # a real, partial signal
        }
    )
    aucs = single_field_aucs(dense, y)
    assert list(aucs) == ["tags", "time", "source"]
    assert aucs["tags"] == pytest.approx(1.0)
    assert 0.6 < aucs["time"] < 0.85 and aucs["source"] < 0.56
    refused = refusals(aucs)
    assert [r.field for r in refused] == ["tags"]
    assert refused[0].why.startswith("tags alone predicts the outcome with ROC AUC 1.000 (at least 0.95)")
    assert "declare it `known_at: later` in config/fields.yaml" in refused[0].why


def test_a_suspected_field_is_refused_unless_a_person_allows_it() -> None:
    aucs = {"tags": 0.97, "notes": 0.93, "score": 0.90, "source": 0.7}
    refused = refusals(aucs)
    assert [(r.field, r.auc) for r in refused] == [("tags", 0.97), ("notes", 0.93), ("score", 0.90)]
    assert refused[1].why == (
        "notes alone predicts the outcome with ROC AUC 0.930 (at least 0.90): suspected of being written after "
        "the outcome (a rep's status, tag or score); left out of training. If it truly is known when a lead "
        "arrives, confirm it with `--allow-field notes` (or LEADROUTER_ALLOW_FIELDS); if it is set later, "
        "declare it `known_at: later` in config/fields.yaml"
    )
    assert suspects(aucs) == {}
    # allowed: used and still named; a field at the hard line cannot be allowed
    allowed = frozenset({"notes", "tags"})
    assert [r.field for r in refusals(aucs, allowed)] == ["tags", "score"]
    assert suspects(aucs, allowed) == {
        "notes": "notes alone predicts the outcome with ROC AUC 0.930: used, as allowed (--allow-field notes); "
        "make sure it is known when a lead arrives"
    }
    assert unknown_allowed(frozenset({"notes", "nots"}), aucs) == ["nots"]


def test_an_identifier_cannot_score_by_memorising_its_rows() -> None:
    rng = np.random.default_rng(1)
    y = rng.random(1000) < 0.3
    ids = pd.DataFrame({"lead_id": [f"L{i}" for i in range(1000)]}).astype(object)
    assert single_field_aucs(ids, y)["lead_id"] == pytest.approx(0.5)


def test_proof_tables() -> None:
    label = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    score = np.array([0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15, 0.05])
    assert at_cut(label, score, 0.2) == {"share": 0.2, "leads": 2, "precision": 1.0, "recall": 2 / 3}
    lift = lift_by_decile(label, score)
    assert lift["conversion"].tolist() == [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    assert lift["lift"].iat[0] == pytest.approx(3.3333, abs=1e-4)
    table = calibration(label, score, bins=2)
    assert table[["from", "to", "leads"]].values.tolist() == [[0.0, 0.5, 5], [0.5, 1.0, 5]]
    assert table["observed"].tolist() == [0.0, 0.6]
    assert table["predicted"].tolist() == [0.25, 0.75]


def test_tiers_from_scores_by_share_and_capacity() -> None:
    reference = np.linspace(0, 1, 101)
    assert thresholds(reference, Cutoffs(vip_share=0.1, standard_share=0.3)) == pytest.approx((0.9, 0.6))
    scores = pd.Series([0.95, 0.7, 0.2])
    assert tiers_from_scores(scores, reference).tolist() == ["VIP", "Standard", "Nurture"]
    # the VIP pool answers 5 leads a day out of 100: at most 5 % are VIP
    capped = Cutoffs(vip_share=0.1, vip_capacity=5, leads_per_day=100)
    assert thresholds(reference, capped)[0] == pytest.approx(0.95)
    assert tiers_from_scores(pd.Series([0.93]), reference, capped).tolist() == ["Standard"]
