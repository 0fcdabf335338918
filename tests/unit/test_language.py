"""The lead's language: detected from what it wrote, the same as py3langid's own answer, and the country's
main language when the text is too short or mixed to tell."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from py3langid.langid import _load_identifier

from leadrouter import enrich
from leadrouter.config import PROJECT_ROOT
from leadrouter.enrich.language import (
    MIN_CONFIDENCE,
    detect_languages,
    iso_639_1,
    language_model,
    language_of,
)

SAMPLES = json.loads((PROJECT_ROOT / "bench" / "data" / "language_samples.json").read_text())["samples"]


def frame(**columns: list) -> pd.DataFrame:
    return pd.DataFrame({k: pd.array(v, dtype="string") for k, v in columns.items()})


def test_the_batch_gives_the_librarys_answer_for_every_text() -> None:
    texts = pd.Series([t for _, t in SAMPLES] + ["", "12345", "ÄÖÜ GMBH"])
    ours = detect_languages(texts)
    library = _load_identifier(norm_probs=True)
    library.set_languages(iso_639_1(library.labels))
    for text, language, confidence in zip(texts, ours["language"], ours["language_confidence"], strict=True):
        if not text:
            assert pd.isna(language) and pd.isna(confidence)
            continue
        expected, probability = library.classify(text)
        assert language == expected, text  # the library sums in float32, in another order: 1e-3 apart at most
        assert float(confidence) == pytest.approx(probability, abs=1e-3), text


def test_long_texts_of_every_language_are_recognised() -> None:
    long = [(lang, text) for lang, text in SAMPLES if len(text) >= 20]
    found = detect_languages(pd.Series([t for _, t in long]))["language"].tolist()
    assert found == [lang for lang, _ in long]
    assert len({lang for lang, _ in long}) == 12


def test_a_clear_text_wins_over_the_country_and_a_short_one_falls_back_to_it() -> None:
    leads = frame(
        message=[
            "営業部の部長です。エンタープライズプランの料金を日本語で教えてください。",
            "Need a demo",
            "Need a demo",
            None,
        ],
        title=["営業部長", None, None, None],
        company=["株式会社山田製作所", "Acme", "Acme", None],
        country=["US", "DE", None, "BR"],
    )
    out = language_of(leads)
    assert out["language"].tolist()[0] == "ja" and out["language_confidence"][0] > 0.9
    assert out["language"][1] == "de" and pd.isna(out["language_confidence"][1])  # short: the country's
    assert pd.isna(out["language"][2]) and pd.isna(out["language_confidence"][2])  # short, no country
    assert out["language"][3] == "pt" and pd.isna(out["language_confidence"][3])  # nothing written


def test_a_mixed_text_falls_back_to_the_country() -> None:
    mixed = "Bonjour, pricing bitte, gracias, grazie, obrigado"
    out = language_of(frame(message=[mixed, mixed], country=["FR", "ZZ"]))
    detected = detect_languages(pd.Series([mixed]))["language_confidence"][0]
    assert detected < MIN_CONFIDENCE  # the premise: too mixed to trust
    assert out["language"][0] == "fr" and pd.isna(out["language"][1])


@pytest.mark.parametrize("columns", [{}, {"message": []}])
def test_an_empty_or_thin_batch_has_both_columns(columns: dict) -> None:
    out = language_of(pd.DataFrame({k: pd.array(v, dtype="string") for k, v in columns.items()}))
    assert list(out.columns) == ["language", "language_confidence"] and len(out) == 0


def test_leads_repeating_a_text_each_get_the_answer_they_get_alone() -> None:
    """Text is detected once per distinct (message, title, company): every lead still gets its own answer,
    the fallback by its own country, whatever its place and index."""
    german = "Wir möchten gerne eine Vorführung Ihrer Plattform für unser Vertriebsteam sehen."
    french = "Nous souhaitons une démonstration de votre plateforme pour notre équipe commerciale."
    leads = frame(
        message=[german, french, "Need a demo", german, None, "", "Need a demo", french],
        title=["CEO", None, "CTO", "CEO", None, None, "CTO", "CFO"],
        company=["Acme", "Acme", "Acme", "Acme", None, None, "Acme", "Acme"],
        country=["US", "US", "DE", "FR", "BR", "BR", None, "US"],
    ).set_axis([70, 60, 50, 40, 30, 20, 10, 0])
    batch = language_of(leads)
    alone = pd.concat([language_of(leads.iloc[[i]]) for i in range(len(leads))])
    pd.testing.assert_frame_equal(batch, alone)
    assert batch["language"].fillna("-").tolist() == ["de", "fr", "de", "de", "pt", "pt", "-", "fr"]


def test_warming_up_loads_the_model_a_batch_then_uses() -> None:
    language_model.cache_clear()
    enrich.warm_up()
    assert language_model.cache_info().currsize == 1
    detect_languages(pd.Series(["Wir möchten eine Demo für unser Vertriebsteam buchen."]))
    assert language_model.cache_info().hits >= 1 and language_model.cache_info().misses == 1
