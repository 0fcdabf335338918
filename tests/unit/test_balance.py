"""Balance by workload: open_load and pipeline pools, their fairness bounds, with covers and rep changes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.assign.balance import by_open_load, by_pipeline, lead_values
from leadrouter.router import without_pipeline
from tests.helpers.assignment import assign, counts, leads, make_roster, rep

EPS = 1e-9
weights_st = st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]), min_size=1, max_size=8).map(
    lambda ws: pd.Series(ws, index=[f"r{i}" for i in range(len(ws))])
)


def pool(balance: str, reps: list[str]) -> list[dict]:
    return [{"name": "std", "tier": "Standard", "reps": reps, "fallback": "Q", "balance": balance}]


def got_while_lowest(before: pd.Series, got: pd.Series, last: pd.Series, weights: pd.Series) -> None:
    """The bound both workload measures keep: a rep's last lead came while their load over weight was the
    lowest, so (load_r - last_r) / w_r <= load_s / w_s for every eligible rep s."""
    after = before + got
    ratio = after / weights
    for r in weights.index[got > 0]:
        assert (after[r] - last[r]) / weights[r] <= ratio.min() + EPS


@settings(max_examples=60, deadline=None)
@given(weights=weights_st, data=st.data(), n=st.integers(0, 400))
def test_open_load_gives_each_lead_to_the_fewest_open_leads_relative_to_weight(
    weights: pd.Series, data: st.DataObject, n: int
) -> None:
    load = pd.Series(data.draw(st.lists(st.integers(0, 60), min_size=len(weights), max_size=len(weights))))
    load.index = weights.index
    owners = by_open_load(n, weights, load)
    got = pd.Series(owners).value_counts().reindex(weights.index, fill_value=0).astype(float)
    assert got.sum() == n
    got_while_lowest(load.astype(float), got, pd.Series(1.0, index=weights.index), weights)
    # the whole order is the greedy one: lead by lead, one of the lowest (load / weight)
    current = load.astype(float).copy()
    for owner in owners:
        assert current[owner] / weights[owner] <= (current / weights).min() + EPS
        current[owner] += 1


@settings(max_examples=60, deadline=None)
@given(weights=weights_st, data=st.data())
def test_pipeline_gives_each_lead_to_the_least_open_value_relative_to_weight(
    weights: pd.Series, data: st.DataObject
) -> None:
    values = np.array(data.draw(st.lists(st.floats(0, 50_000), min_size=1, max_size=300)))
    load = pd.Series(data.draw(st.lists(st.floats(0, 200_000), min_size=len(weights), max_size=len(weights))))
    load.index = weights.index
    owners = by_pipeline(values, weights, load)
    assert len(owners) == len(values)
    frame = pd.DataFrame({"owner": owners, "value": values})
    got = frame.groupby("owner")["value"].sum().reindex(weights.index, fill_value=0.0)
    last = frame.groupby("owner")["value"].last().reindex(weights.index, fill_value=0.0)
    got_while_lowest(load, got, last, weights)


def test_pipeline_leads_valued_at_nothing_still_go_round_the_pool() -> None:
    weights = pd.Series({"a": 1.0, "b": 1.0, "c": 1.0})
    owners = by_pipeline(np.zeros(9), weights, pd.Series(dtype=float))
    assert pd.Series(owners).value_counts().to_dict() == {"a": 3, "b": 3, "c": 3}


def test_capacity_bounds_each_workload_measure() -> None:
    weights = pd.Series({"a": 1.0, "b": 1.0})
    capacity = np.array([2.0, np.inf])
    assert list(by_open_load(5, weights, pd.Series(dtype=float), capacity)).count("a") == 2
    assert list(by_pipeline(np.ones(5), weights, pd.Series(dtype=float), capacity)).count("a") == 2
    assert len(by_open_load(5, weights, pd.Series(dtype=float), np.array([1.0, 1.0]))) == 2


def test_an_unscored_lead_counts_as_the_median_scored_one() -> None:
    assert lead_values(pd.Series([100.0, None, 300.0, 200.0])).tolist() == [100.0, 200.0, 300.0, 200.0]
    assert lead_values(pd.Series([None, None])).tolist() == [1.0, 1.0]


def test_an_open_load_pool_levels_the_ledgers_open_leads_and_says_so() -> None:
    roster = make_roster([rep("a"), rep("b"), rep("c")], pool("open_load", ["a", "b", "c"]))
    load = pd.DataFrame({"assigned_today": {"a": 0.0}, "open": {"a": 6.0, "b": 2.0, "c": 0.0}})
    out, _ = assign(leads(10), roster, load=load)
    # c takes 2 to reach b, then b and c take turns up to a: 8 more, 4 each
    assert counts(out) == {"b": 4, "c": 6}
    assert set(out["assign_method"]) == {"open_load"}
    assert out["routing_path"].iloc[0].endswith("→ fewest open leads → c")


def test_open_load_counts_leads_given_earlier_in_the_same_batch_across_pools() -> None:
    pools = [
        {"name": "vip", "tier": "VIP", "reps": ["a", "b"], "fallback": "Q", "balance": "open_load"},
        *pool("open_load", ["a", "b"]),
    ]
    roster = make_roster([rep("a"), rep("b")], pools)
    batch = pd.concat([leads(4, tier="VIP"), leads(4, start=4)], ignore_index=True)
    out, _ = assign(batch, roster)
    assert counts(out) == {"a": 4, "b": 4}


def test_a_pipeline_pool_balances_expected_value() -> None:
    roster = make_roster([rep("a"), rep("b")], pool("pipeline", ["a", "b"]))
    values = [9000.0, 1000.0, 1000.0, 1000.0, 1000.0, 1000.0]
    out, _ = assign(leads(6, expected_value=[str(v) for v in values]), roster)
    assert out["owner_id"].tolist() == ["a", "b", "b", "b", "b", "b"]
    assert set(out["assign_method"]) == {"pipeline"}


def test_pipeline_pools_balance_by_count_without_a_conversion_model(caplog: pytest.LogCaptureFixture) -> None:
    roster = make_roster([rep("a"), rep("b")], pool("pipeline", ["a", "b"]))
    counted = without_pipeline(roster)
    assert [p.balance for p in counted.pools if p.name == "std"] == ["count"]
    assert "pools std balance by pipeline, but no conversion model scores leads" in caplog.text
    out, _ = assign(leads(6), counted)
    assert counts(out) == {"a": 3, "b": 3}


COVER = [{"rep": "d", "by": "a", "from": date(2026, 11, 1), "to": date(2026, 11, 30)}]  # AT is within it


@settings(max_examples=30, deadline=None)
@given(
    balance=st.sampled_from(["count", "open_load"]),
    batches=st.lists(
        st.tuples(st.integers(1, 80), st.sets(st.sampled_from("abcd"), max_size=2), st.booleans()),
        min_size=1,
        max_size=5,
    ),
)
def test_every_eligible_rep_stays_within_the_bound_with_covers_and_rep_changes(
    balance: str, batches: list[tuple[int, set[str], bool]]
) -> None:
    """Batch after batch, reps switched off and on and d covered by a or not: nobody switched off and nobody
    covered gets a lead, and every eligible turn keeps its measure's bound. count: a covered rep's turns go to
    the colleague and say so, each turn within two leads of an equal share of the batch (turns start within
    one stride of each other, whoever was away). open_load: each lead to
    whoever had the fewest open leads; a covered rep takes no turn (there is no turn to hand over)."""
    state, open_, start = None, pd.Series(0.0, index=list("abcd")), 0
    for n, off, cover in batches:
        reps = [rep(r, active=r not in off) for r in "abcd"]
        roster = make_roster(reps, pool(balance, list("abcd")), cover=COVER if cover else [])
        load = pd.DataFrame({"assigned_today": 0.0, "open": open_})
        out, state = assign(leads(n, start=start), roster, state, load=load)
        start += n
        people = pd.Series(counts(out)).reindex(list("abcd"), fill_value=0).astype(float)
        assert not (cover and people["d"]) and not people[list(off)].any()
        covered = out["assign_method"].eq("cover")
        if balance == "count":
            assert out.loc[covered, "routing_path"].str.endswith("→ a (by cover of d)").all()
            slot = out["owner_id"].mask(covered, "d")  # whose turn each lead was
            turns = [r for r in "abcd" if r not in off and not (r == "d" and cover and "a" in off)]
            assert set(slot) <= set(turns) and covered.any() <= (cover and "d" in turns)
            got = slot.value_counts().reindex(turns, fill_value=0).astype(float)
            assert (got - n / len(turns)).abs().max() < 2
        else:
            assert not covered.any()
            takers = [r for r in "abcd" if r not in off and not (r == "d" and cover)]
            if not takers:
                continue
            ones = pd.Series(1.0, index=takers)
            got_while_lowest(open_[takers], people[takers], ones, ones)
            if cover and not off & {"a", "d"}:
                assert all(e.get("d") == "COVERED" for e in out["excluded"])
        open_ = open_ + people
