"""The Arrow paths of language detection read every text as the old Python paths did: the joined lead text, the
count of word characters and the automaton's features, against verbatim copies of the old functions."""

from __future__ import annotations

import json
import re
import sys
import unicodedata

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from leadrouter.config import PROJECT_ROOT
from leadrouter.enrich.language import (
    MAX_CHARS,
    PYTHON_SPACES,
    TEXT_COLUMNS,
    _detect,
    _encoded,
    language_model,
    lead_text,
    word_characters,
)

SAMPLES = json.loads((PROJECT_ROOT / "bench" / "data" / "language_samples.json").read_text())["samples"]


def _lead_text_before(frame: pd.DataFrame) -> pd.Series:
    """lead_text as it was before Arrow (pandas' str methods, Python's re): the reference."""
    parts = [frame[c].astype("string").fillna("") for c in TEXT_COLUMNS if c in frame]
    if not parts:
        return pd.Series("", index=frame.index, dtype="string")
    text = parts[0].str.cat(parts[1:], sep=". ") if len(parts) > 1 else parts[0]
    return text.str.replace(r"(\.\s)+", ". ", regex=True).str.strip(". ")


def _word_characters_before(text: pd.Series) -> list[int]:
    """language_of's text size as it was (pandas' str.count, Python's re): the reference."""
    return text.str.count(r"\w").fillna(0).astype(int).tolist()


# where RE2 and Python's re part ways: whitespace RE2's \s lacks (\v, \x1c-\x1f, non-ASCII spaces), word
# characters beyond ASCII (letters, digits, marks), and the periods and spaces lead_text folds and trims
_PIECES = st.sampled_from(
    [
        ".", ". ", " .", "..", " ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\x85", "\xa0", "\u2009",
        "\u3000", "\u200b", "_", "a", "Z", "7", "é", "ß", "ж", "٣", "ǅ", "²", "\u0301", "漢", "Demo", "GmbH",
    ]
)  # fmt: skip
_TEXT = st.one_of(st.lists(_PIECES, max_size=10).map("".join), st.text(max_size=12), st.none())


def test_the_spelled_out_spaces_are_exactly_pythons() -> None:
    spaces = {chr(c) for c in range(sys.maxunicode + 1) if re.fullmatch(r"\s", chr(c))}
    assert set(PYTHON_SPACES) == spaces and len(PYTHON_SPACES) == len(spaces)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(_TEXT, _TEXT, _TEXT), max_size=6),
    st.sampled_from([TEXT_COLUMNS, ["message"], ["title", "company"], []]),
    st.sampled_from(["string", object]),
)
def test_lead_text_and_its_size_are_read_as_before(
    rows: list[tuple], columns: list[str], dtype: object
) -> None:
    frame = pd.DataFrame(rows, columns=TEXT_COLUMNS, index=range(50, 50 + len(rows)))[columns].astype(dtype)
    text, before = lead_text(frame), _lead_text_before(frame)
    pd.testing.assert_series_equal(text, before)
    assert word_characters(text).tolist() == _word_characters_before(before)


def test_a_page_mixing_ascii_and_other_text_counts_each_row_in_place() -> None:
    text = pd.Series(["ab_1 .", "é٣ ǅ²", "", "x\x0by"], index=[9, 7, 5, 3], dtype="string")
    assert word_characters(text).tolist() == [4, 4, 0, 2] == _word_characters_before(text)


def _encoded_before(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """_encoded as it was before it padded each text with bytes.ljust: the reference."""
    data = [
        unicodedata.normalize("NFC", t.lower() if t.isupper() else t).encode("utf8", errors="surrogatepass")
        for t in texts.fillna("").astype(str).str.slice(0, MAX_CHARS)
    ]
    lengths = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
    flat = np.frombuffer(b"".join(data), dtype=np.uint8)
    padded = np.zeros((len(data), int(lengths.max()) if len(data) else 0), dtype=np.uint8)
    rows = np.repeat(np.arange(len(data)), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    padded[rows, np.arange(len(flat)) - starts] = flat
    return padded, lengths


def _detect_before(texts: pd.Series) -> pd.DataFrame:
    """_detect as it was before it walked the automaton longest text first: the reference."""
    model = language_model()
    padded, lengths = _encoded_before(texts)
    n = len(lengths)
    state = np.zeros(n, dtype=np.int64)
    rows, features = [], []
    for j in range(padded.shape[1]):  # one step of the automaton for every text still running
        live = np.flatnonzero(lengths > j)
        state[live] = model["nextmove"][model["rowbase"][state[live]] + padded[live, j]]
        found = model["output"][state[live]]
        hit = found >= 0
        rows.append(live[hit])
        features.append(found[hit])
    rows_ = np.concatenate([np.empty(0, np.int64), *rows])
    features_ = np.concatenate([np.empty(0, np.int64), *features])
    counts = sparse.csr_matrix(
        (np.ones(len(rows_), dtype=np.float32), (rows_, features_)), shape=(n, len(model["ptc"]))
    )
    counts.sum_duplicates()
    counts.data = np.log1p(counts.data)
    scores = np.asarray(counts @ model["ptc"]) + model["pc"]
    scores = np.where(counts.getnnz(axis=1)[:, None] > 0, scores, 0.0)
    scores /= np.sqrt(np.maximum(lengths, 1))[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for first, dupe in model["aliases"]:
        scores[:, first] += scores[:, dupe]
        scores[:, dupe] = 0.0
    best = scores.argmax(axis=1)
    found_any = lengths > 0
    language = np.where(found_any, model["classes"][best], None)
    confidence = np.where(found_any, scores[np.arange(n), best], np.nan)
    return pd.DataFrame(
        {
            "language": pd.array(language, dtype="string"),
            "language_confidence": pd.array(confidence, dtype="Float64"),
        },
        index=texts.index,
    )


_WORDS = st.sampled_from(
    [
        "Wir möchten eine Demo", "pricing for our team", "nous souhaitons", "営業部の部長です", "Продажи",
        "ÄÖÜ GMBH", "gracias", " ", ". ", "", "12345", "SALES", "é", "\u0301", "漢字",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.lists(_WORDS, max_size=8).map(" ".join), st.text(max_size=40)), max_size=8))
def test_walking_the_longest_text_first_scores_every_text_as_before(texts: list[str]) -> None:
    series = pd.Series(texts, index=range(100, 100 + len(texts)), dtype=object)
    pd.testing.assert_frame_equal(_detect(series), _detect_before(series), check_exact=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.none()), max_size=8))
def test_texts_are_encoded_as_before(texts: list[str | None]) -> None:
    series = pd.Series(texts, dtype=object)
    (padded, lengths), (before, lengths_before) = _encoded(series), _encoded_before(series)
    assert padded.shape == before.shape and padded.dtype == before.dtype
    assert (padded == before).all() and lengths.tolist() == lengths_before.tolist()


def test_a_real_page_of_lead_texts_scores_as_before() -> None:
    texts = pd.Series([t for _, t in SAMPLES] * 3 + ["", "x"], dtype=object).sample(frac=1, random_state=7)
    pd.testing.assert_frame_equal(_detect(texts), _detect_before(texts), check_exact=True)
