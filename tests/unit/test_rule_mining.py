"""Rules mined from history: the driving condition found with its exact support, written in the rule language
and read back by the rulebook loader, fields known only later never read; rules measured on outcomes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from leadrouter.backtest.history import export_as_of, with_outcomes
from leadrouter.classify.rule_mining import (
    NothingToMine,
    minable_columns,
    mine_rules,
    parse_rules,
    proposal_yaml,
)
from leadrouter.classify.rule_paths import Split, condition_text, round_threshold
from leadrouter.classify.rules import load_rulebook
from leadrouter.classify.rules_check import NO_RULE, rule_outcomes
from leadrouter.config import ConfigError
from leadrouter.fields import LeadFields
from leadrouter.outcomes.hindsight import labelled

FIELDS = LeadFields.model_validate(
    {
        "custom": [
            {"name": "plan", "type": "category", "known_at": "arrival"},
            {
                "name": "stage_note",
                "type": "category",
                "known_at": "later",
            },  # set by a rep: leaks the outcome
        ]
    }
)


def history(n: int = 1200) -> pd.DataFrame:
    """Leads oldest first: those with 200+ employees convert 4 times in 5, the rest 1 in 10, whatever their plan;
    stage_note says the outcome outright (a field filled in later)."""
    i = np.arange(n)
    big = i % 2 == 0  # interleaved: the older and the newer leads hold both kinds
    employees = np.where(big, 200 + (i * 7) % 800, 10 + (i * 3) % 190)
    converted = np.where(big, (i // 2) % 5 != 0, (i // 2) % 10 == 0)
    return pd.DataFrame(
        {
            "lead_id": [f"L{k:05d}" for k in i],
            "created_at": pd.date_range("2025-01-01", periods=n, freq="h", tz="UTC"),
            "employees": pd.array(employees, dtype="Int64"),
            "plan": pd.array(np.where(i % 3 == 0, "pro", "free"), dtype="string"),
            "stage_note": pd.array(np.where(converted, "won", "lost"), dtype="string"),
            "converted": converted,
        }
    )


def test_the_driving_condition_is_found_with_its_exact_support() -> None:
    leads = history()
    mining = mine_rules(leads, FIELDS, min_leads=50, test_share=0.25, coverage=1.0)
    rules = mining.rules.set_index("when")
    assert list(rules.index) == ["employees >= 200", "employees < 200"]
    assert rules.loc["employees >= 200", ["tier", "leads", "train_leads", "test_leads"]].tolist() == [
        "Standard", 600, 450, 150,
    ]  # fmt: skip
    assert rules.loc["employees >= 200", "train_conversion"] == pytest.approx(360 / 450)
    assert rules.loc["employees >= 200", "test_conversion"] == pytest.approx(120 / 150)
    assert rules.loc["employees < 200", ["tier", "leads"]].tolist() == ["Nurture", 600]
    assert rules.loc["employees < 200", "train_conversion"] == pytest.approx(45 / 450)
    assert rules["verdict"].eq("proposed").all()
    assert [r.id for r in mining.proposal.rules] == ["mined-standard-1", "mined-nurture-1"]
    assert (mining.train_leads, mining.test_leads, mining.coverage) == (900, 300, 1.0)


def test_the_most_accurate_rules_are_proposed_until_the_coverage() -> None:
    mining = mine_rules(history(), FIELDS, coverage=0.4)
    verdicts = mining.rules.set_index("when")["verdict"]
    assert verdicts["employees < 200"] == "proposed"  # 90 % right against 80 %
    assert verdicts["employees >= 200"] == "left to the model: more accurate rules cover 40% already"
    assert mining.coverage == 0.5


def test_a_field_known_only_later_is_never_read() -> None:
    assert "stage_note" not in minable_columns(FIELDS) and "plan" in minable_columns(FIELDS)
    mining = mine_rules(history(), FIELDS, coverage=1.0)
    assert "stage_note" not in mining.columns
    assert not mining.rules["when"].str.contains("stage_note").any()


def test_the_proposal_is_read_back_by_the_rulebook_loader(tmp_path: Path) -> None:
    mining = mine_rules(history(), FIELDS, coverage=1.0)
    fragment = proposal_yaml(mining, "leads.csv")
    book_path = tmp_path / "rulebook.yaml"
    book_path.write_text("rules:\n" + "".join(f"  {line}\n" for line in fragment.splitlines()))
    book = load_rulebook(book_path, FIELDS)
    assert [(r.id, r.when, r.tier.value) for r in book.rules] == [
        ("mined-standard-1", "employees >= 200", "Standard"),
        ("mined-nurture-1", "employees < 200", "Nurture"),
    ]
    assert "600 leads (50.0%); converted 80.0%" in yaml.safe_load(fragment)[0]["description"]


def test_a_condition_the_loader_refuses_fails_with_its_reason() -> None:
    with pytest.raises(ConfigError, match="unknown column 'stage_notes'"):
        parse_rules([{"id": "x", "when": 'stage_notes == "won"', "tier": "VIP"}], FIELDS)


def test_a_one_sided_history_has_nothing_to_mine() -> None:
    leads = history().assign(converted=False)
    with pytest.raises(NothingToMine, match=r"900 older leads, 0\.0% converted"):
        mine_rules(leads, FIELDS)


def test_a_history_no_field_explains_has_nothing_to_mine() -> None:
    leads = history().assign(converted=lambda f: np.arange(len(f)) % 4 == 0)  # the same in every kind of lead
    leads["employees"] = pd.array(np.full(len(leads), 300), dtype="Int64")
    with pytest.raises(NothingToMine, match="no split of employees, plan separates"):
        mine_rules(leads, FIELDS)


@pytest.mark.parametrize(
    ("value", "expected"), [(187.5, 200), (0.37, 0.35), (10.5, 10), (3.5, 3.5), (1234.0, 1000), (0.0, 0)]
)
def test_thresholds_are_round(value: float, expected: float) -> None:
    assert round_threshold(value) == expected


def test_a_path_reads_as_one_short_condition() -> None:
    path = [
        Split("employees", ">=", 10),
        Split("country", "!=", "US"),
        Split("employees", ">=", 200),
        Split("country", "!=", 'C"A'),
        Split("employees", "<", 5000),
    ]
    assert condition_text(path) == 'employees >= 200 and employees < 5000 and not country in ("US", "C\\"A")'
    assert condition_text([Split("plan", "!=", "free"), Split("plan", "==", "pro")]) == 'plan == "pro"'


def test_rule_outcomes_count_first_matches_and_fitting_outcomes(tmp_path: Path) -> None:
    book = parse_rules(
        [
            {"id": "big", "when": "employees >= 500", "tier": "VIP"},
            {"id": "mid", "when": "employees >= 100", "tier": "Standard"},
            {"id": "small", "when": "employees < 100", "tier": "Nurture"},
        ],
        FIELDS,
    )
    leads = pd.DataFrame(
        {
            "employees": pd.array([900, 600, 300, 150, 50, 20, None], dtype="Int64"),
            "converted": [True, False, True, True, False, True, False],
        }
    )
    table = rule_outcomes(book, leads).set_index("rule")
    assert table["matched"].tolist() == [2, 4, 2, 1]
    assert table["decided"].tolist() == [2, 2, 2, 1]
    assert table["opportunities"].tolist() == [1, 2, 1, 0]
    assert table.loc["big", "fits"] == 0.5 and table.loc["small", "fits"] == 0.5
    assert table.loc["mid", "conversion"] == 1.0 and np.isnan(table.loc[NO_RULE, "fits"])
    assert table.loc[NO_RULE, "tier"] is pd.NA


def test_outcomes_leave_out_young_leads_and_undated_deals() -> None:
    created = pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-06-01"], utc=True)
    prepared = pd.DataFrame({"lead_id": ["a", "b", "c", "d"], "created_at": created})
    deals = pd.DataFrame(
        {
            "lead_id": ["a", "b"],
            "deal_id": ["D1", "D2"],
            "is_closed": [True, False],
            "is_won": [True, False],
            "amount": [1000.0, None],
            "close_date": pd.to_datetime(["2025-02-01", None], utc=True),
            "first_seen_at": pd.to_datetime(["2025-01-20", None], utc=True),
            "state": ["won", "open"],
            "dated": [True, False],
        }
    )
    joined = with_outcomes(prepared, deals)
    as_of = export_as_of(joined, deals)
    leads, counts = labelled(joined, as_of=as_of)
    assert leads[["lead_id", "converted"]].values.tolist() == [["a", True], ["c", False]]
    assert leads["hindsight"].tolist() == ["VIP", "Other"]
    assert as_of == created[3]
    assert counts == {"given": 4, "undated": 1, "immature": 1, "used": 2}
