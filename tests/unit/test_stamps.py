"""A CRM's stamps read at once where they are ISO 8601 give exactly what pandas' "mixed" format gives reading
them one by one, which is how every stamp was read before: the same instant, NaT for the same values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.schema import UTC_TS, stamp_text, utc_stamps

INSTANTS = st.datetimes(datetime(1971, 1, 1), datetime(2099, 12, 31), timezones=st.just(UTC))
OFFSETS = st.sampled_from(["Z", "+00:00", "+0000", "-05:00", "+0530", "+01", ""])


@st.composite
def iso_text(draw: st.DrawFn) -> str:
    """ISO 8601 as exports write it: date only, or with a time (T or a space), seconds, 0-9 fraction digits and
    an offset in any of its spellings."""
    at = draw(INSTANTS)
    day = at.strftime(draw(st.sampled_from(["%Y-%m-%d", "%Y%m%d", "%Y-%m"])))
    if draw(st.booleans()) and day.count("-") != 1:
        digits = draw(st.integers(0, 9))
        fraction = f".{at.microsecond:06d}000"[: digits + 1] if digits else ""
        clock = at.strftime(draw(st.sampled_from(["%H:%M:%S", "%H:%M"])))
        day = f"{day}{draw(st.sampled_from(['T', ' ']))}{clock}{fraction if ':' in clock[3:] else ''}"
        day += draw(OFFSETS)
    return day


# what else a stamp column holds: other spellings, junk, numbers, blanks, dates already read, nothing
OTHER = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["Dec 4 2026", "4/12/2026", "2026-W49", "2026-02-30", "  2026-12-04  ", "", "x" * 101]),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    INSTANTS,
    INSTANTS.map(lambda t: t.astimezone(timezone(timedelta(hours=3)))),
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(iso_text() | OTHER, max_size=20))
def test_stamps_read_at_once_are_the_stamps_mixed_reads_one_by_one(values: list) -> None:
    column = pd.Series(values, dtype=object)
    expected = pd.to_datetime(stamp_text(column), utc=True, errors="coerce", format="mixed").astype(UTC_TS)
    got = utc_stamps(column)
    assert got.dtype == UTC_TS
    assert got.isna().tolist() == expected.isna().tolist()
    assert got.dropna().tolist() == expected.dropna().tolist()


def test_a_crm_page_of_iso_stamps_is_read_without_the_per_value_parser() -> None:
    column = pd.Series(["2026-12-04T10:00:00.000+0000", "2026-12-04 11:30:00Z", None], dtype=object)
    assert utc_stamps(column).tolist()[:2] == [
        pd.Timestamp("2026-12-04 10:00", tz="UTC"),
        pd.Timestamp("2026-12-04 11:30", tz="UTC"),
    ]
