"""Custom fields from config/fields.yaml: loading (errors at file and line), typed values, rules over them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leadrouter.classify.rules import classify_by_rules, load_rulebook
from leadrouter.classify.rules_check import explain_lead
from leadrouter.config import PROJECT_ROOT, ConfigError
from leadrouter.fields import (
    NO_CUSTOM_FIELDS,
    conform_leads,
    load_fields,
    model_input_columns,
    read_values,
    unreadable,
)
from leadrouter.schema import LEAD_COLUMNS, MODEL_INPUT_COLUMNS
from tests.helpers.custom_fields import write_fields


def test_the_shipped_fields_file_is_the_b2b_default() -> None:
    fields = load_fields(PROJECT_ROOT / "config" / "fields.yaml")
    assert fields.required == ["email", "company"]
    assert fields.custom == []
    assert fields == NO_CUSTOM_FIELDS


def test_fields_load_with_types_sources_and_arrival(tmp_path: Path) -> None:
    fields = load_fields(write_fields(tmp_path))
    assert fields.names == ["occupation", "time_on_site", "repeat_visitor", "lead_quality", "last_activity"]
    assert fields.columns == {
        "occupation": "string",
        "time_on_site": "Float64",
        "repeat_visitor": "boolean",
        "lead_quality": "string",
        "last_activity": "datetime64[us, UTC]",
    }
    assert fields.at_arrival == ["occupation", "time_on_site", "repeat_visitor"]
    assert fields.sources("salesforce") == {"occupation": "Occupation__c", "time_on_site": "Time_On_Site__c"}
    assert fields.sources("hubspot") == {"occupation": "occupation", "lead_quality": "lead_quality"}
    assert fields.required == []
    assert model_input_columns(fields) == [
        *MODEL_INPUT_COLUMNS,
        "occupation",
        "time_on_site",
        "repeat_visitor",
    ]


@pytest.mark.parametrize(
    ("text", "line", "where", "message"),
    [
        ("custom:\n  - {name: email, type: text, known_at: arrival}\n", 2, "custom[0].name",
         "'email' is already a lead column"),
        ("custom:\n  - name: score\n    type: percent\n    known_at: arrival\n", 3, "custom[0].type",
         "Input should be 'text', 'number', 'boolean', 'date' or 'category'"),
        ("custom:\n  - {name: a, type: text, known_at: arrival, salesforce: Occupation}\n", 2,
         "custom[0].salesforce", "String should match pattern"),
        ("custom:\n  - {name: a, type: text}\n", 2, "custom[0].known_at", "Field required"),
        ("required: [email, phone_number]\n", 1, "required[1]",
         "'phone_number' is not a lead field or a custom field of this file"),
        ("custom:\n  - {name: a, type: text, known_at: arrival}\n  - {name: a, type: number, known_at: later}\n",
         3, "custom[1].name", "name 'a' is used twice (first at custom[0])"),
        ("custom:\n  - {name: a, type: text, known_at: arrival, values: [x]}\n", 2, "custom[0].values",
         "only a category field lists values"),
    ],
)  # fmt: skip
def test_a_bad_fields_file_fails_at_its_line(
    tmp_path: Path, text: str, line: int, where: str, message: str
) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_fields(path)
    assert (caught.value.line, caught.value.field) == (line, where)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: {where}: ")


def test_values_are_read_as_their_type_and_unreadable_ones_are_found(tmp_path: Path) -> None:
    fields = load_fields(write_fields(tmp_path))
    raw = pd.Series(["12.5", " 1,200 ", "", None, "about ten"], dtype=object)
    typed = read_values(raw, fields.field("time_on_site"))
    assert typed.tolist()[:2] == [12.5, 1200.0]
    assert typed.isna().tolist() == [False, False, True, True, True]
    assert unreadable(raw, typed).tolist() == [False, False, False, False, True]
    flags = read_values(pd.Series(["Yes", "no", "TRUE", "0", "maybe"]), fields.field("repeat_visitor"))
    assert flags.astype(object).where(flags.notna(), None).tolist() == [True, False, True, False, None]
    stamps = read_values(
        pd.Series(["2026-03-01T10:00:00Z", "03/02/2026", "soon"]), fields.field("last_activity")
    )
    assert stamps.iloc[0] == pd.Timestamp("2026-03-01T10:00:00Z")
    assert stamps.iloc[1] == pd.Timestamp("2026-03-02", tz="UTC")
    assert pd.isna(stamps.iloc[2])


def test_conform_leads_adds_the_custom_columns_typed(tmp_path: Path) -> None:
    fields = load_fields(write_fields(tmp_path))
    frame = conform_leads(pd.DataFrame({"lead_id": ["a", "b"], "time_on_site": ["3", None]}), fields)
    assert list(frame.columns) == [*LEAD_COLUMNS, *fields.names]
    assert frame["time_on_site"].tolist()[0] == 3.0 and pd.isna(frame["time_on_site"].iloc[1])
    assert frame["occupation"].isna().all() and str(frame["occupation"].dtype) == "string"


def book(tmp_path: Path, when: str) -> Path:
    path = tmp_path / "rulebook.yaml"
    path.write_text(f"rules:\n  - id: first\n    when: employees > 0\n    tier: Standard\n  - id: r\n"
                    f"    when: '{when}'\n    tier: Nurture\n")  # fmt: skip
    return path


def test_rules_name_custom_fields_and_route_by_them(tmp_path: Path) -> None:
    fields = load_fields(write_fields(tmp_path))
    rules = load_rulebook(book(tmp_path, 'occupation == "Student" and time_on_site < 60'), fields)
    assert rules.custom_fields == fields.columns
    leads = conform_leads(
        pd.DataFrame(
            {
                "lead_id": ["1", "2", "3", "4"],
                "occupation": ["Student", "Student", "Engineer", None],
                "time_on_site": ["12", "600", "5", "5"],
            }
        ),
        fields,
    )
    decided = classify_by_rules(leads, rules)
    assert decided["decided_by"].astype(object).where(decided["decided_by"].notna(), None).tolist() == [
        "rule:r", None, None, None,
    ]  # fmt: skip
    steps = explain_lead(rules, leads.iloc[[1]])
    assert steps[1].why == "✗ time_on_site < 60 (time_on_site=600.0)"


def test_a_thin_batch_without_the_custom_columns_reads_them_as_null(tmp_path: Path) -> None:
    fields = load_fields(write_fields(tmp_path))
    rules = load_rulebook(book(tmp_path, "is_null(occupation)"), fields)
    decided = classify_by_rules(pd.DataFrame({"lead_id": ["1"], "employees": [0]}), rules)
    assert decided["decided_by"].tolist() == ["rule:r"]


def test_a_misspelt_custom_field_fails_at_load_with_its_line(tmp_path: Path) -> None:
    fields = load_fields(write_fields(tmp_path))
    path = book(tmp_path, 'ocupation == "Student"')
    with pytest.raises(ConfigError) as caught:
        load_rulebook(path, fields)
    assert (caught.value.line, caught.value.field) == (6, "rules[1].when")
    assert "unknown column 'ocupation'" in str(caught.value)


def test_a_custom_field_compared_to_the_wrong_type_fails_at_load(tmp_path: Path) -> None:
    fields = load_fields(write_fields(tmp_path))
    with pytest.raises(ConfigError) as caught:
        load_rulebook(book(tmp_path, 'time_on_site > "long"'), fields)
    assert caught.value.line == 6
    assert "compares values of the wrong type" in str(caught.value)


def test_without_the_fields_file_a_custom_name_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown column 'occupation'"):
        load_rulebook(book(tmp_path, 'occupation == "Student"'), NO_CUSTOM_FIELDS)
