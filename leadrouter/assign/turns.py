"""Taking round-robin turns as one unit of work, in the caller's transaction: lock the pools' state, read the
moment, assign, save the state.

Routing, a review's tier and re-routing all take turns this way. The state is saved in the same transaction as
the decisions the caller records, under row locks on PostgreSQL, so two routers never give out the same turn
and every turn a rep gets is a lead that rep really got.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property

import pandas as pd
from sqlalchemy import Connection

from leadrouter import clock
from leadrouter.assign.availability import day_starts
from leadrouter.assign.owners import Moment, assign_owners, response_windows
from leadrouter.assign.roster import Roster
from leadrouter.classify.rules import ResponseSla
from leadrouter.schema import Tier
from leadrouter.store import Store
from leadrouter.store.decisions import owner_load
from leadrouter.store.rep_state import (
    ensure_rep_rows,
    lock_rep_state,
    own_pool_state,
    read_rep_state,
    save_own_pool_state,
)


class Turns:
    """Turns taken within one transaction: every assign continues from the state the previous one left."""

    def __init__(
        self,
        conn: Connection,
        roster: Roster,
        source: str,
        shadow: bool,
        sla: Mapping[Tier, ResponseSla],
        at: datetime | None,
        state: pd.DataFrame,
    ):
        self.conn, self.roster, self.source, self.shadow = conn, roster, source, shadow
        self.sla, self._at = sla, at
        self.state = state
        self.taken = False

    @cached_property
    def moment(self) -> Moment:
        """The moment of assignment: `at` (default: now, read once), the tiers' response windows, and every
        owner's load, read under the caller's locks when first needed."""
        at = self._at or clock.now()
        load = owner_load(self.conn, self.source, self.shadow, day_starts(self.roster, at), at)
        return Moment(at, response_windows(self.sla), load)

    def assign(self, frame: pd.DataFrame, roster: Roster | None = None) -> pd.DataFrame:
        """Owners for the frame's leads (see assign_owners); roster: the pools' roster narrowed for these
        leads (e.g. without the reps who let them go)."""
        assigned, self.state = assign_owners(
            frame, self.roster if roster is None else roster, self.state, self.moment
        )
        self.taken = True
        return assigned


def open_pools(store: Store, roster: Roster, shadow: bool = False) -> None:
    """Create the roster's missing round-robin rows, in a transaction of their own before turns are taken."""
    ensure_rep_rows(store, [(p.name, rep) for p in roster.pools for rep in roster.members(p)], shadow)


@contextmanager
def take_turns(
    conn: Connection,
    roster: Roster,
    source: str,
    sla: Mapping[Tier, ResponseSla],
    shadow: bool = False,
    at: datetime | None = None,
) -> Iterator[Turns]:
    """Lock the live (or shadow) pools' round-robin rows in the caller's transaction, and save the turns taken
    when the block ends without an error; an error leaves the state as it was (the caller's transaction rolls
    back)."""
    turns = Turns(conn, roster, source, shadow, sla, at, own_pool_state(lock_rep_state(conn), shadow))
    yield turns
    if turns.taken:
        save_own_pool_state(conn, turns.state, shadow)


def preview_turns(
    conn: Connection,
    frame: pd.DataFrame,
    roster: Roster,
    source: str,
    sla: Mapping[Tier, ResponseSla],
    at: datetime,
) -> tuple[pd.DataFrame, Moment]:
    """The owners routing would give the frame's leads at `at`, from the live pools' state read without
    locking (a simulation never holds up routing); nothing is saved."""
    turns = Turns(conn, roster, source, False, sla, at, own_pool_state(read_rep_state(conn), shadow=False))
    return turns.assign(frame), turns.moment
