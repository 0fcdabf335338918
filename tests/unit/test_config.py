from pathlib import Path

import pandas as pd
import pytest

from leadrouter.assign.roster import load_roster
from leadrouter.classify.rules import classify_by_rules, load_rulebook
from leadrouter.config import ConfigError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_config_loads(config_paths: dict[str, Path]) -> None:
    book = load_rulebook(config_paths["rulebook"])
    roster = load_roster(config_paths["roster"])
    assert len(book.version) == 12 and book.rules
    assert {p.tier.value for p in roster.pools} == {"VIP", "Standard", "Nurture", "Other"}
    pools = {p.name for p in roster.pools}
    assert {r.pool for r in book.rules if r.pool} <= pools  # every pool a rule names exists


RULE_OK = "  - id: a\n    when: employees > 5\n    tier: VIP\n"


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            "rules:\n" + RULE_OK + "  - id: b\n    when: employees > 5\n    tier: Gold\n",
            7,
            "rules[1].tier",
            "VIP",
        ),
        (
            "rules:\n" + RULE_OK + "  - id: b\n    when: salary > 5\n    tier: VIP\n",
            6,
            "rules[1].when",
            "unknown column",
        ),
        ("rules:\n" + RULE_OK + RULE_OK, 5, "rules[1].id", "duplicate rule id"),
        (
            "rules:\n" + RULE_OK + "  - id: b\n    when: employees > 1\n    tier: VIP\n    colour: red\n",
            8,
            "rules[1].colour",
            "Extra",
        ),
        ("rules: [\n", 2, "", "invalid YAML"),
    ],
)
def test_rulebook_errors_name_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    path = write(tmp_path, "rulebook.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_rulebook(path)
    assert err.value.path == str(path)
    assert err.value.line == line
    assert err.value.field == field
    assert message in str(err.value)


def test_roster_errors_point_at_the_unknown_rep(tmp_path: Path) -> None:
    text = """reps:
  - {id: r1, name: A, email: a@x.io}
pools:
  - {name: v, tier: VIP, reps: [r1], fallback: r1}
  - {name: s, tier: Standard, reps: [r1], fallback: r1}
  - {name: n, tier: Nurture, reps: [r1], fallback: r1}
  - name: o
    tier: Other
    reps: [r1, r9]
    fallback: r1
"""
    with pytest.raises(ConfigError, match=r"roster.yaml:9: pools\[3\].reps\[1\]: unknown rep 'r9'"):
        load_roster(write(tmp_path, "roster.yaml", text))


def test_a_rule_type_mismatch_fails_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "rulebook.yaml", 'rules:\n  - id: a\n    when: employees > "500"\n    tier: VIP\n')
    with pytest.raises(ConfigError, match=r"rulebook.yaml:3: rules\[0\].when: .*wrong type"):
        load_rulebook(path)


def test_a_rule_pool_missing_from_the_roster_fails_with_its_line(
    tmp_path: Path, config_paths: dict[str, Path]
) -> None:
    from leadrouter.config import Settings
    from leadrouter.router import open_router

    text = "rules:\n  - id: a\n    when: employees > 5\n    tier: Other\n    pool: nowhere\n"
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/l.db",
        rulebook_path=write(tmp_path, "rb.yaml", text),
        roster_path=config_paths["roster"],
    )
    with pytest.raises(ConfigError, match=r"rb.yaml:5: rules\[0\].pool: pool 'nowhere' is not in the roster"):
        open_router(settings)


def test_roster_needs_a_pool_for_every_tier(tmp_path: Path) -> None:
    text = "reps:\n  - {id: r1, name: A, email: a@x.io}\npools:\n  - {name: v, tier: VIP, reps: [r1], fallback: r1}\n"
    with pytest.raises(ConfigError, match="no pool serves tier Standard"):
        load_roster(write(tmp_path, "roster.yaml", text))


def test_first_matching_rule_wins_and_unmatched_stay_open(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rulebook.yaml",
        """rules:
  - {id: big, when: employees >= 1000, tier: VIP, priority: 1}
  - {id: mid, when: employees >= 100, tier: Standard}
  - {id: jobs, when: 'matches(message, "(?i)resume")', tier: Other, category: jobs, pool: triage}
""",
    )
    frame = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d"],
            "employees": pd.array([5000, 300, 10, None], dtype="Int64"),
            "message": pd.array(["", "my resume", "my resume", None], dtype="string"),
        }
    )
    out = classify_by_rules(frame, load_rulebook(path))
    assert out["tier"].tolist() == ["VIP", "Standard", "Other", pd.NA]
    assert out["decided_by"].tolist() == ["rule:big", "rule:mid", "rule:jobs", pd.NA]
    assert out["pool"].tolist() == [pd.NA, pd.NA, "triage", pd.NA]
    assert out["priority"].tolist() == [1, 3, 3, pd.NA]
