"""The array helpers the pool path's speed rests on: each gives exactly what the plain pandas call it replaces
would."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.assign.pools import _groups, _merged
from leadrouter.assign.round_robin import aligned

keys_st = st.integers(1, 4).flatmap(
    lambda k: st.integers(0, 60).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(0, 5), min_size=n, max_size=n).map(lambda v: np.array(v, dtype=np.int64)),
            min_size=k,
            max_size=k,
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(keys=keys_st)
def test_groups_partition_like_a_pandas_groupby(keys: list[np.ndarray]) -> None:
    expected = pd.DataFrame({i: k for i, k in enumerate(keys)}).groupby(list(range(len(keys)))).indices
    got = _groups(keys)
    assert sorted(map(list, got)) == sorted(list(v) for v in expected.values())
    assert all((np.diff(g) > 0).all() for g in got)  # each group in arrival order


def test_groups_renumber_keys_too_wide_for_int64() -> None:
    wide = np.array([0, 2**40, 0, 2**40, 5], dtype=np.int64)
    keys = [wide, wide, np.array([1, 1, 1, 0, 1], dtype=np.int64)]
    assert sorted(map(list, _groups(keys))) == [[0, 2], [1], [3], [4]]


def test_aligned_is_reindex_as_an_array() -> None:
    values = pd.Series([1.0, np.nan, 3.0], index=["a", "b", "c"])
    np.testing.assert_array_equal(aligned(values, ["c", "x", "a", "b"]), [3.0, np.nan, 1.0, np.nan])
    np.testing.assert_array_equal(aligned(values, values.index), [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(aligned({"a": 2.0}, ["b", "a"]), [np.nan, 2.0])
    with pytest.raises(ValueError, match="duplicates"):
        aligned(pd.Series([1.0, 2.0], index=["a", "a"]), ["a"])


def test_merged_is_each_pair_merged_and_leaves_the_inputs_alone() -> None:
    first, second, later = {"r1": "OUT_OF_OFFICE"}, {"r2": "INACTIVE"}, {"r3": "AT_CAPACITY"}
    earlier = np.array([first, second, first, first], dtype=object)
    now = np.empty(4, dtype=object)
    now[:] = [later, later, later, {"r1": "WRONG_REGION"}]
    got = _merged(earlier, now)
    assert list(got) == [
        {"r1": "OUT_OF_OFFICE", "r3": "AT_CAPACITY"},
        {"r2": "INACTIVE", "r3": "AT_CAPACITY"},
        {"r1": "OUT_OF_OFFICE", "r3": "AT_CAPACITY"},
        {"r1": "WRONG_REGION"},
    ]
    assert first == {"r1": "OUT_OF_OFFICE"} and later == {"r3": "AT_CAPACITY"}
