"""Deduplication: a lead already in the CRM (as a lead or a contact) keeps its owner; a lead repeated within the
batch goes where its first copy goes. Neither takes a round-robin turn. A lead without an email (an anonymised
or B2C source) is known by its phone, else by its CRM id."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadrouter.assign.roster import Roster
from leadrouter.crm.base import CRM
from leadrouter.schema import column
from leadrouter.validate.repairs import repair_emails

ARROW_TEXT = pd.StringDtype("pyarrow")

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
_ASCII_SPACE = "".join(c for c in map(chr, range(128)) if c.isspace())  # what str.strip drops of ASCII
KEY_ROWS = 100_000  # emails keyed at once (normalize_email)
_PLUS_DOMAINS, _DOTS_DOMAINS = pa.array(sorted(PLUS_ADDRESSING)), pa.array(sorted(DOTS_IGNORED))


def normalize_email(emails: pd.Series) -> pd.Series:
    """Lowercased and trimmed; the +tag (and Gmail's dots) dropped where the provider delivers them to one box.
    Arrow-backed (but for text with a lone surrogate): a million leads' keys are one buffer, not a million
    Python strings per step."""
    try:
        # in slices: each Arrow step's array is a slice's size, not a million keys'
        keys = [_email_keys(emails.iloc[s : s + KEY_ROWS]) for s in range(0, len(emails), KEY_ROWS)]
    except (UnicodeEncodeError, ValueError):  # a lone surrogate has no UTF-8: all in Python
        return _python_email_keys(emails)
    return pd.Series(pd.array(pa.chunked_array(keys, pa.large_string()), dtype=ARROW_TEXT), emails.index)


def _email_keys(emails: pd.Series) -> pa.Array:
    """normalize_email of a slice, in Arrow where Arrow's rules equal Python's: ASCII text without a newline
    (str.lower's special cases; "$" matching before a final newline, "." not matching one). The rest, if any,
    takes Python's own way."""
    text = pa.array(emails.astype(ARROW_TEXT))
    other = pc.invert(pc.and_(pc.string_is_ascii(text), pc.invert(pc.match_substring(text, "\n")))).fill_null(
        False
    )
    keys = _arrow_email_keys(text)
    if pc.any(other).as_py():
        python = pa.array(_python_email_keys(emails[other.to_numpy(zero_copy_only=False)]).astype(ARROW_TEXT))
        keys = pc.replace_with_mask(keys, other, python)
    return keys


def _arrow_email_keys(text: pa.Array) -> pa.Array:
    """normalize_email over ASCII text in Arrow (the trimmed characters are those str.strip drops)."""
    text = pc.ascii_lower(pc.utf8_trim(text, _ASCII_SPACE))
    parts = pc.extract_regex(text, r"^(?P<local>[^@]+)@(?P<domain>[^@]+)$")
    local, domain = pc.struct_field(parts, "local"), pc.struct_field(parts, "domain")
    untagged = pc.replace_substring_regex(local, r"\+.*$", "")
    local = pc.if_else(pc.is_in(domain, _PLUS_DOMAINS).fill_null(False), untagged, local)
    undotted = pc.replace_substring(local, ".", "")
    local = pc.if_else(pc.is_in(domain, _DOTS_DOMAINS).fill_null(False), undotted, local)
    return pc.coalesce(pc.binary_join_element_wise(local, domain, pa.scalar("@", text.type)), text)


def _python_email_keys(emails: pd.Series) -> pd.Series:
    """normalize_email on Python strings: for text Arrow would treat differently (non-ASCII, newlines)."""
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
    phone, else the CRM record id. Text like normalize_email's (Arrow-backed as a rule)."""
    key = "email:" + (normalize_email(column(leads, "email")) if email_key is None else email_key)
    if (missing := key.isna().to_numpy(dtype=bool)).any():  # the phone only where no email names the lead
        rest = leads[missing]
        other = ("phone:" + normalize_phone(rest)).fillna("id:" + column(rest, "lead_id"))
        key = key.fillna(other.astype(key.dtype))
    return key


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
    identity = identity_key(out, out["email_key"])
    out["duplicate_of"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["existing_owner_id"] = pd.Series(pd.NA, index=out.index, dtype="string")
    crm = _owned_records(existing, set(out["lead_id"].dropna()), owners)
    if len(crm):
        match = out[["email_key"]].reset_index().merge(crm, on="email_key").set_index("index")
        out.loc[match.index, "duplicate_of"] = match["kind"] + ":" + match["record_id"]
        out.loc[match.index, "existing_owner_id"] = match["owner_id"]
    first_id = pd.Series(out["lead_id"].array.take(_first_copies(out, identity), allow_fill=True), out.index)
    repeat = identity.notna().to_numpy() & first_id.ne(out["lead_id"]) & out["duplicate_of"].isna()
    out.loc[repeat, "duplicate_of"] = "batch:" + first_id[repeat]
    return out.drop(columns=["email_key"])


def _first_copies(leads: pd.DataFrame, identity: pd.Series) -> np.ndarray:
    """Per lead, the position of its person's earliest copy (by created_at, then lead_id); -1 without a key."""
    codes = pd.factorize(identity)[0]  # one code per person, -1 for none
    by_time = leads[["created_at", "lead_id"]].reset_index(drop=True)
    order = by_time.sort_values(["created_at", "lead_id"], kind="stable").index.to_numpy()
    keyed = order[codes[order] >= 0]
    first = keyed[np.unique(codes[keyed], return_index=True)[1]]  # codes run 0..n-1: first[code]
    return np.where(codes >= 0, np.append(first, -1)[codes], -1)


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
