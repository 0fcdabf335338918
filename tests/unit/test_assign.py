"""Assignment: availability (time zones, hours, SLA windows, time off, holidays), capacity, specialists,
regions, existing owners and backups, fallback pools, roster errors, round-robin fairness over restarts and
roster edits (two routers at once on PostgreSQL: integration/test_assign_postgres).

Expectations are derived in the tests themselves (local clocks, known public holidays, weight shares), never
copied from a run of the code under test."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadrouter.assign.availability import Excluded, day_starts, rep_calendar
from leadrouter.assign.batch import STATE_COLUMNS
from leadrouter.assign.owners import Moment, assign_owners, response_windows
from leadrouter.assign.roster import Roster, load_roster
from leadrouter.assign.turns import open_pools, preview_turns, take_turns
from leadrouter.classify.rules import DEFAULT_SLA
from leadrouter.config import ConfigError
from leadrouter.record import record_batch
from leadrouter.store import open_store
from leadrouter.store.tables import decisions
from tests.helpers.assignment import (
    AT,
    FALLBACK,
    classified,
    context,
    counts,
    leads,
    ledger_state,
    make_roster,
    rep,
)
from tests.helpers.ledger import NO_QUARANTINE

# the windows as the issue states them, written out rather than taken from response_windows
WINDOWS = {"VIP": timedelta(0), "Standard": timedelta(minutes=30), "Nurture": None, "Other": None}
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
ALL_DAYS = [*WEEKDAYS, "sat", "sun"]
EMPTY_STATE = pd.DataFrame(columns=STATE_COLUMNS)

INACTIVE = Excluded.INACTIVE.value
OUT_OF_OFFICE = Excluded.OUT_OF_OFFICE.value
OUTSIDE_HOURS = Excluded.OUTSIDE_HOURS.value
AT_CAPACITY = Excluded.AT_CAPACITY.value
WRONG_REGION = Excluded.WRONG_REGION.value
NO_SPECIALISATION = Excluded.NO_SPECIALISATION.value


# ---------------------------------------------------------------------------------------------- helpers


def route(
    frame: pd.DataFrame,
    roster: Roster,
    state: pd.DataFrame | None = None,
    *,
    at: datetime = AT,
    load: pd.DataFrame | None = None,
    windows: dict | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    moment = Moment(at, WINDOWS if windows is None else windows, pd.DataFrame() if load is None else load)
    return assign_owners(frame, roster, EMPTY_STATE if state is None else state, moment)


def by_lead(out: pd.DataFrame) -> pd.DataFrame:
    return out.set_index("lead_id")


def sorted_state(state: pd.DataFrame) -> pd.DataFrame:
    frame = state.reindex(columns=STATE_COLUMNS).astype(
        {"pool": str, "rep_id": str, "pass_value": float, "assigned": int}
    )
    return frame.sort_values(["pool", "rep_id"]).reset_index(drop=True)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ------------------------------------------------------------------ 1. properties (the acceptance criteria)

ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
]
HOURS = [
    {"start": "09:00", "end": "17:30", "days": WEEKDAYS},
    {"start": "06:00", "end": "14:00", "days": WEEKDAYS},
    {"start": "12:00", "end": "20:30", "days": [*WEEKDAYS, "sat"]},
    {"start": "00:30", "end": "23:59", "days": ALL_DAYS},
]
# public holidays between 14 Dec 2026 and 10 Jan 2027, as published (not read from the `holidays` package)
KNOWN_HOLIDAYS = {
    None: set(),
    "US": {date(2026, 12, 25), date(2027, 1, 1)},
    "DE": {date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)},
}

# around Christmas and New Year, at whole minutes between 01:00 and 22:59 UTC
at_st = st.builds(
    lambda day, hour, minute: utc(2026, 12, 20, hour, minute) + timedelta(days=day),
    st.integers(0, 14),
    st.integers(1, 22),
    st.integers(0, 59),
)
spec_st = st.fixed_dictionaries(
    {
        "weight": st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]),
        "timezone": st.sampled_from(ZONES),
        "hours": st.sampled_from(HOURS),
        "holidays": st.sampled_from([None, "US", "DE"]),
        # days off relative to the instant's UTC date: (first day's offset, length - 1)
        "time_off": st.none() | st.tuples(st.integers(-2, 1), st.integers(0, 2)),
        "active": st.sampled_from([True, True, True, False]),
    }
)


def spec_rep(i: int, spec: dict, at: datetime, **extra: object) -> dict:
    fields = {k: spec[k] for k in ("weight", "timezone", "hours", "holidays", "active")}
    if spec["time_off"] is not None:
        first = at.date() + timedelta(days=spec["time_off"][0])
        fields["time_off"] = [{"start": first, "end": first + timedelta(days=spec["time_off"][1])}]
    return rep(f"r{i}", **fields, **extra)


def why_unavailable(spec: dict, at: datetime, window: timedelta | None) -> str | None:
    """The reason a rep cannot take a lead at `at`, worked out from the spec with the standard library."""
    if not spec["active"]:
        return INACTIVE
    local = at.astimezone(ZoneInfo(spec["timezone"]))
    today = local.date()
    off = today in KNOWN_HOLIDAYS[spec["holidays"]]
    if spec["time_off"] is not None:
        first = at.date() + timedelta(days=spec["time_off"][0])
        off |= first <= today <= first + timedelta(days=spec["time_off"][1])  # inclusive end
    if off:
        return OUT_OF_OFFICE
    if window is None:
        return None
    hours = spec["hours"]
    start, end = time.fromisoformat(hours["start"]), time.fromisoformat(hours["end"])
    opens = (datetime.combine(today, start) - window).time()  # every start is >= 00:30: same day
    workday = ALL_DAYS[today.weekday()] in hours["days"]
    if workday and opens <= local.time() < end:
        return None
    return OUTSIDE_HOURS


ALWAYS_ON = {
    "timezone": "UTC",
    "hours": {"start": "00:30", "end": "23:59", "days": ALL_DAYS},
    "holidays": None,
    "time_off": None,
    "active": True,
}


# no shrinking: each example routes 10,000 leads, and the failing example is small to read as it is
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(
    first_weight=st.sampled_from([0.5, 1.0, 2.0]),
    specs=st.lists(spec_st, min_size=1, max_size=5),
    at=at_st,
    tier=st.sampled_from(["VIP", "Standard"]),
    cuts=st.lists(st.integers(1, 9_999), max_size=3, unique=True),
)
def test_ten_thousand_leads_follow_weight_shares_among_available_reps_only(
    first_weight: float, specs: list[dict], at: datetime, tier: str, cuts: list[int]
) -> None:
    specs = [{**ALWAYS_ON, "weight": first_weight}, *specs]  # r0 is at work at every drawn instant
    roster = make_roster([spec_rep(i, s, at) for i, s in enumerate(specs)])
    why = {f"r{i}": why_unavailable(s, at, WINDOWS[tier]) for i, s in enumerate(specs)}
    away = {r: reason for r, reason in why.items() if reason is not None}
    weight = pd.Series({f"r{i}": s["weight"] for i, s in enumerate(specs) if why[f"r{i}"] is None})

    state, outs = EMPTY_STATE, []
    bounds = [0, *sorted(cuts), 10_000]
    for lo, hi in pairwise(bounds):
        batch = leads(hi - lo, tier=tier, start=lo)
        out, new_state = route(batch, roster, state, at=at)
        if lo == 0:  # the same state, moment and input give the same decisions, in any input order
            again, again_state = route(batch, roster, state, at=at)
            pd.testing.assert_frame_equal(out, again)
            pd.testing.assert_frame_equal(sorted_state(new_state), sorted_state(again_state))
            shuffled, _ = route(batch.sample(frac=1, random_state=7), roster, state, at=at)
            assert by_lead(shuffled)["owner_id"].equals(by_lead(out)["owner_id"])
        outs.append(out)
        state = new_state
    out = pd.concat(outs, ignore_index=True)

    assert len(out) == 10_000 and (out["assign_method"] == "round_robin").all()
    assert set(out["owner_id"]) <= set(weight.index)  # nobody away gets a lead
    assert all(e == away for e in out["excluded"])  # and every lead says who was away and why
    share = out["owner_id"].value_counts(normalize=True).reindex(weight.index, fill_value=0)
    assert (share - weight / weight.sum()).abs().max() <= 0.02
    turns = state.groupby("rep_id")["assigned"].sum()
    assert turns.reindex(weight.index, fill_value=0).tolist() == [counts(out).get(r, 0) for r in weight.index]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(
        st.tuples(spec_st, st.none() | st.integers(0, 40), st.integers(0, 30)), min_size=1, max_size=5
    ),
    at=at_st,
    tier=st.sampled_from(["VIP", "Standard", "Nurture"]),
    batches=st.lists(st.integers(1, 120), min_size=1, max_size=3),
)
def test_no_lead_goes_to_an_away_or_full_rep_nor_to_the_fallback_while_one_can_take_it(
    specs: list[tuple[dict, int | None, int]], at: datetime, tier: str, batches: list[int]
) -> None:
    reps = [spec_rep(i, s, at, max_per_day=cap) for i, (s, cap, _) in enumerate(specs)]
    roster = make_roster(reps)
    ids = [r["id"] for r in reps]
    why = {r: why_unavailable(s, at, WINDOWS[tier]) for r, (s, _, _) in zip(ids, specs, strict=True)}
    available = [r for r in ids if why[r] is None]
    cap = {r: np.inf if c is None else c for r, (_, c, _) in zip(ids, specs, strict=True)}
    today = {r: load for r, (_, _, load) in zip(ids, specs, strict=True)}  # assigned earlier today

    state, start = EMPTY_STATE, 0
    for n in batches:
        batch = leads(n, tier=tier, start=start)
        load = pd.DataFrame({"assigned_today": pd.Series(today, dtype=float), "open": 0.0})
        out, new_state = route(batch, roster, state, at=at, load=load)
        again, _ = route(batch, roster, state, at=at, load=load)
        pd.testing.assert_frame_equal(out, again)

        room = {r: max(cap[r] - today[r], 0) for r in ids}
        got = dict.fromkeys(ids, 0)
        for lead in out.sort_values(["created_at", "lead_id"]).itertuples():
            full = {r for r in available if got[r] >= room[r]}
            expected = {r: why[r] for r in ids if why[r] is not None} | dict.fromkeys(full, AT_CAPACITY)
            assert lead.excluded == expected, lead.lead_id
            if lead.owner_id == FALLBACK:
                assert lead.assign_method == "fallback"
                assert set(available) == full, (
                    f"{lead.lead_id} fell back while {set(available) - full} had room"
                )
            else:
                assert lead.assign_method == "round_robin"
                assert lead.owner_id in available and lead.owner_id not in full
                got[lead.owner_id] += 1
        for r in ids:
            today[r] += got[r]
        state, start = new_state, start + n


def test_response_windows_vip_now_standard_its_sla_the_rest_no_clock() -> None:
    assert response_windows(DEFAULT_SLA) == WINDOWS


# ------------------------------------------------------------------------------------- 2. availability


def test_time_zones_decide_who_is_at_work_now() -> None:
    roster = make_roster(
        [rep("ny", timezone="America/New_York"), rep("tokyo", timezone="Asia/Tokyo")]
    )  # both 09:00-17:30 Mon-Fri, in their own zone
    # Wed 16:30 UTC: New York 11:30 Wed, Tokyo 01:30 Thu
    out, _ = route(leads(3, tier="VIP"), roster)
    assert set(out["owner_id"]) == {"ny"}
    assert all(e == {"tokyo": OUTSIDE_HOURS} for e in out["excluded"])
    # Thu 01:30 UTC: Tokyo 10:30 Thu, New York 20:30 Wed
    night = utc(2026, 11, 26, 1, 30)
    out, _ = route(leads(3, tier="VIP"), roster, at=night)
    assert set(out["owner_id"]) == {"tokyo"}
    assert all(e == {"ny": OUTSIDE_HOURS} for e in out["excluded"])
    calendar = rep_calendar(roster, night)
    assert calendar["working_now"].to_dict() == {"ny": False, "tokyo": True}


def test_vip_needs_a_rep_at_work_now_standard_one_within_its_sla() -> None:
    roster = make_roster(
        [
            rep("soon", hours={"start": "16:50", "end": "23:00"}),  # starts 20 min after AT
            rep("later", hours={"start": "17:10", "end": "23:00"}),  # starts 40 min after AT
        ]
    )
    vip, _ = route(leads(1, tier="VIP"), roster)
    assert vip.loc[0, "owner_id"] == FALLBACK and vip.loc[0, "assign_method"] == "fallback"
    assert vip.loc[0, "excluded"] == {"soon": OUTSIDE_HOURS, "later": OUTSIDE_HOURS}
    standard, _ = route(leads(4, tier="Standard"), roster)
    assert set(standard["owner_id"]) == {"soon"}
    assert all(e == {"later": OUTSIDE_HOURS} for e in standard["excluded"])
    nurture, _ = route(leads(4, tier="Nurture"), roster)  # no clock: hours do not matter
    assert counts(nurture) == {"soon": 2, "later": 2}
    assert all(e == {} for e in nurture["excluded"])


def test_time_off_is_inclusive_of_its_last_day_in_the_reps_own_calendar() -> None:
    off = [{"start": "2026-11-23", "end": "2026-11-25"}]
    roster = make_roster(
        [
            rep("ny_off", timezone="America/New_York", time_off=off),
            rep("tokyo_off", timezone="Asia/Tokyo", time_off=off),
            rep("here", timezone="America/New_York"),
        ]
    )
    # Wed 25 Nov 16:30 UTC: the last day off in New York (Tokyo is asleep on the 26th)
    out, _ = route(leads(2), roster)
    assert set(out["owner_id"]) == {"here"}
    assert out.loc[0, "excluded"] == {"ny_off": OUT_OF_OFFICE, "tokyo_off": OUTSIDE_HOURS}
    # Thu 26 Nov 00:30 UTC: Tokyo 09:30 on the 26th, back; New York 19:30 on the 25th, still off
    out, _ = route(leads(2), roster, at=utc(2026, 11, 26, 0, 30))
    assert set(out["owner_id"]) == {"tokyo_off"}
    assert out.loc[0, "excluded"] == {"ny_off": OUT_OF_OFFICE, "here": OUTSIDE_HOURS}
    # Thu 26 Nov 15:00 UTC: New York 10:00, back (no holiday calendar here); Tokyo 00:00 Fri, asleep
    out, _ = route(leads(4), roster, at=utc(2026, 11, 26, 15))
    assert counts(out) == {"ny_off": 2, "here": 2}
    assert all(e == {"tokyo_off": OUTSIDE_HOURS} for e in out["excluded"])


@pytest.mark.parametrize(
    ("at", "away", "here"),
    [
        # Christmas, Friday 25 Dec 2026, 10:00 in New York
        (
            utc(2026, 12, 25, 15),
            rep("us", timezone="America/New_York", holidays="US"),
            rep("no_calendar", timezone="America/New_York"),
        ),
        # Labour Day, Friday 1 May 2026: a public holiday in Germany, a working day in Britain
        (
            utc(2026, 5, 1, 10),
            rep("de", timezone="Europe/Berlin", holidays="DE"),
            rep("uk", timezone="Europe/London", holidays="GB"),
        ),
        # Epiphany, Tuesday 6 Jan 2026: a holiday in Bavaria (DE-BY), not in Berlin (DE-BE)
        (
            utc(2026, 1, 6, 10),
            rep("bavaria", timezone="Europe/Berlin", holidays="DE-BY"),
            rep("berlin", timezone="Europe/Berlin", holidays="DE-BE"),
        ),
    ],
)
def test_a_public_holiday_of_the_reps_calendar_keeps_them_out(at: datetime, away: dict, here: dict) -> None:
    roster = make_roster([away, here])  # both within their hours at `at`: only the holiday differs
    out, _ = route(leads(3), roster, at=at)
    assert set(out["owner_id"]) == {here["id"]}
    assert all(e == {away["id"]: OUT_OF_OFFICE} for e in out["excluded"])


def test_the_schedules_holidays_apply_to_every_rep_unless_the_rep_has_their_own() -> None:
    roster = make_roster(
        [rep("inherits"), rep("london", timezone="Europe/London", holidays="GB")],
        schedule={"timezone": "America/New_York", "holidays": "US"},
    )
    # Thanksgiving, Thursday 26 Nov 2026: 10:00 in New York, 15:00 in London (no British holiday)
    out, _ = route(leads(2), roster, at=utc(2026, 11, 26, 15))
    assert set(out["owner_id"]) == {"london"}
    assert all(e == {"inherits": OUT_OF_OFFICE} for e in out["excluded"])


def test_weekends_are_outside_hours_unless_the_rep_works_them() -> None:
    roster = make_roster([rep("weekdays"), rep("saturdays", hours={"days": [*WEEKDAYS, "sat"]})])
    saturday = utc(2026, 11, 28, 15)
    out, _ = route(leads(4, tier="Standard"), roster, at=saturday)
    assert set(out["owner_id"]) == {"saturdays"}
    assert all(e == {"weekdays": OUTSIDE_HOURS} for e in out["excluded"])
    out, _ = route(leads(4, tier="Nurture"), roster, at=saturday)  # no clock for Nurture
    assert counts(out) == {"weekdays": 2, "saturdays": 2}


def test_an_inactive_rep_gets_nothing_even_where_nothing_else_would_stop_them() -> None:
    roster = make_roster(
        [
            rep("off", active=False),
            rep("off_and_away", active=False, time_off=[{"start": "2026-11-25", "end": "2026-11-25"}]),
            rep("on"),
        ]
    )
    for tier in ("VIP", "Standard", "Nurture"):
        out, _ = route(leads(5, tier=tier), roster)
        assert set(out["owner_id"]) == {"on"}
        assert all(e == {"off": INACTIVE, "off_and_away": INACTIVE} for e in out["excluded"])


def test_the_routing_path_names_the_pool_the_reasons_and_the_owner() -> None:
    roster = make_roster(
        [
            rep("owner", time_off=[{"start": "2026-11-25", "end": "2026-11-26"}], backup="cover"),
            rep("cover"),
            rep("asleep", timezone="Asia/Tokyo"),
        ],
        pools=[{"name": "std", "tier": "Standard", "reps": ["cover", "asleep"], "fallback": FALLBACK}],
    )
    out, _ = route(leads(2, existing_owner_id=["owner", None]), roster)
    kept, pooled = out.loc[0], out.loc[1]
    assert OUT_OF_OFFICE in kept["routing_path"] and "backup" in kept["routing_path"]
    assert kept["routing_path"].endswith("cover") and kept["assign_method"] == "backup"
    assert "pool std" in pooled["routing_path"] and pooled["routing_path"].endswith("cover")
    assert "1 of 2 eligible" in pooled["routing_path"]
    assert pooled["excluded"] == {"asleep": OUTSIDE_HOURS}


# ----------------------------------------------------------------------------------------- 3. capacity


def test_a_daily_cap_counts_what_the_rep_got_earlier_today() -> None:
    roster = make_roster([rep("capped", max_per_day=5), rep("b"), rep("c")])
    full = pd.DataFrame({"assigned_today": {"capped": 5.0}, "open": {"capped": 0.0}})
    out, _ = route(leads(9), roster, load=full)
    assert "capped" not in set(out["owner_id"])
    assert all(e == {"capped": AT_CAPACITY} for e in out["excluded"])
    two_left = pd.DataFrame({"assigned_today": {"capped": 3.0, "b": 50.0}, "open": {"capped": 0.0}})
    out, _ = route(leads(30), roster, load=two_left)
    assert counts(out)["capped"] == 2 and out["owner_id"].notna().all()


def test_an_open_lead_cap_counts_untouched_leads() -> None:
    roster = make_roster([rep("capped", max_open=4), rep("b")])
    load = pd.DataFrame({"assigned_today": {"capped": 0.0}, "open": {"capped": 3.0}})
    out, _ = route(leads(10), roster, load=load)
    assert counts(out) == {"capped": 1, "b": 9}


def test_a_cap_reached_within_the_batch_sends_the_rest_to_the_others() -> None:
    roster = make_roster([rep("capped", max_per_day=3), rep("b"), rep("c")])
    out, state = route(leads(30), roster)
    got = counts(out)
    assert got["capped"] == 3 and got["b"] + got["c"] == 27 and abs(got["b"] - got["c"]) <= 1
    turns = np.flatnonzero(out["owner_id"].to_numpy() == "capped")  # out is in arrival order
    assert turns[-1] < 9  # served at its share (1 in 3) until full, not last
    for position, excluded in enumerate(out["excluded"]):
        assert excluded == ({"capped": AT_CAPACITY} if position > turns[-1] else {})
    assert sorted_state(state).set_index("rep_id")["assigned"].to_dict() == got


def test_day_starts_are_each_reps_local_midnight() -> None:
    roster = make_roster([rep("ny", timezone="America/New_York"), rep("tokyo", timezone="Asia/Tokyo")])
    starts = day_starts(roster, AT)  # Wed 16:30 UTC: Wed in New York, already Thu in Tokyo
    assert starts["ny"] == pd.Timestamp("2026-11-25 05:00", tz="UTC")
    assert starts["tokyo"] == pd.Timestamp("2026-11-25 15:00", tz="UTC")


def test_everyone_at_capacity_hands_the_rest_to_the_pools_fallback() -> None:
    roster = make_roster([rep("a", max_per_day=1), rep("b", max_per_day=1)])
    out, _ = route(leads(5), roster)
    assert counts(out) == {"a": 1, "b": 1, FALLBACK: 3}
    rest = out[out["owner_id"] == FALLBACK]
    assert (rest["assign_method"] == "fallback").all()
    assert all(e == {"a": AT_CAPACITY, "b": AT_CAPACITY} for e in rest["excluded"])
    assert rest["routing_path"].str.contains("fallback").all()
    assert rest.index.min() > out.index[out["owner_id"] != FALLBACK].max()  # fallback only once all full


def test_a_full_pool_hands_over_to_its_fallback_pool() -> None:
    roster = make_roster(
        [rep("a", max_per_day=2), rep("b", max_per_day=2), rep("c")],
        pools=[
            {"name": "first", "tier": "Standard", "reps": ["a", "b"], "fallback": "second"},
            {"name": "second", "tier": "Standard", "reps": ["c"], "fallback": FALLBACK},
        ],
    )
    out, _ = route(leads(10), roster)
    assert counts(out) == {"a": 2, "b": 2, "c": 6}
    assert set(out.loc[out["owner_id"] == "c", "pool"]) == {"second"}


def test_a_daily_cap_holds_across_batches_recorded_in_the_ledger(tmp_path: Path) -> None:
    # owner_load counts decisions stamped since the rep's local midnight of `at` (decided_at is the wall
    # clock, which is after WORKDAY)
    store = open_store(f"sqlite:///{tmp_path}/ledger.db")
    roster = make_roster([rep("capped", max_per_day=3), rep("b")])
    first = record_batch(store, context("r1"), classified(4), NO_QUARANTINE, roster)
    second = record_batch(store, context("r2"), classified(10, start=4), NO_QUARANTINE, roster)
    assert counts(first)["capped"] == 2  # its share of four
    assert counts(second) == {"capped": 1, "b": 9}


# ----------------------------------------------------------------------------------- 4. specialisation


def test_a_lead_in_a_reps_vertical_goes_to_the_specialists() -> None:
    roster = make_roster(
        [rep("doc", verticals=["Healthcare"]), rep("nurse", verticals=["healthcare", "Retail"]), rep("gen")]
    )
    out, _ = route(leads(6, industry=" HealthCare "), roster)  # industry matches whatever its case
    assert counts(out) == {"doc": 3, "nurse": 3}
    assert all(e == {"gen": NO_SPECIALISATION} for e in out["excluded"])
    other, _ = route(leads(6, industry="Software"), roster)  # no specialist: everyone, no reason recorded
    assert counts(other) == {"doc": 2, "nurse": 2, "gen": 2}
    assert all(e == {} for e in other["excluded"])


def test_a_specialist_away_leaves_the_lead_to_the_others() -> None:
    roster = make_roster(
        [
            rep("doc", verticals=["Healthcare"], time_off=[{"start": "2026-11-20", "end": "2026-11-25"}]),
            rep("a"),
            rep("b"),
        ]
    )
    out, _ = route(leads(6, industry="Healthcare"), roster)
    assert counts(out) == {"a": 3, "b": 3}
    assert all(e == {"doc": OUT_OF_OFFICE} for e in out["excluded"])


def test_leads_without_an_industry_or_territory_are_routed_with_the_sample_roster() -> None:
    # canonical lead frames hold missing text as <NA> (string dtype): once a crash in _assign_group
    roster = load_roster(Path(__file__).parents[2] / "config" / "roster.yaml")
    batch = pd.concat([leads(3), leads(3, industry="Healthcare", start=3)], ignore_index=True)
    out = route(batch, roster)[0]
    na_reps = set(roster.members(roster.pool("standard-na")))
    healthcare = {r.key for r in roster.reps if "Healthcare" in r.verticals} & na_reps
    assert healthcare and set(out["pool"]) == {"standard-na"}
    assert set(out.loc[3:, "owner_id"]) == healthcare
    assert set(out.loc[:2, "owner_id"]) <= na_reps and out["assign_method"].eq("round_robin").all()


def test_a_specialist_at_capacity_leaves_the_rest_to_the_others() -> None:
    roster = make_roster([rep("doc", verticals=["Healthcare"], max_per_day=2), rep("a"), rep("b")])
    out, _ = route(leads(6, industry="Healthcare"), roster)
    assert counts(out) == {"doc": 2, "a": 2, "b": 2}  # not the fallback queue
    after = out.index > out.index[out["owner_id"] == "doc"].max()
    assert all(e.get("doc") == AT_CAPACITY for e in out.loc[after, "excluded"])


# ----------------------------------------------------------------------------------------- 5. regions

REGION_REPS = [
    rep("east", regions=["NA-East"]),
    rep("west", regions=["NA-West"]),
    rep("na", regions=["NA"]),
    rep("anywhere"),
]


def test_a_rep_covering_a_territory_gets_no_lead_from_another() -> None:
    roster = make_roster(REGION_REPS)
    batch = pd.concat(
        [
            leads(12, territory="NA-West"),
            leads(12, territory="NA-East", start=12),
            leads(6, region="EMEA", territory="EMEA-DACH", start=24),
        ],
        ignore_index=True,
    )
    out = by_lead(route(batch, roster)[0])
    west, east, emea = out.iloc[:12], out.iloc[12:24], out.iloc[24:]
    assert set(west["owner_id"]) == {"west", "na", "anywhere"}
    assert all(e == {"east": WRONG_REGION} for e in west["excluded"])
    assert set(east["owner_id"]) == {"east", "na", "anywhere"}
    assert all(e == {"west": WRONG_REGION} for e in east["excluded"])
    assert set(emea["owner_id"]) == {"anywhere"}
    assert all(e == dict.fromkeys(["east", "west", "na"], WRONG_REGION) for e in emea["excluded"])


FOLLOW_THE_SUN_REPS = [
    rep("tokyo", timezone="Asia/Tokyo"),  # asleep at AT: the regional pool cannot take anything
    rep("east", regions=["NA-East"]),
    rep("doc", verticals=["Healthcare"]),
    rep("gen"),
]
FOLLOW_THE_SUN_POOLS = [
    {"name": "vip-na", "tier": "VIP", "regions": ["NA"], "reps": ["tokyo"], "fallback": "vip-global"},
    {"name": "vip-global", "tier": "VIP", "reps": ["east", "doc", "gen"], "fallback": FALLBACK},
]


def test_a_fallback_pool_judges_each_lead_by_its_own_territory() -> None:
    roster = make_roster(FOLLOW_THE_SUN_REPS, FOLLOW_THE_SUN_POOLS)
    batch = pd.concat(
        [leads(6, tier="VIP", territory="NA-West"), leads(6, tier="VIP", territory="NA-East", start=6)],
        ignore_index=True,
    )
    out = by_lead(route(batch, roster)[0])
    west, east = out.iloc[:6], out.iloc[6:]
    assert "east" not in set(west["owner_id"])
    assert all(e == {"tokyo": OUTSIDE_HOURS, "east": WRONG_REGION} for e in west["excluded"])
    assert set(east["owner_id"]) == {"east", "doc", "gen"}
    assert all(e == {"tokyo": OUTSIDE_HOURS} for e in east["excluded"])


def test_a_fallback_pool_prefers_its_specialists_for_each_lead() -> None:
    roster = make_roster(FOLLOW_THE_SUN_REPS, FOLLOW_THE_SUN_POOLS)
    batch = pd.concat(
        [leads(6, tier="VIP", industry="Software"), leads(6, tier="VIP", industry="Healthcare", start=6)],
        ignore_index=True,
    )
    out = by_lead(route(batch, roster)[0])
    software, health = out.iloc[:6], out.iloc[6:]
    away = {"tokyo": OUTSIDE_HOURS, "east": WRONG_REGION}
    assert set(health["owner_id"]) == {"doc"}
    assert all(e == away | {"gen": NO_SPECIALISATION} for e in health["excluded"])
    assert set(software["owner_id"]) == {"doc", "gen"}  # no territory: east's NA-East does not cover it
    assert all(e == away for e in software["excluded"])


# ------------------------------------------------------------------------------------ 6. existing owner

OWNER_REPS = [
    rep("owner"),
    rep("away", time_off=[{"start": "2026-11-24", "end": "2026-11-27"}], backup="cover"),
    rep("gone", active=False, backup="cover"),
    rep("away_alone", time_off=[{"start": "2026-11-24", "end": "2026-11-27"}]),
    rep("away_too", time_off=[{"start": "2026-11-24", "end": "2026-11-27"}], backup="away"),
    rep("busy", max_per_day=0),
    rep("cover"),
    rep("a"),
    rep("b"),
]
OWNER_POOLS = [{"name": "std", "tier": "Standard", "reps": ["a", "b"], "fallback": FALLBACK}]


def earlier_state(roster: Roster) -> pd.DataFrame:
    return route(leads(7, start=1000), roster)[1]


def test_an_available_existing_owner_keeps_the_lead_without_a_round_robin_turn() -> None:
    roster = make_roster(OWNER_REPS, OWNER_POOLS)
    state = earlier_state(roster)
    out, new_state = route(leads(3, existing_owner_id="owner"), roster, state)
    assert set(out["owner_id"]) == {"owner"}
    assert set(out["assign_method"]) == {"existing_owner"}
    pd.testing.assert_frame_equal(sorted_state(new_state), sorted_state(state))


def test_capacity_does_not_take_a_lead_from_its_existing_owner() -> None:
    roster = make_roster(OWNER_REPS, OWNER_POOLS)
    out, _ = route(leads(2, existing_owner_id="busy"), roster)
    assert set(out["owner_id"]) == {"busy"}


@pytest.mark.parametrize(("owner", "reason"), [("away", OUT_OF_OFFICE), ("gone", INACTIVE)])
def test_an_existing_owner_who_cannot_take_it_hands_it_to_their_backup(owner: str, reason: str) -> None:
    roster = make_roster(OWNER_REPS, OWNER_POOLS)
    state = earlier_state(roster)
    out, new_state = route(leads(2, existing_owner_id=owner), roster, state)
    assert set(out["owner_id"]) == {"cover"}
    assert set(out["assign_method"]) == {"backup"}
    assert all(e == {owner: reason} for e in out["excluded"])
    assert all(reason in p for p in out["routing_path"])
    pd.testing.assert_frame_equal(sorted_state(new_state), sorted_state(state))


@pytest.mark.parametrize(
    ("owner", "excluded"),
    [
        ("away_alone", {"away_alone": OUT_OF_OFFICE}),
        ("away_too", {"away_too": OUT_OF_OFFICE, "away": OUT_OF_OFFICE}),
    ],
)
def test_no_available_backup_sends_the_lead_through_the_pools(owner: str, excluded: dict) -> None:
    roster = make_roster(OWNER_REPS, OWNER_POOLS)
    out, state = route(leads(4, existing_owner_id=owner), roster)
    assert counts(out) == {"a": 2, "b": 2}
    assert set(out["assign_method"]) == {"round_robin"} and set(out["pool"]) == {"std"}
    assert all(e == excluded for e in out["excluded"])
    assert all(OUT_OF_OFFICE in p and "pool std" in p for p in out["routing_path"])
    assert sorted_state(state)["assigned"].sum() == 4


@pytest.mark.parametrize("owner", [FALLBACK, "005UNKNOWN000001"])
def test_a_queue_or_a_crm_user_off_the_roster_keeps_the_lead(owner: str) -> None:
    roster = make_roster(OWNER_REPS, OWNER_POOLS)
    state = earlier_state(roster)
    out, new_state = route(leads(3, existing_owner_id=owner), roster, state)
    assert set(out["owner_id"]) == {owner}
    assert set(out["assign_method"]) == {"existing_owner"}
    pd.testing.assert_frame_equal(sorted_state(new_state), sorted_state(state))


def test_the_duplicates_owner_comes_before_the_accounts_and_the_rules() -> None:
    roster = make_roster(OWNER_REPS, OWNER_POOLS)
    batch = leads(
        3,
        existing_owner_id=["owner", None, None],
        account_owner_id=["a", "cover", None],
        rule_owner=["b", "b", "b"],
    )
    out = by_lead(route(batch, roster)[0])
    assert out["owner_id"].tolist() == ["owner", "cover", "b"]
    assert out["assign_method"].tolist() == ["existing_owner", "account_owner", "rule_owner"]


# ------------------------------------------------------------------------------------ 7. fallback pools


def follow_the_sun() -> Roster:
    return make_roster(
        [
            rep("tokyo", timezone="Asia/Tokyo"),
            rep("berlin", timezone="Europe/Berlin"),
            rep("ny", timezone="America/New_York"),
            rep("boss", timezone="America/New_York"),
        ],
        pools=[
            {
                "name": "vip-apac",
                "tier": "VIP",
                "regions": ["APAC"],
                "reps": ["tokyo"],
                "fallback": "vip-global",
            },
            {
                "name": "vip-global",
                "tier": "VIP",
                "reps": ["tokyo", "berlin", "ny"],
                "fallback": "boss@example.com",
            },
        ],
    )


def test_a_regional_pool_with_nobody_at_work_hands_to_the_global_pool() -> None:
    # Wed 17:00 UTC: Tokyo 02:00 Thu, Berlin 18:00, New York 12:00
    out, _ = route(leads(3, tier="VIP", region="APAC"), follow_the_sun(), at=utc(2026, 11, 25, 17))
    assert set(out["owner_id"]) == {"ny"} and set(out["pool"]) == {"vip-global"}
    assert set(out["assign_method"]) == {"round_robin"}
    assert all(e == {"tokyo": OUTSIDE_HOURS, "berlin": OUTSIDE_HOURS} for e in out["excluded"])
    assert all("pool vip-apac" in p and "pool vip-global" in p for p in out["routing_path"])


def test_the_fallback_chain_ends_at_a_rep_or_a_queue_whoever_is_at_work() -> None:
    sunday = utc(2026, 11, 29, 15)  # nobody works Sundays
    out, _ = route(leads(2, tier="VIP", region="APAC"), follow_the_sun(), at=sunday)
    assert set(out["owner_id"]) == {"boss"}  # named by email in the roster: routed by id
    assert set(out["assign_method"]) == {"fallback"}
    assert all(e == dict.fromkeys(["tokyo", "berlin", "ny"], OUTSIDE_HOURS) for e in out["excluded"])
    roster = make_roster(
        [rep("a", active=False)],
        pools=[
            {"name": "one", "tier": "Standard", "reps": ["a"], "fallback": "two"},
            {"name": "two", "tier": "Standard", "reps": ["a"], "fallback": FALLBACK},
        ],
    )
    out, _ = route(leads(2), roster)
    assert set(out["owner_id"]) == {FALLBACK} and set(out["assign_method"]) == {"fallback"}


# ------------------------------------------------------------------------------------ 8. roster loading

ROSTER_YAML = """\
schedule:
  timezone: America/New_York
  holidays: US
reps:
  - id: "001"
    name: Ann
    email: ann@example.com
    backup: "002"  # ann's backup
  - id: "002"
    name: Bo
    email: bo@example.com
    timezone: Europe/Berlin  # bo's zone
    holidays: DE  # bo's holidays
queues:
  Q1: triage
pools:
  - name: vip-na
    tier: VIP
    regions: [NA]
    reps: ["001"]
    fallback: vip-global  # vip-na's fallback
  - name: vip-global
    tier: VIP
    reps: ["001", "002"]
    fallback: Q1  # vip-global's fallback
  - {name: standard, tier: Standard, reps: ["001", "002"], fallback: Q1}
  - {name: nurture, tier: Nurture, reps: [Q1], fallback: Q1}
  - {name: other, tier: Other, reps: [Q1], fallback: Q1}
"""


def line_with(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


def test_the_sample_roster_loads() -> None:
    loaded = load_roster(Path(__file__).parents[2] / "config" / "roster.yaml")
    assert not loaded.problems()


def test_a_valid_roster_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(ROSTER_YAML)
    roster = load_roster(path)
    assert roster.by_id["002"].schedule.timezone == "Europe/Berlin"
    assert roster.by_id["001"].schedule.holidays == "US"  # from the schedule


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        ("Europe/Berlin  # bo's zone", "Europe/Atlantis  # bo's zone", "bo's zone", "unknown time zone"),
        ("  timezone: America/New_York", "  timezone: Mars/Olympus", "Mars/Olympus", "unknown time zone"),
        ("DE  # bo's holidays", "XX  # bo's holidays", "bo's holidays", "unknown holiday calendar"),
        ("DE  # bo's holidays", "DE-ZZ  # bo's holidays", "bo's holidays", "unknown holiday calendar"),
        ("  holidays: US", "  holidays: Narnia", "Narnia", "unknown holiday calendar"),
        ('"002"  # ann\'s backup', '"099"  # ann\'s backup', "ann's backup", "unknown backup"),
    ],
)
def test_a_roster_error_names_the_file_and_line(
    tmp_path: Path, old: str, new: str, marker: str, message: str
) -> None:
    text = ROSTER_YAML.replace(old, new)
    assert text != ROSTER_YAML
    path = tmp_path / "roster.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_roster(path)
    line = line_with(text, marker)
    assert caught.value.path == str(path) and caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}:")
    assert message in str(caught.value)


def test_fallback_pools_going_round_in_a_circle_are_an_error_at_the_line(tmp_path: Path) -> None:
    text = ROSTER_YAML.replace("Q1  # vip-global's fallback", "vip-na  # vip-global's fallback")
    path = tmp_path / "roster.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_roster(path)
    lines = {line_with(text, "vip-na's fallback"), line_with(text, "vip-global's fallback")}
    assert caught.value.line in lines
    assert str(caught.value).startswith(f"{path}:{caught.value.line}:")
    assert "vip-na" in str(caught.value) and "vip-global" in str(caught.value)


CRM_ROSTER_YAML = """\
schedule: {timezone: UTC}
escalation: Ann.Lee@Example.com
reps:
  - name: Ann
    email: Ann.Lee@Example.com
    backup: bo@example.com
  - name: Bo
    email: bo@example.com  # bo's email
  - {id: "003", name: Cy, email: cy@example.com}
queues: {Q1: triage}
pools:
  - {name: vip, tier: VIP, reps: [Ann.Lee@Example.com, bo@example.com], fallback: bo@example.com}
  - {name: standard, tier: Standard, reps: [Ann.Lee@Example.com, "003"], fallback: Q1}
  - {name: nurture, tier: Nurture, reps: [Q1], fallback: Q1, manager: Ann.Lee@Example.com}
  - {name: other, tier: Other, reps: [Q1], fallback: Q1}
"""


def test_reps_listed_by_email_get_their_crm_ids_whatever_the_case(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(CRM_ROSTER_YAML)
    owners = pd.DataFrame(
        {"owner_id": ["U1", "U2", "U9"], "email": ["ann.lee@example.com", "BO@Example.com", "x@y.z"]}
    )
    roster = load_roster(path).with_crm_ids(owners, path)
    assert [r.id for r in roster.reps] == ["U1", "U2", "003"]
    assert roster.members(roster.pool("vip")) == ["U1", "U2"]
    assert roster.members(roster.pool("standard")) == ["U1", "003"]
    assert roster.pool("vip").fallback == "U2" and roster.reps[0].backup == "U2"
    assert roster.escalation == "U1" and roster.manager_of("nurture") == "U1"
    assert not roster.problems()
    out, _ = route(leads(4, tier="VIP"), roster)  # and leads go to the ids
    assert counts(out) == {"U1": 2, "U2": 2}


def test_a_rep_the_crm_does_not_know_is_an_error_at_their_email(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(CRM_ROSTER_YAML)
    owners = pd.DataFrame({"owner_id": ["U1"], "email": ["ann.lee@example.com"]})
    with pytest.raises(ConfigError) as caught:
        load_roster(path).with_crm_ids(owners, path)
    line = line_with(CRM_ROSTER_YAML, "bo's email")
    assert caught.value.line == line and str(caught.value).startswith(f"{path}:{line}:")
    assert "bo@example.com" in str(caught.value)


# ------------------------------------------------------------------ 9. fairness over restarts and edits


def test_a_restart_between_batches_changes_no_owner() -> None:
    # strides 1, 0.5, 2, 0.25 are exact in binary: one long run and a cut-up one must agree lead for lead
    roster = make_roster(
        [rep("a"), rep("b", weight=2), rep("c", weight=0.5), rep("d", weight=4)],
    )
    whole, _ = route(leads(700), roster)
    state, owners = EMPTY_STATE, []
    for lo, hi in [(0, 100), (100, 350), (350, 700)]:
        out, state = route(leads(hi - lo, start=lo), roster, state)
        owners += out["owner_id"].tolist()
        state = pd.DataFrame(state.to_dict("records"))  # as if read back from the ledger
    assert owners == whole["owner_id"].tolist()


def test_roster_edits_between_restarts_start_newcomers_level_and_keep_history(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    one = make_roster([rep("a"), rep("b"), rep("c")])
    first = record_batch(open_store(url), context("r1"), classified(600), NO_QUARANTINE, one)
    assert counts(first) == {"a": 200, "b": 200, "c": 200}
    before = ledger_state(open_store(url))

    # restart with b taken out and d added: d starts level with a and c, and b's row stays
    two = make_roster([rep("a"), rep("c"), rep("d")])
    second = record_batch(open_store(url), context("r2"), classified(300, 600), NO_QUARANTINE, two)
    got = counts(second)
    assert set(got) == {"a", "c", "d"} and all(abs(n - 100) <= 1 for n in got.values())
    after = ledger_state(open_store(url))
    assert after.loc[("standard", "b")].to_dict() == before.loc[("standard", "b")].to_dict()

    # b comes back: level with the others, no catch-up flood for the 300 leads it missed
    three = make_roster([rep("a"), rep("b"), rep("c"), rep("d")])
    third = record_batch(open_store(url), context("r3"), classified(400, 900), NO_QUARANTINE, three)
    got = counts(third)
    assert set(got) == {"a", "b", "c", "d"} and all(abs(n - 100) <= 1 for n in got.values())

    final = ledger_state(open_store(url))
    with open_store(url).engine.connect() as conn:
        owners = dict(
            conn.execute(select(decisions.c.owner_id, func.count()).group_by(decisions.c.owner_id)).all()
        )
    assert final.xs("standard")["assigned"].to_dict() == owners  # every turn is a lead really decided


def test_turns_taken_in_one_unit_continue_each_other_and_are_saved_with_the_transaction(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/ledger.db")
    roster = make_roster([rep("a"), rep("b", weight=2), rep("c", weight=0.5)])
    whole, whole_state = route(leads(90), roster)
    open_pools(store, roster)
    with store.transaction() as conn, take_turns(conn, roster, "sandbox", DEFAULT_SLA, at=AT) as turns:
        first = turns.assign(leads(40))
        second = turns.assign(leads(50, start=40))  # continues from the turns the first call took
        assert turns.moment.at == AT
    assert [*first["owner_id"], *second["owner_id"]] == whole["owner_id"].tolist()
    saved = ledger_state(store).xs("standard")
    assert saved["assigned"].to_dict() == counts(whole)
    assert (
        saved["pass_value"].to_dict() == sorted_state(whole_state).set_index("rep_id")["pass_value"].to_dict()
    )


def test_turns_are_not_saved_when_the_block_fails_or_takes_none(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/ledger.db")
    roster = make_roster([rep("a"), rep("b")])
    open_pools(store, roster)
    before = ledger_state(store)
    with store.transaction() as conn:
        with pytest.raises(RuntimeError), take_turns(conn, roster, "sandbox", DEFAULT_SLA, at=AT) as turns:
            turns.assign(leads(10))
            raise RuntimeError("the caller failed after assigning")
        with take_turns(conn, roster, "sandbox", DEFAULT_SLA, at=AT):
            pass  # no lead to route: the pools' rows are left alone
    assert ledger_state(store).equals(before)
    with store.engine.connect() as conn:
        previewed, moment = preview_turns(conn, leads(10), roster, "sandbox", DEFAULT_SLA, AT)
    assert moment.at == AT and counts(previewed) == {"a": 5, "b": 5}
    assert ledger_state(store).equals(before)  # a preview takes no turn
