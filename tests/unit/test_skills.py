"""Skills in routing: a rep's languages and skills on any lead column, pools requiring or preferring them,
the reasons reps are passed over, and the roster's errors for skills naming nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.assign.availability import Excluded
from leadrouter.assign.batch import STATE_COLUMNS
from leadrouter.assign.owners import Moment, assign_owners
from leadrouter.assign.roster import Roster, load_roster
from leadrouter.classify.rules import classify_by_rules, load_rulebook
from leadrouter.classify.rules_check import check_rulebook
from leadrouter.config import ConfigError, ConfigErrors
from tests.helpers.assignment import AT, FALLBACK, counts, leads, make_roster, rep
from tests.helpers.ledger import ROSTER

WINDOWS = {"VIP": timedelta(0), "Standard": timedelta(minutes=30), "Nurture": None, "Other": None}
NO_LANGUAGE, NO_SKILL = Excluded.NO_LANGUAGE.value, Excluded.NO_SKILL.value
NO_SPECIALISATION, AT_CAPACITY = Excluded.NO_SPECIALISATION.value, Excluded.AT_CAPACITY.value


def route(frame: pd.DataFrame, roster: Roster, load: pd.DataFrame | None = None) -> pd.DataFrame:
    moment = Moment(AT, WINDOWS, pd.DataFrame() if load is None else load)
    out, _ = assign_owners(frame, roster, pd.DataFrame(columns=STATE_COLUMNS), moment)
    return out


@pytest.fixture
def product_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """config/fields.yaml with a custom field product_line (Payments, Lending, Cards)."""
    fields = tmp_path / "fields.yaml"
    fields.write_text(
        "custom:\n  - {name: product_line, type: category, known_at: arrival, values: [Payments, Lending, Cards]}\n"
    )
    monkeypatch.setenv("LEADROUTER_FIELDS_PATH", str(fields))


def standard_pool(ids: list[str], **fields: object) -> list[dict]:
    return [{"name": "standard", "tier": "Standard", "reps": ids, "fallback": FALLBACK, **fields}]


def test_a_lead_goes_to_the_speakers_of_its_language_and_the_others_are_passed_over() -> None:
    roster = make_roster([rep("ken", languages=["ja", "en"]), rep("ann", languages=["en"]), rep("bo")])
    out = route(leads(4, language="ja"), roster)
    assert counts(out) == {"ken": 4}
    assert all(e == {"ann": NO_LANGUAGE, "bo": NO_LANGUAGE} for e in out["excluded"])
    assert set(out["skills_matched"]) == {"language=ja"}
    assert all("(1 speak its language)" in p for p in out["routing_path"])
    english = route(leads(4, language="en", start=10), roster)  # two speak it: preferred ones share it
    assert counts(english) == {"ken": 2, "ann": 2}
    assert all(e == {"bo": NO_LANGUAGE} for e in english["excluded"])


def test_without_an_eligible_speaker_the_rest_of_the_pool_takes_the_lead() -> None:
    away = [{"start": "2026-11-20", "end": "2026-11-27"}]
    roster = make_roster([rep("ken", languages=["ja"], time_off=away), rep("ann"), rep("bo")])
    out = route(leads(4, language="ja"), roster)
    assert counts(out) == {"ann": 2, "bo": 2}
    assert all(e == {"ken": Excluded.OUT_OF_OFFICE.value} for e in out["excluded"])
    assert out["skills_matched"].isna().all()
    # a speaker at their cap: the rest of the pool, and the path says why
    roster = make_roster([rep("ken", languages=["ja"], max_per_day=1), rep("ann")])
    out = route(leads(3, language="ja"), roster).set_index("lead_id")
    assert out["owner_id"].tolist() == ["ken", "ann", "ann"]
    assert out.loc["L000000", "excluded"] == {"ann": NO_LANGUAGE}
    assert out.loc["L000001", "excluded"] == {"ken": AT_CAPACITY}
    assert "preferred reps at capacity" in out.loc["L000001", "routing_path"]


@pytest.mark.usefixtures("product_line")
def test_a_required_skill_admits_only_reps_with_the_leads_value_else_the_fallback() -> None:
    reps = [
        rep("pay", skills={"product_line": ["Payments"]}),
        rep("lend", skills={"product_line": ["Lending"]}),
    ]
    roster = make_roster(reps, standard_pool(["pay", "lend"], skills={"product_line": "required"}))
    out = route(leads(5, product_line=["Payments", "payments", "Lending", "Cards", None]), roster)
    owners = out.set_index("lead_id")["owner_id"].tolist()
    assert owners == ["pay", "pay", "lend", FALLBACK, FALLBACK]
    excluded = out.set_index("lead_id")["excluded"]
    assert excluded["L000000"] == {"lend": NO_SKILL}
    assert excluded["L000003"] == {"pay": NO_SKILL, "lend": NO_SKILL}
    assert out.set_index("lead_id")["skills_matched"].tolist()[:3] == [
        "product_line=payments", "product_line=payments", "product_line=lending",
    ]  # fmt: skip


def test_preferred_skills_apply_in_the_pools_order_and_verticals_are_a_skill_on_industry() -> None:
    reps = [
        rep("a", languages=["de"], verticals=["Healthcare"]),
        rep("b", languages=["de"]),
        rep("c", verticals=["Healthcare"]),
    ]
    roster = make_roster(reps)  # no pool setting: language first, then industry, both preferred
    out = route(leads(2, language="de", industry="Healthcare"), roster)
    assert counts(out) == {"a": 2}
    assert all(e == {"c": NO_LANGUAGE, "b": NO_SPECIALISATION} for e in out["excluded"])
    assert set(out["skills_matched"]) == {"language=de, industry=healthcare"}
    by_industry_first = make_roster(reps, standard_pool(["a", "b", "c"], skills={"industry": "preferred"}))
    out = route(leads(2, language="fr", industry="Healthcare"), by_industry_first)
    assert counts(out) == {"a": 1, "c": 1}  # nobody speaks fr: industry alone decides
    assert all(e == {"b": NO_SPECIALISATION} for e in out["excluded"])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.yaml"
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_skill_on_an_unknown_column_or_value_fails_loading_with_file_and_line(tmp_path: Path) -> None:
    base = ROSTER.read_text()
    text = base.replace("languages: [ja, en]}", "languages: [ja, jp]}")
    with pytest.raises(ConfigError, match=rf"roster.yaml:{line_of(text, '[ja, jp]')}: reps\[4\].languages\[1\]: "
                       r"unknown language 'jp'"):  # fmt: skip
        load_roster(write(tmp_path, text))
    text = base.replace("languages: [en, ja]}", "languages: [en, ja], skills: {product_line: [Payments]}}")
    with pytest.raises(
        ConfigError, match=r"reps\[6\].skills.product_line: unknown lead column 'product_line'"
    ):
        load_roster(write(tmp_path, text))
    text = base.replace("verticals: [Software]", "verticals: [Sofware]")
    with pytest.raises(ConfigError, match=rf":{line_of(text, 'Sofware')}: reps\[10\].verticals\[0\]: unknown "
                       r"industry 'Sofware'"):  # fmt: skip
        load_roster(write(tmp_path, text))
    text = base.replace("regions: [APAC], reps:", "regions: [APAC], skills: {langauge: required}, reps:", 1)
    with pytest.raises(ConfigErrors) as both:  # a typo in a pool's skill, and the rest still checked
        load_roster(write(tmp_path, text.replace("[ja, en]}", "[ja, xx]}")))
    assert [e.field for e in both.value.errors] == ["reps[4].languages[1]", "pools[2].skills.langauge"]
    assert both.value.errors[1].line == line_of(text, "langauge")


@pytest.mark.usefixtures("product_line")
def test_a_skill_may_name_a_custom_field_and_its_values(tmp_path: Path) -> None:
    base = ROSTER.read_text()
    good = base.replace("languages: [en, ja]}", "languages: [en, ja], skills: {product_line: [payments]}}")
    assert load_roster(write(tmp_path, good)).by_id["005000000000007"].skill_sets["product_line"] == {
        "payments"
    }
    bad = base.replace("languages: [en, ja]}", "languages: [en, ja], skills: {product_line: [Debit]}}")
    with pytest.raises(ConfigError, match=r"skills.product_line\[0\]: unknown product_line 'Debit': use one of "
                       r"Payments, Lending, Cards"):  # fmt: skip
        load_roster(write(tmp_path, bad))


def test_rules_route_on_language_and_rules_check_flags_a_code_that_is_no_language(tmp_path: Path) -> None:
    book = tmp_path / "rulebook.yaml"
    book.write_text(
        "rules:\n"
        "  - {id: japanese-pricing, when: 'language == \"ja\"', tier: Standard, category: sales, priority: 2}\n"
        '  - {id: chinese, when: \'language in ("zh", "jp")\', tier: Standard, category: sales, priority: 2}\n'
        "  - {id: rest, when: 'not_null(email)', tier: Nurture, category: sales, priority: 4}\n"
    )
    rules = load_rulebook(book)
    lead = pd.DataFrame({"email": ["a@b.example"] * 2, "language": pd.array(["ja", "en"], dtype="string")})
    assert classify_by_rules(lead, rules)["decided_by"].tolist() == ["rule:japanese-pricing", "rule:rest"]
    errors = [(f.rule, f.message) for f in check_rulebook(rules) if f.severity == "error"]
    assert errors == [("chinese", "language 'jp' does not exist (known: two-letter ISO 639-1 codes)")]


def test_the_routing_summary_counts_languages_and_the_skills_owners_matched() -> None:
    from leadrouter.summary import language_label, summarize_run, summary_markdown

    tally = pd.DataFrame(
        {
            "status": ["written", "written", "written", "review"],
            "tier": ["Standard", "Standard", "VIP", None],
            "owner_id": ["ken", "ann", "ann", None],
            "decided_by": ["rule:a", "rule:a", "rule:b", None],
            "method": ["round_robin"] * 3 + [None],
            "excluded": ['{"ann": "NO_LANGUAGE"}', "{}", "{}", None],
            "enrichment_failed": [False] * 4,
            "matched": [False] * 4,
            "model_outcome": [None] * 4,
            "language": ["ja", "en", "en", "fr"],
            "skills_matched": ["language=ja", None, None, None],
            "leads": [2, 5, 1, 3],
            "model_cost_usd": [0.0] * 4,
            "model_cache_write_tokens": [None] * 4,
            "model_cache_read_tokens": [None] * 4,
        }
    )
    summary = summarize_run(tally, make_roster([rep("ken"), rep("ann")]))
    assert summary["by_language"] == {"en": 6, "ja": 2}  # routed leads only
    assert summary["by_skills"] == {"language=ja": 2}
    assert summary["passed_over"] == {"NO_LANGUAGE": 2}
    markdown = summary_markdown(summary)
    assert "| ja | 2 |" in markdown and "| language\\=ja | 2 |" in markdown  # cells made inert
    assert language_label("ja", 0.973) == "ja (0.97)"
    assert (
        language_label("de", None) == "de (the country's language)"
        and language_label(None, None) == "unknown"
    )
