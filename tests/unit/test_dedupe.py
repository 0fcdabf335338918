"""Deduplication: existing CRM records keep their owner, batch repeats follow their first copy, no turn taken."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadrouter.assign.roster import load_roster
from leadrouter.dedupe import (
    DOTS_IGNORED,
    PLUS_ADDRESSING,
    find_duplicates,
    look_up,
    mark_duplicates,
    normalize_email,
)
from leadrouter.record import BatchContext, record_batch
from leadrouter.store import open_store
from leadrouter.store.tables import decisions, rep_state
from tests.helpers.clock import WORKDAY
from tests.helpers.ledger import NO_QUARANTINE, classified

ROSTER = Path(__file__).parents[2] / "config" / "roster.yaml"
REP, OTHER_REP, QUEUE = "005000000000007", "005000000000010", "00G000000000004"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (" Ana.Lima+promo@Gmail.com ", "analima@gmail.com"),
        ("ana+x@outlook.com", "ana@outlook.com"),
        ("ana+x@acme.com", "ana+x@acme.com"),  # a company domain: the tag may be a different mailbox
        ("ana.lima@acme.com", "ana.lima@acme.com"),
        ("not an email", "not an email"),
    ],
)
def test_normalize_email(raw: str, key: str) -> None:
    assert normalize_email(pd.Series([raw])).iloc[0] == key


def email_key(raw: str | None) -> str | None:
    """normalize_email's rule for one address, in plain Python: what its Arrow path must equal."""
    if raw is None:
        return None
    text = raw.strip().lower()
    if (parts := re.fullmatch(r"([^@]+)@([^@]+)", text)) is None:
        return text
    local, domain = parts.groups()
    if domain in PLUS_ADDRESSING:
        local = re.sub(r"\+.*$", "", local)
    if domain in DOTS_IGNORED:
        local = local.replace(".", "")
    return f"{local}@{domain}"


# where Arrow's text rules and Python's part: Unicode case (a final sigma, a dotted capital I, the long s),
# whitespace str.strip drops (ASCII separators, ideographic space, NEL), a newline inside the text
TRICKY = st.sampled_from([*"aZ.+@ -\t\n\x1c\x1f", "Σ", "İ", "ẞ", "ﬃ", "É", "\u3000", "\x85"])
TAGGED = st.sampled_from(["@gmail.com", "@Outlook.COM", "@acme.com", "", " "])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.builds(lambda a, b: a + b, st.text(TRICKY, max_size=8), TAGGED))))
def test_normalize_email_is_python_lower_and_strip_on_any_text(raws: list[str | None]) -> None:
    keys = normalize_email(pd.Series(raws, dtype="string"))
    assert [None if pd.isna(k) else k for k in keys] == [email_key(r) for r in raws]


def test_normalize_email_takes_text_arrow_cannot_hold() -> None:
    keys = normalize_email(pd.Series(["Ana+1\ud800@Acme.com", "BO+2@gmail.com", None], dtype=object))
    assert keys.tolist()[:2] == ["ana+1\ud800@acme.com", "bo@gmail.com"] and pd.isna(keys.iloc[2])


def leads(emails: list[str]) -> pd.DataFrame:
    """Classified leads L0, L1, … with these emails."""
    n = len(emails)
    return classified(n).assign(lead_id=[f"L{i}" for i in range(n)], email=pd.array(emails, dtype="string"))


EXISTING = pd.DataFrame(
    {
        "kind": ["lead", "contact", "lead", "lead"],
        "record_id": ["00Q9", "0031", "00Q8", "L0"],
        "email": ["ana@acme.com", "ana@acme.com", "bo@acme.com", "cy@acme.com"],
        "domain": None,
        "owner_id": [OTHER_REP, REP, QUEUE, OTHER_REP],
    }
)


def test_mark_duplicates_prefers_contacts_ignores_queues_and_the_lead_itself() -> None:
    marked = mark_duplicates(
        leads(["ANA@acme.com", "bo@acme.com", "cy@acme.com", "dee+1@gmail.com", "dee@gmail.com"]),
        EXISTING,
        {REP, OTHER_REP},
    ).set_index("lead_id")
    assert marked.loc["L0", "duplicate_of"] == "contact:0031" and marked.loc["L0", "existing_owner_id"] == REP
    assert pd.isna(marked.loc["L1", "duplicate_of"])  # its only match sits in a triage queue
    assert pd.isna(marked.loc["L2", "duplicate_of"])  # the CRM record it matched is this lead itself
    assert pd.isna(marked.loc["L3", "duplicate_of"])
    assert marked.loc["L4", "duplicate_of"] == "batch:L3" and pd.isna(marked.loc["L4", "existing_owner_id"])


def test_duplicates_keep_or_follow_their_owner_without_a_round_robin_turn(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/ledger.db")
    batch = mark_duplicates(
        leads(["ana@acme.com", "new@acme.com", "new+2@acme.com", "NEW@acme.com"]), EXISTING, {REP}
    )
    recorded = record_batch(
        store, BatchContext("sandbox", "r1", "v1", at=WORKDAY), batch, NO_QUARANTINE, load_roster(ROSTER)
    )
    owners = recorded.set_index("lead_id")["owner_id"]
    assert owners["L0"] == REP
    assert owners["L3"] == owners["L1"]  # the same mailbox, later in the batch
    with store.engine.connect() as conn:
        rows = pd.DataFrame(
            conn.execute(select(decisions.c.lead_id, decisions.c.duplicate_of)).mappings().all()
        )
    assert rows.set_index("lead_id")["duplicate_of"].fillna("-").to_dict() == {
        "L0": "contact:0031", "L1": "-", "L2": "-", "L3": "batch:L1",
    }  # fmt: skip
    with store.engine.connect() as conn:
        turns = conn.execute(select(func.sum(rep_state.c.assigned))).scalar()
    assert turns == 2  # L1 and L2 (a tagged company address is its own lead); L0 and L3 took no turn


class RecordingCRM:
    """find_existing as the adapters answer it (emails stripped and lowercased, matched exactly), over
    EXISTING plus a record for a tagged Gmail address; each call's emails kept."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        tagged = {
            "kind": "lead",
            "record_id": "00Q7",
            "email": "dee+1@gmail.com",
            "domain": None,
            "owner_id": REP,
        }
        self.records = pd.concat([EXISTING, pd.DataFrame([tagged])], ignore_index=True)

    def find_existing(self, emails: list[str], domains: list[str]) -> pd.DataFrame:
        self.calls.append(list(emails))
        asked = {e.strip().lower() for e in emails if e}
        return self.records[self.records["email"].isin(asked)].reset_index(drop=True)


def test_a_page_looked_up_before_validation_marks_the_valid_leads_as_one_lookup_of_their_own_emails() -> None:
    page = leads(
        ["Ana <ANA@acme.com>", "dee+1@gmail.com", "dee@gmail.com", "x" * 300 + "@acme.com", "cy@acme.com"]
    )
    valid = page.iloc[[0, 2, 4]].assign(
        email=pd.array(["ANA@acme.com", "dee@gmail.com", "cy@acme.com"], dtype="string")
    )
    roster = load_roster(ROSTER)
    crm = RecordingCRM()
    looked_up = look_up(crm, page)
    # the display name repaired as validation repairs it; the over-long address is not asked before validation
    assert looked_up.asked == {"ana@acme.com", "dee+1@gmail.com", "dee@gmail.com", "cy@acme.com"}
    assert sorted(looked_up.rows["record_id"]) == ["0031", "00Q7", "00Q9", "L0"]
    marked = find_duplicates(crm, valid, roster, looked_up)
    assert len(crm.calls) == 1  # every valid email was asked already
    alone = find_duplicates(RecordingCRM(), valid, roster)
    pd.testing.assert_frame_equal(marked, alone)
    # dee+1@gmail.com's record (the same mailbox as dee@gmail.com) came only for the lead validation stopped
    assert marked.set_index("lead_id")["duplicate_of"].fillna("-").to_dict() == {
        "L0": "contact:0031", "L2": "-", "L4": "-",
    }  # fmt: skip


def test_a_valid_email_the_early_lookup_did_not_ask_is_asked_then() -> None:
    page = leads(["ana@acme.com", "bo@acme.com"])
    crm = RecordingCRM()
    looked_up = look_up(crm, page.iloc[[0]])
    marked = find_duplicates(crm, page, load_roster(ROSTER), looked_up)
    assert crm.calls == [["ana@acme.com"], ["bo@acme.com"]]
    assert marked.set_index("lead_id")["duplicate_of"].fillna("-").to_dict() == {
        "L0": "contact:0031",
        "L1": "-",
    }
