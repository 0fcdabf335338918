"""The Arrow paths of language detection read every text as the old Python paths did: the joined lead text, the
count of word characters and the automaton's features, against verbatim copies of the old functions."""

from __future__ import annotations

import re
import sys

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.enrich.language import PYTHON_SPACES, TEXT_COLUMNS, lead_text, word_characters


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
