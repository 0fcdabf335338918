"""A Salesforce 429 is retried after its Retry-After: the session hook keeps the response on the error."""

from __future__ import annotations

import requests

from leadrouter.crm.salesforce.session import RateLimited, is_transient, pause_for, refuse_429


def response(status: int, retry_after: str | None) -> requests.Response:
    reply = requests.Response()
    reply.status_code = status
    reply.url = "https://org.example/services/data/v59.0/query/"
    reply.request = requests.Request("GET", reply.url).prepare()
    if retry_after is not None:
        reply.headers["Retry-After"] = retry_after
    return reply


def test_a_429_raises_a_transient_error_that_waits_its_retry_after() -> None:
    try:
        refuse_429(response(429, "7"))
    except RateLimited as exc:
        assert is_transient(exc)
        assert pause_for(exc) == 7.0
    else:
        raise AssertionError("a 429 passed the hook")


def test_other_statuses_pass_the_hook() -> None:
    assert refuse_429(response(200, None)) is None
    assert refuse_429(response(400, "3")) is None
