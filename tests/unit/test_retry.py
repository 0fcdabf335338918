"""The one retry policy, on a fake clock: what is retried, how often, after which pause, and when it stops."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import format_datetime
from types import SimpleNamespace

import pandas as pd
import pytest

from leadrouter.retry import RetryPolicy, retry_after


class Clock:
    """time.monotonic and time.sleep in one: sleeping moves the clock, and every pause is kept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def policy(self, **options: object) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, clock=lambda: self.now, **options)


class Refused(Exception):
    """An HTTP failure carrying its response headers, as hubspot-api-client's ApiException does."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.headers = status, headers or {}


def failing(times: int, error: Callable[[], Exception] = lambda: Refused(503)) -> Callable[[], str]:
    """A call failing `times` times, then answering "ok"; `.calls` counts the tries."""

    def call() -> str:
        call.calls += 1
        if call.calls <= times:
            raise error()
        return "ok"

    call.calls = 0
    return call


def test_transient_failures_are_retried_with_doubling_pauses_up_to_the_cap() -> None:
    clock = Clock()
    call = failing(5)
    assert clock.policy(attempts=6, first_delay_s=0.5, max_delay_s=3.0).run(call) == "ok"
    assert call.calls == 6 and clock.pauses == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_the_last_error_is_raised_once_the_attempts_are_spent() -> None:
    clock = Clock()
    call = failing(10)
    with pytest.raises(Refused, match="503"):
        clock.policy(attempts=3, first_delay_s=0.1).run(call)
    assert call.calls == 3 and clock.pauses == [0.1, 0.2]


def test_one_attempt_never_retries() -> None:
    clock = Clock()
    call = failing(1)
    with pytest.raises(Refused):
        clock.policy(attempts=1).run(call)
    assert call.calls == 1 and clock.pauses == []
    with pytest.raises(ValueError, match="at least one attempt"):
        RetryPolicy(attempts=0)


def test_a_failure_that_is_not_transient_is_raised_at_once() -> None:
    clock = Clock()
    call = failing(1, lambda: Refused(400))
    with pytest.raises(Refused, match="400"):
        clock.policy().run(call, transient=lambda exc: getattr(exc, "status", 0) >= 500)
    assert call.calls == 1 and clock.pauses == []
    # the adapter's predicate decides: a 503 is retried by the same policy
    assert clock.policy().run(failing(1), transient=lambda exc: exc.status >= 500) == "ok"


def test_retry_after_is_honoured_in_seconds_or_as_a_date() -> None:
    clock = Clock()
    later = format_datetime(
        pd.Timestamp.now(tz="UTC").to_pydatetime() + pd.Timedelta(seconds=120), usegmt=True
    )
    errors = iter([Refused(429, {"Retry-After": "7"}), Refused(429, {"Retry-After": later}), Refused(503)])

    def call() -> str:
        error = next(errors, None)
        if error:
            raise error
        return "ok"

    assert clock.policy(first_delay_s=0.5).run(call) == "ok"
    assert clock.pauses[0] == 7 and 115 < clock.pauses[1] <= 120 and clock.pauses[2] == 2.0  # third: backoff


def test_retry_after_is_read_from_a_response_too() -> None:
    response = SimpleNamespace(headers={"Retry-After": "3"})
    assert retry_after(SimpleNamespace(response=response)) == 3.0
    assert retry_after(Refused(429, {"Retry-After": "soon"})) is None
    assert retry_after(RuntimeError("no headers")) is None


def test_an_adapter_may_ask_for_an_immediate_retry() -> None:
    clock = Clock()
    assert clock.policy().run(failing(2), wait=lambda exc: 0.0) == "ok"
    assert clock.pauses == [0.0, 0.0]


def test_no_pause_starts_that_would_end_past_the_deadline() -> None:
    clock = Clock()
    call = failing(10, lambda: Refused(429, {"Retry-After": "3600"}))
    with pytest.raises(Refused, match="429"):
        clock.policy(attempts=6, deadline_s=600).run(call)
    assert call.calls == 1 and clock.pauses == []  # an hour's wait is past a ten-minute deadline

    clock = Clock()
    slow = failing(10)

    def call_taking_a_minute() -> str:
        clock.now += 60
        return slow()

    with pytest.raises(Refused):
        clock.policy(attempts=20, first_delay_s=1, max_delay_s=30, deadline_s=200).run(call_taking_a_minute)
    # tries from 0, 61, 123 and 187, a minute each: the pause after the fourth would end at 255, past 200
    assert slow.calls == 4 and clock.pauses == [1, 2, 4] and clock.now == 247


def test_without_a_deadline_the_attempts_alone_bound_the_call() -> None:
    clock = Clock()
    call = failing(3, lambda: Refused(429, {"Retry-After": "3600"}))
    assert clock.policy(deadline_s=None).run(call) == "ok" and clock.pauses == [3600, 3600, 3600]


def test_the_same_numbers_configure_urllib3() -> None:
    policy = RetryPolicy(attempts=7, first_delay_s=0.5, max_delay_s=30)
    retry = policy.as_urllib3(read=1)
    assert (retry.total, retry.read, retry.backoff_factor, retry.backoff_max) == (6, 1, 0.5, 30)
    assert retry.allowed_methods is None and retry.respect_retry_after_header and not retry.raise_on_status
    assert set(retry.status_forcelist) == {429, 500, 502, 503, 504}
    assert RetryPolicy(attempts=1).as_urllib3().total == 0
