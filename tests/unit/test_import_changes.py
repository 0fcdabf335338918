"""A backtest import lists every change it makes to a cell, tells a blank date from an unreadable one, and
counts values outside the vocabulary; a lead source written in another case routes as the vocabulary's word."""

from __future__ import annotations

import pandas as pd
import pytest

from leadrouter.backtest.changes import CHANGE_COLUMNS
from leadrouter.backtest.column_map import load_export_map
from leadrouter.backtest.importer import import_leads
from leadrouter.classify import classify_leads
from leadrouter.classify.rules import load_rulebook
from leadrouter.config import PROJECT_ROOT
from leadrouter.enrich import enrich_leads
from leadrouter.schema import conform
from leadrouter.validate.suite import validate_leads

MAP = PROJECT_ROOT / "config" / "backtest-map.yaml"
CLEAN = {
    "Lead ID": "00Q1", "First Name": "Ada", "Last Name": "Lovelace", "Email": "ada@acme.io", "Phone": "",
    "Title": "VP Engineering", "Company / Account": "Acme", "Website": "", "Country": "US",
    "State/Province": "", "City": "", "Industry": "Software", "No. of Employees": "500", "Annual Revenue": "",
    "Lead Source": "demo_request", "Description": "", "Create Date": "03/02/2025 10:00 AM", "Lead Owner": "",
}  # fmt: skip
ROWS = [
    {},  # row 2: clean
    {"Lead Source": "Demo Request", "Industry": "Sftware"},  # row 3: the same word written otherwise, a typo
    {"Lead Source": "Facebook", "Industry": "services"},  # row 4: in no vocabulary: kept as written
    {"Lead Source": "Web - Demo Request", "Industry": " SaaS "},  # row 5: the map's aliases
    {"Create Date": ""},  # row 6: blank date
    {"Create Date": "N/A"},  # row 7: a placeholder is blank too
    {"Create Date": "yesterday"},  # row 8: unreadable date
]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("export") / "leads.csv"
    rows = [CLEAN | {"Lead ID": f"00Q{i}", "Email": f"ada{i}@acme.io"} | r for i, r in enumerate(ROWS)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return import_leads(path, load_export_map(MAP), MAP)


def test_every_change_is_listed_with_raw_and_new_value_method_and_score(imported) -> None:
    expected = pd.DataFrame(
        [
            (3, "00Q1", "industry", "'Sftware'", "'Software'", "fuzzy", 93.3),
            (3, "00Q1", "lead_source", "'Demo Request'", "'demo_request'", "format", 100.0),
            (5, "00Q3", "industry", "' SaaS '", "'Software'", "trim+alias", None),
            (5, "00Q3", "lead_source", "'Web - Demo Request'", "'demo_request'", "alias", None),
        ],
        columns=CHANGE_COLUMNS,
    )
    changes = imported.changes.sort_values(["row", "field"]).reset_index(drop=True)
    assert list(changes.columns) == CHANGE_COLUMNS
    pd.testing.assert_frame_equal(changes.astype(object), expected.astype(object), check_dtype=False)
    summary = imported.summary()
    assert summary["cleaned_by_change"] == {
        "industry: fuzzy": 1, "industry: trim+alias": 1, "lead_source: alias": 1, "lead_source: format": 1,
    }  # fmt: skip
    assert (summary["rows"], summary["usable"], summary["clean"], summary["cleaned"]) == (7, 4, 2, 2)


def test_values_outside_the_vocabulary_are_kept_and_counted(imported) -> None:
    leads = imported.leads.set_index("row")
    assert (leads.loc[4, "lead_source"], leads.loc[4, "industry"]) == ("Facebook", "services")
    assert imported.outside.to_dict("records") == [
        {"field": "industry", "value": "'services'", "rows": 1},
        {"field": "lead_source", "value": "'Facebook'", "rows": 1},
    ]
    assert imported.summary()["outside_vocabulary"] == {"industry": 1, "lead_source": 1}


def test_a_blank_date_and_an_unreadable_one_are_different_errors(imported) -> None:
    rejected = imported.rejected.set_index("row")
    formats = "%m/%d/%Y %I:%M %p, %m/%d/%Y %H:%M, %m/%d/%Y, iso, %d.%m.%Y %H:%M, %d.%m.%Y, excel"
    assert rejected.loc[[6, 7, 8]].reset_index().to_dict("records") == [
        {"row": 6, "lead_id": "00Q4", "reason": "missing_created_at", "field": "created_at", "value": "''",
         "fix": "the date is missing: fill it or drop the row"},
        {"row": 7, "lead_id": "00Q5", "reason": "missing_created_at", "field": "created_at", "value": "'N/A'",
         "fix": "the date is missing: fill it or drop the row"},
        {"row": 8, "lead_id": "00Q6", "reason": "bad_created_at", "field": "created_at", "value": "'yesterday'",
         "fix": f"write it in one of the map's formats: {formats}"},
    ]  # fmt: skip
    assert imported.summary()["rejected_by_reason"] == {"bad_created_at": 1, "missing_created_at": 2}


def _live_lead(lead_id: str, source: str) -> dict:
    return {"lead_id": lead_id, "first_name": "Grace", "last_name": "Hopper", "email": f"{lead_id}@navy.io",
            "title": "VP Engineering", "company": "Navy Labs", "employees": 500, "country": "US",
            "lead_source": source, "created_at": pd.Timestamp("2025-03-03 12:00", tz="UTC")}  # fmt: skip


def test_a_lead_source_in_another_case_routes_as_the_vocabulary_word() -> None:
    sources = ["Demo Request", "demo-request", "DEMO_REQUEST", "demo_request", "Facebook"]
    leads = conform(pd.DataFrame([_live_lead(f"L{i}", s) for i, s in enumerate(sources)]))
    checked = validate_leads(leads)
    assert checked.quarantined.empty
    assert list(checked.valid["lead_source"]) == ["demo_request"] * 4 + ["Facebook"]
    book = load_rulebook(PROJECT_ROOT / "config" / "rulebook.yaml")
    classified = classify_leads(enrich_leads(checked.valid), book, None).set_index("lead_id")
    # a VP of a 500-person company asking for a demo: the senior-buyer hand-raiser rule, whatever the spelling
    assert list(classified.loc[["L0", "L1", "L2", "L3"], "decided_by"]) == ["rule:vip-senior-buyer"] * 4
    assert list(classified.loc[["L0", "L1", "L2", "L3"], "tier"]) == ["VIP"] * 4
    # Facebook is no hand-raiser: no rule decides it (without a model, it waits for review)
    assert pd.isna(classified.loc["L4", "decided_by"]) and pd.isna(classified.loc["L4", "tier"])


def test_validation_leaves_the_input_frame_as_it_was() -> None:
    leads = conform(pd.DataFrame([_live_lead("L1", "Demo Request")]))
    validate_leads(leads)
    assert leads.loc[0, "lead_source"] == "Demo Request"
