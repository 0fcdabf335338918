"""The lead frame's stamps: utc_stamps reads every value as conform read it before (pandas' "mixed" format)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.schema import LEAD_COLUMNS, UTC_TS, conform, stamp_text, utc_stamps


def _stamps_before(values: pd.Series) -> pd.Series:
    """conform's stamp parse before it read ISO 8601 text at once: the reference."""
    return pd.to_datetime(stamp_text(values), utc=True, errors="coerce", format="mixed").astype(UTC_TS)


_MOMENT = st.datetimes(min_value=pd.Timestamp("1700-01-01"), max_value=pd.Timestamp("2200-12-31"))
_SHAPES = [
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S+02:00",
    "%Y-%m-%dT%H:%M:%S.%f-0530",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d",
    "%Y-%m",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M",
    "%b %d %Y %I:%M %p",
]
_TEXT = st.one_of(
    st.builds(lambda moment, shape: moment.strftime(shape), _MOMENT, st.sampled_from(_SHAPES)),
    st.builds(
        lambda moment, pad: pad + moment.strftime(_SHAPES[0]) + pad, _MOMENT, st.sampled_from([" ", " " * 60])
    ),
    st.sampled_from(
        ["", "soon", "2026-02-30", "2026-13-01", "24:00", "1e3", "０２０２６-01-01", "Zoë", "東京"]
    ),
    # "now" and "today" are read as the clock at the call, so two calls differ
    st.text(max_size=12).filter(lambda text: text.strip().lower() not in ("now", "today")),
)
_VALUE = st.one_of(_TEXT, st.none(), st.just(np.nan), st.just(pd.NA), st.integers(0, 2**62))


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_TEXT | st.none(), max_size=12), dtype=st.sampled_from(["string", "str", object]))
def test_text_is_read_as_before(values: list[str | None], dtype: object) -> None:
    series = pd.Series(values, dtype=dtype, index=range(3, 3 + len(values)))
    pd.testing.assert_series_equal(utc_stamps(series), _stamps_before(series), check_exact=True)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(_VALUE, max_size=8))
def test_any_object_is_read_as_before(values: list[object]) -> None:
    series = pd.Series(values, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns that numbers with a format will become epochs
        expected = _stamps_before(series)
        pd.testing.assert_series_equal(utc_stamps(series), expected, check_exact=True)


def test_stamps_already_read_and_empty_columns() -> None:
    aware = pd.Series(pd.to_datetime(["2026-01-01T10:00:00+02:00", None], utc=True))
    naive = pd.Series(pd.to_datetime(["2026-01-01 10:00", None]))
    for series in (
        aware,
        naive,
        aware.astype(object),
        pd.Series([], dtype=object),
        pd.Series([np.nan, np.nan]),
    ):
        pd.testing.assert_series_equal(utc_stamps(series), _stamps_before(series), check_exact=True)
    frame = conform(pd.DataFrame({"lead_id": ["a"], "created_at": ["2026-01-01 10:00:00.5+01:00"]}))
    assert frame["created_at"].tolist() == [pd.Timestamp("2026-01-01 09:00:00.5", tz="UTC")]
    assert (
        frame["modified_at"].isna().all() and str(frame["modified_at"].dtype) == LEAD_COLUMNS["modified_at"]
    )
