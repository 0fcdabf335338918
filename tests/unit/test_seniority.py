"""Job-title seniority against a labelled set of CRM-style titles, and its behaviour on junk input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.enrich.seniority import SENIORITIES, seniority_of

TITLES_CSV = Path(__file__).parents[1] / "data" / "job_titles.csv"


@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    # keep_default_na=False: a title such as "None" or "NA" must stay text, not turn into a missing value
    return pd.read_csv(TITLES_CSV, dtype="string", keep_default_na=False)


def test_labelled_set_is_big_and_covers_every_label(labelled: pd.DataFrame) -> None:
    counts = labelled["seniority"].value_counts()
    assert len(labelled) >= 300
    assert set(counts.index) == set(SENIORITIES), counts
    assert counts.min() >= 15, counts
    assert not labelled["title"].duplicated().any(), labelled[labelled["title"].duplicated()]
    assert labelled["title"].str.strip().ne("").all()


def test_accuracy_on_labelled_titles(labelled: pd.DataFrame) -> None:
    predicted = seniority_of(labelled["title"])
    correct = predicted.eq(labelled["seniority"]).fillna(False)
    misses = labelled.assign(predicted=predicted)[~correct]
    confusion = pd.crosstab(labelled["seniority"], predicted.fillna("<NA>"), rownames=["label"])
    assert correct.mean() >= 0.95, (
        f"accuracy {correct.mean():.1%}\n{confusion.to_string()}\nmisses:\n{misses.to_string()}"
    )


@pytest.mark.parametrize(
    "title",
    [None, np.nan, pd.NA, "", "   ", "-", "--", ".", "?", "N/A", "n/a", "NA", "n.a.", "none", "NULL", "unknown",
     "tbd", "asdf", "asdfasdf", "qwerty", "xxx", "x", "test", "123", "0000", "!!!", "¯\\_(ツ)_/¯"],
)  # fmt: skip
def test_no_usable_title_is_na(title: object) -> None:
    assert seniority_of(pd.Series([title], dtype=object)).isna().all()


@pytest.mark.parametrize("value", [42, 3.5, True, ["CEO"], {"title": "CEO"}, b"CEO", object()])
def test_values_that_are_not_text_are_na(value: object) -> None:
    assert seniority_of(pd.Series([value, "CEO"], dtype=object)).tolist() == [pd.NA, "C-level"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("ＣＥＯ", "C-level"),  # full-width, as typed on Japanese keyboards
        ("  vp   SALES  ", "VP"),
        ("c.e.o.", "C-level"),
        ("Directeur Général", "C-level"),
        ("Test Engineer", "Individual contributor"),  # not the placeholder "test"
        ("Cashier", "Individual contributor"),  # unrecognised but clearly a job
        ("CEO " + "x" * 1_000_000, "C-level"),
    ],
)
def test_normalisation(title: str, expected: str) -> None:
    assert seniority_of(pd.Series([title])).tolist() == [expected]


def test_keeps_index_and_name_and_returns_strings() -> None:
    titles = pd.Series(["CEO", None, "Intern", "CEO"], index=["d", "b", "b", "a"], name="job_title")
    result = seniority_of(titles)
    assert result.dtype == "string"
    assert result.name == "job_title"
    assert result.index.equals(titles.index)
    assert result.tolist() == ["C-level", pd.NA, "Student", "C-level"]


@pytest.mark.parametrize(
    "titles",
    [
        pd.Series([], dtype=object),
        pd.Series([], dtype="string"),
        pd.Series([1, 2, 3]),
        pd.Series([1.5, np.nan]),
        pd.Series(["CEO", "Intern", None], dtype="category"),
        pd.Series(["CEO", None], dtype="str"),
    ],
)
def test_accepts_any_series_dtype(titles: pd.Series) -> None:
    result = seniority_of(titles)
    assert len(result) == len(titles) and result.dtype == "string"
    assert result.dropna().isin(SENIORITIES).all()


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.none(),
            st.text(),
            st.text(min_size=1).map(lambda t: t * (100_000 // len(t) + 1)),  # very long strings
            st.integers(),
            st.floats(allow_nan=True),
        ),
        max_size=20,
    ),
    offset=st.integers(min_value=-1000, max_value=1000),
)
def test_never_raises_and_keeps_one_value_per_row(values: list[object], offset: int) -> None:
    index = pd.Index(range(offset, offset - len(values), -1))  # descending and shifted: not the default
    titles = pd.Series(values, index=index, dtype=object)
    result = seniority_of(titles)
    assert result.index.equals(index)
    assert result.dtype == "string"
    assert result.dropna().isin(SENIORITIES).all()
