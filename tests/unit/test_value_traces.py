"""No value changed without a trace in live routing: a value that cannot be read is kept as written and reported
(a blank and an unreadable value are different reasons), and harmless formatting is repaired and counted,
never quarantined."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
import pytest

from leadrouter.backtest.cleaning import recase_email
from leadrouter.crm.hubspot import mapping
from leadrouter.crm.hubspot.search import Found
from leadrouter.fields import NO_CUSTOM_FIELDS, CustomField, LeadFields, conform_leads, raw_column
from leadrouter.summary import repair_counts, summary_markdown
from leadrouter.validate.repairs import repair_email
from leadrouter.validate.suite import validate_leads

_ids = itertools.count()


def lead(**overrides: Any) -> dict[str, Any]:
    """A lead that passes every check, with `overrides` applied."""
    n = next(_ids)
    row = {
        "lead_id": f"T{n}", "first_name": "Ada", "last_name": "Lovelace", "email": f"ada{n}@acme.io",
        "title": "CTO", "company": "Acme", "employees": 250, "message": "a demo, please",
        "created_at": "2026-05-01T10:00:00Z",
    }  # fmt: skip
    return row | overrides


def adapted(*rows: dict[str, Any], fields: LeadFields = NO_CUSTOM_FIELDS) -> pd.DataFrame:
    """The rows as every CRM adapter hands them on."""
    return conform_leads(pd.DataFrame(list(rows)), fields)


@pytest.mark.parametrize(
    ("written", "address", "how"),
    [
        ("  ada@acme.io ", "ada@acme.io", "trim"),
        ("ada@acme.io\n", "ada@acme.io", "trim"),
        ("Ada Lovelace <ada@acme.io>", "ada@acme.io", "display name"),
        ('"Lovelace, Ada" <ada@acme.io>', "ada@acme.io", "display name"),
        ("ada＠acme.io", "ada@acme.io", "nfkc"),
        ("ａｄａ＠ａｃｍｅ．ｉｏ", "ada@acme.io", "nfkc"),
        (" Ada <ada＠acme.io> ", "ada@acme.io", "nfkc+trim+display name"),
    ],
)
def test_harmless_formatting_of_an_email_is_undone_and_named(written: str, address: str, how: str) -> None:
    assert repair_email(written) == (address, how)


@pytest.mark.parametrize(
    "written",
    ["ada@acme.io", "mailto:x@y.com", "<script>alert(1)</script>", "a <b@c.io> <d@e.io>", "x@@acme.com"],
)
def test_anything_else_is_no_repair(written: str) -> None:
    assert repair_email(written) == (written, None)


def test_repaired_emails_route_and_each_repair_is_listed() -> None:
    rows = [
        lead(email=" ada.spaces@acme.io "),
        lead(email="Ada Lovelace <ada.named@acme.io>"),
        lead(email="ada.wide＠acme.io", lead_source="Demo Request", industry="software"),
        lead(email=" not an address "),
        lead(),
    ]
    result = validate_leads(adapted(*rows), ["email", "company"])
    assert list(result.quarantined["lead_id"]) == [rows[3]["lead_id"]]
    # the reason quotes the address as the CRM has it
    assert (
        "email_format: email=' not an address ' is not a valid email address"
        in result.quarantined["reason"][0]
    )
    routed = result.valid.set_index("lead_id")
    assert routed.loc[rows[0]["lead_id"], "email"] == "ada.spaces@acme.io"
    assert routed.loc[rows[1]["lead_id"], "email"] == "ada.named@acme.io"
    assert routed.loc[rows[2]["lead_id"], "email"] == "ada.wide@acme.io"
    assert (routed.loc[rows[2]["lead_id"], "lead_source"], routed.loc[rows[2]["lead_id"], "industry"]) == (
        "demo_request", "Software",
    )  # fmt: skip
    assert routed["warnings"].isna().all()
    # the quarantined lead's repair is not counted: it did not route
    assert result.repairs.to_dict("records") == [
        {"lead_id": rows[0]["lead_id"], "field": "email", "raw": "' ada.spaces@acme.io '",
         "new": "'ada.spaces@acme.io'", "method": "trim"},
        {"lead_id": rows[1]["lead_id"], "field": "email", "raw": "'Ada Lovelace \\x3cada.named@acme.io\\x3e'",
         "new": "'ada.named@acme.io'", "method": "display name"},
        {"lead_id": rows[2]["lead_id"], "field": "email", "raw": "'ada.wide＠acme.io'",
         "new": "'ada.wide@acme.io'", "method": "nfkc"},
        {"lead_id": rows[2]["lead_id"], "field": "industry", "raw": "'software'", "new": "'Software'",
         "method": "case"},
        {"lead_id": rows[2]["lead_id"], "field": "lead_source", "raw": "'Demo Request'", "new": "'demo_request'",
         "method": "format"},
    ]  # fmt: skip
    assert repair_counts([result.repairs, result.repairs.iloc[:1]]) == {
        "email: display name": 1, "email: nfkc": 1, "email: trim": 2, "industry: case": 1,
        "lead_source: format": 1,
    }  # fmt: skip


def test_an_unreadable_head_count_or_revenue_routes_unknown_with_a_warning_naming_it() -> None:
    rows = [lead(employees="lots"), lead(annual_revenue="a few million"), lead()]
    source = adapted(*rows)
    assert source[raw_column("employees")].tolist()[:1] == ["lots"]
    result = validate_leads(source, ["email", "company"])
    assert result.quarantined.empty and len(result.valid) == 3
    assert raw_column("employees") not in result.valid  # reported, so left behind
    first, second, third = result.valid.to_dict("records")
    assert pd.isna(first["employees"]) and pd.isna(second["annual_revenue"])
    assert first["warnings"] == "employees_readable" and second["warnings"] == "annual_revenue_readable"
    assert first["warning_reason"] == (
        "employees_readable (warning): employees='lots' is not a number, so the size is unknown — fix: write "
        "the employee count in the CRM as a whole number, such as 250"
    )
    assert "annual_revenue='a few million' is not an amount" in second["warning_reason"]
    assert pd.isna(third["warnings"])
    report = result.report.set_index("check")
    assert report.loc["employees_readable", "sample_failures"] == [
        {"lead_id": rows[0]["lead_id"], "value": "'lots'"}
    ]
    assert (report.loc["employees_in_range", "failed"], report.loc["employees_readable", "failed"]) == (0, 1)


def test_a_blank_date_and_an_unreadable_one_are_different_reasons() -> None:
    rows = [lead(created_at="31/02/2026"), lead(created_at=" "), lead(created_at=None), lead()]
    result = validate_leads(adapted(*rows), ["email", "company"])
    reasons = dict(zip(result.quarantined["lead_id"], result.quarantined["reasons"], strict=True))
    assert list(result.valid["lead_id"]) == [rows[3]["lead_id"]]
    assert reasons[rows[0]["lead_id"]] == [
        {"check": "created_at_readable", "column": "created_at", "value": "'31/02/2026'", "severity": "blocking",
         "fix": "correct the creation time in the CRM: a real date and time, such as 2026-02-28T09:30:00Z"},
    ]  # fmt: skip
    for blank in rows[1:3]:
        assert [(r["check"], r["value"]) for r in reasons[blank["lead_id"]]] == [
            ("created_at_present", "<NA>")
        ]


def test_hubspot_keeps_what_it_cannot_read() -> None:
    found = [
        Found("1", {"email": "a@acme.io", "numemployees": "lots", "annualrevenue": "n/a",
                    "createdate": "2026-05-01T10:00:00Z"}),
        Found("2", {"email": "b@acme.io", "numemployees": "25-50", "annualrevenue": "1200000.5",
                    "createdate": "yesterday-ish"}),
    ]  # fmt: skip
    leads = mapping.leads_frame(found, mapping.LEAD_PROPERTIES)
    assert leads["employees"].tolist()[1] == 25 and pd.isna(leads["employees"][0])
    kept = leads[[raw_column(n) for n in ("employees", "annual_revenue", "created_at")]].fillna("-")
    assert kept.to_numpy().tolist() == [["lots", "n/a", "-"], ["-", "-", "yesterday-ish"]]


def test_an_unreadable_custom_value_warns_and_blocks_where_required() -> None:
    fields = LeadFields(custom=[CustomField(name="seats", type="number", known_at="arrival")])
    rows = [lead(seats="twelve"), lead(seats="12")]
    source = adapted(*rows, fields=fields)
    routed = validate_leads(source, ["email", "company"])
    assert routed.quarantined.empty
    assert routed.valid["warnings"].fillna("-").tolist() == ["seats_readable", "-"]
    assert "seats='twelve' could not be read as its type" in routed.valid["warning_reason"][0]
    held = validate_leads(source, ["email", "company", "seats"])
    assert list(held.quarantined["lead_id"]) == [rows[0]["lead_id"]]
    assert [r["check"] for r in held.quarantined["reasons"][0]] == [
        "seats_readable"
    ]  # unreadable, not missing


def test_the_routing_summary_shows_the_repairs() -> None:
    summary = {
        "leads": 2, "written": 2, "quarantined": 0, "review": 0, "write_failed": 0, "shadow": 0, "pending": 0,
        "matched_accounts": 0, "enrichment_failed": 0, "by_tier": {}, "by_decider": {}, "model_cost_usd": 0.0,
        "by_owner": {}, "repaired": {"email: trim": 2},
    }  # fmt: skip
    markdown = summary_markdown(summary)
    assert "## Repaired before validation" in markdown and "| email: trim | 2 |" in markdown
    assert "Repaired" not in summary_markdown(summary | {"repaired": {}})


def test_an_exports_emails_are_repaired_the_same_way_and_listed() -> None:
    """The backtest import cleans with the same repair, so its validation has nothing left to change unlisted."""
    written = pd.Series(["Ada <Ada@Acme.io>", "ada@acme.io", "ADA＠acme.io", None], dtype="string")
    cleaned, how = recase_email(written)
    assert cleaned.fillna("-").tolist() == ["ada@acme.io", "ada@acme.io", "ada@acme.io", "-"]
    assert how.fillna("-").tolist() == ["display name+case", "-", "nfkc+case", "-"]
