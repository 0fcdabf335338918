"""The star schema's pure parts (leadrouter.outcomes.star) on literal frames: the calendar's fiscal years, the
rep dimension's history, owner paths, which rep version a lead points at, and a day's snapshot counts."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from leadrouter.assign.roster import Pool, Rep, Roster
from leadrouter.outcomes.star import (
    calendar,
    deals_without_rate,
    owner_paths,
    rep_changes,
    rep_keys,
    rep_rows,
    snapshot,
)


def test_the_fiscal_year_is_named_by_the_year_it_ends_in() -> None:
    days = calendar(date(2026, 1, 31), date(2026, 2, 1), fiscal_start_month=2).set_index("date")
    assert days.loc[date(2026, 1, 31), "fiscal_year"] == 2026
    assert days.loc[date(2026, 1, 31), "fiscal_quarter"] == "FY2026-Q4"
    assert days.loc[date(2026, 2, 1), "fiscal_year"] == 2027
    assert days.loc[date(2026, 2, 1), "fiscal_quarter"] == "FY2027-Q1"
    assert days.loc[date(2026, 2, 1), "iso_week"] == date(2026, 1, 26)  # a Sunday: the Monday before
    assert days.loc[date(2026, 2, 1), "day_of_week"] == 7
    calendar_year = calendar(date(2026, 12, 31), date(2026, 12, 31)).iloc[0]
    assert (calendar_year["quarter"], calendar_year["fiscal_year"], calendar_year["fiscal_quarter"]) == (
        "2026-Q4", 2026, "FY2026-Q4",
    )  # fmt: skip


def test_a_fiscal_start_month_outside_the_year_is_refused() -> None:
    with pytest.raises(ValueError, match="fiscal year start month 13"):
        calendar(date(2026, 1, 1), date(2026, 1, 2), fiscal_start_month=13)


def roster(role: str = "ae", with_b: bool = True) -> Roster:
    reps = [Rep(id="A", name="Ann", email="a@x.example", role=role, regions=["NA"])]
    reps += [Rep(id="B", name="Bo", email="b@x.example")] if with_b else []
    return Roster(
        reps=reps,
        pools=[Pool(name="std", tier="Standard", reps=[r.id for r in reps], fallback="Q")],
        queues={"Q": "triage"},
    )


def current(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(rep_key=range(1, len(rows) + 1))


def test_a_changed_rep_gets_a_new_version_and_a_gone_one_is_closed() -> None:
    first = current(rep_rows(roster(), "sandbox"))
    assert first.set_index("rep_id")["kind"].to_dict() == {"A": "rep", "B": "rep", "Q": "queue"}
    assert rep_changes(first, rep_rows(roster(), "sandbox"))[0] == []
    assert len(rep_changes(first, rep_rows(roster(), "sandbox"))[1]) == 0
    close, inserts = rep_changes(first, rep_rows(roster(role="senior_ae", with_b=False), "sandbox"))
    assert close == [1, 2]  # A changed, B gone
    assert inserts["rep_id"].tolist() == ["A"] and inserts["role"].tolist() == ["senior_ae"]
    close, inserts = rep_changes(first.iloc[0:0], rep_rows(roster(), "sandbox"))
    assert close == [] and inserts["rep_id"].tolist() == ["A", "B", "Q"]


def test_owner_paths_follow_the_re_routes_in_time_order() -> None:
    leads = pd.Series(["l1", "l2", "l3"])
    moves = pd.DataFrame(
        {
            "lead_id": ["l2", "l1", "l2", "l9"],
            "at": pd.to_datetime(["2026-01-02", "2026-01-01", "2026-01-01", "2026-01-01"], utc=True),
            "new_owner_id": ["C", "B", "B", "Z"],
        }
    )
    paths = owner_paths(leads, pd.Series(["A", "A", None]), moves)
    assert paths.tolist() == ["A > B", "A > B > C", "(none)"]


def test_a_lead_points_at_the_rep_version_valid_when_it_was_decided() -> None:
    versions = pd.DataFrame(
        {
            "rep_id": ["A", "A", "B"],
            "valid_from": pd.to_datetime(["2026-03-01", "2026-06-01", "2026-03-01"], utc=True),
            "rep_key": [1, 2, 3],
        }
    )
    decided = pd.Series(pd.to_datetime(["2026-01-01", "2026-04-01", "2026-07-01", "2026-07-01"], utc=True))
    keys = rep_keys(pd.Series(["A", "A", "A", "X"]), decided, versions)
    assert keys.tolist() == [1, 1, 2, pd.NA]


def test_a_snapshot_counts_per_dimension_in_integers() -> None:
    at = pd.Timestamp("2026-06-01 06:00", tz="UTC")
    fact = pd.DataFrame(
        {
            "source": "sandbox",
            "lead_id": ["a", "b", "c"],
            "tier": ["VIP", "VIP", None],
            "rule": ["r1", None, "r1"],
            "first_owner_id": ["A", "A", "B"],
            "lead_created_at": pd.to_datetime(["2026-01-01", "2026-05-30", "2026-01-01"], utc=True),
            "decided_at": pd.to_datetime(["2026-01-01", "2026-05-30", "2026-01-01"], utc=True),
            "accepted": [True, True, False],
            "speed_to_lead_min": [4.0, 10.0, None],
            "sla_breached": [False, True, False],
            "wrong_assignment": [False, False, True],
            "reassigned": [False, True, True],
            "opportunity": [True, False, False],
            "won": [True, False, False],
            "closed": [True, False, False],
            "hindsight_tier": pd.array(["VIP", "Other", "Other"], dtype="string"),
        }
    )
    snap = snapshot(fact, at).set_index(["dimension", "value"])
    vip = snap.loc[("tier", "VIP")]
    assert (vip["leads"], vip["accepted"], vip["breached"], vip["matured"], vip["matured_hindsight_vip"]) == (
        2, 2, 1, 1, 1,
    )  # fmt: skip
    assert vip["speed_median_min"] == 7.0
    assert snap.loc[("tier", "(none)"), "wrong_assignments"] == 1
    assert snap.loc[("rule", "r1"), "leads"] == 2 and snap.loc[("first_owner_id", "A"), "reassigned"] == 1
    assert snap.loc[("source", "sandbox"), "leads"] == 3
    assert str(snap["leads"].dtype) == "int64" and (snap["snapshot_date"] == date(2026, 6, 1)).all()


def test_deals_no_rate_converts_are_counted_and_the_base_currency_needs_none() -> None:
    fact = pd.DataFrame(
        {
            "deal_currency": ["EUR", "EUR", "GBP", "USD", None, None],
            "deal_amount": [10.0, 20.0, 30.0, 40.0, 50.0, None],
            "deal_close_date": pd.to_datetime(["2026-03-01", None, None, None, None, None]),
            "arrival_date": pd.to_datetime(["2026-02-01", "2025-12-01", "2026-05-01", "2026-05-01",
                                            "2026-05-01", "2026-05-01"]),
        }
    )  # fmt: skip
    rates = pd.DataFrame({"currency": ["EUR"], "valid_from": [date(2026, 1, 1)], "base_currency": ["USD"],
                          "rate": [1.1]})  # fmt: skip
    # the EUR deal that arrived before its first rate and the GBP one; USD is the base, null the CRM's own
    assert deals_without_rate(fact, rates) == 2
