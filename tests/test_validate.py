"""The batch validation stage: every lead lands in exactly one of valid / quarantined, with readable reasons."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import Counter
from typing import Any

import pandas as pd
import pytest

from leadrouter import validate as v
from leadrouter.config import PROJECT_ROOT
from leadrouter.schema import LEAD_COLUMNS, conform, empty_leads
from leadrouter.validate import SUITE, Check, ValidationResult, excerpt, validate_leads

_ids = itertools.count()


def lead(**overrides: Any) -> dict[str, Any]:
    """A lead that passes every check, with `overrides` applied."""
    n = next(_ids)
    row = {
        "lead_id": f"L{n}",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"ada{n}@acme.io",
        "title": "CTO",
        "company": "Acme",
        "employees": 250,
        "message": "we would like a demo",
        "created_at": "2024-05-01T10:00:00Z",
    }
    return row | overrides


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return conform(pd.DataFrame(list(rows)))


def assert_partition(source: pd.DataFrame, result: ValidationResult) -> None:
    """Nothing dropped, nothing duplicated: valid + quarantined is exactly the input's lead ids."""
    assert len(result.valid) + len(result.quarantined) == len(source)
    together = list(result.valid["lead_id"]) + list(result.quarantined["lead_id"])
    assert Counter(map(str, together)) == Counter(map(str, source["lead_id"]))


def reason_checks(result: ValidationResult, lead_id: str) -> list[tuple[str, str]]:
    row = result.quarantined[result.quarantined["lead_id"] == lead_id]
    assert len(row) == 1
    return [(r["check"], r["column"]) for r in row["reasons"].iloc[0]]


def test_clean_rows_pass() -> None:
    source = frame(lead(), lead(), lead(employees=None, message=None))
    result = validate_leads(source)
    assert_partition(source, result)
    assert result.quarantined.empty
    assert result.valid["warnings"].isna().all()
    assert (result.report["failed"] == 0).all()
    assert (result.report["evaluated"] == 3).all()
    assert result.errors == {}


@pytest.mark.parametrize(
    ("overrides", "check", "column"),
    [
        ({"email": None}, "email_present", "email"),
        ({"email": ""}, "email_present", "email"),
        ({"email": " \t "}, "email_present", "email"),
        ({"email": "john.doe@"}, "email_format", "email"),
        ({"email": "john doe@acme.io"}, "email_format", "email"),
        ({"email": "john@acme"}, "email_format", "email"),
        ({"email": "john@@acme.io"}, "email_format", "email"),
        ({"email": "john@acme.io\n"}, "email_format", "email"),
        ({"company": None}, "company_present", "company"),
        ({"company": ""}, "company_present", "company"),
        ({"company": "   "}, "company_present", "company"),
        ({"created_at": None}, "created_at_present", "created_at"),
        ({"created_at": "not a date"}, "created_at_present", "created_at"),
        ({"employees": -1}, "employees_non_negative", "employees"),
    ],
)
def test_bad_row_is_quarantined_with_its_check(overrides: dict[str, Any], check: str, column: str) -> None:
    bad = lead(**overrides)
    source = frame(lead(), bad, lead())
    result = validate_leads(source)
    assert_partition(source, result)
    assert list(result.quarantined["lead_id"]) == [bad["lead_id"]]
    assert reason_checks(result, bad["lead_id"]) == [(check, column)]
    reason = result.quarantined["reason"].iloc[0]
    assert reason.startswith(f"{check}: {column}=") and "fix: " in reason
    assert bad["lead_id"] not in set(result.valid["lead_id"])


def test_missing_lead_id_is_quarantined() -> None:
    source = frame(lead(), lead(lead_id=None))
    result = validate_leads(source)
    assert len(result.valid) == 1 and len(result.quarantined) == 1
    assert pd.isna(result.quarantined["lead_id"].iloc[0])
    assert [r["check"] for r in result.quarantined["reasons"].iloc[0]] == ["lead_id_present"]


def test_duplicate_lead_ids_are_both_quarantined_and_placed_by_row() -> None:
    # the second copy also has a bad email: only that row may carry email_format
    source = frame(lead(lead_id="dup"), lead(lead_id="dup", email="nope"), lead())
    result = validate_leads(source)
    assert_partition(source, result)
    reasons = [[r["check"] for r in rs] for rs in result.quarantined["reasons"]]
    assert reasons == [["lead_id_unique"], ["lead_id_unique", "email_format"]]


def test_row_with_two_failures_lists_both() -> None:
    bad = lead(email=None, employees=-5, company="")
    source = frame(bad, lead())
    result = validate_leads(source)
    assert_partition(source, result)
    assert reason_checks(result, bad["lead_id"]) == [
        ("email_present", "email"),
        ("company_present", "company"),
        ("employees_non_negative", "employees"),
    ]
    reason = result.quarantined["reason"].iloc[0]
    assert "email_present: email=<NA> is missing" in reason
    assert "company_present: company='' is missing" in reason
    assert "employees_non_negative: employees=-5 is negative" in reason


def test_warnings_route_but_are_flagged() -> None:
    long_message, no_title, both = (
        lead(message="x" * 5001),
        lead(title="  "),
        lead(title=None, message="y" * 6000),
    )
    source = frame(lead(), long_message, no_title, both, lead(message="z" * 5000))
    result = validate_leads(source)
    assert_partition(source, result)
    assert result.quarantined.empty
    warnings = dict(zip(result.valid["lead_id"], result.valid["warnings"], strict=True))
    assert warnings[long_message["lead_id"]] == "message_length"
    assert warnings[no_title["lead_id"]] == "title_present"
    assert warnings[both["lead_id"]] == "message_length; title_present"
    assert sum(pd.notna(w) for w in warnings.values()) == 3
    assert result.valid["warnings"].dtype == "string"


def test_quarantined_row_keeps_its_warnings_as_reasons() -> None:
    bad = lead(email="bad", title=None)
    result = validate_leads(frame(bad))
    assert [(r["check"], r["severity"]) for r in result.quarantined["reasons"].iloc[0]] == [
        ("email_format", "blocking"),
        ("title_present", "warning"),
    ]
    assert "title_present (warning):" in result.quarantined["reason"].iloc[0]


def test_valid_keeps_input_columns_and_dtypes_and_input_is_untouched() -> None:
    source = frame(lead(), lead(company="  "), lead(title=""))
    before = source.copy()
    result = validate_leads(source)
    assert list(result.valid.columns) == [*LEAD_COLUMNS, "warnings"]
    assert result.valid.drop(columns="warnings").dtypes.equals(source.dtypes)
    pd.testing.assert_frame_equal(source, before)  # blanks were nulled in a copy only
    assert result.valid["title"].iloc[1] == ""


@pytest.mark.parametrize(
    "value",
    [
        "A" * 10_000,
        "line one\nline two\r\n" * 500,
        "\x1b[2J\x1b[31mRED\x1b[0m\x07 and more text " * 100,
        "a" * 57 + "\x1b",
        "\u202eevil\x00\t" * 20,
    ],
)
def test_excerpt_is_short_and_escaped(value: str) -> None:
    out = excerpt(value)
    assert len(out) <= 60
    assert out.isprintable()  # no newline, escape, bell, bidi override or NUL reaches a log or terminal
    assert not out.endswith("\\") and not out.endswith("\\x1")  # never cut inside an escape


def test_excerpt_forms() -> None:
    assert excerpt(None) == "<NA>" and excerpt(pd.NA) == "<NA>" and excerpt(float("nan")) == "<NA>"
    assert excerpt("john.doe@") == "'john.doe@'"
    assert excerpt(-4) == "-4"
    assert excerpt("a\nb\x1b") == "'a\\nb\\x1b'"
    assert excerpt("a" * 58) == "'" + "a" * 58 + "'"  # exactly 60: not cut
    assert excerpt("a" * 59) == "'" + "a" * 58 + "…"


def test_untrusted_values_are_escaped_in_reasons_and_report() -> None:
    hostile = "\x1b[31mjohn\n@evil" + "x" * 10_000
    long_message = "\x1b]0;pwned\x07\n" * 1000
    bad = lead(email=hostile, message=long_message)
    result = validate_leads(frame(bad, lead()))
    reason = result.quarantined["reason"].iloc[0]
    assert reason.isprintable() and "\\x1b[31mjohn\\n@evil" in reason
    for entry in result.quarantined["reasons"].iloc[0]:
        assert len(entry["value"]) <= 60 and entry["value"].isprintable()
    report = result.report.set_index("check")
    sample = report.loc["message_length", "sample_failures"][0]
    assert sample["lead_id"] == bad["lead_id"]
    assert len(sample["value"]) <= 60 and sample["value"].isprintable()


def test_report_counts_match_the_rows() -> None:
    rows = [lead() for _ in range(20)]
    for i in range(7):
        rows[i]["email"] = f"broken{i}@"
    rows[10]["employees"] = -3
    rows[11]["title"] = None
    rows[12]["title"] = ""
    source = frame(*rows)
    result = validate_leads(source)
    assert_partition(source, result)
    report = result.report.set_index("check")
    assert list(report.index) == [c.name for c in SUITE]
    assert (report["evaluated"] == 20).all()
    assert (report["passed"] + report["failed"] == report["evaluated"]).all()
    assert report["failed"].to_dict() == {
        "lead_id_present": 0,
        "lead_id_unique": 0,
        "email_present": 0,
        "email_format": 7,
        "company_present": 0,
        "created_at_present": 0,
        "employees_non_negative": 1,
        "message_length": 0,
        "title_present": 2,
    }
    assert len(result.quarantined) == 8
    # failed counts agree with the reasons handed out
    given = Counter(r["check"] for rs in result.quarantined["reasons"] for r in rs)
    given.update(w for ws in result.valid["warnings"].dropna() for w in ws.split("; "))
    assert {k: n for k, n in report["failed"].items() if n} == dict(given)
    samples = report.loc["email_format", "sample_failures"]
    assert len(samples) == 5
    assert samples[0] == {"lead_id": rows[0]["lead_id"], "value": "'broken0@'"}
    assert report.loc["employees_non_negative", "severity"] == "blocking"
    assert report.loc["title_present", "severity"] == "warning"


def test_empty_frame() -> None:
    result = validate_leads(empty_leads())
    assert result.valid.empty and list(result.valid.columns) == [*LEAD_COLUMNS, "warnings"]
    assert result.quarantined.empty and list(result.quarantined.columns) == ["lead_id", "reasons", "reason"]
    assert list(result.report["check"]) == [c.name for c in SUITE]
    assert (result.report[["evaluated", "passed", "failed"]] == 0).all().all()
    assert result.errors == {}


def test_all_null_columns() -> None:
    source = frame(*(lead(company=None, title=None, employees=None, message=None) for _ in range(3)))
    result = validate_leads(source)
    assert_partition(source, result)
    assert result.errors == {}
    assert len(result.quarantined) == 3
    expected = [("company_present", "company"), ("title_present", "title")]
    assert all(reason_checks(result, i) == expected for i in source["lead_id"])
    source = frame(*(lead(email=None) for _ in range(2)))
    result = validate_leads(source)
    assert result.errors == {} and len(result.quarantined) == 2


def test_gx_error_in_one_check_is_reported_not_fatal() -> None:
    source = frame(lead(title=None), lead(email="bad")).drop(columns="title")
    result = validate_leads(source)
    assert_partition(source, result)
    assert set(result.errors) == {"title_present"} and "title" in result.errors["title_present"]
    title = result.report.set_index("check").loc["title_present"]
    assert (title["evaluated"], title["failed"]) == (0, 0)
    assert list(result.quarantined["lead_id"]) == [source["lead_id"].iloc[1]]  # the other checks still ran
    assert result.valid["warnings"].isna().all()


def test_broken_check_definition_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = Check("bogus", "email", "blocking", "n/a", "ExpectNoSuchThing")
    monkeypatch.setattr(v, "SUITE", [*SUITE, broken])
    source = frame(lead(), lead(employees=-1))
    result = validate_leads(source)
    assert_partition(source, result)
    assert set(result.errors) == {"bogus"}
    assert len(result.quarantined) == 1


def test_non_default_index() -> None:
    source = frame(lead(), lead(email=None), lead())
    source.index = ["c", "a", "b"]
    result = validate_leads(source)
    assert_partition(source, result)
    assert list(result.quarantined["lead_id"]) == [source["lead_id"].iloc[1]]
    assert list(result.valid.index) == [0, 1]


def test_ten_thousand_rows() -> None:
    rows = [lead() for _ in range(10_000)]
    for i in range(0, 10_000, 200):
        rows[i]["email"] = "not-an-email"
    for i in range(1, 10_000, 500):
        rows[i]["title"] = None
    source = frame(*rows)
    result = validate_leads(source)
    assert_partition(source, result)
    assert len(result.quarantined) == 50
    assert result.valid["warnings"].notna().sum() == 20
    assert result.report.set_index("check").loc["email_format", "failed"] == 50


def test_import_is_light_and_nothing_is_written(tmp_path: Any) -> None:
    # the CLI imports this module: GX (seconds to import) and prefect must not load until validation runs
    code = (
        "import sys\n"
        "import leadrouter.validate as v\n"
        "assert 'great_expectations' not in sys.modules and 'prefect' not in sys.modules\n"
        "import pandas as pd\n"
        "r = v.validate_leads(pd.DataFrame({'lead_id': ['a'], 'email': ['a@b.io'], 'company': ['c'],\n"
        "    'created_at': [pd.Timestamp('2024-01-01', tz='UTC')], 'employees': [1], 'message': ['m'],\n"
        "    'title': ['t']}))\n"
        "assert len(r.valid) == 1 and not r.errors, r.report\n"
        "assert 'prefect' not in sys.modules\n"
    )
    env = os.environ | {"PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []  # no gx/ folder or any other file
