"""The rep and queue tables on a literal history: each owner who had a lead charged with their own acts."""

from __future__ import annotations

import pandas as pd
import pytest

from leadrouter.outcomes.join import OUTCOME_INPUTS, lead_outcomes
from leadrouter.outcomes.reps import owner_stints, owner_tables

T0 = pd.Timestamp("2026-11-25 16:30", tz="UTC")


def minutes(n: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=n)


# L1 (VIP): A breaches, B gets it and rejects it, C touches it and wins its deal. L2 (Nurture): rep D touches it
# (the decision's own first touch). L3 (Nurture) sits in a queue. L4 waits in review: nobody has it.
DECISIONS = pd.DataFrame(
    {
        "source": "sandbox",
        "lead_id": ["L1", "L2", "L3", "L4"],
        "status": ["written", "written", "written", "review"],
        "tier": ["VIP", "Nurture", "Nurture", None],
        "decided_by": ["rule:vip", "review:ann", "rule:nurture", None],
        "owner_id": ["C", "D", "Q", None],  # the current owner: re-routes overwrite it
        "lead_created_at": [minutes(-1)] * 4,
        "decided_at": [minutes(0)] * 4,
        "first_touch_at": [pd.NaT, minutes(60), pd.NaT, pd.NaT],
    }
)
EVENTS = pd.DataFrame(
    [
        ("L1", "breach", "A", None, minutes(5)),
        ("L1", "reroute", "A", "B", minutes(5)),
        ("L1", "reject", "B", None, minutes(8)),
        ("L1", "reroute", "B", "C", minutes(8)),
        ("L1", "escalation", "B", "boss", minutes(8)),
        ("L1", "touch", "C", None, minutes(10)),
    ],
    columns=["lead_id", "kind", "owner_id", "new_owner_id", "at"],
).assign(source="sandbox")
OUTCOMES = pd.DataFrame(
    {"source": ["sandbox"], "lead_id": ["L1"], "deal_id": ["D1"], "is_closed": [True], "is_won": [True],
     "amount": [50_000.0], "currency": [None], "close_date": [None], "first_seen_at": [minutes(600)]}
)  # fmt: skip
REVIEW = pd.DataFrame({"source": ["sandbox"], "lead_id": ["L4"]})


def test_each_owner_is_charged_with_their_own_acts_and_the_deal_with_the_last_owner() -> None:
    frame = lead_outcomes(DECISIONS, OUTCOMES, EVENTS[OUTCOME_INPUTS["events"]], REVIEW)
    assert frame.set_index("lead_id").at["L1", "owner_id"] == "A"  # the lead's table keeps the routing choice
    stints = owner_stints(frame, DECISIONS, EVENTS).set_index(["lead_id", "owner_id"])
    assert list(stints.index) == [("L1", "A"), ("L1", "B"), ("L1", "C"), ("L2", "D"), ("L3", "Q")]
    assert list(stints["got_at"]) == [minutes(0), minutes(5), minutes(8), minutes(0), minutes(0)]
    assert list(stints["speed_to_lead_min"].fillna(-1)) == [-1, -1, 2.0, 60.0, -1]  # from when each got it
    assert list(stints["sla_breached"]) == [True, False, False, False, False]
    assert list(stints["wrong_assignment"]) == [False, True, False, False, False]
    assert list(stints["reassigned"]) == [True, True, False, False, False]
    assert list(stints["revenue"]) == [0.0, 0.0, 50_000.0, 0.0, 0.0]
    assert list(stints["manual_triage"]) == [False] * 5  # L4, the reviewed one, has no owner yet

    tables = owner_tables(stints.reset_index(), queues={"Q"})
    assert sorted(tables) == ["queue:Nurture", "rep", "rep:Nurture", "rep:VIP"]
    vip = tables["rep:VIP"].set_index("owner_id")
    assert vip["leads"].to_dict() == {"A": 1, "B": 1, "C": 1}
    assert vip["wrong_assignment_rate"].to_dict() == {"A": 0.0, "B": 1.0, "C": 0.0}
    assert vip["breach_rate"].to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0}
    assert vip["acceptance_rate"].to_dict() == {"A": 0.0, "B": 0.0, "C": 1.0}
    assert vip.at["C", "speed_median_min"] == 2.0 and vip.at["C", "won"] == 1
    assert tables["rep:Nurture"].set_index("owner_id").at["D", "speed_median_min"] == 60.0
    assert list(tables["queue:Nurture"]["owner_id"]) == ["Q"] and list(tables["rep"]["owner_id"]) == list(
        "ABCD"
    )


def test_events_without_the_new_owner_are_named() -> None:
    frame = lead_outcomes(DECISIONS, OUTCOMES, EVENTS[OUTCOME_INPUTS["events"]], REVIEW)
    with pytest.raises(ValueError, match="events frame has no column 'new_owner_id'"):
        owner_stints(frame, DECISIONS, EVENTS.drop(columns="new_owner_id"))
