"""Cover (a colleague takes a rep's new leads for a period) and reps coming back level with their pool."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.assign.roster import load_roster
from leadrouter.config import ConfigError
from tests.helpers.assignment import AT, assign, counts, leads, make_roster, rep

TODAY = AT.date()
COVER = {"rep": "ann", "by": "bo", "from": TODAY - timedelta(days=3), "to": TODAY + timedelta(days=4)}


def ann_bo_cy(**ann: object) -> list[dict]:
    return [rep("ann", **ann), rep("bo"), rep("cy")]


def test_a_covered_reps_turns_go_to_the_colleague_and_the_path_says_so() -> None:
    roster = make_roster(ann_bo_cy(), cover=[COVER])
    out, _ = assign(leads(30), roster)
    assert counts(out) == {"bo": 20, "cy": 10}  # bo takes ann's turns as well as his own
    by_cover = out[out["assign_method"].eq("cover")]
    assert len(by_cover) == 10
    assert by_cover["routing_path"].str.endswith("→ round robin → bo (by cover of ann)").all()


def test_new_leads_of_a_covered_owners_accounts_go_to_the_colleague() -> None:
    roster = make_roster(ann_bo_cy(), cover=[COVER])
    out, _ = assign(leads(3, account_owner_id="ann"), roster)
    assert out["owner_id"].tolist() == ["bo"] * 3
    assert out["assign_method"].tolist() == ["cover"] * 3
    assert out["routing_path"].str.contains("account_owner ann → by cover of ann → bo").all()


def test_outside_its_period_a_cover_changes_nothing() -> None:
    later = {**COVER, "from": TODAY + timedelta(days=1)}
    roster = make_roster(ann_bo_cy(), cover=[later])
    out, _ = assign(leads(30, account_owner_id=["ann"] * 3 + [None] * 27), roster)
    assert counts(out) == {"ann": 3 + 9, "bo": 9, "cy": 9}
    assert "cover" not in set(out["assign_method"])


def test_a_rep_back_from_a_cover_starts_level_no_catch_up_no_lost_share() -> None:
    roster = make_roster(ann_bo_cy(), cover=[COVER])
    _, state = assign(leads(300), roster)  # ann's turns taken by bo meanwhile
    back = make_roster(ann_bo_cy())
    out, _ = assign(leads(90, start=300), back, state)
    assert counts(out) == {"ann": 30, "bo": 30, "cy": 30}


def test_a_rep_back_from_time_off_starts_level_no_catch_up_no_lost_share() -> None:
    away = {"start": TODAY - timedelta(days=20), "end": TODAY - timedelta(days=1)}
    roster = make_roster(ann_bo_cy(time_off=[{**away, "end": TODAY + timedelta(days=1)}]))
    _, state = assign(leads(3000), roster)  # 3,000 leads while ann is away
    back = make_roster(ann_bo_cy(time_off=[away]))
    out, state = assign(leads(90, start=3000), back, state)
    assert all(abs(n - 30) <= 1 for n in counts(out).values()) and set(counts(out)) == {"ann", "bo", "cy"}


def test_a_rep_newly_added_starts_level_no_catch_up_no_lost_share() -> None:
    _, state = assign(leads(3000), make_roster([rep("bo"), rep("cy")]))
    out, _ = assign(leads(90, start=3000), make_roster(ann_bo_cy()), state)
    assert all(abs(n - 30) <= 1 for n in counts(out).values()) and set(counts(out)) == {"ann", "bo", "cy"}


def test_in_an_open_load_pool_a_returning_or_new_rep_catches_up_only_to_the_lowest_load() -> None:
    """Workload balance has no turns to owe: however long ann was away, she gets leads only until her open
    load reaches the pool's lowest (here bo's 4), then takes turns with the others."""
    pools = [
        {
            "name": "std",
            "tier": "Standard",
            "reps": ["ann", "bo", "cy"],
            "fallback": "Q",
            "balance": "open_load",
        }
    ]
    roster = make_roster(ann_bo_cy(), pools)
    load = pd.DataFrame({"assigned_today": 0.0, "open": {"ann": 0.0, "bo": 4.0, "cy": 6.0}})
    out, _ = assign(leads(12), roster, load=load)
    assert out["owner_id"].head(4).tolist() == ["ann"] * 4
    # then ann and bo alternate up to cy's 6, and all three take turns from there
    assert counts(out) == {"ann": 8, "bo": 3, "cy": 1}


ROSTER = """\
reps:
  - {id: "001", name: Ann, email: ann@example.com}
  - {id: "002", name: Bo, email: bo@example.com}
pools:
  - {name: all, tier: VIP, reps: ["001", "002"], fallback: "002"}
  - {name: std, tier: Standard, reps: ["001", "002"], fallback: "002", balance: open_load}
  - {name: nur, tier: Nurture, reps: ["001"], fallback: "001"}
  - {name: oth, tier: Other, reps: ["001"], fallback: "001"}
cover:
  - rep: "001"
    by: "002"  # bo covers
    from: 2026-12-01
    to: 2026-12-12  # ann's last day away
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.yaml"
    path.write_text(text)
    return path


def test_a_cover_and_a_balance_load_from_the_roster_file(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, ROSTER))
    assert roster.pool("std").balance == "open_load" and roster.pool("all").balance == "count"
    [cover] = roster.cover
    assert (cover.rep, cover.by, cover.start, cover.end) == (
        "001",
        "002",
        date(2026, 12, 1),
        date(2026, 12, 12),
    )


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        ('"002"  # bo covers', '"009"  # bo covers', "bo covers", "unknown rep '009': add it under reps"),
        (
            "2026-12-12  # ann's",
            "2026-11-12  # ann's",
            "rep: ",
            "to 2026-11-12 is before from 2026-12-01",
        ),
        ('"002"  # bo covers', '"001"  # bo covers', "rep: ", "'001' cannot cover themselves"),
        ("balance: open_load", "balance: deals", "balance: deals", "'count', 'open_load' or 'pipeline'"),
    ],
)
def test_a_bad_cover_or_balance_is_an_error_at_its_line(
    tmp_path: Path, old: str, new: str, marker: str, message: str
) -> None:
    text = ROSTER.replace(old, new)
    assert text != ROSTER
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_roster(path)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if marker in row)
    assert str(caught.value).startswith(f"{path}:{line}:"), str(caught.value)
    assert message in str(caught.value)


def test_overlapping_covers_of_one_rep_or_by_a_covered_rep_are_errors(tmp_path: Path) -> None:
    twice = ROSTER + '  - {rep: "001", by: "002", from: 2026-12-10, to: 2026-12-20}\n'
    with pytest.raises(ConfigError, match=r"roster.yaml:14: .*'001' is already covered then \(cover 0\)"):
        load_roster(write(tmp_path, twice))
    chained = ROSTER + '  - {rep: "002", by: "001", from: 2026-12-05, to: 2026-12-06}\n'
    with pytest.raises(ConfigError, match=r"roster.yaml:14: .*a colleague who is covered cannot cover"):
        load_roster(write(tmp_path, chained))
