"""The model card `leadrouter model info` prints: what the model learnt from, when, and its held-out figures."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from leadrouter.classify.card import ModelCard, describe, label_counts

AT = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)


def test_a_retrained_model_names_its_leads_labels_date_and_held_out_accuracy() -> None:
    sources = label_counts(pd.Series(["rule"] * 700 + ["outcome"] * 250 + ["review"] * 50 + [None] * 3))
    assert sources == {"rule": 700, "outcome": 250, "review": 50, "unknown": 3}
    card = ModelCard(AT, 1003, 2000, sources | {"synthetic": 2000}, "salesforce", 201, 0.9154, 0.8806)
    assert describe(
        "local-1:store-salesforce-1003", card, "retrained (var/models/local-1-trained.joblib)"
    ) == [
        "local-1:store-salesforce-1003: retrained (var/models/local-1-trained.joblib)",
        "trained on: 1,003 routed leads from salesforce + 2,000 generated (synthetic) leads; labels: 700 rule, "
        "250 outcome, 50 review, 3 unknown, 2,000 synthetic",
        "trained at: 2026-11-25 16:30 UTC",
        "held out: 201 routed leads; tier accuracy 91.5%; the model it replaced: 88.1%",
    ]


def test_the_shipped_model_says_it_has_no_held_out_figures_and_why() -> None:
    card = ModelCard(AT, 0, 19_874, {"synthetic": 19_874})
    assert describe("local-1:synthetic-1-20000", card, "the shipped default (synthetic history)")[1:] == [
        "trained on: 19,874 generated (synthetic) leads; labels: 19,874 synthetic",
        "trained at: 2026-11-25 16:30 UTC",
        "held-out figures: none (no routed leads to hold out); `leadrouter model train` measures them on "
        "routed leads",
    ]
    few = ModelCard(AT, 40, 0, {"rule": 40}, "sandbox")
    assert describe("m", few, "retrained")[-1].startswith("held-out figures: none (too few routed leads (40)")
    assert describe("m", None, "retrained")[1] == (
        "trained on: not recorded (a model saved before models kept a card)"
    )
