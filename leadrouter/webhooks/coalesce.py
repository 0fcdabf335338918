"""Bursts of webhooks → few events: the first at once, the rest of its window merged into one trailing event."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Send = Callable[[str, list[str]], Awaitable[None]]
# the trailing event lands just past the window, so the route-inbound trigger (same `within`) does not drop it
MARGIN_S = 0.25


class Coalescer:
    """At most one event per CRM per `window_s`.

    A lead announced inside the window of an event already sent may have missed that event's run (the run
    may have pulled before the lead was saved), so it is never dropped: it joins one trailing event sent
    when the window ends, whose run starts after it. A burst therefore makes one or two events, and every
    announced lead is followed by one. Polling stays the safety net for what a lost event would miss.
    """

    def __init__(self, send: Send, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._send, self._window, self._clock = send, window_s, clock
        self._last_sent: dict[str, float] = {}
        self._pending: dict[str, dict[str, None]] = {}  # ordered sets of lead ids per CRM
        self._timers: dict[str, asyncio.Task[None]] = {}

    async def submit(self, crm: str, lead_ids: list[str]) -> bool:
        """Send now (True) or merge into the CRM's trailing event (False). A failed send raises."""
        now, last = self._clock(), self._last_sent.get(crm)
        if crm not in self._pending and (last is None or now - last >= self._window):
            self._last_sent[crm] = now  # before the await: requests arriving meanwhile wait for the window
            try:
                await self._send(crm, lead_ids)
            except Exception:
                self._forget_send(crm, now, last)
                raise
            return True
        self._pending.setdefault(crm, {}).update(dict.fromkeys(lead_ids))
        if crm not in self._timers:
            delay = (last if last is not None else now) + self._window - now + MARGIN_S
            self._timers[crm] = asyncio.create_task(self._send_trailing(crm, max(delay, MARGIN_S)))
        return False

    async def close(self) -> None:
        """Stop the timers; leads still waiting are left to the next poll (said in the log)."""
        for crm, timer in list(self._timers.items()):
            timer.cancel()
            logger.info(
                "shutting down: %d %s leads left to the next poll", len(self._pending.get(crm, {})), crm
            )
        self._timers.clear()
        self._pending.clear()

    async def _send_trailing(self, crm: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        lead_ids = list(self._pending.pop(crm, {}))
        self._timers.pop(crm, None)
        self._last_sent[crm] = self._clock()
        try:
            await self._send(crm, lead_ids)
        except Exception as exc:  # nobody waits on this answer: the poll picks these leads up
            logger.warning("trailing %s event for %d leads not sent (%s); the next poll routes them", crm,
                           len(lead_ids), type(exc).__name__)  # fmt: skip

    def _forget_send(self, crm: str, sent_at: float, previous: float | None) -> None:
        # the CRM retries a refused request: let that retry go out at once
        if self._last_sent.get(crm) == sent_at:
            if previous is None:
                self._last_sent.pop(crm, None)
            else:
                self._last_sent[crm] = previous
