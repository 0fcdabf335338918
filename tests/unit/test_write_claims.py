"""claimed_frame: the claim's rows as a frame, column by column, exactly as the frame built from one mapping
per row was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.store.write_claims import CLAIMED_COLUMNS, claimed_frame


def _claimed_frame_before(rows: list[tuple], retaken: set[int]) -> pd.DataFrame:
    """claim_for_write's frame as it was built before (a DataFrame from one mapping per row): the reference."""
    claimed = [dict(zip(CLAIMED_COLUMNS, row, strict=True)) for row in rows]
    frame = pd.DataFrame(claimed, columns=CLAIMED_COLUMNS)
    return frame.assign(
        decided_at=pd.to_datetime(frame["decided_at"], utc=True),
        reopen=frame["reopen"].astype("boolean").fillna(False).astype(bool),
        retaken=frame["id"].isin(retaken).astype(bool),
    )


_TEXT = st.one_of(st.text(max_size=8), st.sampled_from(["Zoë Müller", "東京", "", " "]), st.none())
# the ledger's stamps come back timezone-aware (PostgreSQL) or naive UTC (SQLite), never mixed in one result
_STAMPS = st.sampled_from([UTC, timezone(timedelta(hours=-5)), None])


@st.composite
def _rows(draw: st.DrawFn) -> tuple[list[tuple], set[int]]:
    ids = draw(st.lists(st.integers(1, 10**9), unique=True, max_size=6))
    tz = draw(_STAMPS)
    rows = [
        (
            id_,
            draw(st.text(min_size=1, max_size=8)),
            draw(_TEXT),
            draw(_TEXT),
            draw(st.sampled_from(["rule:vip", "model:v3", "review"])),
            draw(st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1))).replace(tzinfo=tz),
            draw(_TEXT),
            draw(st.one_of(st.booleans(), st.none())),
        )
        for id_ in ids
    ]
    return rows, set(draw(st.lists(st.sampled_from(ids), max_size=3))) if ids else set()


@settings(max_examples=300, deadline=None)
@given(_rows())
def test_the_frame_from_columns_equals_the_frame_from_mappings(case: tuple[list[tuple], set[int]]) -> None:
    rows, retaken = case
    pd.testing.assert_frame_equal(claimed_frame(rows, retaken), _claimed_frame_before(rows, retaken))


def test_no_claimed_row_gives_the_empty_frame_as_before() -> None:
    empty = claimed_frame([], set())
    pd.testing.assert_frame_equal(empty, _claimed_frame_before([], set()))
    assert list(empty.columns) == [*CLAIMED_COLUMNS, "retaken"] and len(empty) == 0


def test_a_claimed_row_reads_as_its_columns() -> None:
    at = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
    frame = claimed_frame([(7, "L1", "U1", "VIP", "rule:vip", at, "Zoë's VIP", None)], {7})
    assert frame.to_dict("records") == [
        {
            "id": 7,
            "lead_id": "L1",
            "owner_id": "U1",
            "tier": "VIP",
            "decided_by": "rule:vip",
            "decided_at": pd.Timestamp(at),
            "routing_reason": "Zoë's VIP",
            "reopen": False,
            "retaken": True,
        }
    ]
