"""Custom fields kept on the decision (SQLite and PostgreSQL), shown by `leadrouter explain`, grouped by in the
outcome tables."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.assign.roster import load_roster
from leadrouter.fields import load_fields
from leadrouter.outcomes.tables import metrics_by_field, with_custom_fields
from leadrouter.record import BatchContext, record_batch
from leadrouter.store import open_store
from leadrouter.store.decisions import decided_custom_fields
from tests.helpers.cli import run
from tests.helpers.custom_fields import write_fields
from tests.helpers.ledger import NO_QUARANTINE, ROSTER, classified

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def routed(store_url: str, fields_path: Path, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    """Three leads with custom values (one hostile) recorded through record_batch; what the ledger kept."""
    monkeypatch.setenv("LEADROUTER_FIELDS_PATH", str(fields_path))
    leads = classified(3).assign(
        lead_id=["C1", "C2", "C3"],
        occupation=pd.array(["Student", "<!channel>\x1b[31m", None], dtype="string"),
        time_on_site=pd.array([1532.0, None, 0.5], dtype="Float64"),
        repeat_visitor=pd.array([True, False, None], dtype="boolean"),
        last_activity=pd.to_datetime(["2026-01-05T09:30:00Z", None, None], utc=True),
    )
    with open_store(store_url) as store:
        record_batch(
            store, BatchContext("sandbox", "r", "v1", at=AT), leads, NO_QUARANTINE, load_roster(ROSTER)
        )
        return decided_custom_fields(store, "sandbox").sort_values("lead_id", ignore_index=True)


WANT = [
    {"occupation": "Student", "time_on_site": 1532.0, "repeat_visitor": True, "lead_quality": None,
     "last_activity": "2026-01-05T09:30:00+00:00"},
    {"occupation": "<!channel>\x1b[31m", "time_on_site": None, "repeat_visitor": False, "lead_quality": None,
     "last_activity": None},
    {"occupation": None, "time_on_site": 0.5, "repeat_visitor": None, "lead_quality": None,
     "last_activity": None},
]  # fmt: skip


def test_custom_fields_are_kept_on_the_decision_in_sqlite_and_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields_path = write_fields(tmp_path)
    url = f"sqlite:///{tmp_path}/ledger.db"
    stored = routed(url, fields_path, monkeypatch)
    assert stored["lead_id"].tolist() == ["C1", "C2", "C3"]
    assert stored["custom_fields"].tolist() == WANT
    env = {"LEADROUTER_STORE_URL": url, "LEADROUTER_ROSTER_PATH": str(ROSTER), "COLUMNS": "200"}
    shown = run("explain", "C1", env=env | {"LEADROUTER_FIELDS_PATH": str(fields_path)})
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert (
        "fields     occupation='Student', time_on_site=1532.0, repeat_visitor=True, lead_quality=<NA>, "
        "last_activity='2026-01-05T09:30:00+00:00'" in shown.stdout
    )
    hostile = run("explain", "C2", env=env).stdout
    # the lead's text cannot reach the terminal as control characters
    assert "occupation='\\x3c!channel\\x3e\\x1b[31m'" in hostile and "\x1b[31m" not in hostile


def test_custom_fields_are_kept_on_the_decision_in_postgres(
    pg_store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = routed(pg_store_url, write_fields(tmp_path), monkeypatch)
    assert stored["custom_fields"].tolist() == WANT


def test_outcome_tables_group_by_a_custom_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fields = load_fields(write_fields(tmp_path))
    stored = routed(f"sqlite:///{tmp_path}/ledger.db", tmp_path / "fields.yaml", monkeypatch)
    outcomes = pd.DataFrame(
        {
            "lead_id": ["C1", "C2", "C3", "C9"],
            "accepted": [True, True, False, False],
            "meeting": [True, False, False, False],
            "opportunity": [True, False, False, False],
            "won": [True, False, False, False],
            "closed": [True, False, False, False],
            "pipeline": [100.0, 0.0, 0.0, 0.0],
            "revenue": [100.0, 0.0, 0.0, 0.0],
            "sla_breached": False,
            "wrong_assignment": False,
            "reassigned": False,
            "manual_triage": False,
            "speed_to_lead_min": [3.0, 9.0, None, None],
        }
    )
    frame = with_custom_fields(outcomes, stored, fields)
    by_flag = metrics_by_field(frame, fields.field("repeat_visitor"))
    assert by_flag[["repeat_visitor", "leads", "accepted", "won"]].values.tolist() == [
        ["(none)", 2, 0, 0], ["False", 1, 1, 0], ["True", 1, 1, 1],
    ]  # fmt: skip
    by_month = metrics_by_field(frame, fields.field("last_activity"))
    assert by_month[["last_activity", "leads", "won"]].values.tolist() == [
        ["(none)", 3, 0],
        ["2026-01", 1, 1],
    ]
