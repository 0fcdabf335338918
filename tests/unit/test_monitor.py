"""The daily fallback-fire report and anomaly alerts, on ledger history built with known figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadrouter import monitor
from leadrouter.assign.roster import load_roster
from leadrouter.store import open_store
from leadrouter.store.sla_events import events_since
from leadrouter.store.tables import decisions, sla_events

ROSTER = Path(__file__).parents[2] / "config" / "roster.yaml"
DAY = date(2026, 11, 25)  # a Wednesday
REPS = ["005000000000007", "005000000000008", "005000000000010"]


def history(store, quarantine_today: float, starve: str | None = None, seed: int = 1) -> None:
    """15 days of 100 leads a day: 5 % quarantined (today: quarantine_today), tiers 20/50/30, reps in turn."""
    rng = np.random.default_rng(seed)
    rows, events = [], []
    for back in range(15):
        day = DAY - timedelta(days=back)
        share = quarantine_today if back == 0 else 0.05 + rng.normal(0, 0.005)
        for i in range(100):
            at = datetime(day.year, day.month, day.day, 15, tzinfo=UTC) + timedelta(minutes=i)
            lead = f"{day:%m%d}-{i:03d}"
            quarantined = i < round(100 * share)
            tier = "VIP" if i % 10 < 2 else "Standard" if i % 10 < 7 else "Nurture"
            owners = [r for r in REPS if r != starve] if back == 0 else REPS
            sla = {"VIP": 5, "Standard": 30}.get(tier)
            touch = at + timedelta(minutes=(i % 7) * 2) if i % 5 else None  # every fifth lead never touched
            rows.append(
                {"source": "sandbox", "lead_id": lead, "status": "quarantined" if quarantined else "written",
                 "tier": None if quarantined else tier, "decided_by": "rule:x", "owner_id": None if quarantined else owners[i % len(owners)],
                 "decided_at": at, "assigned_at": at, "shadow": False, "write_attempts": 0,
                 "sla_due_at": at + timedelta(minutes=sla) if sla and not quarantined else None,
                 "first_touch_at": touch if not quarantined else None}
            )  # fmt: skip
            if sla and not quarantined and (touch is None or touch > at + timedelta(minutes=sla)):
                events.append(
                    {
                        "source": "sandbox",
                        "lead_id": lead,
                        "kind": "breach",
                        "at": at + timedelta(minutes=sla),
                    }
                )
    with store.transaction() as conn:
        conn.execute(decisions.insert(), rows)
        conn.execute(sla_events.insert(), events)


def test_the_fallback_fire_report_matches_an_independent_count(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        history(store, quarantine_today=0.05)
        now = datetime(2026, 11, 26, 12, tzinfo=UTC)
        frame = monitor.ledger_days(store, "sandbox", now)
        events = events_since(store, "sandbox", now - timedelta(days=2))
        fires = monitor.fallback_fires(frame, events, DAY, now)
        # independently: today's routed VIP leads are i % 10 in (0, 1) and i >= 5 (the first 5 are quarantined)
        vip = [i for i in range(5, 100) if i % 10 < 2]
        touch = {i: (i % 7) * 2 for i in vip if i % 5}
        late = [i for i in vip if i % 5 == 0 or touch[i] > 5]
        assert fires["by_tier"]["VIP"]["leads"] == len(vip)
        assert fires["by_tier"]["VIP"]["breach_rate"] == pytest.approx(len(late) / len(vip), abs=1e-4)
        assert fires["by_tier"]["VIP"]["median_touch_min"] == pytest.approx(
            float(np.median(list(touch.values())))
        )
        assert fires["by_tier"]["VIP"]["p90_touch_min"] == pytest.approx(
            float(np.quantile(list(touch.values()), 0.9))
        )
        clocked = [i for i in range(5, 100) if i % 10 < 7]
        assert fires["untouched"] == sum(1 for i in clocked if i % 5 == 0)
        assert fires["untouched_past_twice_sla"] == fires["untouched"]  # a day later, all long overdue
        assert monitor.anomalies(frame, DAY, load_roster(ROSTER)) == []  # an ordinary day


def test_a_quarantine_jump_and_a_starved_rep_are_flagged(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        history(store, quarantine_today=0.30, starve="005000000000008")
        frame = monitor.ledger_days(store, "sandbox", datetime(2026, 11, 26, tzinfo=UTC))
        found = {a.metric: a for a in monitor.anomalies(frame, DAY, load_roster(ROSTER))}
        assert set(found) == {"quarantine_rate", "rep_starved"}
        assert (
            found["quarantine_rate"].value == pytest.approx(0.30) and found["quarantine_rate"].baseline < 0.06
        )
        assert "Aisha Okafor" in found["rep_starved"].detail
        assert "quarantine_rate" in monitor.report_markdown(
            monitor.fallback_fires(
                frame,
                pd.DataFrame(columns=["lead_id", "kind", "at"]),
                DAY,
                datetime(2026, 11, 26, tzinfo=UTC),
            ),
            list(found.values()),
        )


def test_the_day_report_reads_the_day_and_its_baseline_from_the_ledger(tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        history(store, quarantine_today=0.30, starve="005000000000008")
        report = monitor.day_report(store, "sandbox", load_roster(ROSTER), DAY, now)
        frame = monitor.ledger_days(store, "sandbox", datetime(2026, 11, 26, tzinfo=UTC))
        events = events_since(store, "sandbox", datetime(2026, 11, 11, tzinfo=UTC))
    # the same figures as the report's parts, read over the day's window and the 14 days before it
    assert report.fires == monitor.fallback_fires(frame, events, DAY, now)
    assert report.fires["day"] == "2026-11-25"
    assert [a.metric for a in report.anomalies] == ["quarantine_rate", "rep_starved"]
    subject, lines = monitor.anomaly_alert(report.anomalies, DAY)
    assert subject == "leadrouter: 2 anomalies on 2026-11-25"
    assert lines == [f"{a.metric}: {a.detail}" for a in report.anomalies]
    assert lines[1] == "rep_starved: Aisha Okafor got no lead"
    # the run's line: 70 leads routed today, 7 in 10 of them VIP or Standard (a clock); only breaches happened
    assert monitor.report_line(report.fires, len(report.anomalies)) == (
        "2026-11-25: 49 leads with a clock · 0 re-routed · 0 rejected · 0 escalated · 2 anomalies"
    )
