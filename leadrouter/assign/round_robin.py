"""Weighted round robin by stride scheduling, computed for a whole batch at once.

Each rep has a pass value; a lead goes to the rep with the lowest pass, whose pass then grows by its stride
(1 / weight). Over any run of assignments each rep's count stays within a few leads of its weight share (the
lag is bounded by the pool's size, not by the number of leads), the state
is two numbers per rep, and the order for n leads is the n smallest of the reps' arithmetic sequences, which
numpy can compute without a loop over leads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def pool_clock(passes: pd.Series, weights: pd.Series) -> float:
    """The time of the pool's last assignment: the latest (pass - stride) among reps with state."""
    values = passes.to_numpy(dtype=float)
    known = ~np.isnan(values)
    if not known.any():
        return 0.0
    weight = weights.reindex(passes.index[known]).to_numpy(dtype=float)
    strides = 1.0 / np.where(np.isnan(weight), 1.0, weight)
    return float((values[known] - strides).max())


def round_robin(
    n: int,
    weights: pd.Series,
    passes: pd.Series,
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
    stride = 1.0 / weights.to_numpy(dtype=float)
    if clock is None:
        clock = pool_clock(passes.reindex(reps), weights)
    start = np.fmax(passes.reindex(reps).to_numpy(dtype=float), clock)  # fmax: NaN (new rep) -> clock
    turns = np.full(len(reps), n) if capacity is None else np.minimum(capacity, n).astype(int)
    if n == 0 or turns.sum() == 0:
        return np.array([], dtype=object), pd.Series(start, index=reps)
    times = start[:, None] + np.arange(turns.max())[None, :] * stride[:, None]  # rep x k-th turn
    times[np.arange(turns.max())[None, :] >= turns[:, None]] = np.inf  # turns past a rep's cap
    rep_index = np.broadcast_to(np.arange(len(reps))[:, None], times.shape)
    order = np.lexsort((rep_index.ravel(), times.ravel()))[: min(n, int(turns.sum()))]
    chosen = rep_index.ravel()[order]
    counts = np.bincount(chosen, minlength=len(reps))
    return reps.to_numpy()[chosen], pd.Series(start + counts * stride, index=reps)
