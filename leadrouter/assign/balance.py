"""How a pool balances its leads: by count (weighted round robin, round_robin.py), by open load, or by pipeline.

- open_load: each lead goes to the eligible rep with the fewest open, untouched leads relative to weight; the
  lead then counts against them. Invariant: a rep got each lead while their load over weight was the lowest,
  so for any two eligible reps r, s without a cap: (load_r - 1) / w_r <= load_s / w_s once r got a lead.
- pipeline: the same with each lead's expected value (the conversion model's) instead of one lead: a rep got
  each lead while their open expected value over weight was the lowest, so (value_r - v) / w_r <= value_s / w_s
  where v is the value of r's last lead.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from leadrouter.assign.round_robin import aligned, turns

Balance = Literal["count", "open_load", "pipeline"]
BALANCES: tuple[Balance, ...] = ("count", "open_load", "pipeline")


def by_open_load(
    n: int, weights: pd.Series, load: pd.Series | Mapping[str, float], capacity: np.ndarray | None = None
) -> np.ndarray:
    """Owners for the next n leads: fewest open leads relative to weight first (ties: pool order).

    load: open untouched leads per eligible rep (missing: none). Stride scheduling started at load / weight
    instead of the pool's clock: the k-th next lead of rep r lands at (load_r + k) / w_r, and the n smallest
    of those are exactly the greedy choices, computed without a loop over leads."""
    weight = weights.to_numpy(dtype=float)
    load_now = aligned(load, weights.index)
    start = np.fmax(np.where(np.isnan(load_now), 0.0, load_now) / weight, -np.inf)
    chosen, _ = turns(n, start, 1.0 / weight, capacity)
    return weights.index.to_numpy()[chosen]


def by_pipeline(
    values: np.ndarray,
    weights: pd.Series,
    load: pd.Series | Mapping[str, float],
    capacity: np.ndarray | None = None,
) -> np.ndarray:
    """Owners for leads of these expected values, in arrival order (fewer when capacity runs out): each to the
    rep with the least open expected value relative to weight, which then grows by the lead's value.

    load: open expected value per eligible rep (missing: none). Values vary per lead, so the order cannot be
    precomputed as for counts: a heap over reps, O(n log reps)."""
    reps = weights.index.to_numpy()
    weight = weights.to_numpy(dtype=float)
    load_now = aligned(load, weights.index)
    current = np.where(np.isnan(load_now), 0.0, load_now)  # a copy: the caller's load stays as it was
    left = np.full(len(reps), np.inf) if capacity is None else np.asarray(capacity, dtype=float).copy()
    got = np.zeros(len(reps))
    # ties (e.g. leads the model values at nothing) go by count over weight, then pool order: never one rep
    heap = [(current[i] / weight[i], 0.0, i) for i in range(len(reps)) if left[i] > 0]
    heapq.heapify(heap)
    owners: list[str] = []
    for value in values.tolist():
        if not heap:
            break
        i = heapq.heappop(heap)[2]
        owners.append(reps[i])
        current[i] += value
        got[i] += 1
        left[i] -= 1
        if left[i] > 0:
            heapq.heappush(heap, (current[i] / weight[i], got[i] / weight[i], i))
    return np.array(owners, dtype=object)


def lead_values(expected: pd.Series) -> np.ndarray:
    """Each lead's expected value for pipeline balance; a lead the model did not score counts as the median of
    those it did (1.0 when none did), so an unscored lead is neither free nor a whole book."""
    values = pd.to_numeric(expected, errors="coerce").astype(float)
    known = values.dropna()
    fill = float(known.median()) if len(known) else 1.0
    return values.fillna(fill).clip(lower=0.0).to_numpy(dtype=float)
