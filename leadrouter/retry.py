"""One retry policy for every call to an outside service: the CRM adapters and the notification channels.

Who retries a failed call to an outside service (a CRM, a notification channel): the adapter in leadrouter,
under a RetryPolicy, and nobody else. The adapter runs the call through `RetryPolicy.run` with its own predicate
for what is transient (a 429 and its Retry-After, a 5xx, a timeout, a dropped connection, a locked row), or
hands the same numbers to its vendor client (`as_urllib3`). The Prefect tasks that make such calls never retry
them (`retries=0`): a task retry on top multiplies the tries (6 adapter tries under 3 task tries made 18) and
re-runs the task's work already done. A task may still retry its own work on the ledger.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from urllib3.util import Retry

T = TypeVar("T")

# the statuses urllib3 retries for a client that retries below the adapter (HubSpot's)
RETRY_STATUSES = (429, 500, 502, 503, 504)


def always(exc: Exception) -> bool:
    """Every failure is transient (a notification channel: any error is worth another try)."""
    return True


def retry_after(exc: Exception) -> float | None:
    """The seconds a failed HTTP call was told to wait (its Retry-After header: seconds or a date), else None."""
    headers = getattr(exc, "headers", None) or getattr(getattr(exc, "response", None), "headers", None)
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """Tries of one call: `attempts` in all, the pauses between them starting at `first_delay_s` and doubling up
    to `max_delay_s`, unless the failure names its own wait (Retry-After). No pause starts that would end more
    than `deadline_s` after the first try began: the last error is raised instead."""

    attempts: int = 6
    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    # well past every schedule's own pauses: it bounds a call that keeps failing slowly, or a Retry-After of hours
    deadline_s: float | None = 600.0
    sleep: Callable[[float], Any] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"a retry policy makes at least one attempt, not {self.attempts}")

    def delay(self, retry: int) -> float:
        """The pause before retry number `retry` (0 for the second try)."""
        return min(self.first_delay_s * 2**retry, self.max_delay_s)

    def run(
        self,
        call: Callable[[], T],
        transient: Callable[[Exception], bool] = always,
        wait: Callable[[Exception], float | None] = retry_after,
    ) -> T:
        """`call()`, tried again after each transient failure; the last failure is raised once the attempts or
        the deadline are spent, a failure that is not transient at once.

        wait: seconds a failure asks to wait before the next try (None: the policy's backoff)."""
        started = self.clock()
        retry = 0
        while True:
            try:
                return call()
            except Exception as exc:
                if retry + 1 >= self.attempts or not transient(exc):
                    raise
                asked = wait(exc)
                pause = self.delay(retry) if asked is None else asked
                if self.deadline_s is not None and self.clock() - started + pause > self.deadline_s:
                    raise
                self.sleep(pause)
                retry += 1

    def as_urllib3(self, **overrides: Any) -> Retry:
        """The same numbers as urllib3's Retry, for a client that retries 429 (after Retry-After) and 5xx itself,
        on every method, POST included; the last failed response is handed back rather than raised. urllib3
        knows no deadline: there the attempts alone bound the call."""
        from urllib3.util import Retry

        options: dict[str, Any] = {
            "total": self.attempts - 1,
            "backoff_factor": self.first_delay_s,
            "backoff_max": self.max_delay_s,
            "status_forcelist": RETRY_STATUSES,
            "allowed_methods": None,
            "respect_retry_after_header": True,
            "raise_on_status": False,
        }
        return Retry(**(options | overrides))
