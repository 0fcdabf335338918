"""Deal outcomes with the CRM's own meanings: stage lists (vendor defaults, the map's, the settings'), explicit
won/closed columns, unknown stages counted, amounts scaled, undated deals flagged and left out of hindsight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadrouter.backtest.column_map import load_export_map
from leadrouter.backtest.deal_import import DealImport, import_deals
from leadrouter.backtest.outcome_frame import deal_rows
from leadrouter.config import ConfigError, Settings
from leadrouter.outcomes.deals import (
    EXPORT_STAGES,
    HUBSPOT_STAGES,
    SALESFORCE_STAGES,
    DealStages,
    clean_outcomes,
    configured_stages,
    deal_states,
)
from leadrouter.outcomes.hindsight import hindsight
from leadrouter.outcomes.join import lead_outcomes, metrics_by, vip_precision_recall

LEAD_MAP = """leads:
  lead_id: Id
  email: Email
  company: Company
  created_at: Created
"""
CREATED = pd.Timestamp("2026-01-05 09:00", tz="UTC")


def export_map(tmp_path: Path, deals: str) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(LEAD_MAP + "deals:\n" + deals, encoding="utf-8")
    return path


def leads(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"lead_id": [f"L{i}" for i in range(n)], "email": [f"p{i}@example.com" for i in range(n)]}
    )


def import_csv(tmp_path: Path, rows: dict[str, list], deals_map: str, n_leads: int) -> DealImport:
    csv = tmp_path / "deals.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    map_path = export_map(tmp_path, deals_map)
    return import_deals(csv, load_export_map(map_path), map_path, leads(n_leads))


def outcome_frame(deals: pd.DataFrame, n_leads: int) -> pd.DataFrame:
    """Every lead routed Standard at CREATED, joined to its imported deal as a replay joins it."""
    ids = leads(n_leads)["lead_id"]
    decisions = pd.DataFrame(
        {
            "source": "export", "lead_id": ids, "status": "recorded", "tier": "Standard",
            "decided_by": "rule:fit", "owner_id": "005A", "lead_created_at": CREATED, "decided_at": CREATED,
            "first_touch_at": pd.NaT,
        }
    )  # fmt: skip
    events = pd.DataFrame(columns=["source", "lead_id", "kind", "owner_id", "at"])
    review = pd.DataFrame(columns=["source", "lead_id"])
    return lead_outcomes(decisions, deal_rows(deals, "export"), events, review)


def test_a_won_lost_export_gives_the_true_win_rate(tmp_path: Path) -> None:
    # 5 Won, 3 Lost, 2 still open: the win rate is 5 of the 8 closed, not 100 %
    stages = ["Won"] * 5 + ["Lost"] * 3 + ["Negotiation"] * 2
    rows = {"Id": [f"L{i}" for i in range(10)], "Stage": stages, "Amount": ["1000"] * 10,
            "Opened": ["2026-01-20"] * 10}  # fmt: skip
    deals_map = "  lead_id: Id\n  stage: Stage\n  amount: Amount\n  created_at: Opened\n"
    deals_map += "  stages:\n    open: [Negotiation]\n"
    imported = import_csv(tmp_path, rows, deals_map, 10)
    assert imported.summary()["by_outcome"] == {"won": 5, "lost": 3, "open": 2, "unknown": 0}
    figures = metrics_by(outcome_frame(imported.deals, 10), "all").iloc[0]
    assert (figures["opportunities"], figures["won"]) == (10, 5)
    assert figures["win_rate"] == 5 / 8
    assert figures["revenue"] == 5000.0 and figures["pipeline"] == 10_000.0


def test_stage_matching_ignores_case_spaces_and_punctuation() -> None:
    written = pd.Series(["CLOSED WON", "closed-lost", "Closed_Won", " closedwon ", "Proposal / Price Quote"])
    states = deal_states(written, EXPORT_STAGES)
    assert states["state"].tolist() == ["won", "lost", "won", "won", "open"]
    assert states["is_closed"].tolist() == [True, True, True, True, False]
    assert states["is_won"].tolist() == [True, False, True, True, False]


def test_a_stage_in_two_lists_is_refused() -> None:
    with pytest.raises(ValueError, match="'closed-won' is in both won and lost"):
        DealStages(won=["Closed Won"], lost=["closed-won"])


def test_salesforce_defaults_trust_is_closed_and_is_won_then_stage_names() -> None:
    fetched = pd.DataFrame(
        {
            "lead_id": ["A", "B", "C", "D", "E"],
            "deal_id": ["1", "2", "3", "4", "5"],
            # D: a custom stage, but Salesforce's own flags say it is won; E: no flags sent, the stage decides
            "stage": ["Closed Won", "Closed Lost", "Negotiation/Review", "Signed", "Closed Lost"],
            "is_closed": [True, True, False, True, None],
            "is_won": [True, False, False, True, None],
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
            "close_date": ["2026-02-01"] * 5,
        }
    )
    deals, problems = clean_outcomes(fetched, SALESFORCE_STAGES)
    assert problems == []
    assert deals["is_closed"].tolist() == [True, True, False, True, True]
    assert deals["is_won"].tolist() == [True, False, False, True, False]


def test_hubspot_defaults_read_closedwon_and_closedlost_and_report_a_custom_stage() -> None:
    fetched = pd.DataFrame(
        {
            "lead_id": ["A", "B", "C", "D", "E", "F"],
            "deal_id": ["1", "2", "3", "4", "5", "6"],
            "stage": ["closedwon", "closedlost", "contractsent", "12345678", "12345678", "99"],
            "is_closed": [pd.NA] * 6,  # a portal that sent no hs_is_closed
            "is_won": [pd.NA] * 6,
            "amount": [10.0] * 6,
            "close_date": [None] * 6,
        }
    )
    deals, problems = clean_outcomes(fetched, HUBSPOT_STAGES)
    assert deals["is_closed"].tolist() == [True, True, False, False, False, False]
    assert deals["is_won"].tolist() == [True, False, False, False, False, False]
    assert len(problems) == 2
    assert problems[0].startswith("stage '12345678' (2 deals) fits none of the won, lost or open stage lists")
    assert problems[1].startswith("stage '99' (1 deal) fits none")
    assert "LEADROUTER_WON_STAGES" in problems[0]


def test_settings_replace_a_vendor_list_and_keep_the_others() -> None:
    stages = configured_stages(Settings(crm="hubspot", won_stages=["12345678"]))
    assert stages.won == ["12345678"] and stages.lost == HUBSPOT_STAGES.lost
    assert stages.open == HUBSPOT_STAGES.open
    assert configured_stages(Settings(crm="salesforce")) == SALESFORCE_STAGES


def test_an_unknown_export_stage_is_counted_never_guessed(tmp_path: Path) -> None:
    stages = ["Won", "Won", "Lost", "Pending Review", "Pending Review", "Pending Review", "On Hold", ""]
    rows = {"Id": [f"L{i}" for i in range(8)], "Stage": stages, "Opened": ["2026-01-20"] * 8}
    imported = import_csv(tmp_path, rows, "  lead_id: Id\n  stage: Stage\n  created_at: Opened\n", 8)
    assert imported.unknown_stages == {"Pending Review": 3, "On Hold": 1}
    assert imported.summary()["by_outcome"] == {"won": 2, "lost": 1, "open": 0, "unknown": 5}
    assert imported.summary()["issues"] == {"no_outcome": 1, "unknown_stage": 4}
    unknown = imported.deals.set_index("lead_id").loc[["L3", "L6", "L7"]]
    assert not unknown["is_closed"].any() and not unknown["is_won"].any()
    flagged = imported.issues[imported.issues["issue"] == "unknown_stage"]
    assert flagged["row"].tolist() == [5, 6, 7, 8] and flagged["value"].tolist()[-1] == "'On Hold'"


def test_explicit_won_and_closed_columns_decide_without_a_stage(tmp_path: Path) -> None:
    rows = {"Id": ["L0", "L1", "L2", "L3", "L4"], "Won": ["TRUE", "FALSE", "FALSE", "yes", "maybe"],
            "Closed": ["TRUE", "TRUE", "FALSE", "", "no"]}  # fmt: skip
    imported = import_csv(tmp_path, rows, "  lead_id: Id\n  won: Won\n  closed: Closed\n", 5)
    deals = imported.deals.set_index("lead_id")
    assert deals["state"].fillna("?").tolist() == ["won", "lost", "open", "won", "open"]
    assert imported.issues[imported.issues["issue"] == "bad_flag"][
        ["row", "field", "value"]
    ].values.tolist() == [[6, "won", "'maybe'"]]


def test_a_won_column_alone_leaves_deals_not_won_without_an_outcome(tmp_path: Path) -> None:
    # not won may be lost or still open: counting them closed or open would be a guess
    rows = {"Id": ["L0", "L1", "L2"], "Won": ["TRUE", "FALSE", "FALSE"]}
    imported = import_csv(tmp_path, rows, "  lead_id: Id\n  won: Won\n", 3)
    assert imported.summary()["by_outcome"] == {"won": 1, "lost": 0, "open": 0, "unknown": 2}
    assert imported.summary()["issues"] == {"no_outcome": 2, "undated": 3}


@pytest.mark.parametrize(("scale", "factor"), [("thousands", 1e3), ("millions", 1e6), ("Millions", 1e6),
                                                (250, 250.0), ("units", 1.0)])  # fmt: skip
def test_amounts_take_the_maps_scale(tmp_path: Path, scale: object, factor: float) -> None:
    rows = {"Id": ["L0", "L1", "L2"], "Stage": ["Won", "Lost", "Won"], "Amount": ["12.5", "$1,200", "lots"]}
    deals_map = f"  lead_id: Id\n  stage: Stage\n  amount: Amount\n  amount_scale: {scale}\n"
    imported = import_csv(tmp_path, rows, deals_map, 3)
    amounts = imported.deals.set_index("lead_id")["amount"]
    assert amounts["L0"] == 12.5 * factor and amounts["L1"] == 1200 * factor and np.isnan(amounts["L2"])
    bad = imported.issues[imported.issues["issue"] == "bad_amount"]
    assert bad[["row", "value"]].values.tolist() == [[4, "'lots'"]]


def test_a_scale_that_is_no_scale_fails_at_its_line(tmp_path: Path) -> None:
    path = export_map(tmp_path, "  lead_id: Id\n  amount_scale: dozens\n")
    with pytest.raises(ConfigError, match=r"map.yaml:8: .*amount_scale.*'dozens' is not a scale"):
        load_export_map(path)


def test_map_stages_replace_only_the_lists_given(tmp_path: Path) -> None:
    path = export_map(tmp_path, "  lead_id: Id\n  stages:\n    won: [Signed]\n")
    stages = load_export_map(path).deals.stages
    assert (
        stages.won == ["Signed"] and stages.lost == EXPORT_STAGES.lost and stages.open == EXPORT_STAGES.open
    )


def test_undated_deals_are_flagged_and_left_out_of_the_90_day_figures(tmp_path: Path) -> None:
    rows = {"Id": ["L0", "L1", "L2", "L3"], "Stage": ["Won", "Won", "Lost", "Won"],
            "Amount": ["90000", "90000", "10", "20000"], "Opened": ["2026-01-20", "", "", "someday"],
            "Closed": ["2026-02-01", "", "2026-09-01", ""]}  # fmt: skip
    deals_map = (
        "  lead_id: Id\n  stage: Stage\n  amount: Amount\n  created_at: Opened\n  close_date: Closed\n"
    )
    imported = import_csv(tmp_path, rows, deals_map, 5)
    assert imported.summary()["issues"] == {"bad_date": 1, "undated": 2}
    assert imported.issues[imported.issues["issue"] == "undated"]["deal_id"].tolist() == ["row 3", "row 5"]
    frame = outcome_frame(imported.deals, 5)
    frame["tier"] = ["VIP", "VIP", "Standard", "Standard", "Nurture"]
    by_lead = frame.set_index("lead_id")
    assert by_lead["days_to_opportunity"].isna().tolist() == [False, True, False, True, True]
    # L1 and L3 became deals at an unknown moment: no hindsight tier, never "Nurture in hindsight"; L2 opened
    # no later than its close date, 239 days on: Nurture; L4 never had a deal: Other. L0's 90,000 reaches the
    # VIP cut, the 80th percentile of the won 90,000, 90,000 and 20,000
    assert hindsight(frame)["hindsight"].fillna("?").tolist() == ["VIP", "?", "Nurture", "?", "Other"]
    vip = vip_precision_recall(frame)
    assert (vip["undated"], vip["leads"], vip["routed_vip"], vip["true_positives"]) == (2, 3, 1, 1)
