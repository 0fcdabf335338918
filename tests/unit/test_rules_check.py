"""`rules check` finds dead and suspicious rules; `rules explain` shows one lead's path; named conditions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leadrouter.classify.rules import classify_by_rules, load_rulebook
from leadrouter.classify.rules_check import check_rulebook, explain_lead
from leadrouter.config import ConfigError
from tests.helpers.clock import WORKDAY
from tests.helpers.rulebooks import BOOK, write


@pytest.fixture
def probe() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employees": pd.array([50, 700, 1200, 1800, 5000, None], dtype="Int64"),
            "seniority": pd.array(["VP", "VP", "Manager", "VP", "C-level", None], dtype="string"),
            "territory": pd.array(["DACH", "UKI", "DACH", "NA-East", "APAC", None], dtype="string"),
        }
    )


def test_check_finds_dead_idle_and_misspelt_rules(tmp_path: Path, probe: pd.DataFrame) -> None:
    book = load_rulebook(write(tmp_path, BOOK))
    found = {(f.rule, f.severity): f.message for f in check_rulebook(book, probe, ["DACH", "UKI", "NA-East"])}
    assert "taken first by rule 'big-any'" in found[("big-vp", "error")]  # proved from the conditions
    assert "matched none of 6 probe leads" in found[("huge", "warning")]
    assert "'Narnia' does not exist" in found[("dach", "error")]
    assert (
        "all 2 probe leads it matched, taken by 'big-any' (2)" in found[("mid-big", "warning")]
    )  # observed on the probe
    assert "tier Other" in found[(None, "warning")]
    assert ("mid", "warning") not in found and ("big-any", "error") not in found


def test_the_shipped_rulebook_is_clean() -> None:
    from leadrouter.classify.history import labelled_history
    from leadrouter.config import PROJECT_ROOT
    from leadrouter.enrich.territory import load_territories

    book = load_rulebook(PROJECT_ROOT / "config" / "rulebook.yaml")
    territories = load_territories()
    probe = labelled_history(3, 1500, territories)
    assert check_rulebook(book, probe, [t.name for t in territories.territories]) == []


def test_named_conditions_compose_and_errors_name_their_line(tmp_path: Path, probe: pd.DataFrame) -> None:
    book = load_rulebook(write(tmp_path, BOOK))
    out = classify_by_rules(probe.assign(lead_id=list("abcdef")), book)
    assert out["decided_by"].tolist()[:5] == [
        "rule:dach",
        "rule:mid",
        "rule:big-any",
        "rule:big-any",
        "rule:big-any",
    ]
    bad = BOOK.replace("big_senior: big and", "big_senior: bigg and")
    with pytest.raises(ConfigError, match=r"rulebook.yaml:3: define.big_senior: unknown column 'bigg'"):
        load_rulebook(write(tmp_path, bad))
    clash = BOOK.replace("  big: employees", "  employees: employees")
    with pytest.raises(ConfigError, match=r"define.employees: 'employees' must be a new name"):
        load_rulebook(write(tmp_path, clash))


def test_explain_shows_why_each_earlier_rule_passed_the_lead_by(tmp_path: Path, probe: pd.DataFrame) -> None:
    book = load_rulebook(write(tmp_path, BOOK))
    steps = explain_lead(book, probe.iloc[[1]])  # 700 employees, VP, UKI
    assert [(s.rule, s.matched) for s in steps] == [
        ("big-any", False), ("big-vp", False), ("huge", False), ("dach", False), ("mid", True),
    ]  # fmt: skip
    assert steps[0].why == "✗ big (employees=700)"
    assert steps[3].why == "✗ territory in ('DACH', 'Narnia') (territory='UKI')"
    assert steps[-1].why == "matched: employees=700"


def test_a_rule_can_name_its_owner_and_a_stranger_fails_at_load(tmp_path: Path) -> None:
    from leadrouter.assign.roster import load_roster
    from leadrouter.config import PROJECT_ROOT
    from leadrouter.record import BatchContext, record_batch
    from leadrouter.router import check_rule_pools
    from leadrouter.store import open_store

    roster = load_roster(PROJECT_ROOT / "config" / "roster.yaml")
    text = 'rules:\n  - id: press\n    when: contains(message, "article")\n    tier: Other\n    owner: "{}"\n'
    stranger = write(tmp_path, text.format("005999999999999"))
    with pytest.raises(
        ConfigError, match=r"rulebook.yaml:5: rules\[0\].owner: owner '005999999999999' is not"
    ):
        check_rule_pools(load_rulebook(stranger), roster, stranger)
    book = load_rulebook(write(tmp_path, text.format("00G000000000004")))
    leads = pd.DataFrame(
        {
            "lead_id": ["p1", "p2"], "message": ["an article about you", "a demo"],
            "region": ["NA", "NA"], "created_at": pd.Timestamp("2026-11-01", tz="UTC"),
        }
    )  # fmt: skip
    classified = classify_by_rules(leads, book)
    store = open_store(f"sqlite:///{tmp_path}/l.db")
    none = pd.DataFrame({"lead_id": pd.Series([], dtype="string"), "reason": [], "reasons": []})
    out = record_batch(
        store, BatchContext("sandbox", "r", book.version, at=WORKDAY), classified, none, roster
    )
    decided = out.set_index("lead_id")
    assert (
        decided.loc["p1", "owner_id"] == "00G000000000004"
        and decided.loc["p1", "assign_method"] == "rule_owner"
    )
    assert decided.loc["p2", "status"] == "review"
