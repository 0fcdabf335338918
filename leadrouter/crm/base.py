"""The CRM protocol every adapter offers. Every call works on a batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, TypeVar

import pandas as pd

T = TypeVar("T")

STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width UTC, so text order is time order

# fetch_accounts returns these columns: what account matching and enrichment need
ACCOUNT_COLUMNS: dict[str, str] = {
    "account_id": "string",
    "name": "string",
    "website": "string",
    "owner_id": "string",
    "owner_active": "boolean",
    "last_activity_at": "datetime64[us, UTC]",
    "employees": "Int64",
    "industry": "string",
    "annual_revenue": "Float64",
}

# write_assignments returns one row per lead with these columns
WRITE_RESULT_COLUMNS = ["lead_id", "ok", "retry", "error"]

# held_assignments returns one row per asked lead with these columns
HELD_COLUMNS = ["lead_id", "held", "modified_at"]

# rejections returns these columns: a rep handing a lead back ("Rejected - Wrong Owner")
REJECTION_COLUMNS = ["lead_id", "owner_id", "rejected_at"]


def chunks(values: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of at most `size`: one API call, query or statement each."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def cursor_of(stamp: pd.Timestamp, record_id: str) -> str:
    """A cursor that sorts as (modification stamp, id), so ties on the same stamp never skip or repeat a record."""
    return f"{stamp.tz_convert('UTC').strftime(STAMP)}|{record_id}"


def parse_cursor(cursor: str | None) -> tuple[str, str]:
    """(stamp text, id) of a cursor; the empty cursor sorts before everything."""
    if not cursor:
        return "", ""
    stamp, _, record_id = cursor.partition("|")
    return stamp, record_id


def held_frame(expected: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """HELD_COLUMNS for each row of `expected` (lead_id and the CRM fields a write sets, as the write sends them):
    held when the CRM's `current` row (the same fields and modified_at) has every value; a lead it no longer
    has is not held. A field left empty reads back as null or as an empty string, by CRM: both are empty."""
    fields = [c for c in expected.columns if c != "lead_id"]
    now = current.drop_duplicates("lead_id").set_index("lead_id").reindex(expected["lead_id"])
    want = expected[fields].astype(object).where(expected[fields].notna(), "").to_numpy()
    have = now[fields].astype(object).where(now[fields].notna(), "").to_numpy()
    stamps = pd.to_datetime(now["modified_at"], utc=True, format="ISO8601")
    held = (want == have).all(axis=1) & stamps.notna().to_numpy()
    columns = [expected["lead_id"].to_numpy(), held, stamps.array]
    return pd.DataFrame(dict(zip(HELD_COLUMNS, columns, strict=True)))


def rewind(cursor: str | None, seconds: float) -> str | None:
    """The cursor moved back `seconds`: re-reads changes a CRM committed late with an earlier stamp."""
    if not cursor or seconds <= 0:
        return cursor
    stamp, _ = parse_cursor(cursor)
    return cursor_of(pd.Timestamp(stamp) - pd.Timedelta(seconds=seconds), "")


class CRM(Protocol):
    name: str

    def fetch_new_leads(self, since: str | None, limit: int) -> tuple[pd.DataFrame, str | None]:
        """Leads modified after the cursor, oldest first, as a canonical lead frame; and the cursor after them."""
        ...

    def fetch_leads(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        """These leads as they are now (a released quarantine is routed again), as a canonical lead frame."""
        ...

    def fetch_accounts(self) -> pd.DataFrame:
        """Every account, as ACCOUNT_COLUMNS: to match leads to accounts and fill their firmographics."""
        ...

    def fetch_owners(self) -> pd.DataFrame:
        """Active users: owner_id, name, email, active."""
        ...

    def inactive_owners(self) -> pd.DataFrame:
        """Users deactivated in the CRM (Salesforce IsActive = false, HubSpot archived owners): owner_id, email."""
        ...

    def find_existing(self, emails: Sequence[str], domains: Sequence[str]) -> pd.DataFrame:
        """Existing leads, contacts and accounts by email or domain: kind, record_id, email, domain, owner_id."""
        ...

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Write owner_id (and routing fields) per lead; one WRITE_RESULT_COLUMNS row per lead, never one error.

        An optional boolean `reopen` column marks leads a rep handed back: their status goes back to open, so the
        new owner finds it unworked (and can reject it in turn)."""
        ...

    def held_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Whether the CRM holds each assignment of `frame` (lead_id, owner_id, tier, routing_reason) now, every
        field as write_assignments would have left it, and when it last changed the lead: HELD_COLUMNS, one row
        per row of `frame`. A routing field the CRM lacks is not written, so not compared."""
        ...

    def first_touch(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        """lead_id, first_touch_at: when the owner first acted on each lead (NaT if not yet)."""
        ...

    def rejections(self, since: pd.Timestamp) -> pd.DataFrame:
        """Leads set to a rejection status after `since`, oldest first, as REJECTION_COLUMNS: owner_id is the rep
        who set it (the owner then), rejected_at when; at least each lead's latest rejection. Read from the CRM's status history, so a status left in
        place after the lead moved on is never read as the new owner's rejection."""
        ...

    def fetch_outcomes(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        """lead_id, deal_id, stage, is_closed, is_won, amount, close_date for leads that became deals."""
        ...
