"""A run's counts in one line: the name and final state message of a route-inbound run."""

from __future__ import annotations

from leadrouter.summary import counts_line

ROUTINE = {
    "leads": 222,
    "written": 203,
    "quarantined": 8,
    "review": 11,
    "write_failed": 0,
    "shadow": 0,
    "pending": 0,
}


def test_a_routine_run_names_written_quarantined_and_review() -> None:
    assert counts_line(ROUTINE) == "222 leads: 203 written · 8 quarantined · 11 review"


def test_failed_shadow_and_pending_writes_are_named_only_when_there_are_some() -> None:
    troubled = ROUTINE | {"written": 190, "write_failed": 10, "pending": 3}
    assert (
        counts_line(troubled)
        == "222 leads: 190 written · 8 quarantined · 11 review · 10 write failed · 3 pending"
    )
    shadow = ROUTINE | {"written": 0, "shadow": 203}
    assert counts_line(shadow) == "222 leads: 0 written · 8 quarantined · 11 review · 203 shadow"


def test_a_run_with_no_leads_says_so() -> None:
    assert counts_line(dict.fromkeys(ROUTINE, 0)) == "no new leads"
