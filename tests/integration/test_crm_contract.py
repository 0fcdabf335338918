"""One contract, three CRMs: the sandbox, Salesforce and HubSpot adapters give the same answers on the same world.

Salesforce and HubSpot are local servers speaking their documented APIs, reached through simple-salesforce and
hubspot-api-client over HTTP(S).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.crm.base import ACCOUNT_COLUMNS, REJECTION_COLUMNS, WRITE_RESULT_COLUMNS
from leadrouter.fields import CustomField, LeadFields
from leadrouter.schema import LEAD_COLUMNS, UTC_TS
from localapi.harness import KINDS, Harness, open_harness

HOSTILE = ["x' OR Name LIKE '%", "a\\'b\"c@example.com", "%", "_", "' OR 1=1 --"]


@pytest.fixture(params=KINDS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    h = open_harness(request.param, tmp_path)
    yield h
    h.close()


def drain(h: Harness, limit: int, cursor: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """Follow the cursor until the CRM has nothing newer; every page, concatenated."""
    pages = []
    for _ in range(1000):
        page, cursor = h.crm.fetch_new_leads(cursor, limit)
        if page.empty:
            return pd.concat(pages, ignore_index=True) if pages else page, cursor
        assert len(page) <= limit
        pages.append(page)
    raise AssertionError("the cursor never reached the end")


def routable(h: Harness) -> set[str]:
    leads = h.sandbox.leads()
    keep = (leads["is_deleted"] == 0) & leads["converted_opportunity_id"].isna()
    return set(leads.loc[keep, "id"])


def test_pull_returns_every_routable_lead_once_in_stamp_order(harness: Harness) -> None:
    # every lead saved in one instant shares one stamp: a page boundary inside the tie must skip nothing
    pulled, _ = drain(harness, limit=37)
    assert list(pulled.columns) == list(LEAD_COLUMNS)
    assert pulled.dtypes.astype(str).tolist() == list(LEAD_COLUMNS.values())
    ids = harness.world_ids(pulled["lead_id"])
    assert ids.is_unique and ids.notna().all()
    assert set(ids) == routable(harness)
    assert pulled["modified_at"].is_monotonic_increasing


def test_pull_after_the_cursor_returns_exactly_the_new_leads(harness: Harness) -> None:
    _, cursor = drain(harness, limit=500)
    new = harness.add_leads(25)
    pulled, after = drain(harness, limit=10, cursor=cursor)
    assert sorted(harness.world_ids(pulled["lead_id"])) == sorted(new)
    assert drain(harness, limit=10, cursor=after)[0].empty


def test_pulled_fields_match_the_crm_record(harness: Harness) -> None:
    pulled, _ = drain(harness, limit=500)
    pulled.index = harness.world_ids(pulled["lead_id"])
    truth = harness.sandbox.leads().set_index("id").loc[pulled.index]
    for column in ["first_name", "last_name", "email", "company", "title", "country", "message"]:
        got, want = pulled[column].fillna(""), truth[column].fillna("")
        assert (got == want.astype("string")).all(), column
    assert (pulled["employees"].astype("Float64") == truth["employees"].astype("Float64")).fillna(True).all()
    assert (pulled["crm_owner_id"].fillna("") == truth["owner_id"].fillna("")).all()


def test_write_gives_one_result_per_lead_and_a_deleted_lead_fails_without_retry(harness: Harness) -> None:
    pulled, _ = drain(harness, limit=500)
    targets = harness.world_ids(pulled["lead_id"]).iloc[:6].tolist()
    harness.delete_lead(targets[0])
    before = harness.owner_writes()
    frame = pd.DataFrame(
        {
            "lead_id": [harness.crm_id(t) for t in targets],
            "owner_id": ["005000000000003"] * 3 + ["005000000000012"] * 3,
            "tier": "VIP",
            "routing_reason": "territory EMEA, VIP pool, round robin",
        }
    )
    results = harness.crm.write_assignments(frame)
    assert list(results.columns) == WRITE_RESULT_COLUMNS
    assert results["lead_id"].tolist() == frame["lead_id"].tolist()
    assert results["ok"].tolist() == [False, True, True, True, True, True]
    assert not results["retry"].any()
    assert results["error"].iloc[0] and pd.isna(results["error"].iloc[1])
    owners = harness.owners_of(targets[1:])
    assert owners.tolist() == frame["owner_id"].iloc[1:].tolist()
    writes = harness.owner_writes().sub(before, fill_value=0)
    assert writes[writes > 0].to_dict() == dict.fromkeys(targets[1:], 1)


def test_find_existing_matches_contacts_by_email_and_accounts_by_domain(harness: Harness) -> None:
    world = harness.world
    contacts = world.contacts.dropna(subset=["email"]).iloc[:4]
    accounts = world.accounts.iloc[:3]
    found = harness.crm.find_existing(
        [e.upper() for e in contacts["email"]] + HOSTILE, [*accounts["domain"], "gmail.com", *HOSTILE]
    )
    assert list(found.columns) == ["kind", "record_id", "email", "domain", "owner_id"]
    by_contact = found[found["kind"] == "contact"].set_index("email")["owner_id"]
    want = contacts.set_index(contacts["email"].str.lower())["owner_id"]
    assert by_contact.reindex(want.index).tolist() == want.tolist()
    by_account = found[found["kind"] == "account"].set_index("domain")["owner_id"]
    assert (
        by_account.sort_index().to_dict() == accounts.set_index("domain")["owner_id"].sort_index().to_dict()
    )
    assert set(found["kind"]) <= {"lead", "contact", "account"}
    assert not found["email"].isin([h.lower() for h in HOSTILE]).any()


def test_fetch_owners_lists_the_active_team_and_queues(harness: Harness) -> None:
    owners = harness.crm.fetch_owners()
    assert {"owner_id", "name", "email", "active"} <= set(owners.columns)
    users = harness.world.users
    assert set(owners["owner_id"]) == set(users.loc[users["active"] == 1, "id"])
    assert owners["active"].all()
    people = owners.set_index("owner_id").loc[users.loc[users["role"] != "queue", "id"]]
    assert (people["email"] == users.set_index("id").loc[people.index, "email"]).all()


def test_a_user_deactivated_in_the_crm_is_listed_inactive_and_leaves_the_active_owners(
    harness: Harness,
) -> None:
    users = harness.world.users
    people = users[(users["role"] != "queue") & (users["active"] == 1)].sort_values("id")
    assert harness.crm.inactive_owners()["owner_id"].tolist() == sorted(users.loc[users["active"] == 0, "id"])
    gone = people.iloc[1]
    harness.deactivate(gone["id"])
    inactive = harness.crm.inactive_owners()
    assert list(inactive.columns) == ["owner_id", "email"]
    assert gone["id"] in set(inactive["owner_id"])
    assert inactive.set_index("owner_id").loc[gone["id"], "email"] == gone["email"]
    assert gone["id"] not in set(harness.crm.fetch_owners()["owner_id"])
    assert len(harness.crm.fetch_owners()) == (users["active"] == 1).sum() - 1


def test_first_touch_is_the_earliest_activity(harness: Harness) -> None:
    world = harness.world
    lead_ids = world.leads["id"].tolist()
    touches = harness.crm.first_touch([harness.crm_id(i) for i in lead_ids])
    assert touches["lead_id"].tolist() == [harness.crm_id(i) for i in lead_ids]
    want = world.activities.groupby("lead_id")["created_at"].min().dt.floor(harness.stamp_unit)
    got = touches.set_index(pd.Index(lead_ids))["first_touch_at"]
    assert set(got.dropna().index) == set(want.index)
    assert (got.loc[want.index] == want).all()
    untouched = [harness.crm_id(i) for i in lead_ids if i not in want.index][:5]
    assert harness.crm.first_touch(untouched)["first_touch_at"].isna().all()
    assert harness.crm.first_touch([])["first_touch_at"].dtype == "datetime64[us, UTC]"


def test_fetch_outcomes_follows_each_converted_lead_to_its_deal(harness: Harness) -> None:
    world = harness.world
    lead_ids = world.leads["id"].tolist()
    outcomes = harness.crm.fetch_outcomes([harness.crm_id(i) for i in lead_ids])
    assert {"lead_id", "deal_id", "stage", "is_closed", "is_won", "amount", "close_date"} <= set(
        outcomes.columns
    )
    deals = world.deals.set_index("lead_id")
    got = outcomes.set_index(harness.world_ids(outcomes["lead_id"]))
    assert set(got.index) == set(
        world.leads["converted_opportunity_id"].dropna().map(deals.reset_index().set_index("id")["lead_id"])
    )
    assert (got["is_won"] == deals.loc[got.index, "is_won"].astype(bool)).all()
    assert (got["is_closed"] == deals.loc[got.index, "is_closed"].astype(bool)).all()
    assert (got["amount"].astype(float) == deals.loc[got.index, "amount"].astype(float)).all()
    assert got["is_won"].any() and (~got["is_closed"]).any()
    # the deal's creation stamp (Salesforce CreatedDate, HubSpot createdate), to the second
    created = pd.to_datetime(got["deal_created_at"], utc=True, format="mixed").dt.floor("s")
    truth = pd.to_datetime(deals.loc[got.index, "created_at"], utc=True, format="mixed").dt.floor("s")
    assert created.notna().all() and (created == truth).all()


def test_fetch_leads_reads_leads_by_id_as_they_are_now(harness: Harness) -> None:
    world = harness.world.leads
    wanted = world["id"].iloc[[3, 1, 7]].tolist()
    harness.delete_lead(wanted[2])
    fetched = harness.crm.fetch_leads([harness.crm_id(i) for i in wanted] + [harness.crm_id(wanted[0])])
    assert list(fetched.columns) == list(LEAD_COLUMNS)
    assert sorted(harness.world_ids(fetched["lead_id"])) == sorted(wanted[:2])  # deleted: gone; repeats: once
    by_id = fetched.set_index(harness.world_ids(fetched["lead_id"]))
    truth = world.set_index("id").loc[wanted[:2]]
    assert (by_id.loc[wanted[:2], "email"].fillna("") == truth["email"].fillna("")).all()
    assert harness.crm.fetch_leads([]).empty


def test_fetch_accounts_lists_every_account_with_owner_and_firmographics(harness: Harness) -> None:
    world = harness.world
    accounts = harness.crm.fetch_accounts()
    assert list(accounts.columns) == list(ACCOUNT_COLUMNS)
    assert accounts.dtypes.astype(str).tolist() == list(ACCOUNT_COLUMNS.values())
    truth = world.accounts.set_index("id")
    got = accounts.set_index(harness.account_ids(accounts["account_id"]))
    assert set(got.index) == set(truth.index)
    assert (got["name"] == truth.loc[got.index, "name"]).all()
    assert (got["owner_id"] == truth.loc[got.index, "owner_id"]).all()
    assert got["owner_active"].all()  # every seeded account owner is an active rep
    assert (
        (got["employees"].astype("Float64") == truth.loc[got.index, "employees"].astype("Float64"))
        .fillna(True)
        .all()
    )


def test_rejections_are_read_from_the_status_history(harness: Harness) -> None:
    leads = harness.world.leads
    users = harness.world.users
    reps = users.loc[users["role"].isin(["ae", "senior_ae"]), "id"]
    # leads a rep has had since they were routed, and one nobody has worked yet (still in its queue)
    early, at_since, *rejected, moved_on = leads.loc[leads["status"].eq("Working"), "id"].iloc[:6]
    unworked = leads.loc[leads["status"].eq("New"), "id"].iloc[0]
    since = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(minutes=30)
    # each after the last, off whole seconds: a CRM keeps them to its own precision
    at = since + pd.to_timedelta([30.5, 60.25, 120.5, 180.75, 240.125], unit="s")
    owners = harness.owners_of([unworked, *rejected, moved_on])
    harness.reject([early], since - pd.Timedelta(minutes=5))
    harness.reject([at_since], since)  # not after `since`
    harness.reject([unworked, *rejected, moved_on], pd.Series(at))
    # the lead moves on to another rep and keeps its status: still the first owner's rejection, and only theirs
    other = reps[reps.ne(owners[moved_on])].iloc[0]
    reassign = {
        "lead_id": [harness.crm_id(moved_on)],
        "owner_id": other,
        "tier": "Standard",
        "routing_reason": "r",
    }
    assert harness.crm.write_assignments(pd.DataFrame(reassign))["ok"].all()

    found = harness.crm.rejections(since)
    assert list(found.columns) == REJECTION_COLUMNS
    assert str(found["rejected_at"].dtype) == UTC_TS
    got = found.assign(lead_id=harness.world_ids(found["lead_id"]))
    want = pd.DataFrame({"lead_id": owners.index, "owner_id": owners.to_numpy(), "rejected_at": at})
    want["rejected_at"] = want["rejected_at"].dt.floor(harness.stamp_unit)
    assert got.astype(object).values.tolist() == want.astype(object).values.tolist()
    # handing a lead back is not working it
    assert harness.crm.first_touch([harness.crm_id(unworked)])["first_touch_at"].isna().all()

    none = harness.crm.rejections(at[-1] + pd.Timedelta(seconds=1))
    assert none.empty and list(none.columns) == REJECTION_COLUMNS
    assert str(none["rejected_at"].dtype) == UTC_TS


def test_a_rejected_lead_written_to_its_new_owner_is_open_again_and_can_be_rejected_again(
    harness: Harness,
) -> None:
    leads = harness.world.leads
    lead = leads.loc[leads["status"].eq("Working"), "id"].iloc[0]
    first = harness.owners_of([lead])[lead]
    users = harness.world.users
    new = users.loc[users["role"].isin(["ae", "senior_ae"]) & users["id"].ne(first), "id"].iloc[0]
    start = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(minutes=20)
    harness.reject([lead], start + pd.Timedelta(minutes=1))
    handed_back = {"lead_id": [harness.crm_id(lead)], "owner_id": new, "tier": "VIP", "routing_reason": "r"}
    written = harness.crm.write_assignments(pd.DataFrame(handed_back).assign(reopen=True))
    assert written["ok"].all()
    # the new owner finds it open, not "Rejected", and handing it back again is a rejection of their own
    harness.reject([lead], pd.Timestamp.now(tz="UTC") + pd.Timedelta(seconds=1))  # after the write
    found = harness.crm.rejections(start)
    got = list(zip(harness.world_ids(found["lead_id"]), found["owner_id"], strict=True))
    assert got[-1] == (lead, new) and set(got) <= {(lead, first), (lead, new)}  # HubSpot keeps the latest


CUSTOM = LeadFields(
    custom=[
        CustomField(name="occupation", type="category", known_at="arrival", salesforce="Occupation__c",
                    hubspot="occupation"),
        CustomField(name="time_on_site", type="number", known_at="arrival", salesforce="Time_On_Site__c",
                    hubspot="time_on_site"),
        CustomField(name="repeat_visitor", type="boolean", known_at="arrival", salesforce="Repeat_Visitor__c",
                    hubspot="repeat_visitor"),
        CustomField(name="last_activity", type="date", known_at="later", salesforce="Last_Activity__c",
                    hubspot="last_activity"),
    ]
)  # fmt: skip
SET = pd.DataFrame(
    {
        "lead_id": ["00Q000000000001", "00Q000000000002", "00Q000000000003"],
        "occupation": ["Student", "Working Professional", None],
        "time_on_site": [1532.0, 0.0, 12.5],
        "repeat_visitor": [True, False, True],
        "last_activity": pd.to_datetime(["2026-01-05T09:30:00Z", "2025-12-31T23:59:59Z", None], utc=True),
    }
)


@pytest.mark.parametrize("kind", KINDS)
def test_a_custom_field_arrives_typed_from_every_crm(kind: str, tmp_path: Path) -> None:
    # a Salesforce __c field, a HubSpot contact property, the sandbox's own lead_fields: the same typed column
    h = open_harness(kind, tmp_path, leads=12, fresh=True, fields=CUSTOM, custom_values=SET)
    try:
        pulled, _ = drain(h, limit=5)
        again = h.crm.fetch_leads([h.crm_id(i) for i in SET["lead_id"]])
    finally:
        h.close()
    assert list(pulled.columns) == [*LEAD_COLUMNS, *CUSTOM.names]
    assert pulled[CUSTOM.names].dtypes.astype(str).tolist() == ["string", "Float64", "boolean", UTC_TS]
    assert len(pulled) == 12
    for frame in (pulled, again):
        got = frame.set_index(h.world_ids(frame["lead_id"]).to_numpy()).loc[SET["lead_id"], CUSTOM.names]
        assert got.astype(object).where(got.notna(), None).values.tolist() == [
            ["Student", 1532.0, True, pd.Timestamp("2026-01-05T09:30:00Z")],
            ["Working Professional", 0.0, False, pd.Timestamp("2025-12-31T23:59:59Z")],
            [None, 12.5, True, None],
        ]


def decided_by_rule(lead_ids: list[str], tiers: list[str]) -> pd.DataFrame:
    """The CRM's leads as the ledger's tests classify them (tests.helpers.ledger.leads), one tier each."""
    from tests.helpers.ledger import leads

    return leads(len(lead_ids), "Standard").assign(
        lead_id=pd.array(lead_ids, dtype="string"), tier=pd.array(tiers, dtype="string")
    )


def test_a_handover_is_written_back_to_the_crm_in_batches(harness: Harness, tmp_path: Path) -> None:
    """Leads recorded for one rep, handed to a colleague: the write-back path writes the new owner of each to
    the CRM, one write per lead, and marks the decisions written."""
    from sqlalchemy import select

    from leadrouter.assign.roster import load_roster
    from leadrouter.classify.rules import DEFAULT_SLA
    from leadrouter.departures import hand_over
    from leadrouter.record import BatchContext, record_batch
    from leadrouter.store import open_store
    from leadrouter.store.tables import decisions
    from leadrouter.writeback import write_back
    from tests.helpers.clock import WORKDAY
    from tests.helpers.ledger import NO_QUARANTINE, ROSTER

    pulled, _ = drain(harness, limit=500)
    targets = pulled["lead_id"].iloc[:5].tolist()
    n = len(targets)
    roster = load_roster(ROSTER).without({r.key for r in load_roster(ROSTER).reps} - {"005000000000003"})
    frame = decided_by_rule(targets, ["Nurture"] * n)  # no SLA clock: any working day will do
    source = harness.crm.name
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        rule = {"rule_owner": pd.array(["005000000000003"] * n, dtype="string")}
        recorded = record_batch(
            store, BatchContext(source, "r", "v1", at=WORKDAY), frame.assign(**rule), NO_QUARANTINE, roster
        )
        assert set(recorded["owner_id"]) == {"005000000000003"}
        moved = hand_over(
            store,
            source,
            load_roster(ROSTER),
            "005000000000003",
            "005000000000012",
            False,
            DEFAULT_SLA,
            WORKDAY,
        )
        assert sorted(moved["lead_id"]) == sorted(targets)
        before = harness.owner_writes()
        results = write_back(store, harness.crm, source, claim="handover", chunk=2)
        assert results["ok"].all() and sorted(results["lead_id"]) == sorted(targets)
        with store.engine.connect() as conn:
            rows = conn.execute(select(decisions.c.owner_id, decisions.c.status)).all()
    assert set(rows) == {("005000000000012", "written")}
    world = harness.world_ids(pd.Series(targets)).tolist()
    assert harness.owners_of(world).tolist() == ["005000000000012"] * n
    writes = harness.owner_writes().sub(before, fill_value=0)
    assert writes[writes > 0].to_dict() == dict.fromkeys(world, 1)


def test_a_write_taken_over_from_a_dead_router_is_made_once(harness: Harness, tmp_path: Path) -> None:
    """A router claims four writes and dies after the CRM took two. The router that takes the claims over
    writes the other two and not those two again, though one of the unwritten leads already sits with its
    decided owner (the queue it arrived in) and the CRM changed every lead after the decision."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from leadrouter.assign.roster import load_roster
    from leadrouter.record import BatchContext, record_batch
    from leadrouter.store import open_store, write_claims
    from leadrouter.store.tables import decisions
    from leadrouter.writeback import write_back
    from tests.helpers.clock import WORKDAY
    from tests.helpers.ledger import NO_QUARANTINE, ROSTER

    queue, rep = "00G000000000004", "005000000000003"
    written = ["lead_id", "owner_id", "tier", "routing_reason"]
    pulled, _ = drain(harness, limit=500)
    assert pulled["modified_at"].min() > WORKDAY  # the CRM changed every lead after it was decided
    in_queue = pulled.loc[pulled["crm_owner_id"].eq(queue), "lead_id"].iloc[:2].tolist()
    elsewhere = pulled.loc[~pulled["crm_owner_id"].isin([queue, rep]), "lead_id"].iloc[:2].tolist()
    targets = in_queue + elsewhere
    frame = decided_by_rule(targets, ["Other", "Other", "Standard", "Standard"])
    frame["rule_owner"] = pd.array([queue, queue, rep, rep], dtype="string")
    source = harness.crm.name
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        context = BatchContext(source, "r", "v1", at=WORKDAY)
        recorded = record_batch(store, context, frame, NO_QUARANTINE, load_roster(ROSTER))
        assert recorded.set_index("lead_id")["owner_id"].loc[targets].tolist() == [queue, queue, rep, rep]
        before = harness.owner_writes()
        dead = write_claims.claim_for_write(store, source, "dead", timedelta(minutes=5), 10)
        took = dead.loc[dead["lead_id"].isin([targets[0], targets[2]]), written]
        assert harness.crm.write_assignments(took)["ok"].all()
        with store.transaction() as conn:  # the dead router's lease runs out
            conn.execute(update(decisions).values(claimed_at=decisions.c.claimed_at - timedelta(hours=1)))
        results = write_back(store, harness.crm, source, claim="alive")
        with store.engine.connect() as conn:
            statuses = set(conn.execute(select(decisions.c.status)).scalars())
    assert results["ok"].all() and sorted(results["lead_id"]) == sorted(targets)
    assert statuses == {"written"}
    world = harness.world_ids(pd.Series(targets)).tolist()
    assert harness.owners_of(world).tolist() == [queue, queue, rep, rep]
    writes = harness.owner_writes().sub(before, fill_value=0)
    assert writes[writes > 0].to_dict() == dict.fromkeys(world, 1)
