"""SLA clocks, breaches, re-routing and escalation, on a SQLite ledger (PostgreSQL: integration/test_sla_reroute)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from leadrouter.assign.roster import load_roster
from leadrouter.classify.rules import DEFAULT_SLA, ResponseSla
from leadrouter.record import BatchContext, record_batch
from leadrouter.reroute import RejectError, reject_lead, reroute
from leadrouter.schema import Tier
from leadrouter.sla import (
    FIRST_LOOKBACK,
    OVERLAP,
    breached,
    due_at,
    first_touches,
    new_rejections,
    open_clocks,
    record_touches,
    run_actions,
    watch_actions,
    watch_line,
    watch_markdown,
    watch_summary,
)
from leadrouter.store import open_store
from leadrouter.store.tables import decisions, sla_events
from leadrouter.store.watermarks import get_watermark
from tests.helpers.clock import WORKDAY
from tests.helpers.ledger import NO_QUARANTINE, ROSTER, leads, written


def test_the_clock_counts_the_owners_working_time_only() -> None:
    roster = load_roster(ROSTER)
    maya = roster.by_id["005000000000001"]  # New York, 08:00-18:00, US holidays
    vip, standard = DEFAULT_SLA[Tier.VIP], DEFAULT_SLA[Tier.STANDARD]
    # 11:30 New York: due 5 minutes later
    assert due_at(maya, vip, WORKDAY) == WORKDAY + timedelta(minutes=5)
    # Wed 17:50 New York with 30 minutes: 10 today, then Thursday is Thanksgiving, so 20 on Friday from 08:00
    evening = datetime(2026, 11, 25, 22, 50, tzinfo=UTC)
    assert due_at(maya, standard, evening) == datetime(2026, 11, 27, 13, 20, tzinfo=UTC)
    # around the clock, and a queue, run on the wall clock
    assert due_at(maya, ResponseSla(minutes=30, around_the_clock=True), evening) == evening + timedelta(
        minutes=30
    )
    assert due_at(None, standard, evening) == evening + timedelta(minutes=30)


def test_a_vip_breach_tells_the_manager_at_once(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        roster = load_roster(ROSTER)
        record_batch(
            store, BatchContext("sandbox", "r1", "v1", at=WORKDAY), leads(2, "VIP"), NO_QUARANTINE, roster
        )
        written(store)
        clocks = open_clocks(store, "sandbox")
        assert (clocks["sla_due_at"] == WORKDAY + timedelta(minutes=5)).all()
        at = WORKDAY + timedelta(minutes=6)
        moved = reroute(
            store, "sandbox", breached(clocks, clocks.iloc[0:0], at), "breach", roster, dict(DEFAULT_SLA), at
        )
        assert (moved["escalate_to"] == "005000000000014").all() and (
            moved["owner_id"] != moved["old_owner_id"]
        ).all()


class RejectingCRM:
    """Answers rejections(since) from a list, noting each `since` it was asked for."""

    def __init__(self, rejections: list[tuple[str, str, datetime]]) -> None:
        self.rejections_list, self.asked = rejections, []

    def rejections(self, since: pd.Timestamp) -> pd.DataFrame:
        self.asked.append(since)
        rows = [r for r in self.rejections_list if r[2] >= since]
        frame = pd.DataFrame(rows, columns=["lead_id", "owner_id", "rejected_at"])
        return frame.astype({"rejected_at": "datetime64[us, UTC]"})


def test_rejections_are_read_from_the_watermark_less_an_overlap_and_each_moves_once(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        roster = load_roster(ROSTER)
        record_batch(
            store, BatchContext("sandbox", "r1", "v1", at=WORKDAY), leads(2, "VIP"), NO_QUARANTINE, roster
        )
        written(store)
        owner = open_clocks(store, "sandbox").set_index("lead_id")["owner_id"]
        at = WORKDAY + timedelta(minutes=3)
        crm = RejectingCRM([("S00000", owner["S00000"], at), ("S00001", "someone-else", at)])
        now = WORKDAY + timedelta(minutes=4)
        # the first watch looks a day back; only the current owner's rejection counts
        assert new_rejections(store, crm, "sandbox", now) == {"S00000": owner["S00000"]}
        assert crm.asked == [pd.Timestamp(now) - FIRST_LOOKBACK - OVERLAP]
        assert get_watermark(store, "sandbox:rejections") == f"{at:%Y-%m-%dT%H:%M:%S.%fZ}|"
        # the next watch reads from the newest rejection less the overlap, and the same rejection again
        assert new_rejections(store, crm, "sandbox", now + timedelta(minutes=1)) == {
            "S00000": owner["S00000"]
        }
        assert crm.asked[1] == pd.Timestamp(at) - OVERLAP
        reroute(store, "sandbox", ["S00000"], "reject", roster, dict(DEFAULT_SLA), now)
        # once moved, reading it again moves nothing; nothing new leaves the watermark where it was
        assert new_rejections(store, crm, "sandbox", now + timedelta(minutes=2)) == {}
        assert new_rejections(store, RejectingCRM([]), "sandbox", now) == {}
        assert get_watermark(store, "sandbox:rejections") == f"{at:%Y-%m-%dT%H:%M:%S.%fZ}|"


def test_a_lead_nobody_else_can_take_stays_and_reject_says_why(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        roster = load_roster(ROSTER)
        ctx = BatchContext("sandbox", "r1", "v1", at=WORKDAY)
        [queue] = record_batch(store, ctx, leads(1, "Nurture"), NO_QUARANTINE, roster)["owner_id"]
        at = WORKDAY + timedelta(minutes=1)
        # re-routing a queue's lead (sla-watch's path) finds nobody new: it stays, the manager is told, no crash
        assert reroute(store, "sandbox", ["S00000"], "reject", roster, dict(DEFAULT_SLA), at).empty
        with store.engine.connect() as conn:
            owner = conn.execute(select(decisions.c.owner_id).where(decisions.c.lead_id == "S00000")).scalar()
            kinds = conn.execute(select(sla_events.c.kind, sla_events.c.owner_id)).all()
        assert owner == queue == "00G000000000001"
        assert kinds == [("reject", queue), ("escalation", queue)]
        with pytest.raises(
            RejectError, match=r"S00000 \(Nurture\) is with the queue 00G000000000001 \(.+\), not with a rep"
        ):
            reject_lead(store, "sandbox", "S00000", roster, dict(DEFAULT_SLA), at)
        with pytest.raises(RejectError, match="lead NOPE has no routed decision to reject in sandbox"):
            reject_lead(store, "sandbox", "NOPE", roster, dict(DEFAULT_SLA), at)
        record_batch(store, ctx, leads(1, "Standard", start=1), NO_QUARANTINE, roster)
        moved = reject_lead(store, "sandbox", "S00001", roster, dict(DEFAULT_SLA), at, note="wrong territory")
        assert len(moved) == 1 and moved.iloc[0]["owner_id"] != moved.iloc[0]["old_owner_id"]


SLOW = {"005000000000007", "005000000000010"}  # never answer
ANSWER_AFTER = timedelta(minutes=10)  # everyone else touches a lead ten minutes after getting it


def test_a_simulated_day_matches_its_ground_truth(tmp_path: Path) -> None:
    """60 Standard leads over three hours; two reps never answer, the rest answer in ten minutes. The watch
    runs every minute. Ground truth: every assignment to a slow rep breaches once its SLA runs out and is
    re-routed, no fast rep ever breaches, and no lead waits untouched past twice its SLA."""
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        roster = load_roster(ROSTER)
        sla = dict(DEFAULT_SLA)
        arrivals = {WORKDAY + timedelta(minutes=3 * i): i for i in range(60)}
        assignments: list[
            tuple[str, str, pd.Timestamp]
        ] = []  # (lead, owner, assigned_at): the simulation's truth
        end = WORKDAY + timedelta(hours=5)
        now = WORKDAY
        while now <= end:
            if now in arrivals:
                batch = leads(1, "Standard", start=arrivals[now]).assign(created_at=pd.Timestamp(now))
                got = record_batch(
                    store, BatchContext("sandbox", "sim", "v1", at=now), batch, NO_QUARANTINE, roster
                )
                assignments += [(r.lead_id, r.owner_id, pd.Timestamp(now)) for r in got.itertuples()]
            written(store)
            clocks = open_clocks(store, "sandbox")
            answered = clocks[
                ~clocks["owner_id"].isin(SLOW) & (clocks["assigned_at"] + ANSWER_AFTER <= pd.Timestamp(now))
            ]
            touched = record_touches(
                store,
                "sandbox",
                clocks,
                answered.assign(first_touch_at=answered["assigned_at"] + ANSWER_AFTER)[
                    ["lead_id", "first_touch_at"]
                ],
            )
            moved = reroute(store, "sandbox", breached(clocks, touched, now), "breach", roster, sla, now)
            assignments += [(r.lead_id, r.owner_id, pd.Timestamp(now)) for r in moved.itertuples()]
            written(store)
            waiting = open_clocks(store, "sandbox")
            assert not (
                waiting["sla_due_at"] + sla[Tier.STANDARD].window < pd.Timestamp(now)
            ).any()  # never 2× SLA
            now += timedelta(minutes=1)
        truth = pd.DataFrame(assignments, columns=["lead_id", "owner_id", "assigned_at"])
        with store.engine.connect() as conn:
            events = pd.DataFrame(
                conn.execute(
                    select(sla_events.c.kind, sla_events.c.lead_id, sla_events.c.owner_id, sla_events.c.at)
                ).all(),
                columns=["kind", "lead_id", "owner_id", "at"],
            )
            final = pd.DataFrame(
                conn.execute(
                    select(decisions.c.lead_id, decisions.c.owner_id, decisions.c.first_touch_at)
                ).all(),
                columns=["lead_id", "owner_id", "first_touch_at"],
            )
        breaches = events[events["kind"] == "breach"]
        expected = truth[truth["owner_id"].isin(SLOW)]  # every assignment to a slow rep, and only those
        assert len(expected) > 0 and len(breaches) == len(expected) == (events["kind"] == "reroute").sum()
        assert sorted(zip(breaches["lead_id"], breaches["owner_id"], strict=True)) == sorted(
            zip(expected["lead_id"], expected["owner_id"], strict=True)
        )
        assert (events.loc[events["kind"] == "touch", "owner_id"].isin(SLOW)).sum() == 0
        # in the end every lead is with a rep who answered, and was touched
        assert final["first_touch_at"].notna().all() and not final["owner_id"].isin(SLOW).any()


def test_a_queue_has_no_clock_and_a_stale_breach_list_moves_nothing(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        roster = load_roster(ROSTER)
        saturday = datetime(
            2026, 11, 28, 12, tzinfo=UTC
        )  # no AE at work: Standard leads end in the triage queue
        got = record_batch(
            store,
            BatchContext("sandbox", "r", "v1", at=saturday),
            leads(2, "Standard"),
            NO_QUARANTINE,
            roster,
        )
        assert set(got["owner_id"]) == {"00G000000000004"} and got["sla_due_at"].isna().all()
        record_batch(
            store,
            BatchContext("sandbox", "r", "v1", at=WORKDAY),
            leads(2, "Standard", start=10),
            NO_QUARANTINE,
            roster,
        )
        written(store)
        at = WORKDAY + timedelta(minutes=31)
        late = breached(open_clocks(store, "sandbox"), pd.DataFrame(columns=["lead_id"]), at)
        assert len(late) == 2
        assert len(reroute(store, "sandbox", late, "breach", roster, dict(DEFAULT_SLA), at)) == 2
        written(store)
        # the same list again (a retried task, a second watcher): the leads' new clocks have not run out
        assert reroute(store, "sandbox", late, "breach", roster, dict(DEFAULT_SLA), at).empty


def test_the_watch_lists_each_breach_and_rejection_with_both_owners_and_why(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        roster = load_roster(ROSTER)
        names = {r.key: r.name for r in roster.reps} | roster.queues
        sla = dict(DEFAULT_SLA)
        ctx = BatchContext("sandbox", "r1", "v1", at=WORKDAY)
        first = record_batch(store, ctx, leads(3, "Standard"), NO_QUARANTINE, roster).set_index("lead_id")
        written(store)
        at = WORKDAY + timedelta(minutes=31)
        # the owner of S00000 rejects it; S00001 and S00002 breach, and only S00001 moves (S00002 is skipped,
        # as reroute skips a lead touched or re-decided meanwhile)
        rejected = {"S00000": first.at["S00000", "owner_id"], "S00009": "005000000000001"}
        by_reject = reroute(store, "sandbox", ["S00000"], "reject", roster, sla, at, rejected_by=rejected)
        clocks = open_clocks(store, "sandbox")
        late = breached(clocks, pd.DataFrame(columns=["lead_id"]), at)
        assert late == ["S00001", "S00002"]
        by_breach = reroute(store, "sandbox", late[:1], "breach", roster, sla, at)
        actions = watch_actions(clocks, late, rejected, pd.concat([by_reject, by_breach]), roster)
        # what the sla-watch task publishes: the same rows, nobody having been escalated since `at`
        moved = pd.concat([by_reject, by_breach], ignore_index=True)
        published = run_actions(store, "sandbox", clocks, late, rejected, moved, roster, at)
        assert published.values.tolist() == actions.values.tolist()

    def who(owner: str) -> str:
        return f"{names[owner]} ({owner})"

    due = clocks.set_index("lead_id")["sla_due_at"]
    stays = "touched or re-decided meanwhile: it stays"
    expected = [
        ["rejection", "S00000", "Standard", who(first.at["S00000", "owner_id"]),
         who(by_reject.iloc[0]["owner_id"]), "", "rejected in the CRM as the wrong owner"],
        ["breach", "S00001", "Standard", who(first.at["S00001", "owner_id"]), who(by_breach.iloc[0]["owner_id"]),
         "", f"no first touch by {due['S00001']:%Y-%m-%d %H:%M} UTC"],
        ["breach", "S00002", "Standard", who(first.at["S00002", "owner_id"]), "", "",
         f"no first touch by {due['S00002']:%Y-%m-%d %H:%M} UTC; {stays}"],
        ["rejection", "S00009", "", who("005000000000001"), "", "", f"rejected in the CRM as the wrong owner; {stays}"],
    ]  # fmt: skip
    assert actions.values.tolist() == expected
    assert by_reject.iloc[0]["owner_id"] != first.at["S00000", "owner_id"]
    markdown = watch_markdown(actions, len(clocks), 0).splitlines()
    assert markdown[2] == (
        f"2 breached and 2 rejected: 2 re-routed, 0 escalated to a manager. {len(clocks)} open clocks, "
        "0 first touched since the last run."
    )
    assert markdown[4] == "| event | lead | tier | old owner | new owner | escalated to | why |"
    assert len(markdown) == 6 + len(expected)
    # had nobody else been able to take S00002, reroute would have escalated it and left it with its owner
    manager = "005000000000014"
    kept = watch_actions(
        clocks, late, rejected, pd.concat([by_reject, by_breach]), roster, {"S00002": manager}
    )
    assert kept.values.tolist()[2] == [
        "breach", "S00002", "Standard", who(first.at["S00002", "owner_id"]), "", who(manager),
        f"no first touch by {due['S00002']:%Y-%m-%d %H:%M} UTC; nobody else could take it: escalated, owner kept",
    ]  # fmt: skip
    assert (
        watch_markdown(kept, len(clocks), 0)
        .splitlines()[2]
        .startswith("2 breached and 2 rejected: 2 re-routed, 1 escalated to a manager.")
    )


def test_a_watch_run_is_named_by_what_it_did() -> None:
    quiet = {"open": 14, "touched": 3, "breached": 0, "rejected": 0, "rerouted": 0, "escalated": 0}
    assert watch_line(quiet) == "14 open clocks: none lapsed, none rejected"
    busy = quiet | {"breached": 2, "rejected": 1, "rerouted": 2, "escalated": 1}
    assert watch_line(busy) == "2 breached · 1 rejected · 2 re-routed · 1 escalated · 14 open clocks"
    assert watch_line(quiet | {"breached": 1, "escalated": 1}) == "1 breached · 1 escalated · 14 open clocks"


def test_the_watch_artifact_keeps_crm_text_inert() -> None:
    hostile = "[click](javascript:alert(1)) http://evil.example/x"
    actions = pd.DataFrame(
        [["breach", hostile, "VIP", "Maya (005A)", "Ken (005B)", "", "SLA lapsed"]],
        columns=["event", "lead", "tier", "old owner", "new owner", "escalated to", "why"],
    )
    row = watch_markdown(actions, 1, 0).splitlines()[-1]
    assert row == (
        r"| breach | \[click\]\(javascript\[:\]alert\(1\)\) hxxp://evil\[.\]example/x | VIP | Maya \(005A\) "
        r"| Ken \(005B\) |  | SLA lapsed |"
    )


def test_a_watch_run_counts_what_it_did() -> None:
    clocks = pd.DataFrame({"lead_id": ["A", "B", "C", "D"]})
    touched = pd.DataFrame({"lead_id": ["A"]})
    moved = pd.DataFrame({"lead_id": ["B", "X"]})
    actions = pd.DataFrame({"escalated to": ["", "Sam (005)", ""]})
    sent = pd.DataFrame({"status": ["sent", "failed", "failed", "sent"]})
    summary = watch_summary(clocks, touched, ["B", "C"], {"X": "005"}, moved, actions, sent)
    assert summary == {
        "open": 4, "touched": 1, "breached": 2, "rejected": 1, "rerouted": 2, "escalated": 1,
        "notifications_failed": 2,
    }  # fmt: skip
    nothing = watch_summary(
        clocks.iloc[:0], touched.iloc[:0], [], {}, moved.iloc[:0], actions.iloc[:0], pd.DataFrame()
    )
    assert nothing == dict.fromkeys(summary, 0)


class _Touches:
    """A CRM that answers first_touch and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def first_touch(self, lead_ids: list[str]) -> pd.DataFrame:
        self.asked.append(lead_ids)
        return pd.DataFrame({"lead_id": lead_ids[:1], "first_touch_at": [WORKDAY]})


def test_first_touches_asks_the_crm_only_when_clocks_run() -> None:
    crm = _Touches()
    none = first_touches(crm, pd.DataFrame(columns=["lead_id"]))
    assert (none.columns.tolist(), len(none), crm.asked) == (["lead_id", "first_touch_at"], 0, [])
    found = first_touches(crm, pd.DataFrame({"lead_id": ["A", "B"]}))
    assert crm.asked == [["A", "B"]]
    assert found.to_dict("records") == [{"lead_id": "A", "first_touch_at": WORKDAY}]
