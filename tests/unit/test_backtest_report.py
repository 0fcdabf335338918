"""Backtest reports that fit real history: by lead source, by historical owner (on the roster or not), the leads
left for review with the model's suggestion and confidence, and `report` rendering a backtest output folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadrouter.backtest.outcome_frame import replay_tables
from leadrouter.backtest.replay import REVIEW_COLUMNS, Replay
from leadrouter.backtest.report import BacktestFolderError, read_replay, write_backtest_report
from leadrouter.outcomes.hindsight import hindsight
from leadrouter.outcomes.report import undated_note
from tests.helpers.outcome_frames import Segment, outcome_frame

SEGMENTS = [
    Segment("VIP", "rule", "vip", 20, 0.5),
    Segment("Standard", "rule", "fit", 40, 0.25),
    Segment("Nurture", "review", None, 10, 0.2),  # left for review: tier <NA> below
]
SOURCES = ["web", "Web", "partner", None]  # "Web" is another value: the import's vocabulary decides
OWNERS = ["Ada Byron", "ada byron", "Old Rep", None]  # the first two on the roster as 005A


def replay_frame() -> pd.DataFrame:
    frame = outcome_frame(SEGMENTS, seed=3)
    n = len(frame)
    review = frame["decided_kind"] == "review"
    frame.loc[review, ["tier", "decided_by", "owner_id"]] = pd.NA
    frame["row"] = pd.array(np.arange(n) + 2, dtype="Int64")
    frame["lead_source"] = pd.array([SOURCES[i % 4] for i in range(n)], dtype="string")
    frame["historical_owner"] = pd.array([OWNERS[i % 4] for i in range(n)], dtype="string")
    frame["historical_owner_id"] = frame["historical_owner"].str.casefold().map({"ada byron": "005A"})
    frame["historical_owner_id"] = frame["historical_owner_id"].astype("string")
    frame = frame.join(hindsight(frame))
    state = np.where(frame["won"], "won", np.where(frame["closed"], "lost", "open"))
    frame["deal_state"] = pd.Series(state, index=frame.index, dtype="string").where(frame["opportunity"])
    frame["suggested_tier"] = pd.Series("Standard", index=frame.index, dtype="string").where(review)
    frame["confidence"] = pd.Series(np.linspace(0.3, 0.6, n), dtype="Float64").where(review)
    frame["review_reason"] = pd.Series("below the confidence threshold", dtype="string", index=frame.index)
    frame["review_reason"] = frame["review_reason"].where(review)
    return frame


def test_by_source_groups_by_lead_source() -> None:
    frame = replay_frame()
    table = replay_tables(frame)["source"].set_index("lead_source")
    assert table["leads"].to_dict() == {"(none)": 17, "Web": 18, "partner": 17, "web": 18}
    for source, group in frame.groupby(frame["lead_source"].fillna("(none)")):
        assert table.loc[source, "opportunities"] == int(group["opportunity"].sum())
        assert table.loc[source, "won"] == int(group["won"].sum())


def test_historical_owners_off_the_roster_get_their_own_rows() -> None:
    table = replay_tables(replay_frame())["historical_owner"]
    assert table["historical_owner"].tolist() == ["(none)", "Ada Byron", "Old Rep", "ada byron"]
    assert table["roster_id"].fillna("-").tolist() == ["-", "005A", "-", "005A"]
    assert table["leads"].tolist() == [17, 18, 17, 18]


def test_review_leads_show_the_models_suggestion_and_confidence() -> None:
    frame = replay_frame()
    tables = replay_tables(frame)
    review = Replay("book.yaml", "v1", frame, tables).review
    assert list(review.columns) == REVIEW_COLUMNS
    assert len(review) == 10 and review["row"].tolist() == list(range(62, 72))
    assert (review["suggested_tier"] == "Standard").all()
    assert review["confidence"].round(6).tolist() == np.linspace(0.3, 0.6, 70)[60:].round(6).tolist()


def test_undated_opportunities_are_named_with_the_figures_they_lack() -> None:
    frame = replay_frame()
    assert undated_note(frame) == ""
    opportunities = frame.index[frame["opportunity"]]
    frame.loc[opportunities[:3], "days_to_opportunity"] = np.nan
    note = undated_note(frame)
    assert note.startswith(f"3 of {len(opportunities)} opportunities have no date.")
    assert "Days to opportunity" in note and "within 90 days" in note


def test_report_renders_a_backtest_output_folder(tmp_path: Path) -> None:
    frame = replay_frame()
    opportunities = frame.index[frame["opportunity"]]
    frame.loc[opportunities[:2], "days_to_opportunity"] = np.nan  # two undated deals
    frame.loc[0, "historical_owner"] = "<b>Mallory</b>"  # lead text stays text
    frame[["hindsight", "hindsight_reason"]] = hindsight(frame)
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / "out" / name).mkdir(parents=True)
        frame.to_csv(tmp_path / "out" / name / "leads.csv", index=False)  # as `backtest --out` writes it
    read = read_replay(tmp_path / "out" / "a.yaml")
    pd.testing.assert_frame_equal(read, frame[list(read.columns)], check_dtype=True)
    pages = write_backtest_report(tmp_path / "out", tmp_path / "report")
    assert [(p.relative_to(tmp_path).as_posix(), n) for p, n in pages] == [
        ("report/a.yaml/index.html", 70),
        ("report/b.yaml/index.html", 70),
    ]
    page = pages[0][0].read_text(encoding="utf-8")
    for title in ("Backtest report: a.yaml", "Deals without dates", "By lead source", "By historical owner",
                  "Leads left for review"):  # fmt: skip
        assert f">{title}<" in page
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in page and "<b>Mallory" not in page
    review = pd.read_csv(pages[0][0].parent / "review.csv")
    assert len(review) == 10 and (review["suggested_tier"] == "Standard").all()
    by_owner = pd.read_csv(pages[0][0].parent / "by_historical_owner.csv")
    assert by_owner["leads"].sum() == 70


def test_a_folder_without_a_backtest_is_named(tmp_path: Path) -> None:
    with pytest.raises(BacktestFolderError, match=f"{tmp_path} has no leads.csv"):
        write_backtest_report(tmp_path, tmp_path / "report")
