"""Cleaning an export's values: a correction keeps the value's meaning (whole-value matches only, short tokens
exact or by alias, the rest kept and counted), vocabulary matching ignores case, spaces and punctuation, and
every change is listed."""

from __future__ import annotations

import string

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from leadrouter.backtest import cleaning as clean
from leadrouter.backtest.importer import _distinct
from leadrouter.validate.vocabularies import INDUSTRIES, LEAD_SOURCES, vocabulary_key

# a fuzzy correction may differ from its word by at most this share of the longer key's letters (edits of any
# kind): a near-spelling, never a word inside a longer value ("ebook" in "facebook" is 3 edits in 8)
NEAR_SPELLING = 0.3
SHORT = 4  # a key of this many letters or fewer is corrected only when written otherwise or by alias


def corrected(values: list[str | None], vocabulary: list[str], aliases: dict[str, str] | None = None):
    text = pd.Series(values, dtype="string")
    text, alias = clean.map_values(text, aliases or {})
    text, method, score = clean.to_vocabulary(text, vocabulary)
    return text, clean.then(alias, method), score


def test_a_word_inside_a_longer_value_is_not_that_word() -> None:
    text, method, _ = corrected(["Facebook", "services", "Financial", "e-book"], list(LEAD_SOURCES))
    assert list(text) == ["Facebook", "services", "Financial", "ebook"]
    assert list(method.fillna("-")) == ["-", "-", "-", "format"]
    text, method, _ = corrected(["services", "Services Financial", "Professional"], list(INDUSTRIES))
    assert list(text) == ["services", "Services Financial", "Professional"]
    assert method.isna().all()


def test_case_spaces_and_punctuation_do_not_matter() -> None:
    values = [
        "Demo Request",
        "demo-request",
        "demo_request",
        "DEMO REQUEST",
        " demo  request!",
        "demorequest",
    ]
    text, method, score = corrected(values, list(LEAD_SOURCES))
    assert list(text) == ["demo_request"] * 6
    assert list(method.fillna("-")) == ["format", "format", "-", "format", "format", "format"]
    assert list(score.fillna(-1)) == [100.0, 100.0, -1, 100.0, 100.0, 100.0]
    assert vocabulary_key("Pro-Services, Inc.") == vocabulary_key("pro services inc") == "proservicesinc"


def test_near_spellings_are_corrected_with_their_score() -> None:
    text, method, score = corrected(["Sftware", "Helthcare", "software", "Retial", "Meda"], list(INDUSTRIES))
    # a dropped letter is fixed; a swap in a short word and a four-letter token are kept as written
    assert list(text) == ["Software", "Healthcare", "Software", "Retial", "Meda"]
    assert list(method.fillna("-")) == ["fuzzy", "fuzzy", "case", "-", "-"]
    assert list(score.fillna(-1)) == [93.3, 94.7, 100.0, -1, -1]


def test_short_tokens_need_an_exact_or_alias_match() -> None:
    vocabulary = ["chat", "Tech", "Software"]
    text, method, _ = corrected(["chats", "cht", "Tec", "SaaS", "CHAT"], vocabulary, {"SaaS": "Software"})
    assert list(text) == ["chats", "cht", "Tec", "Software", "chat"]
    assert list(method.fillna("-")) == ["-", "-", "-", "alias", "case"]


def test_a_value_two_words_are_equally_near_is_kept() -> None:
    text, method, _ = corrected(["webinar"], ["webinars", "webinar1"])
    assert list(text) == ["webinar"] and method.isna().all()


def test_values_outside_the_vocabulary_are_kept_and_counted() -> None:
    text, _, _ = corrected(
        ["Facebook", "ebook", None, "Facebook", "Webinar", "LinkedIn Ads"], list(LEAD_SOURCES)
    )
    outside = clean.outside_vocabulary(text, list(LEAD_SOURCES))
    assert list(outside) == [True, False, False, True, False, True]
    assert text[outside].value_counts().to_dict() == {"Facebook": 2, "LinkedIn Ads": 1}


_WORD = st.text(alphabet=string.ascii_letters + string.digits + " -_.", min_size=1, max_size=16)


@st.composite
def vocabularies_and_values(draw: st.DrawFn) -> tuple[list[str], dict[str, str], list[str]]:
    """A vocabulary, aliases into it, and values: its words mangled (case, punctuation, a letter dropped or
    added or swapped), cut out of or into longer text, or unrelated text."""
    vocabulary = draw(st.lists(_WORD, min_size=1, max_size=8, unique=True))
    aliases = draw(st.dictionaries(_WORD, st.sampled_from(vocabulary), max_size=3))
    values = []
    for _ in range(draw(st.integers(1, 12))):
        word = draw(st.sampled_from(vocabulary))
        at = draw(st.integers(0, len(word)))
        extra = draw(_WORD)
        values.append(
            draw(
                st.sampled_from(
                    [
                        word.upper(), word.lower(), word.replace(" ", "_"), f" {word}-",
                        word[:at] + word[at + 1 :], word[:at] + extra[0] + word[at:],
                        word[:at] + extra[0] + word[at + 1 :], word + extra, extra + word, word[at:], extra,
                    ]
                )
            )
        )  # fmt: skip
    return vocabulary, aliases, values


@settings(max_examples=300, deadline=None)
@given(vocabularies_and_values())
def test_a_correction_never_changes_a_value_into_another_word(case) -> None:
    """A value is only ever changed to its alias's word, the word with the same key, or a whole-value
    near-spelling of a word (neither a short token); the rest is kept as written."""
    vocabulary, aliases, values = case
    text, method, score = corrected(values, vocabulary, aliases)
    alias_of = {vocabulary_key(k) or k.strip().casefold(): v for k, v in aliases.items()}
    for value, new, how in zip(values, text, method.fillna(""), strict=True):
        if new == value:
            assert how == ""
            # kept: then no word of the vocabulary is it written otherwise (unless two words share the key)
            same_key = [w for w in vocabulary if vocabulary_key(w) == vocabulary_key(value)]
            assert value in vocabulary or len(same_key) != 1 or not vocabulary_key(value)
            continue
        assert new in vocabulary or new in aliases.values()
        key, target = vocabulary_key(value), vocabulary_key(new)
        if how.startswith("alias"):
            assert alias_of[vocabulary_key(value) or value.strip().casefold()] == new
        elif how in ("case", "format"):
            assert key == target
        else:
            assert how == "fuzzy"
            assert len(key) > SHORT and len(target) > SHORT
            assert Levenshtein.distance(key, target) <= NEAR_SPELLING * max(len(key), len(target))
    assert score[method.fillna("").str.endswith("fuzzy")].ge(clean.FUZZY_CUTOFF).all()


@pytest.mark.parametrize(
    ("first", "later", "joined"),
    [("trim", "fuzzy", "trim+fuzzy"), (None, "alias", "alias"), ("trim", None, "trim"), (None, None, None)],
)
def test_methods_of_two_steps_are_joined(first, later, joined) -> None:
    out = clean.then(pd.Series([first], dtype="string"), pd.Series([later], dtype="string"))
    assert out.iloc[0] == joined if joined else pd.isna(out.iloc[0])


def _trim_and_blank_before(raw: pd.Series, extra_placeholders=()) -> clean.Changed:
    """trim_and_blank as it was before it case-folded only values as short as a placeholder: the reference."""
    tokens = clean.PLACEHOLDERS | {t.strip().casefold() for t in extra_placeholders}
    text = raw.astype("string").str.strip()
    placeholder = text.str.casefold().isin(tokens) & (text != "")
    change = clean.no_change(raw.index)
    change[(text != raw.astype("string")) & (text != "")] = "trim"
    change[placeholder] = "placeholder"
    return text.mask(placeholder | (text == "")), change


# placeholders in other cases and with letters whose case-folding is longer (ß -> ss, ﬁ -> fi, İ -> i̇)
_CELLS = st.one_of(
    st.sampled_from(
        [" N/A ", "NULL", "--SELECT--", "Select", "-", "ß", "ẞ", "ﬁ", "İ", "none ", "\tnil", "?", ""]
    ),
    st.text(max_size=16),
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELLS, max_size=10), st.lists(st.sampled_from(["TBD", "ẞẞ", " unknown ", "-"]), max_size=2))
def test_trimming_reads_every_cell_as_before(cells: list[str | None], extra: list[str]) -> None:
    raw = pd.Series(cells, dtype=object)
    text, change = clean.trim_and_blank(raw, extra)
    old_text, old_change = _trim_and_blank_before(raw, extra)
    assert text.tolist() == old_text.tolist() and change.tolist() == old_change.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["a", "b", "", " a"]), st.text(max_size=4)), max_size=12))
def test_distinct_cells_are_coded_as_pandas_codes_them(cells: list[str]) -> None:
    raw = pd.Series(cells, dtype=object)
    codes, values = _distinct(raw)
    expected_codes, expected = raw.factorize(use_na_sentinel=False)
    assert codes.tolist() == expected_codes.tolist() and values.tolist() == list(expected)
