"""Required fields are configuration: validation follows config/fields.yaml, dedupe and account matching cope
with leads that have no email or company."""

from __future__ import annotations

import pandas as pd

from leadrouter.dedupe import identity_key, mark_duplicates
from leadrouter.enrich.accounts import NOTHING_TO_MATCH, match_accounts
from leadrouter.schema import conform
from leadrouter.validate.checklist import SUITE, checks_for
from leadrouter.validate.suite import validate_leads

ANONYMOUS = conform(
    pd.DataFrame(
        {
            "lead_id": ["A1", "A2", "A3", "A4"],
            "first_name": ["Ana", "Ben", "Cy", "Di"],
            "phone": ["+1 415 555 0101", None, None, "+44 20 7946 0958"],
            "title": ["Student", "Engineer", "Nurse", "Teacher"],
            "created_at": ["2026-01-02T10:00:00Z"] * 4,
        }
    )
)


def blocked(result: object) -> dict[str, list[str]]:
    return {
        lead: sorted(r["check"] for r in reasons if r["severity"] == "blocking")
        for lead, reasons in zip(result.quarantined["lead_id"], result.quarantined["reasons"], strict=True)
    }


def test_the_b2b_default_quarantines_a_lead_without_email_or_company() -> None:
    result = validate_leads(ANONYMOUS, required=["email", "company"])
    assert result.valid.empty
    both = ["company_present", "email_present"]
    assert blocked(result) == {lead: both for lead in ["A1", "A2", "A3", "A4"]}


def test_an_anonymised_config_routes_leads_without_email_or_company() -> None:
    result = validate_leads(ANONYMOUS, required=[])
    assert result.valid["lead_id"].tolist() == ["A1", "A2", "A3", "A4"]
    assert result.quarantined.empty
    assert "email_present" not in set(result.report["check"])
    assert "company_present" not in set(result.report["check"])


def test_a_required_field_the_suite_only_warned_about_blocks() -> None:
    result = validate_leads(ANONYMOUS, required=["phone"])
    assert result.valid["lead_id"].tolist() == ["A1", "A4"]
    assert blocked(result) == {"A2": ["phone_present"], "A3": ["phone_present"]}
    reason = result.quarantined["reason"].iloc[0]
    assert reason == (
        "phone_present: phone=<NA> is missing — fix: set phone on the lead in the CRM "
        "(config/fields.yaml requires it)"
    )


def test_the_default_checks_are_the_suite_as_it_was() -> None:
    assert checks_for(["email", "company"]) == tuple(SUITE)
    required_title = {c.name: c.severity for c in checks_for(["title"])}
    assert required_title["title_present"] == "blocking"
    assert "email_present" not in required_title and required_title["lead_id_present"] == "blocking"


def test_identity_falls_back_from_email_to_phone_to_the_crm_id() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "email": ["Ana+x@gmail.com", None, None, None],
            "phone": ["+1 415 555 0101", "(415) 555-0101", "12", None],
        }
    )
    assert identity_key(leads).tolist() == ["email:ana@gmail.com", "phone:4155550101", "id:L3", "id:L4"]


def test_leads_without_email_are_deduplicated_by_phone() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "email": pd.array([None, None, None, None], dtype="string"),
            "phone": ["+44 20 7946 0958", None, "+44 20 7946 0958", None],
            "phone_e164": ["+442079460958", None, "+442079460958", None],
            "created_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"], utc=True),
        }
    )
    marked = mark_duplicates(leads, pd.DataFrame(), set())
    assert marked["duplicate_of"].astype(object).where(marked["duplicate_of"].notna(), None).tolist() == [
        None, None, "batch:L1", None,
    ]  # fmt: skip


def test_account_matching_says_when_a_lead_has_nothing_to_match_on() -> None:
    accounts = pd.DataFrame(
        {"account_id": ["001A"], "name": ["Acme"], "website": ["acme.io"], "owner_id": ["U1"],
         "owner_active": ["true"], "last_activity_at": ["2026-01-01T00:00:00Z"]}
    )  # fmt: skip
    leads = pd.DataFrame(
        {"email": [None, "ana@acme.io", None], "company": ["  ", None, "Unknown Ltd"], "website": None}
    )
    matched = match_accounts(leads, accounts)
    assert matched["account_id"].astype(object).where(matched["account_id"].notna(), None).tolist() == [
        None, "001A", None,
    ]  # fmt: skip
    assert matched["match_explanation"].iloc[0] == NOTHING_TO_MATCH
    assert matched["match_explanation"].iloc[2] == "No match: company 'unknown' resembles no account name."
