"""The batch validation stage: every lead lands in exactly one of valid / quarantined, with readable reasons."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrouter.config import PROJECT_ROOT
from leadrouter.enrich.geo import country_code, region_of
from leadrouter.fields import NO_CUSTOM_FIELDS, conform_leads
from leadrouter.sandbox.accounts import generate_accounts, generate_contacts
from leadrouter.sandbox.leads import generate_leads
from leadrouter.schema import LEAD_COLUMNS, conform, empty_leads
from leadrouter.validate import checklist, checks
from leadrouter.validate import suite as v
from leadrouter.validate.checklist import SUITE
from leadrouter.validate.suite import Check, ValidationResult, excerpt, validate_leads

NOW = pd.Timestamp("2025-03-03 12:00", tz="UTC")

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
    """The rows as an adapter hands them on (fields.conform_leads): typed, what could not be read kept raw."""
    return conform_leads(pd.DataFrame(list(rows)), NO_CUSTOM_FIELDS)


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


BAD_ROWS = [
    ({"email": None}, "email_present", "email"),
    ({"email": ""}, "email_present", "email"),
    ({"email": " \t "}, "email_present", "email"),
    ({"email": "john.doe@"}, "email_format", "email"),
    ({"email": "john doe@acme.io"}, "email_format", "email"),
    ({"email": "john@acme"}, "email_format", "email"),
    ({"email": "john@@acme.io"}, "email_format", "email"),
    ({"company": None}, "company_present", "company"),
    ({"company": ""}, "company_present", "company"),
    ({"company": "   "}, "company_present", "company"),
    ({"created_at": None}, "created_at_present", "created_at"),
    ({"created_at": "not a date"}, "created_at_readable", "created_at"),
    ({"employees": -1}, "employees_in_range", "employees"),
    ({"employees": 10_000_001}, "employees_in_range", "employees"),
    ({"annual_revenue": -0.5}, "annual_revenue_in_range", "annual_revenue"),
    ({"annual_revenue": 2e13}, "annual_revenue_in_range", "annual_revenue"),
    ({"email": "ada@acme.local"}, "email_format", "email"),  # a special-use domain
    ({"email": "ada@acme.c0m1"}, "email_format", "email"),  # no top-level domain ends in a digit
    ({"email": "ada@-acme.io"}, "email_format", "email"),
    ({"email": "x" * 250 + "@acme.io"}, "email_format", "email"),
    ({"email": "ada@Mailinator.com"}, "email_not_disposable", "email"),
    ({"email": "ada@example.org"}, "email_not_disposable", "email"),
    ({"email": "noreply@acme.io"}, "email_not_system_mailbox", "email"),
    ({"email": "No-Reply+leads@acme.io"}, "email_not_system_mailbox", "email"),
    ({"email": "mailer-daemon@acme.io"}, "email_not_system_mailbox", "email"),
    ({"first_name": "asdf"}, "first_name_plausible", "first_name"),
    ({"first_name": "TEST"}, "first_name_plausible", "first_name"),
    ({"last_name": "sdfghjkl"}, "last_name_plausible", "last_name"),
    ({"last_name": "Aaaaaaa"}, "last_name_plausible", "last_name"),
    ({"first_name": "Mickey", "last_name": "Mouse"}, "full_name_plausible", "full_name"),
    ({"first_name": "john", "last_name": " DOE "}, "full_name_plausible", "full_name"),
    ({"company": "Test"}, "company_plausible", "company"),
    ({"company": "n/a"}, "company_plausible", "company"),
    ({"company": "-"}, "company_plausible", "company"),
    ({"company": "Qwerty Ltd"}, "company_plausible", "company"),
    ({"company": "asdasdasd"}, "company_plausible", "company"),
    ({"company": "Dkfjghslzm"}, "company_plausible", "company"),  # no vowel
]


@pytest.fixture(scope="module")
def bad_rows_batch() -> tuple[pd.DataFrame, ValidationResult]:
    """Every case of BAD_ROWS in one batch, each after a clean lead: GX's fixed cost per call (about half a
    second) is paid once for the module, not once per case. Every check decides a row on that row alone."""
    pairs = [(lead(), lead(lead_id=f"bad{i}", **overrides)) for i, (overrides, _, _) in enumerate(BAD_ROWS)]
    source = frame(*(row for pair in pairs for row in pair), lead())
    return source, validate_leads(source)


@pytest.mark.parametrize(("overrides", "check", "column"), BAD_ROWS)
def test_bad_row_is_quarantined_with_its_check(
    bad_rows_batch: tuple[pd.DataFrame, ValidationResult], overrides: dict[str, Any], check: str, column: str
) -> None:
    source, result = bad_rows_batch
    bad = f"bad{BAD_ROWS.index((overrides, check, column))}"
    assert_partition(source, result)
    assert list(result.quarantined["lead_id"]) == [f"bad{i}" for i in range(len(BAD_ROWS))]  # no clean lead
    assert reason_checks(result, bad) == [(check, column)]
    reason = result.quarantined.set_index("lead_id").loc[bad, "reason"]
    assert reason.startswith(f"{check}: {column}=") and "fix: " in reason
    assert bad not in set(result.valid["lead_id"])


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
        ("employees_in_range", "employees"),
    ]
    reason = result.quarantined["reason"].iloc[0]
    assert "email_present: email=<NA> is missing" in reason
    assert "company_present: company='' is missing" in reason
    assert "employees_in_range: employees=-5 is not a head count from 0 to 10,000,000" in reason


def test_warnings_route_but_are_flagged() -> None:
    long_message, no_title, both = (
        lead(message="x" * 32_001),
        lead(title="  "),
        lead(title=None, message="y" * 40_000),
    )
    source = frame(lead(), long_message, no_title, both, lead(message="z" * 32_000))
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
    assert list(result.valid.columns) == [*LEAD_COLUMNS, "phone_e164", "warnings", "warning_reason"]
    assert result.valid.drop(columns=["phone_e164", "warnings", "warning_reason"]).dtypes.equals(
        source.dtypes
    )
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
    long_message = "\x1b]0;pwned\x07\n" * 3000
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
    assert {k: n for k, n in report["failed"].items() if n} == {
        "email_format": 7,
        "employees_in_range": 1,
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
    assert report.loc["employees_in_range", "severity"] == "blocking"
    assert report.loc["title_present", "severity"] == "warning"


def test_empty_frame() -> None:
    result = validate_leads(empty_leads())
    assert result.valid.empty and list(result.valid.columns) == [
        *LEAD_COLUMNS,
        "phone_e164",
        "warnings",
        "warning_reason",
    ]
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
    assert (
        set(result.errors) == {"title_present", "title_length"} and "title" in result.errors["title_present"]
    )
    title = result.report.set_index("check").loc["title_present"]
    assert (title["evaluated"], title["failed"]) == (0, 0)
    assert list(result.quarantined["lead_id"]) == [source["lead_id"].iloc[1]]  # the other checks still ran
    assert result.valid["warnings"].isna().all()


def test_broken_check_definition_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = Check("bogus", "email", "blocking", "n/a", "ExpectNoSuchThing")
    monkeypatch.setattr(checklist, "SUITE", [*SUITE, broken])
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
        "import leadrouter.validate.suite as v\n"
        "assert 'great_expectations' not in sys.modules and 'prefect' not in sys.modules\n"
        "import pandas as pd\n"
        "from leadrouter.schema import conform\n"
        "r = v.validate_leads(conform(pd.DataFrame({'lead_id': ['a'], 'email': ['a@b.io'], 'company': ['c'],\n"
        "    'created_at': [pd.Timestamp('2024-01-01', tz='UTC')], 'employees': [1], 'message': ['m'],\n"
        "    'title': ['t']})))\n"
        "assert len(r.valid) == 1 and not r.errors, r.report\n"
        "assert 'prefect' not in sys.modules\n"
    )
    env = os.environ | {"PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []  # no gx/ folder or any other file


# --- the extended suite: email, phone, country, ranges, lengths, junk ---------------------------------------


def warnings_of(result: ValidationResult) -> dict[str, str]:
    return dict(zip(result.valid["lead_id"], result.valid["warnings"].fillna(""), strict=True))


UNUSUAL_EMAILS = ["josé.núñez@acme.io", "o'brien+leads@acme.co.uk", "ADA@ACME.IO", "a@xn--bcher-kva.de",
                  "x@sub.acme-corp.com"]  # fmt: skip
REAL_NAMES = ["Strzelczyk", "Brzęczyszczykiewicz", "Nguyen", "Ng", "Llwyd", "O'Brien", "Schwarzkopf", "Testa", "J.",
              "-", "[not provided]", "Åsa", "Zoë", "李", "Mohammed", "Aaron"]  # fmt: skip
REAL_COMPANIES = ["Rechtsschutzversicherung AG", "KPMG", "HSBC", "3M", "Testa Rossa Srl", "AAA Plumbing",
                  "Test Automation Inc", "Angstschrei GmbH", "Borschtsch Bar", "1-800-Flowers"]  # fmt: skip


@pytest.fixture(scope="module")
def real_leads_batch() -> ValidationResult:
    """One lead per unusual email, real name and real company, all in one batch (one GX call, not 31); the
    lead ids say which case a lead is."""
    return validate_leads(
        frame(
            *(lead(lead_id=f"email:{email}", email=email) for email in UNUSUAL_EMAILS),
            *(lead(lead_id=f"name:{name}", first_name=name, last_name=name) for name in REAL_NAMES),
            *(lead(lead_id=f"company:{company}", company=company) for company in REAL_COMPANIES),
        )
    )


def assert_routes(result: ValidationResult, lead_id: str) -> pd.Series:
    """The valid row of lead_id; fails with the lead's reason if it was quarantined."""
    stopped = result.quarantined.set_index("lead_id")["reason"]
    assert lead_id not in stopped.index, stopped.get(lead_id)
    routed = result.valid[result.valid["lead_id"] == lead_id]
    assert len(routed) == 1
    return routed.iloc[0]


@pytest.mark.parametrize("email", UNUSUAL_EMAILS)
def test_unusual_but_valid_emails_pass(real_leads_batch: ValidationResult, email: str) -> None:
    assert pd.isna(assert_routes(real_leads_batch, f"email:{email}")["warnings"])


def test_role_mailbox_routes_with_a_warning_but_a_system_mailbox_is_blocked() -> None:
    info, sales, noreply = (
        lead(email="info@acme.io"),
        lead(email="Sales+eu@acme.io"),
        lead(email="do-not-reply@acme.io"),
    )
    result = validate_leads(frame(info, sales, noreply))
    assert warnings_of(result) == {
        info["lead_id"]: "email_not_role_mailbox",
        sales["lead_id"]: "email_not_role_mailbox",
    }
    assert reason_checks(result, noreply["lead_id"]) == [("email_not_system_mailbox", "email")]


def test_phones_are_normalised_to_e164_with_the_lead_country_as_hint() -> None:
    rows = [
        lead(phone="(415) 555-2671", country="United States"),
        lead(phone="030 901820", country="Deutschland"),
        lead(phone="+44 20 7946 0958", country="Germany"),  # its own country code wins over the hint
        lead(phone="020 7946 0958", country="U.K."),
        lead(phone="415 555 2671", country=None),  # no hint: cannot tell the country
        lead(phone="12345", country="US"),
        lead(phone="not a phone", country="US"),
        lead(phone=None, country="US"),
        lead(phone="  ", country="US"),
    ]
    result = validate_leads(frame(*rows))
    assert result.quarantined.empty  # a bad phone never stops a lead
    assert list(result.valid["phone_e164"]) == [
        "+14155552671", "+4930901820", "+442079460958", "+442079460958", pd.NA, pd.NA, pd.NA, pd.NA, pd.NA,
    ]  # fmt: skip
    assert result.valid["phone_e164"].dtype == "string"
    flagged = [w == "phone_valid" for w in result.valid["warnings"].fillna("")]
    assert flagged == [False, False, False, False, True, True, True, False, False]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Untied States", "US"), ("Germnay", "DE"), ("Brasil", "BR"), ("Deutschland", "DE"), ("U.S.A", "US"),
        ("u.s.a.", "US"), ("Österreich", "AT"), ("Suisse", "CH"), ("the Netherlands", "NL"), ("RSA", "ZA"),
        ("Republic of Korea", "KR"), ("日本", "JP"), ("Swtizerland", "CH"), ("Phillipines", "PH"), ("PRC", "CN"),
        ("  gb ", "GB"), ("DEU", "DE"), ("Viet Nam", "VN"), ("Türkiye", "TR"), ("Perú", "PE"), ("Aotearoa", "NZ"),
    ],
)  # fmt: skip
def test_country_code_reads_common_native_and_misspelt_names(typed: str, code: str) -> None:
    assert country_code(pd.Series([typed])).tolist() == [code]


@pytest.mark.parametrize(
    "typed", ["Nigera", "Berlin", "Europe", "N/A", "Irak", "Chine", "x" * 5000, "", "EMEA"]
)
def test_country_code_does_not_guess(typed: str) -> None:
    # "Nigera" is one typo from both Niger and Nigeria, "Chine" from China and Chile: unknown beats wrong
    assert country_code(pd.Series([typed], dtype="string")).isna().all()


def test_country_code_keeps_index_and_nulls_and_region_follows() -> None:
    codes = country_code(pd.Series(["Brasil", None, "Germnay"], index=[7, 8, 9], dtype="string"))
    assert (
        codes.tolist() == ["BR", pd.NA, "DE"] and list(codes.index) == [7, 8, 9] and codes.dtype == "string"
    )
    assert region_of(codes).tolist() == ["LATAM", pd.NA, "EMEA"]


def test_unknown_country_routes_with_a_warning() -> None:
    known, unknown, missing = lead(country="Untied States"), lead(country="Atlantis"), lead(country=None)
    result = validate_leads(frame(known, unknown, missing))
    assert warnings_of(result) == {
        known["lead_id"]: "",
        unknown["lead_id"]: "country_known",
        missing["lead_id"]: "",
    }
    assert result.valid["country"].tolist() == ["Untied States", "Atlantis", pd.NA]  # enrichment normalises
    report = result.report.set_index("check")
    assert report.loc["country_known", "sample_failures"] == [
        {"lead_id": unknown["lead_id"], "value": "'Atlantis'"}
    ]


def test_over_long_text_routes_flagged_and_cut_to_its_limit() -> None:
    words = "Bartholomew Montgomery Fitzwilliam " * 1200
    long = lead(first_name=words[:101], company=words[:300], message=words[:40_000])
    edge = lead(last_name=words[:100], title=words[:255], message=words[:32_000])
    source = frame(long, edge)
    result = validate_leads(source)
    assert result.quarantined.empty
    assert warnings_of(result) == {
        long["lead_id"]: "first_name_length; company_length; message_length",
        edge["lead_id"]: "",
    }
    first = result.valid.iloc[0]
    assert (len(first["first_name"]), len(first["company"]), len(first["message"])) == (100, 255, 32_000)
    assert result.valid.iloc[1]["message"] == words[:32_000]
    assert len(source["message"].iloc[0]) == 40_000  # the input is untouched
    assert result.valid.drop(columns=["phone_e164", "warnings", "warning_reason"]).dtypes.equals(
        source.dtypes
    )


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_are_not_junk(real_leads_batch: ValidationResult, name: str) -> None:
    assert_routes(real_leads_batch, f"name:{name}")


@pytest.mark.parametrize("company", REAL_COMPANIES)
def test_real_companies_are_not_junk(real_leads_batch: ValidationResult, company: str) -> None:
    assert_routes(real_leads_batch, f"company:{company}")


def test_wrong_types_are_checked_as_what_they_are() -> None:
    source = pd.DataFrame(
        [
            lead(employees="many", annual_revenue="1e6", email=b"ada@acme.io", phone=4930901820, country=276),
            lead(employees="250", annual_revenue=True, first_name=12345, created_at=1714557600),
        ],
        dtype=object,
    )
    result = validate_leads(source)
    assert_partition(source, result)
    assert result.errors == {}
    first, second = (reason_checks(result, source["lead_id"].iloc[i]) for i in range(2))
    # b"..." is no address; words and True are no head count or amount: unknown, and said so
    assert first == [("email_format", "email"), ("employees_readable", "employees")]
    assert second == [("created_at_readable", "created_at"), ("annual_revenue_readable", "annual_revenue")]
    reasons = list(result.quarantined["reason"])
    assert "employees_readable (warning): employees='many' is not a number" in reasons[0]
    assert "created_at_readable: created_at='1714557600' could not be read as a date and time" in reasons[1]
    assert "annual_revenue_readable (warning): annual_revenue='True' is not an amount" in reasons[1]


def test_sandbox_batch_malformed_leads_are_stopped_and_no_clean_lead_is_junk() -> None:
    rng = np.random.default_rng(3)
    accounts = generate_accounts(rng, 300)
    contacts = generate_contacts(rng, accounts, 1000)
    now = pd.Timestamp("2025-03-03", tz="UTC")
    leads = generate_leads(rng, 3000, accounts, contacts, now - pd.Timedelta(days=1), now)
    result = validate_leads(leads)
    assert_partition(leads, result)
    assert result.errors == {}
    kind = leads.set_index("lead_id")["label_kind"]
    assert set(kind[result.valid["lead_id"]]) <= {"clean", "duplicate"}  # every malformed lead is stopped
    new_checks = {"email_not_disposable", "email_not_system_mailbox", "first_name_plausible",
                  "last_name_plausible", "full_name_plausible", "company_plausible"}  # fmt: skip
    clean = result.quarantined[kind[result.quarantined["lead_id"]].to_numpy() == "clean"]
    assert not {r["check"] for rs in clean["reasons"] for r in rs} & new_checks
    phones = result.valid["phone_e164"].dropna()
    assert len(phones) > 0.6 * len(result.valid) and phones.str.fullmatch(r"\+[1-9]\d{6,14}").all()


# --- the per-value checks ----------------------------------------------------------------------------------

EMAILISH = st.text(alphabet="abcXY09.-_+@'!#~`{}|/=?^&*$%", max_size=24)
DOMAINISH = st.from_regex(
    r"[A-Za-z0-9._+'-]{1,12}@([A-Za-z0-9-]{1,8}\.){1,3}[A-Za-z0-9-]{1,6}", fullmatch=True
)


def library_accepts(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@given(st.one_of(EMAILISH, DOMAINISH))
@settings(max_examples=600, deadline=None)
def test_the_plain_email_shortcut_only_accepts_what_email_validator_accepts(email: str) -> None:
    if checks._plainly_valid(email):
        assert library_accepts(email)


def test_email_check_agrees_with_email_validator_on_sandbox_addresses() -> None:
    rng = np.random.default_rng(5)
    accounts = generate_accounts(rng, 200)
    leads = generate_leads(
        rng, 3000, accounts, generate_contacts(rng, accounts, 600), NOW - pd.Timedelta(days=1), NOW
    )
    emails = leads["email"].dropna().unique()
    assert [checks.email_is_valid(e) for e in emails] == [library_accepts(e) for e in emails]


def test_contact_checks_in_worker_processes_match_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    emails = ["ada@acme.io", "bad@", "josé@acme.io", "noreply@acme.io"] * 3
    phones = [("+4930901820", None), ("(415) 555-2671", "US"), ("12", "US"), ("020 7946 0958", "GB")] * 3
    expected = checks.ContactChecks(emails, phones).result()
    monkeypatch.setattr(checks, "PARALLEL_FROM", 1)
    monkeypatch.setattr(checks.os, "cpu_count", lambda: 2)
    for _ in range(2):  # the second batch reuses the workers
        pending = checks.ContactChecks(emails, phones)
        assert pending.result() == expected
        assert pending._parts is not None  # really done by the workers
    assert expected[1][:4] == ["+4930901820", "+14155552671", None, "+442079460958"]


def test_a_batch_checked_in_worker_processes_gets_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    # large batches run GX on the other checks while workers check contacts, then on the contact checks
    rng = np.random.default_rng(11)
    accounts = generate_accounts(rng, 100)
    leads = generate_leads(
        rng, 400, accounts, generate_contacts(rng, accounts, 300), NOW - pd.Timedelta(days=1), NOW
    )
    leads.loc[[3, 7], "email"] = ["noreply@acme.io", "ada@mailinator.com"]
    in_process = validate_leads(leads)
    monkeypatch.setattr(checks, "PARALLEL_FROM", 1)
    monkeypatch.setattr(checks.os, "cpu_count", lambda: 2)
    in_workers = validate_leads(leads)
    pd.testing.assert_frame_equal(in_workers.valid, in_process.valid)
    pd.testing.assert_frame_equal(in_workers.quarantined, in_process.quarantined)
    pd.testing.assert_frame_equal(in_workers.report, in_process.report)
    assert in_process.report.set_index("check").loc["phone_valid", "failed"] > 0


def test_contact_checks_fall_back_to_in_process_when_workers_fail(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_workers() -> Any:
        raise OSError("no semaphores here")

    monkeypatch.setattr(checks, "PARALLEL_FROM", 1)
    monkeypatch.setattr(checks, "_POOL", {})
    monkeypatch.setattr(checks, "_worker_context", no_workers)
    assert checks.ContactChecks(["ada@acme.io"], [("+4930901820", None)]).result() == (
        [True],
        ["+4930901820"],
    )
    assert "could not start worker processes" in caplog.text


# --- nothing a lead contains fails the batch ---------------------------------------------------------------

MEGABYTE = "é\x00\u202e" + "x" * 1_000_000
ANYTHING = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(
        ["", "  ", "\t\n", MEGABYTE, "ada@acme.io", "+49 30 901820", "Germnay", "asdf", "n/a", "NaN"]
    ),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.binary(max_size=12),
    st.booleans(),
    st.just(pd.NA),
    st.just(pd.Timestamp("2024-05-01", tz="UTC")),
    st.lists(st.integers(), max_size=2),
)
ROWS = st.lists(st.fixed_dictionaries({column: ANYTHING for column in LEAD_COLUMNS}), max_size=12)


def as_an_adapter_would(source: pd.DataFrame) -> pd.DataFrame:
    """The same rows cast to the schema: text where it was text, whole numbers as counts, the rest null."""
    text = source.map(lambda x: x if isinstance(x, str) else None)
    whole = source["employees"].map(lambda x: x if type(x) is int and abs(x) < 2**63 else None)
    return conform(text.assign(employees=whole, annual_revenue=whole.map(lambda x: x and x / 3)))


def row_key(value: Any) -> str:
    return "<NA>" if value is None or (np.ndim(value) == 0 and pd.isna(value)) else str(value)


@given(rows=ROWS, canonical=st.booleans())
@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
def test_nothing_a_lead_contains_fails_the_batch(rows: list[dict[str, Any]], canonical: bool) -> None:
    source = pd.DataFrame(rows, columns=list(LEAD_COLUMNS), dtype=object)
    if canonical:
        source = as_an_adapter_would(source)
    result = validate_leads(source)
    # every row in exactly one of valid and quarantined, whatever its id
    assert len(result.valid) + len(result.quarantined) == len(source)
    together = [*map(row_key, result.valid["lead_id"]), *map(row_key, result.quarantined["lead_id"])]
    assert Counter(together) == Counter(map(row_key, source["lead_id"]))
    assert result.errors == {}  # every check ran
    assert list(result.report.columns) == v.REPORT_COLUMNS
    assert (result.report["evaluated"] == len(source)).all()
    for reasons in result.quarantined["reasons"]:
        assert reasons and all(len(r["value"]) <= 60 and r["value"].isprintable() for r in reasons)
    assert list(result.valid.columns) == [*source.columns, "phone_e164", "warnings", "warning_reason"]


def test_text_too_long_for_a_timestamp_is_unreadable_not_parsed() -> None:
    # pandas needs ~20 CPU seconds to refuse a megabyte: over MAX_STAMP_CHARS the text is refused unread
    source = frame(lead(lead_id="long", created_at="2024-05-01 " * 100_000), lead(lead_id="ok"))
    result = validate_leads(source)
    assert_partition(source, result)
    assert list(result.valid["lead_id"]) == ["ok"]
    assert ("created_at_readable", "created_at") in reason_checks(result, "long")
