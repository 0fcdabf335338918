"""Weighted round robin by stride scheduling, computed for a whole batch at once.

Each rep has a pass value; a lead goes to the rep with the lowest pass, whose pass then grows by its stride
(1 / weight). Over any run of assignments each rep's count stays within a few leads of its weight share (the
lag is bounded by the pool's size, not by the number of leads), the state
is two numbers per rep, and the order for n leads is the n smallest of the reps' arithmetic sequences, which
numpy can compute without a loop over leads.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def pool_clock(passes: np.ndarray, weights: np.ndarray) -> float:
    """The time of the pool's last assignment: the latest (pass - stride) among reps with state.

    passes, weights: per rep, aligned (NaN: no stored pass; no weight counts as 1)."""
    known = ~np.isnan(passes)
    if not known.any():
        return 0.0
    weight = weights[known]
    strides = 1.0 / np.where(np.isnan(weight), 1.0, weight)
    return float((passes[known] - strides).max())


def aligned(values: pd.Series | Mapping[str, float], reps: pd.Index | list[str]) -> np.ndarray:
    """The values for these reps in their order, NaN where missing: `values.reindex(reps)` as an array, by a
    dict for the few reps of a pool (reindex on string labels costs about half a millisecond)."""
    if isinstance(values, pd.Series):
        if isinstance(reps, pd.Index) and values.index.equals(reps):
            return values.to_numpy(dtype=float)
        if not values.index.is_unique:
            raise ValueError(f"one value per rep expected, got duplicates in {list(values.index)}")
        values = dict(zip(values.index, values.to_numpy(dtype=float), strict=True))
    return np.array([values.get(r, np.nan) for r in reps], dtype=float)


def round_robin(
    n: int,
    weights: pd.Series,
    passes: pd.Series | Mapping[str, float],
    capacity: np.ndarray | None = None,
    clock: float | None = None,
) -> tuple[np.ndarray, pd.Series]:
    """Owners for the next n leads of a pool (fewer when capacity runs out), and the reps' new pass values.

    weights: weight per eligible rep (index: rep id; order breaks ties). passes: stored pass per rep; reps
    without one (new to the pool) and reps far behind (back from leave) start level with the pool's clock,
    so nobody is flooded or starved by a roster change. capacity: turns each rep can still take (inf: no
    cap). clock: the pool's clock when the eligible reps are only part of it (default: theirs).
    """
    reps = weights.index
    weight = weights.to_numpy(dtype=float)
    stride = 1.0 / weight
    stored = aligned(passes, reps)
    if clock is None:
        clock = pool_clock(stored, weight)
    start = np.fmax(stored, clock)  # fmax: NaN (new rep) -> clock
    chosen, counts = turns(n, start, stride, capacity)
    return reps.to_numpy()[chosen], pd.Series(start + counts * stride, index=reps)


def turns(
    n: int, start: np.ndarray, stride: np.ndarray, capacity: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The reps (positions) of the next n turns when rep i's k-th turn falls at start_i + k * stride_i (ties:
    the earlier rep), at most capacity_i turns each; and how many turns each rep got."""
    most = np.full(len(start), n) if capacity is None else np.minimum(capacity, n).astype(int)
    if n == 0 or most.sum() == 0:
        return np.array([], dtype=np.int64), np.zeros(len(start), dtype=np.int64)
    times = start[:, None] + np.arange(most.max())[None, :] * stride[:, None]  # rep x k-th turn
    times[np.arange(most.max())[None, :] >= most[:, None]] = np.inf  # turns past a rep's cap
    rep_index = np.broadcast_to(np.arange(len(start))[:, None], times.shape)
    order = np.lexsort((rep_index.ravel(), times.ravel()))[: min(n, int(most.sum()))]
    chosen = rep_index.ravel()[order]
    return chosen, np.bincount(chosen, minlength=len(start))
