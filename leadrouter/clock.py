"""The program's one clock: the routing clock when one is set (tests, simulations, replays), else now, in UTC.

`now()` stamps the ledger's own bookkeeping (claims, leases, when a row was written); `routing_now()` is the
moment a lead is routed at: business hours, SLA clocks, the day a report covers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadrouter.config import Settings


def now() -> datetime:
    return datetime.now(UTC)


def routing_now(settings: Settings) -> datetime:
    """The routing clock (LEADROUTER_ROUTING_CLOCK) if set, else now."""
    return settings.routing_clock or now()
