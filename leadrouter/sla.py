"""Response SLAs: when each owner must first touch a lead, by the owner's working clock.

A rep's clock runs only in their working hours (time zone, days, holidays, time off): a VIP lead decided at
17:58 with a 5-minute SLA is due at 08:03 the next working morning. Queues, CRM users off the roster and
tiers marked around_the_clock run on the wall clock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import pandas as pd

from leadrouter import inert
from leadrouter.assign.availability import working_intervals
from leadrouter.assign.roster import Rep, Roster
from leadrouter.classify.rules import ResponseSla
from leadrouter.crm.base import CRM, cursor_of, parse_cursor
from leadrouter.schema import Status, Tier
from leadrouter.store import Store, sla_events, watermarks
from leadrouter.summary import owner_names

FIRST_LOOKBACK = pd.Timedelta(days=1)  # how far back the very first watch looks for rejections
OVERLAP = pd.Timedelta(minutes=10)


def due_times(
    owners: pd.Series, tiers: pd.Series, at: datetime, roster: Roster, sla: dict[Tier, ResponseSla]
) -> pd.Series:
    """When each lead's first touch is due (NaT: its tier has no SLA). One computation per distinct
    (owner, tier): a batch's leads share their decision time."""
    pairs = pd.DataFrame({"owner": owners.astype("string"), "tier": tiers.astype("string")})
    due = {
        # a queue has no clock: nobody in it touches leads, and re-routing from it is the pools' job
        (owner, tier): None
        if owner in roster.queues
        else due_at(roster.by_id.get(owner), sla.get(Tier(tier)), at)
        for owner, tier in pairs.dropna().drop_duplicates().itertuples(index=False)
    }
    values = [due.get((o, t)) for o, t in zip(pairs["owner"], pairs["tier"], strict=True)]
    return pd.Series(pd.to_datetime(values, utc=True), index=owners.index)


def due_at(rep: Rep | None, sla: ResponseSla | None, start: datetime) -> datetime | None:
    """start + the SLA's minutes, counted in the rep's working time unless around the clock."""
    if sla is None:
        return None
    if rep is None or sla.around_the_clock:
        return start + sla.window
    left = sla.window
    for begin, end in working_intervals(rep, start):
        if end - begin >= left:
            return begin + left
        left -= end - begin
    return None  # no working time within the lookahead: the rep is away for weeks; no clock to breach


def open_clocks(store: Store, source: str) -> pd.DataFrame:
    """Routed leads whose clock runs: written to their owner in the CRM (a lead still waiting for its write
    cannot be the owner's fault), due, not yet touched. Columns: lead_id, owner_id, tier, sla_due_at,
    assigned_at."""
    return sla_events.running_clocks(store, source, [Status.WRITTEN.value])


def untouched_leads(store: Store, source: str, queues: Collection[str], since: datetime) -> pd.DataFrame:
    """Leads written to a person (never a queue: nobody in it touches leads), decided since `since` and not
    touched yet, whatever their tier and whether or not a response clock runs (a reviewed lead, a Nurture lead
    given to a rep): CLOCK_COLUMNS, sla_due_at empty where no clock runs."""
    leads = sla_events.running_clocks(store, source, [Status.WRITTEN.value], clocked_only=False, since=since)
    return leads[~leads["owner_id"].isin(list(queues))].reset_index(drop=True)


def read_touches(
    store: Store, crm: CRM, source: str, queues: Collection[str], since: datetime, chunk: int
) -> pd.DataFrame:
    """First touches of every untouched lead routed to a person since `since` (untouched_leads), read from the
    CRM `chunk` leads a call and recorded (record_touches), each charged to the owner who had the lead then;
    returns the touched leads. sla-watch reads only the leads whose clock runs; this reads them all."""
    leads = untouched_leads(store, source, queues, since)
    touched = [
        record_touches(store, source, part, crm.first_touch(part["lead_id"].tolist()))
        for part in (leads.iloc[i : i + chunk] for i in range(0, len(leads), chunk))
    ]
    return pd.concat(touched, ignore_index=True) if touched else leads.iloc[:0]


def first_touches(crm: CRM, clocks: pd.DataFrame) -> pd.DataFrame:
    """When each owner first acted on each open clock's lead (lead_id, first_touch_at), from the CRM; no call
    when no clock runs."""
    if clocks.empty:
        return pd.DataFrame(columns=["lead_id", "first_touch_at"])
    return crm.first_touch(clocks["lead_id"].tolist())


def record_touches(store: Store, source: str, clocks: pd.DataFrame, touches: pd.DataFrame) -> pd.DataFrame:
    """Stop the clocks of leads touched since their current owner got them (a touch event of that owner); returns
    those leads with first_touch_at. touches: first_touch's lead_id, first_touch_at. late: after the due time;
    null where no clock runs."""
    seen = clocks.merge(touches, on="lead_id", how="inner").dropna(subset=["first_touch_at"])
    seen = seen[seen["first_touch_at"] >= seen["assigned_at"].fillna(seen["first_touch_at"])]
    if seen.empty:
        return seen
    late = (seen["first_touch_at"] > seen["sla_due_at"]).astype(object).where(seen["sla_due_at"].notna())
    sla_events.record_first_touches(store, source, seen.assign(late=late))
    return seen


def breached(clocks: pd.DataFrame, touched: pd.DataFrame, now: datetime) -> list[str]:
    """Leads past their due time with no touch: their owner let the SLA lapse."""
    late = clocks[(clocks["sla_due_at"] < pd.Timestamp(now)) & ~clocks["lead_id"].isin(touched["lead_id"])]
    return late["lead_id"].tolist()


def new_rejections(store: Store, crm: CRM, source: str, now: datetime) -> dict[str, str]:
    """lead -> rep, for leads their owner set to "Rejected - Wrong Owner" in the CRM since the last read and
    that we have not moved yet; the source's rejections watermark moves to the newest one read."""
    key = f"{source}:rejections"
    mark = watermarks.get_watermark(store, key)
    # overlap the last read: a CRM may commit a change late; fresh_rejections makes reading twice harmless
    since = (pd.Timestamp(parse_cursor(mark)[0]) if mark else pd.Timestamp(now) - FIRST_LOOKBACK) - OVERLAP
    found = crm.rejections(since)
    if len(found):
        watermarks.advance_watermark(store, key, cursor_of(found["rejected_at"].max(), ""))
    return fresh_rejections(store, source, found)


def fresh_rejections(store: Store, source: str, found: pd.DataFrame) -> dict[str, str]:
    """lead -> rep, for rejections read from the CRM (REJECTION_COLUMNS) that still mean something: made by the
    lead's current owner after they got it, and not acted on yet (a lead nobody else could take stays with the
    rep who rejected it, and must not escalate again every minute)."""
    if found.empty:
        return {}
    ids = found["lead_id"].astype(str).unique().tolist()
    current, done = sla_events.owners_and_rejections(store, source, ids)
    found = found.astype({"lead_id": str, "owner_id": str}).merge(current, on=["lead_id", "owner_id"])
    found = found[found["rejected_at"] >= found["since"]]
    found = found.merge(done.assign(acted=True), on=["lead_id", "owner_id"], how="left")
    return dict(found.loc[found["acted"].isna(), ["lead_id", "owner_id"]].itertuples(index=False, name=None))


WATCH_COLUMNS = ["event", "lead", "tier", "old owner", "new owner", "escalated to", "why"]
WATCH_ROWS = 200  # rows in the sla-watch artifact; a larger run says how many more


def watch_actions(
    clocks: pd.DataFrame,
    late: list[str],
    rejected: dict[str, str],
    moved: pd.DataFrame,
    roster: Roster,
    kept: dict[str, str] | None = None,
) -> pd.DataFrame:
    """What one sla-watch run did, one row per lead (WATCH_COLUMNS, raw text): each breach and rejection, the
    old owner and the new one (or why it stayed), who was told as manager, and why. clocks: open_clocks at the
    start; late: breached leads; rejected: lead -> the rep who rejected it; moved: reroute's rows; kept: lead ->
    manager, for the leads nobody new could take (reroute escalated them and left their owner)."""
    names = owner_names(roster)
    clock = clocks.drop_duplicates("lead_id").set_index("lead_id")

    def who(owner: object) -> str:
        return "" if owner is None or pd.isna(owner) else f"{names.get(str(owner), str(owner))} ({owner})"

    def breach_why(lead: str) -> str:
        when = clock["sla_due_at"].get(lead)
        return (
            "SLA lapsed" if when is None or pd.isna(when) else f"no first touch by {when:%Y-%m-%d %H:%M} UTC"
        )

    rows = []
    for r in moved.itertuples(index=False):  # at most a run's re-routes: a few leads a minute
        breach = r.why == "breach"
        why = breach_why(r.lead_id) if breach else "rejected in the CRM as the wrong owner"
        if breach and r.lapses > 1:
            why += f" (lapse {r.lapses})"
        event = "breach" if breach else "rejection"
        rows.append([event, r.lead_id, r.tier, who(r.old_owner_id), who(r.owner_id), who(r.escalate_to), why])
    # not moved: nobody new could take them (escalated, owner kept), or a touch or a new decision came first
    kept = kept or {}
    moved_ids = set(moved["lead_id"])

    def not_moved(lead: str) -> tuple[str, str]:
        if lead in kept:
            return who(kept[lead]), "nobody else could take it: escalated, owner kept"
        return "", "touched or re-decided meanwhile: it stays"

    for lead in (x for x in late if x not in moved_ids):
        manager, outcome = not_moved(lead)
        owner = who(clock["owner_id"].get(lead))
        rows.append(
            ["breach", lead, clock["tier"].get(lead), owner, "", manager, f"{breach_why(lead)}; {outcome}"]
        )
    for lead, rep in rejected.items():
        if lead not in moved_ids:
            manager, outcome = not_moved(lead)
            why = f"rejected in the CRM as the wrong owner; {outcome}"
            rows.append(["rejection", lead, clock["tier"].get(lead), who(rep), "", manager, why])
    return pd.DataFrame(rows, columns=WATCH_COLUMNS).fillna("")


def run_actions(
    store: Store,
    source: str,
    clocks: pd.DataFrame,
    late: list[str],
    rejected: dict[str, str],
    moved: pd.DataFrame,
    roster: Roster,
    at: datetime,
) -> pd.DataFrame:
    """watch_actions of one run, with the manager told of each lead it could not move (escalated since `at`)."""
    gone = set(moved["lead_id"])
    stayed = [lead for lead in [*late, *rejected] if lead not in gone]
    kept = sla_events.escalations_since(store, source, stayed, at)
    return watch_actions(clocks, late, rejected, moved, roster, kept)


def watch_summary(
    clocks: pd.DataFrame,
    touched: pd.DataFrame,
    late: list[str],
    rejected: dict[str, str],
    moved: pd.DataFrame,
    actions: pd.DataFrame,
    sent: pd.DataFrame,
) -> dict[str, int]:
    """An sla-watch run's counts (its result; watch_line says them): sent is what notify.tell_reroutes returned."""
    return {
        "open": len(clocks),
        "touched": len(touched),
        "breached": len(late),
        "rejected": len(rejected),
        "rerouted": len(moved),
        # a lead nobody else could take is escalated with its owner kept: counted, though not re-routed
        "escalated": int((actions["escalated to"] != "").sum()),
        "notifications_failed": int((sent.get("status") == "failed").sum()) if len(sent) else 0,
    }


def watch_line(summary: dict) -> str:
    """An sla-watch run's counts in one line, its name and its final state's message in the Prefect UI:
    `2 breached · 1 rejected · 2 re-routed · 1 escalated · 14 open clocks` (`14 open clocks: none lapsed`)."""
    acted = [(summary[k], label) for k, label in WATCH_COUNTS if summary[k]]
    if not acted:
        return f"{summary['open']} open clocks: none lapsed, none rejected"
    return " · ".join([f"{n} {label}" for n, label in acted] + [f"{summary['open']} open clocks"])


# what a run's line names, when it happened
WATCH_COUNTS = [
    ("breached", "breached"),
    ("rejected", "rejected"),
    ("rerouted", "re-routed"),
    ("escalated", "escalated"),
]


def watch_markdown(actions: pd.DataFrame, clocks_open: int, touched: int) -> str:
    """The sla-watch artifact: the run's counts, then one table row per breach and rejection (every cell inert:
    lead ids come from the CRM)."""
    event = actions["event"]
    lines = [
        "# SLA watch",
        "",
        f"{(event == 'breach').sum()} breached and {(event == 'rejection').sum()} rejected: "
        f"{(actions['new owner'] != '').sum()} re-routed, {(actions['escalated to'] != '').sum()} escalated to a "
        f"manager. {clocks_open} open clocks, {touched} first touched since the last run.",
        "",
        "| " + " | ".join(WATCH_COLUMNS) + " |",
        "|" + "---|" * len(WATCH_COLUMNS),
        *(
            "| " + " | ".join(inert.markdown(v) for v in row) + " |"
            for row in actions.head(WATCH_ROWS).itertuples(index=False)
        ),
    ]
    if len(actions) > WATCH_ROWS:
        lines += [
            "",
            f"… and {len(actions) - WATCH_ROWS} more (`leadrouter explain LEAD_ID` shows any lead).",
        ]
    return "\n".join(lines)
