"""Deduplication: a lead already in the CRM (as a lead or a contact) keeps its owner; a lead repeated within the
batch goes where its first copy goes. Neither takes a round-robin turn. A lead without an email (an anonymised
or B2C source) is known by its phone, else by its CRM id."""

from __future__ import annotations

import re
from typing import NamedTuple

import pandas as pd

from leadrouter.assign.roster import Roster
from leadrouter.crm.base import CRM
from leadrouter.schema import column
from leadrouter.validate.repairs import repair_emails

# providers that deliver name+tag@ to name@ (and Gmail ignores dots in the local part)
PLUS_ADDRESSING = frozenset(
    "gmail.com googlemail.com outlook.com hotmail.com live.com msn.com icloud.com me.com mac.com fastmail.com "
    "proton.me protonmail.com zoho.com yandex.ru yandex.com".split()
)
DOTS_IGNORED = frozenset({"gmail.com", "googlemail.com"})
KIND_PREFERENCE = {"contact": 0, "lead": 1}  # a customer's contact owner outranks another open lead's owner
# one @, no spaces, within RFC 5321's 254 characters: what a lead that passes validation can hold; a
# lookup before validation asks nothing longer of the CRM (a query's size is bounded, e.g. a SOQL URI)
_ADDRESS = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}")
MIN_PHONE_DIGITS = 7  # shorter is an extension or a placeholder, not a number that names one person


def normalize_email(emails: pd.Series) -> pd.Series:
    """Lowercased and trimmed; the +tag (and Gmail's dots) dropped where the provider delivers them to one box."""
    text = emails.astype("string").str.strip().str.lower()
    parts = text.str.extract(r"^(?P<local>[^@]+)@(?P<domain>[^@]+)$")
    local, domain = parts["local"], parts["domain"]
    local = local.where(~domain.isin(PLUS_ADDRESSING), local.str.replace(r"\+.*$", "", regex=True))
    local = local.where(~domain.isin(DOTS_IGNORED), local.str.replace(".", "", regex=False))
    return (local + "@" + domain).fillna(text).astype("string")


def normalize_phone(leads: pd.DataFrame) -> pd.Series:
    """The lead's E.164 number when validation worked it out, else the digits of its phone (too few: null)."""
    digits = column(leads, "phone").str.replace(r"\D", "", regex=True)
    digits = digits.where(digits.str.len() >= MIN_PHONE_DIGITS)
    return column(leads, "phone_e164").str.lstrip("+").fillna(digits).astype("string")


def identity_key(leads: pd.DataFrame, email_key: pd.Series | None = None) -> pd.Series:
    """What makes two leads one person: the normalized email (email_key, when already worked out), else the
    phone, else the CRM record id."""
    email = "email:" + (normalize_email(column(leads, "email")) if email_key is None else email_key)
    phone = "phone:" + normalize_phone(leads)
    return email.fillna(phone).fillna("id:" + column(leads, "lead_id")).astype("string")


def find_duplicates(
    crm: CRM, leads: pd.DataFrame, roster: Roster, looked_up: LookedUp | None = None
) -> pd.DataFrame:
    """Look the batch's emails up in the CRM and mark its duplicates (see mark_duplicates).

    looked_up: what look_up found for the page before validation. Only emails it did not ask about are asked
    now, and its rows for emails the batch does not have (leads validation stopped) are left out: the marks
    are those of one lookup of the batch's own emails."""
    emails = leads["email"].dropna() if len(leads) else pd.Series(dtype="string")
    asked, rows = looked_up if looked_up is not None else LookedUp(frozenset(), pd.DataFrame())
    keys = _keys(emails)
    if len(rows) and not asked <= set(keys):
        rows = rows[_keys(rows["email"]).isin(keys).fillna(False).to_numpy(dtype=bool)]
    if missing := emails[~keys.isin(asked).to_numpy(dtype=bool)].tolist():
        found = crm.find_existing(missing, [])
        parts = [r for r in (rows, found) if len(r)]
        rows = pd.concat(parts, ignore_index=True) if parts else found
    return mark_duplicates(leads, rows, {rep.key for rep in roster.reps if rep.active})


class LookedUp(NamedTuple):
    """A page's emails as asked of the CRM (stripped, lowercased) and find_existing's rows for them."""

    asked: frozenset[str]
    rows: pd.DataFrame


def look_up(crm: CRM, page: pd.DataFrame) -> LookedUp:
    """The CRM's records for a pulled page's emails, asked before validation so the call need not wait for
    it: each email as validation repairs it (a display name, spaces, full-width characters), and only those
    shaped like an address; find_duplicates asks about any other a valid lead has."""
    emails = repair_emails(page["email"])[0].dropna() if "email" in page and len(page) else pd.Series()
    keys = _keys(emails)
    asked = frozenset(keys[keys.str.fullmatch(_ADDRESS).fillna(False).to_numpy(dtype=bool)])
    return LookedUp(asked, crm.find_existing(sorted(asked), []) if asked else pd.DataFrame())


def _keys(emails: pd.Series) -> pd.Series:
    """Emails as every CRM adapter's find_existing asks them: stripped and lowercased."""
    return emails.astype("string").str.strip().str.lower()


def mark_duplicates(leads: pd.DataFrame, existing: pd.DataFrame, owners: set[str]) -> pd.DataFrame:
    """Add duplicate_of and existing_owner_id.

    existing: find_existing's rows (kind, record_id, email, owner_id). A match counts when the record is not one
    of this batch's leads and its owner is one of `owners` (a rep, not a triage queue).
    Within the batch, later copies of a person (identity_key) point at the earliest copy (duplicate_of = its lead
    id).
    """
    out = leads.copy()
    out["email_key"] = normalize_email(out["email"])
    out["identity_key"] = identity_key(out, out["email_key"])
    out["duplicate_of"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["existing_owner_id"] = pd.Series(pd.NA, index=out.index, dtype="string")
    crm = _owned_records(existing, set(out["lead_id"].dropna()), owners)
    if len(crm):
        match = out[["email_key"]].reset_index().merge(crm, on="email_key").set_index("index")
        out.loc[match.index, "duplicate_of"] = match["kind"] + ":" + match["record_id"]
        out.loc[match.index, "existing_owner_id"] = match["owner_id"]
    order = out.sort_values(["created_at", "lead_id"], kind="stable")
    first = order.dropna(subset=["identity_key"]).drop_duplicates("identity_key").set_index("identity_key")
    first_id = out["identity_key"].map(first["lead_id"])
    repeat = out["identity_key"].notna() & first_id.ne(out["lead_id"]) & out["duplicate_of"].isna()
    out.loc[repeat, "duplicate_of"] = "batch:" + first_id[repeat]
    return out.drop(columns=["email_key", "identity_key"])


def _owned_records(existing: pd.DataFrame, batch_ids: set[str], owners: set[str]) -> pd.DataFrame:
    """One CRM record per normalized email: contacts first, then the oldest record id."""
    if existing.empty:
        return pd.DataFrame(columns=["email_key", "kind", "record_id", "owner_id"])
    people = existing[existing["kind"].isin(KIND_PREFERENCE) & existing["email"].notna()].copy()
    people = people[~people["record_id"].isin(batch_ids) & people["owner_id"].isin(owners)]
    people["email_key"] = normalize_email(people["email"])
    people["rank"] = people["kind"].map(KIND_PREFERENCE)
    people = people.sort_values(["rank", "record_id"]).drop_duplicates("email_key")
    return people[["email_key", "kind", "record_id", "owner_id"]].astype("string")
