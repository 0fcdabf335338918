"""The HubSpot adapter through hubspot-api-client over HTTP, against the local HubSpot API seeded from a
sandbox. Its payload mapping is tested on recorded replies in tests/unit/test_hubspot_mapping.py."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest

from leadrouter.crm.base import WRITE_RESULT_COLUMNS, parse_cursor
from leadrouter.crm.hubspot.client import HubSpotCRM, make_client
from leadrouter.retry import RetryPolicy
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.team import USERS
from leadrouter.sandbox.traffic import simulate_traffic
from leadrouter.schema import UTC_TS
from localapi.hubspot import HubSpotAPI, contacts_spec
from localapi.server import Faults, LocalServer
from localapi.world import World

# the sandbox's simulated hours end before the clock's now, so leads saved now sort after all of them
NOW = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(hours=6)
REP, OTHER_REP = "005000000000001", "005000000000002"
HOSTILE = ["x' OR 1=1", "' OR ''='", '"; DROP TABLE contacts; --', "\\", "a\\'b@x.com", "%", "*", "'\"\\\n"]


@dataclass
class ScriptedFaults(Faults):
    """Faults in a fixed order (then none), so a test knows which call fails and how."""

    script: list[str] = field(default_factory=list)

    def pick(self, kinds: list[str]) -> str | None:
        return self.script.pop(0) if self.script else None


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[SandboxCRM, Path]:
    """A sandbox with 1,200 leads, most assigned to reps, then a few hours of reps touching them and deals."""
    path = tmp_path_factory.mktemp("hubspot") / "s.db"
    crm = SandboxCRM.create(path, seed=11, leads=1200, now=NOW)
    leads = crm.leads()
    assigned = leads.iloc[:900][["id"]].rename(columns={"id": "lead_id"})
    crm.write_assignments(assigned.assign(owner_id=REP, tier="VIP", routing_reason="test"))
    for minutes in range(10, 300, 30):
        simulate_traffic(crm, NOW + pd.Timedelta(minutes=minutes), leads_per_minute=0.5, seed=minutes)
    return crm, path


@pytest.fixture(scope="module")
def world(sandbox: tuple[SandboxCRM, Path]) -> World:
    return World.from_sandbox(sandbox[1])


@contextmanager
def serve(
    world: World, faults: Faults | None = None, retry_after_s: int = 1, custom_properties: bool = True
) -> Iterator[tuple[HubSpotAPI, str]]:
    api = HubSpotAPI(world, faults=faults, retry_after_s=retry_after_s, custom_properties=custom_properties)
    with LocalServer(api.app) as server:
        yield api, server.url


def adapter(api: HubSpotAPI, url: str, retries: int = 6, **kwargs: object) -> HubSpotCRM:
    policy = RetryPolicy(attempts=retries + 1, first_delay_s=0.01)
    return HubSpotCRM(make_client(api.token, host=url, retry=policy), **kwargs)


def assignments(api: HubSpotAPI, world_ids: list[str], owner: str) -> pd.DataFrame:
    ids = [api.crm_id(i) for i in world_ids]
    return pd.DataFrame(
        {"lead_id": ids, "owner_id": owner, "tier": "Standard", "routing_reason": "round robin"}
    )


def backlog(world: World, n: int, seed: int = 5) -> World:
    """A world whose leads are n new ones, most sharing a stamp with hundreds of others and 11,000 sharing one
    stamp, ids interleaved across stamps: more than HubSpot's 10,000-result cap, pages ending inside a stamp,
    and a stamp far larger than a page, walked by id."""
    rng = np.random.default_rng(seed)
    leads = world.leads.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    leads["id"] = "00Q" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(12)
    stamps = rng.integers(0, 60, n)
    stamps[rng.choice(n, min(11_000, n // 2), replace=False)] = 30
    leads["modified_at"] = NOW + pd.to_timedelta(stamps, unit="ms")
    leads = leads.assign(status="New", owner_id="00G000000000004", converted_opportunity_id=None)
    return World(
        world.users, world.accounts, world.contacts, leads, world.activities.iloc[:0], world.deals.iloc[:0]
    )


def cursor_order(world: World, api: HubSpotAPI) -> list[str]:
    ids = world.leads["id"].map(api.crm_id)
    order = pd.DataFrame({"id": ids, "n": ids.astype(int), "at": world.leads["modified_at"].dt.floor("ms")})
    return order.sort_values(["at", "n"])["id"].tolist()


# --- pulling: fresh searches from the cursor, never an offset into a moving sort ---------------------------


@pytest.fixture(scope="module")
def big_world(world: World) -> World:
    return backlog(world, 25_000)


def test_one_call_pulls_a_25k_backlog_past_the_search_cap(big_world: World) -> None:
    with serve(big_world) as (api, url):
        crm = adapter(api, url)
        leads, cursor = crm.fetch_new_leads(None, 30_000)
        assert leads["lead_id"].tolist() == cursor_order(big_world, api)
        assert parse_cursor(cursor)[1] == leads["lead_id"].iloc[-1].zfill(20)
        again, same = crm.fetch_new_leads(cursor, 30_000)
        assert again.empty and same == cursor
        assert api.deepest_search == 200  # every search asked for its first page only


def test_pages_of_5000_following_the_cursor_pull_every_lead_once(big_world: World) -> None:
    with serve(big_world) as (api, url):
        crm = adapter(api, url)
        pages, cursors, cursor = [], [], None
        for _ in range(20):
            page, cursor = crm.fetch_new_leads(cursor, 5_000)
            if page.empty:
                break
            assert len(page) <= 5_000
            pages.append(page)
            cursors.append(cursor)
        pulled = pd.concat(pages)["lead_id"].tolist()
        assert pulled == cursor_order(big_world, api)  # every id once, in (stamp, id) order
        assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)  # the watermark only moves on
        assert api.deepest_search == 200


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_a_lead_edited_between_two_searches_is_neither_skipped_nor_repeated(world: World, nth: int) -> None:
    with serve(world) as (api, url):
        crm = adapter(api, url)
        before, _ = crm.fetch_new_leads(None, 100_000)
        assert len(before) > 3 * 200  # the pull takes several searches
        # once the nth search is answered, a rep edits a lead it already served: it moves to the end
        edited = before["lead_id"].iloc[(nth - 1) * 150]
        api.after_search(nth, lambda: api.touch(api.contacts.frame.at[edited, "_world"], NOW))
        leads, _ = crm.fetch_new_leads(None, 100_000)
        assert leads["lead_id"].is_unique and set(leads["lead_id"]) == set(before["lead_id"])
        assert leads["modified_at"].is_monotonic_increasing
        assert leads["lead_id"].iloc[-1] == edited  # met again at its new stamp: its latest state is kept


def test_leads_saved_after_a_pull_are_pulled_next(world: World) -> None:
    with serve(world) as (api, url):
        crm = adapter(api, url)
        first, cursor = crm.fetch_new_leads(None, 100_000)
        # 12-digit ids after 8-digit ones: the cursor's text must still sort after the last one
        new = backlog(world, 300, seed=9).leads.assign(id=lambda f: "00Q9" + f["id"].str[4:])
        api.add_leads(new)
        second, next_cursor = crm.fetch_new_leads(cursor, 100_000)
        assert next_cursor > cursor
        assert sorted(second["lead_id"]) == sorted(new["id"].map(api.crm_id))
        assert not set(first["lead_id"]) & set(second["lead_id"])
        assert second["crm_owner_id"].eq("00G000000000004").all() and second["modified_at"].notna().all()


# --- retries: 429 with Retry-After, 5xx, random faults -----------------------------------------------------


def test_a_429_on_search_is_retried_after_retry_after(world: World) -> None:
    faults = ScriptedFaults()
    with serve(world, faults, retry_after_s=1) as (api, url):
        crm = adapter(api, url)
        expected, _ = crm.fetch_new_leads(None, 50)
        searches = api.calls["contacts.search"]
        faults.script.append("429")
        started = time.monotonic()
        leads, _ = crm.fetch_new_leads(None, 50)
        assert time.monotonic() - started >= 1.0
        assert leads.equals(expected) and api.calls["contacts.search"] == 2 * searches + 1


def test_a_429_on_batch_update_is_retried_after_retry_after(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:5].tolist()
    # no fault on the first request (the property list), a 429 on the update
    with serve(world, ScriptedFaults(script=["", "429"]), retry_after_s=1) as (api, url):
        started = time.monotonic()
        results = adapter(api, url).write_assignments(assignments(api, lead_ids, OTHER_REP))
        assert time.monotonic() - started >= 1.0
        assert results["ok"].all() and api.calls["contacts.batch.update"] == 2
        assert api.calls["contacts.properties"] == 1
        assert api.owner_writes().reindex(lead_ids).eq(1).all()


def test_5xx_are_retried(world: World) -> None:
    faults = ScriptedFaults()
    with serve(world, faults) as (api, url):
        crm = adapter(api, url)
        expected, _ = crm.fetch_new_leads(None, 10)
        searches = api.calls["contacts.search"]
        faults.script += ["502", "503"]
        assert crm.fetch_new_leads(None, 10)[0].equals(expected)
        assert api.calls["contacts.search"] == 2 * searches + 2


def test_with_random_faults_each_of_1000_leads_is_written_exactly_once(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:1000].tolist()
    with serve(world, Faults(rate=0.3, seed=3)) as (api, url):
        results = adapter(api, url).write_assignments(assignments(api, lead_ids, OTHER_REP))
        assert results["ok"].all() and len(results) == 1000
        assert api.owner_writes().reindex(lead_ids).eq(1).all()
        assert api.owners_of(lead_ids).eq(OTHER_REP).all()
        assert sum(api.faults.injected.values()) > 0


def test_a_call_failing_past_its_retries_marks_its_leads_for_retry(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:150].tolist()
    with serve(world, Faults(rate=1.0), retry_after_s=0) as (api, url):
        results = adapter(api, url, retries=2).write_assignments(assignments(api, lead_ids, OTHER_REP))
        assert not results["ok"].any() and results["retry"].all()
        assert results["error"].str.contains("RATE_LIMITS|BAD_GATEWAY|SERVICE_UNAVAILABLE").all()
        assert api.owner_writes().empty


def test_a_timeout_is_tried_again_after_a_pause(world: World) -> None:
    with serve(world) as (api, url):
        api.stalls = [0.5, 0.5]  # the first two requests outlast the read timeout
        crm = HubSpotCRM(
            make_client(api.token, host=url, retry=RetryPolicy(attempts=1)),
            timeout=(1, 0.2),
            retry=RetryPolicy(attempts=3, first_delay_s=0.01),
        )
        owners = crm.fetch_owners()
        assert len(owners) and api.calls["owners"] == 3


def test_writes_timing_out_past_their_tries_are_marked_for_retry(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:5].tolist()
    with serve(world) as (api, url):
        crm = HubSpotCRM(
            make_client(api.token, host=url, retry=RetryPolicy(attempts=1)),
            timeout=(1, 0.2),
            retry=RetryPolicy(attempts=2, first_delay_s=0.01),
        )
        crm.write_assignments(assignments(api, lead_ids[:1], OTHER_REP))  # reads the property list
        api.stalls = [0.5, 0.5]
        results = crm.write_assignments(assignments(api, lead_ids, REP))
        assert not results["ok"].any() and results["retry"].all()
        assert results["error"].str.contains("timed out").all()
        assert api.calls["contacts.batch.update"] == 1 + 2


def test_a_batch_failing_for_any_reason_fails_alone_and_never_shows_the_token(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:300].tolist()
    requests = []

    def pace() -> None:  # the rate limiter fails before the second batch, naming the token
        requests.append(1)
        if len(requests) == 3:
            raise RuntimeError(f"limiter down (token {api.token})")

    with serve(world) as (api, url):
        results = adapter(api, url, pace=pace).write_assignments(assignments(api, lead_ids, OTHER_REP))
        assert results["ok"].tolist() == [True] * 100 + [False] * 100 + [True] * 100
        failed = results.iloc[100:200]
        assert failed["retry"].all() and failed["error"].eq("RuntimeError: limiter down (token ***)").all()
        assert api.owner_writes().reindex(lead_ids).fillna(0).tolist() == [1] * 100 + [0] * 100 + [1] * 100


# --- custom properties the portal may lack ------------------------------------------------------------------


def test_a_portal_without_the_custom_properties_gets_every_owner_written(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:250].tolist()
    with serve(world, custom_properties=False) as (api, url):
        crm = adapter(api, url)
        results = crm.write_assignments(assignments(api, lead_ids, OTHER_REP))
        assert results["ok"].all() and api.calls["contacts.batch.update"] == 3  # one per 100 leads, no splits
        assert api.owners_of(lead_ids).eq(OTHER_REP).all()
        assert api.owner_writes().reindex(lead_ids).eq(1).all()
        crm.write_assignments(assignments(api, lead_ids[:10], REP))
        assert api.calls["contacts.properties"] == 1  # read once per adapter


def test_a_batch_refused_for_a_missing_property_is_not_split(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:250].tolist()
    with serve(world) as (api, url):
        crm = adapter(api, url)
        crm.write_assignments(assignments(api, lead_ids[:1], OTHER_REP))  # reads the property list
        api.contacts.spec = contacts_spec(custom_properties=False)  # then the portal's admin deletes them
        results = crm.write_assignments(assignments(api, lead_ids, REP))
        assert not results["ok"].any() and not results["retry"].any()
        assert results["error"].str.contains("PROPERTY_DOESNT_EXIST").all()
        assert api.calls["contacts.batch.update"] == 1 + 3


def test_the_properties_endpoint_lists_custom_properties_only_when_the_portal_has_them(world: World) -> None:
    for custom in (True, False):
        with serve(world, custom_properties=custom) as (api, url):
            listed = make_client(api.token, host=url).crm.properties.core_api.get_all(object_type="contacts")
            names = {p.name for p in listed.results}
            assert {"email", "hubspot_owner_id", "lastmodifieddate"} <= names
            assert ({"lead_tier", "routing_reason"} <= names) is custom


# --- per-record outcomes of a batch update -----------------------------------------------------------------


def test_a_deleted_contact_fails_alone_and_is_not_retried(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:3].tolist()
    with serve(world) as (api, url):
        api.delete_lead(lead_ids[1])
        results = adapter(api, url).write_assignments(assignments(api, lead_ids, OTHER_REP))
        assert list(results.columns) == WRITE_RESULT_COLUMNS
        assert results["ok"].tolist() == [True, False, True] and not results["retry"].any()
        assert results["error"].iloc[1].startswith("OBJECT_NOT_FOUND")
        assert api.owners_of(lead_ids).tolist()[::2] == [OTHER_REP, OTHER_REP]
        assert api.owner_writes().reindex(lead_ids).fillna(0).tolist() == [1, 0, 1]


def test_a_batch_refused_whole_for_a_missing_id_is_split_until_the_rest_is_written(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:100].tolist()
    with serve(world) as (api, url):
        api.reject_batches_with_missing_ids = True  # as HubSpot has been seen to answer: 404 for the batch
        api.delete_lead(lead_ids[17])
        api.delete_lead(lead_ids[60])
        results = adapter(api, url).write_assignments(assignments(api, lead_ids, OTHER_REP))
        failed = results.index[~results["ok"]].tolist()
        assert failed == [17, 60] and not results["retry"].any()
        assert results["error"].iloc[failed].str.startswith("OBJECT_NOT_FOUND").all()
        assert api.owner_writes().reindex(lead_ids).fillna(0).drop([lead_ids[17], lead_ids[60]]).eq(1).all()


def test_an_unknown_owner_or_lead_id_is_a_per_record_error(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:2].tolist()
    with serve(world) as (api, url):
        frame = assignments(api, lead_ids, OTHER_REP)
        frame.loc[0, "owner_id"] = "not-an-owner"
        frame = pd.concat([frame, pd.DataFrame({"lead_id": ["00Q1", None], "owner_id": OTHER_REP})])
        results = adapter(api, url).write_assignments(frame)
        assert results["ok"].tolist() == [False, True, False, False] and not results["retry"].any()
        assert results["error"].iloc[0].startswith("VALIDATION_ERROR")


def test_an_assignment_without_owner_is_not_sent(world: World) -> None:
    lead_ids = world.leads["id"].iloc[:2].tolist()
    with serve(world) as (api, url):
        frame = assignments(api, lead_ids, OTHER_REP).assign(owner_id=[OTHER_REP, None])
        results = adapter(api, url).write_assignments(frame)
        assert results["ok"].tolist() == [True, False] and results["error"].iloc[1].startswith("NO_OWNER")
        assert api.owners_of(lead_ids).iloc[1] == world.leads["owner_id"].iloc[1]  # not cleared


def test_a_bad_token_fails_the_write_for_retry_and_raises_on_reads(world: World) -> None:
    with serve(world) as (api, url):
        crm = HubSpotCRM(
            make_client("wrong-token", host=url, retry=RetryPolicy(attempts=7, first_delay_s=0.01))
        )
        results = crm.write_assignments(assignments(api, world.leads["id"].iloc[:2].tolist(), OTHER_REP))
        assert not results["ok"].any() and results["retry"].all()
        assert results["error"].str.startswith("INVALID_AUTHENTICATION").all()
        with pytest.raises(Exception, match="401"):
            crm.fetch_owners()


# --- pacing, lookups, owners, touches and outcomes ----------------------------------------------------------


def test_pace_runs_once_per_http_request(world: World) -> None:
    paced: list[str] = []
    with serve(world) as (api, url):
        crm = adapter(
            api, url, pace=lambda: paced.append("general"), search_pace=lambda: paced.append("search")
        )
        leads, _ = crm.fetch_new_leads(None, 1_000)
        crm.write_assignments(leads[["lead_id"]].assign(owner_id=OTHER_REP, tier="VIP", routing_reason="r"))
        crm.find_existing(leads["email"].dropna().tolist(), world.accounts["domain"].tolist())
        crm.fetch_owners()
        lead_ids = world.leads["id"].map(api.crm_id).tolist()  # converted ones too, so deals are read
        crm.first_touch(lead_ids)
        crm.fetch_outcomes(lead_ids)
        searches = api.calls["contacts.search"] + api.calls["companies.search"]
        assert paced.count("search") == searches > 0  # searches have a limiter of their own
        assert paced.count("general") == sum(api.calls.values()) - searches > 0
        assert set(api.calls) == {
            "contacts.search", "contacts.properties", "contacts.batch.update", "companies.search", "owners",
            "contacts.batch.read", "associations.batch.read", "deals.batch.read",
        }  # fmt: skip


def test_find_existing_on_hostile_strings_finds_nothing_and_does_not_raise(world: World) -> None:
    with serve(world) as (api, url):
        found = adapter(api, url).find_existing([*HOSTILE, None, ""], HOSTILE)
        assert found.empty and list(found.columns) == ["kind", "record_id", "email", "domain", "owner_id"]


def test_find_existing_matches_emails_whatever_their_case_and_domains(world: World) -> None:
    contact, account = world.contacts.iloc[0], world.accounts.iloc[0]
    with serve(world) as (api, url):
        found = adapter(api, url).find_existing([contact["email"].upper()], [account["domain"]])
        people = found[found["kind"] == "contact"]
        assert contact["email"].lower() in people["email"].tolist()
        assert found.loc[found["kind"] == "account", ["domain", "owner_id"]].values.tolist() == [
            [account["domain"], account["owner_id"]]
        ]


def test_owners_are_the_active_users_with_queues_marked(world: World) -> None:
    with serve(world) as (api, url):
        owners = adapter(api, url).fetch_owners()
    assert sorted(owners["owner_id"]) == sorted(USERS["id"]) and owners["active"].all()
    queues = set(USERS.loc[USERS["role"] == "queue", "id"])
    assert set(owners.loc[owners["role"] == "queue", "owner_id"]) == queues
    assert owners.set_index("owner_id").loc[REP, "name"] == "Maya Chen"


def test_first_touch_agrees_with_the_sandbox_and_sees_new_touches(
    sandbox: tuple[SandboxCRM, Path], world: World
) -> None:
    world_ids = world.leads["id"].tolist()
    with serve(world) as (api, url):
        crm = adapter(api, url)
        touches = crm.first_touch([api.crm_id(i) for i in world_ids] + ["no-such-id"])
        expected = sandbox[0].first_touch(world_ids)["first_touch_at"].dt.floor("ms").astype(UTC_TS)
        assert touches["first_touch_at"].iloc[:-1].reset_index(drop=True).equals(expected)
        assert (
            pd.isna(touches["first_touch_at"].iloc[-1])
            and touches["first_touch_at"].dtype == "datetime64[us, UTC]"
        )
        untouched = world.leads["id"][expected.isna().to_numpy()].iloc[0]
        api.touch(untouched, NOW + pd.Timedelta(hours=9))
        later = crm.first_touch([api.crm_id(untouched)])
        assert later["first_touch_at"].iloc[0] == NOW + pd.Timedelta(hours=9)


def test_outcomes_agree_with_the_sandbox(sandbox: tuple[SandboxCRM, Path], world: World) -> None:
    world_ids = world.leads["id"].tolist()
    with serve(world) as (api, url):
        outcomes = adapter(api, url).fetch_outcomes([api.crm_id(i) for i in world_ids])
    expected = sandbox[0].fetch_outcomes(world_ids)
    assert len(expected) > 0
    expected = expected.assign(lead_id=expected["lead_id"].map(api.crm_id)).set_index("lead_id").sort_index()
    outcomes = outcomes.set_index("lead_id").sort_index()
    assert outcomes.index.equals(expected.index)
    for column in ["is_closed", "is_won", "amount", "close_date"]:
        assert outcomes[column].fillna("").tolist() == expected[column].fillna("").tolist(), column
    assert set(outcomes["stage"]) <= {"appointmentscheduled", "closedwon", "closedlost"}


def test_search_answers_400_past_the_10000th_result(world: World) -> None:
    with serve(world) as (api, url):
        search = make_client(api.token, host=url).crm.contacts.search_api
        assert search.do_search(PublicObjectSearchRequest(limit=200, after="9800")).results == []
        with pytest.raises(ApiException) as refused:
            search.do_search(PublicObjectSearchRequest(limit=200, after="9900"))
        assert (
            refused.value.status == 400 and json.loads(refused.value.body)["category"] == "VALIDATION_ERROR"
        )
