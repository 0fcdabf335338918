"""A 429 from either local CRM carries Retry-After, and each adapter waits that long before trying again (its own
backoff here is 10 ms, so only the header explains the wait)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from localapi.harness import Harness, open_harness


@pytest.fixture(scope="module", params=["salesforce", "hubspot"])
def harness(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = open_harness(request.param, tmp_path_factory.mktemp(f"limits-{request.param}"), leads=60)
    yield h
    h.close()


def api_calls(h: Harness) -> int:
    """API requests the server answered so far, logins aside."""
    return sum(n for name, n in h.api.calls.items() if name != "oauth2.token")


def test_a_429_is_retried_after_its_retry_after(harness: Harness) -> None:
    harness.crm.fetch_owners()  # logs in first, where a login is needed
    before = api_calls(harness)
    started = time.monotonic()
    expected = harness.crm.fetch_owners()  # the throttle is off by default: nothing refused, nothing waited
    plain = api_calls(harness) - before
    assert time.monotonic() - started < 1.0
    harness.api.throttle(2, retry_after_s=1)
    before, started = api_calls(harness), time.monotonic()
    owners = harness.crm.fetch_owners()
    waited = time.monotonic() - started
    assert owners.equals(expected)
    assert api_calls(harness) - before == plain + 2  # the two refused requests were each sent again
    assert 2.0 <= waited < 10.0


def test_a_hubspot_search_429_names_the_per_second_policy_and_is_waited_out(harness: Harness) -> None:
    if harness.kind != "hubspot":
        pytest.skip("HubSpot's search limit")
    harness.api.throttle(1, retry_after_s=3)
    headers = {"authorization": f"Bearer {harness.api.token}"}
    url = f"{harness.server.url}/crm/v3/objects/contacts/search"
    refused = requests.post(url, json={"limit": 1}, headers=headers, timeout=10)
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "3")
    assert {k: refused.json()[k] for k in ("category", "policyName")} == {
        "category": "RATE_LIMITS", "policyName": "SECONDLY",
    }  # fmt: skip
    before = harness.api.calls["contacts.search"]
    harness.api.throttle(1, retry_after_s=1)
    started = time.monotonic()
    leads, _ = harness.crm.fetch_new_leads(None, 10)
    assert time.monotonic() - started >= 1.0
    assert len(leads) == 10
    assert harness.api.calls["contacts.search"] - before == 2  # the refused search, then the same one again
