"""excerpt's slice for plain text gives exactly what the per-char escaping (a verbatim copy of the old function)
gives, for every value and limit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.validate.suite import excerpt

_MARKUP = {"<": "\\x3c", ">": "\\x3e"}


def _excerpt_before(value: Any, limit: int = 60) -> str:
    """excerpt as it was, every char escaped on its own: the reference."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return "<NA>"
    text, quote = (value, "'") if isinstance(value, str) else (str(value), "")
    # escape per char (repr-style) so a cut can never split an escape sequence
    pieces = [_MARKUP.get(ch) or repr(ch)[1:-1] for ch in text[: limit + 1]]
    if len(text) <= limit and sum(map(len, pieces)) + 2 * len(quote) <= limit:
        return quote + "".join(pieces) + quote
    out, size = [], len(quote) + 1  # room for the opening quote and the ellipsis
    for piece in pieces:
        if size + len(piece) > limit:
            break
        out.append(piece)
        size += len(piece)
    return quote + "".join(out) + "…"


# plain ASCII, and the chars that are not their own escape: backslash, markup, controls, non-ASCII
_PIECES = st.sampled_from(
    ["a", "Z", "7", " ", "'", '"', "@", ".", "\\", "<", ">", "\n", "\t", "\x00", "\x7f", "é", "ß", "漢", "\u200b",
     "\U0001f600", "ab", "ada@example.com"]
)  # fmt: skip
_TEXT = st.one_of(st.lists(_PIECES, max_size=40).map("".join), st.text(max_size=70))
_VALUES = st.one_of(
    _TEXT,
    st.none(),
    st.just(pd.NA),
    st.just(float("nan")),
    st.integers(-(10**70), 10**70),
    st.floats(allow_nan=False),
    st.just(pd.NaT),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=1500, deadline=None)
@given(_VALUES, st.integers(-2, 70))
def test_excerpt_is_the_per_char_escape(value: Any, limit: int) -> None:
    assert excerpt(value, limit) == _excerpt_before(value, limit)


@given(st.lists(_PIECES, max_size=40).map("".join))
def test_excerpt_at_the_default_limit(text: str) -> None:
    assert excerpt(text) == _excerpt_before(text)
    assert excerpt(text * 3) == _excerpt_before(text * 3)


def test_excerpt_at_every_length_near_the_limit() -> None:
    for limit in range(-2, 64):
        for n in range(max(limit - 3, 0), limit + 4):
            for value in ("a" * n, "é" * n, "a" * max(n - 1, 0) + "<", int("7" * n or "0")):
                assert excerpt(value, limit) == _excerpt_before(value, limit), (value, limit)
