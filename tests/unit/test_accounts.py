"""Lead-to-account matching, measured on a hand-labelled set of CRM-like leads (tests/data)."""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.enrich import domains as domain_matching
from leadrouter.enrich.accounts import NAME_MATCH_THRESHOLD, match_accounts
from leadrouter.enrich.company_names import normalize_company
from leadrouter.enrich.domains import registrable_domain
from leadrouter.enrich.email import FREE_MAIL_DOMAINS

DATA = Path(__file__).parents[1] / "data"
# keep "null", "None", "N/A" as the strings people typed: only empty cells are missing
ACCOUNTS = pd.read_csv(DATA / "accounts.csv", dtype="string", keep_default_na=False, na_values=[""])
LABELLED = pd.read_csv(DATA / "account_matches.csv", dtype="string", keep_default_na=False, na_values=[""])
OUTPUT_COLUMNS = [
    "account_id",
    "match_method",
    "match_score",
    "runner_up_id",
    "runner_up_score",
    "match_explanation",
]


def test_labelled_set_is_broad_and_consistent() -> None:
    expected = LABELLED["expected_account_id"]
    assert len(ACCOUNTS) >= 150 and ACCOUNTS["account_id"].is_unique
    assert len(LABELLED) >= 220
    assert expected.isna().mean() >= 0.30, "at least 30% of leads belong to no account"
    assert set(expected.dropna()) <= set(ACCOUNTS["account_id"])
    domains = LABELLED["email"].str.extract(r"@([^@\s]+)$", expand=False).str.lower()
    assert domains.isin(FREE_MAIL_DOMAINS).sum() >= 60
    assert (
        domains.str.contains(r"\.(?:co\.uk|com\.au|co\.jp|com\.br|com\.ar|co\.nz|com\.sg)$")
        .fillna(False)
        .sum()
        >= 8
    )


def test_precision_and_recall_on_labelled_leads() -> None:
    matched = match_accounts(LABELLED, ACCOUNTS)
    expected, got = LABELLED["expected_account_id"].fillna(""), matched["account_id"].fillna("")
    predicted = got != ""
    correct = predicted & (got == expected)
    precision, recall = correct.sum() / predicted.sum(), correct.sum() / (expected != "").sum()
    misses = LABELLED.assign(got=got, why=matched["match_explanation"])[got != expected]
    report = "\n".join(
        f"  {row.email!r} / {row.company!r}: expected {row.expected_account_id or '-'}, got {row.got or '-'}: {row.why}"
        for row in misses.fillna("").itertuples()
    )
    assert precision >= 0.98 and recall >= 0.90, (
        f"precision {precision:.3f}, recall {recall:.3f}, misses:\n{report}"
    )


def test_threshold_sits_in_the_gap() -> None:
    """No wrong name candidate reaches the threshold, and no right one sits between the two."""
    best = match_accounts(LABELLED, ACCOUNTS, threshold=0.01)  # every lead's best name candidate "matches"
    by_name = (best["match_method"] == "name").fillna(False)
    right = by_name & (best["account_id"] == LABELLED["expected_account_id"]).fillna(False)
    highest_wrong = best.loc[by_name & ~right, "match_score"].max()
    assert highest_wrong < NAME_MATCH_THRESHOLD
    stranded = best["match_score"].between(highest_wrong, NAME_MATCH_THRESHOLD, inclusive="neither")
    assert not (right & stranded.fillna(False)).any(), LABELLED[right & stranded.fillna(False)]


def test_free_mail_never_matches_by_domain() -> None:
    free = sorted(FREE_MAIL_DOMAINS)
    # CRMs hold accounts whose "website" is a free-mail domain (Bella's Bakery on gmail.com): still no match
    sloppy = pd.DataFrame(
        {"account_id": [f"FREE-{domain}" for domain in free], "name": "Sloppy Record", "website": free,
         "owner_id": "U99", "owner_active": "true", "last_activity_at": "2025-06-30T00:00:00Z"}
    )  # fmt: skip
    leads = pd.DataFrame(
        {"email": [f"Someone@{domain.upper()}" for domain in free], "company": None,
         "website": [f"https://www.{domain}/" for domain in free]}
    )  # fmt: skip
    matched = match_accounts(leads, pd.concat([ACCOUNTS, sloppy], ignore_index=True))
    assert matched["account_id"].isna().all(), matched[matched["account_id"].notna()]

    labelled = match_accounts(LABELLED, ACCOUNTS)
    free_mail = (
        LABELLED["email"].str.extract(r"@([^@\s]+)$", expand=False).str.lower().isin(FREE_MAIL_DOMAINS)
    )
    assert not labelled.loc[free_mail, "match_explanation"].str.contains("email domain").any()


def test_every_match_explains_itself_and_names_its_runner_up() -> None:
    matched = match_accounts(LABELLED, ACCOUNTS)
    for row in matched.itertuples():
        if pd.isna(row.account_id):
            assert row.match_explanation.startswith("No match"), row
            continue
        assert row.match_explanation.startswith("Matched") and f"({row.account_id})" in row.match_explanation
        assert f"score {row.match_score:.0f}" in row.match_explanation
        if pd.notna(row.runner_up_id):
            assert "runner-up" in row.match_explanation and f"({row.runner_up_id})" in row.match_explanation
        else:
            assert "no runner-up" in row.match_explanation or "no other account" in row.match_explanation
    with_runner_up = matched.dropna(subset=["account_id", "runner_up_id"])
    assert set(with_runner_up["match_method"]) == {"domain", "name"}


@pytest.mark.parametrize(
    "lead",
    [{"email": "jo@eu.acme.com"}, {"email": "jo@gmail.com", "company": "ACME corp."}],
    ids=["domain", "name"],
)
@pytest.mark.parametrize(
    ("first", "second", "winner", "loser_because"),
    [
        (("false", "2025-06-10"), ("true", "2024-01-01"), "ACC-B", "its owner is inactive"),
        (("true", "2024-01-01"), ("true", "2025-06-10"), "ACC-B", "its last activity is older"),
        (("true", ""), ("true", "2024-01-01"), "ACC-B", "its last activity is older"),
        (("true", "2025-01-01"), ("true", "2025-01-01T00:00:00Z"), "ACC-A", "its account id sorts later"),
    ],
    ids=["inactive-owner-loses", "older-activity-loses", "no-activity-loses", "account-id-last"],
)
def test_tie_breakers(
    lead: dict[str, str], first: tuple[str, str], second: tuple[str, str], winner: str, loser_because: str
) -> None:
    duplicates = pd.DataFrame(
        {
            "account_id": ["ACC-A", "ACC-B"],
            "name": ["Acme Corp", "Acme Corporation Ltd"],
            "website": ["https://www.acme.com/", "acme.com"],
            "owner_id": ["U1", "U2"],
            "owner_active": [first[0], second[0]],
            "last_activity_at": [first[1], second[1]],
        }
    )
    matched = match_accounts(pd.DataFrame([lead]), duplicates).iloc[0]
    assert matched["account_id"] == winner
    assert matched["runner_up_id"] == ({"ACC-A", "ACC-B"} - {winner}).pop()
    assert matched["runner_up_score"] == matched["match_score"] == 100
    assert loser_because in matched["match_explanation"]


@pytest.mark.parametrize(
    ("company", "account_name", "matches"),
    [
        ("Sapp", "SAP SE", False),  # short names: one letter off is another company
        ("SAP", "SAP SE", True),
        ("Global Solutions", "Apex Global Solutions Ltd", False),  # generic words never match on their own
        ("Consulting Partners", "Østergaard Consulting ApS", False),
        ("Global Solutions", "Global Solutions Group Ltd", True),  # ...unless the whole name is the same
    ],
)
def test_short_and_generic_names_only_match_exactly(company: str, account_name: str, matches: bool) -> None:
    account = ACCOUNTS.iloc[:1].assign(name=account_name, website=None)
    matched = match_accounts(pd.DataFrame({"company": [company]}), account, threshold=50)
    assert matched["account_id"].notna().item() is matches, matched["match_explanation"].item()


@pytest.mark.parametrize(
    ("company", "expected"),
    [
        ("Delta", None),  # Delta Air Lines or Delta Dental: too close to call
        ("delta airlines", "ACC-1003"),
        ("Apple", "ACC-1005"),
        ("Applied Material", "ACC-1006"),
        ("Applebee's", None),
        ("Costco", "ACC-1129"),
        ("Bosch, Robert", "ACC-1043"),
        ("Salesforce Consulting Partners LLC", None),
    ],
)
def test_similar_names_of_different_companies(company: str, expected: str | None) -> None:
    matched = match_accounts(pd.DataFrame({"email": ["x@gmail.com"], "company": [company]}), ACCOUNTS)
    assert matched["account_id"].fillna("").item() == (expected or ""), matched["match_explanation"].item()


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("ACME corp.", "acme"),
        ("Acme, Inc", "acme"),
        ("Acme Corporation Ltd", "acme"),
        ("The Coca-Cola Company", "coca cola"),
        ("Henkel AG & Co. KGaA", "henkel"),
        ("A.P. Møller - Mærsk A/S", "ap moller maersk"),
        ("Société Générale S.A.", "societe generale"),
        ("CEMEX, S.A.B. de C.V.", "cemex"),
        ("O'Brien & Sons Plumbing, L.L.C.", "obrien and sons plumbing"),
        ("Klarna Bank AB (publ)", "klarna bank"),
        ("Home Depot, The", "home depot"),
        ("Enel S.p.A.", "enel"),
        ("Rakuten Group K.K.", "rakuten group"),
        ("Inc.", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalize_company(name: str | None, normalized: str | None) -> None:
    assert normalize_company(pd.Series([name], dtype="string")).fillna("").item() == (normalized or "")


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("jo@eu.acme.com", "acme.com"),
        ("JO@Team.Telstra.com.au", "telstra.com.au"),
        ("https://www.acme.com/", "acme.com"),
        ("acme.co.uk", "acme.co.uk"),
        ("http://shop.koala.com.au/en", "koala.com.au"),
        ("http://user:pw@www.acme.com:8080/x?y=1", "acme.com"),
        ("jo@acme.com.evil.io", "evil.io"),
        ("global.toyota", "global.toyota"),
        ("acme.myshopify.com", "acme.myshopify.com"),  # a shop on a shared host is its own domain
        ("user@localhost", None),
        ("admin@192.168.0.1", None),
        ("not-an-email", None),
        ("", None),
        (None, None),
    ],
)
def test_registrable_domain(value: str | None, domain: str | None) -> None:
    assert registrable_domain(pd.Series([value], dtype="string")).fillna("").item() == (domain or "")


def test_registrable_domain_works_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    domain_matching._suffix_extractor.cache_clear()  # build the extractor and load its suffix list right here
    domains = registrable_domain(pd.Series(["jo@eu.acme.co.uk", "https://shop.acme.com.au/en", "x@y.z"]))
    assert domains.tolist() == ["acme.co.uk", "acme.com.au", pd.NA]
    assert attempts == []


cells = st.one_of(
    st.none(),
    st.just(""),
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40).map(lambda text: f"{text}@{text}.com"),
    st.sampled_from(["Acme Corp", "jo@acme.com", "https://www.acme.com/", "ACC-1001", "inc", "the"]),
    st.builds(lambda text, repeat: text * repeat, st.text(min_size=1, max_size=3), st.just(100_000)),
)


@st.composite
def lead_frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.lists(st.tuples(cells, cells, cells), max_size=6))
    index = draw(
        st.lists(st.one_of(st.integers(), st.text(max_size=4)), min_size=len(rows), max_size=len(rows))
    )
    frame = pd.DataFrame(rows, columns=["email", "company", "website"], index=pd.Index(index, dtype=object))
    return frame[draw(st.lists(st.sampled_from(list(frame.columns)), unique=True))]


@settings(max_examples=60, deadline=None)
@given(leads=lead_frames())
def test_never_raises_and_keeps_one_row_per_lead(leads: pd.DataFrame) -> None:
    matched = match_accounts(leads, ACCOUNTS)
    assert list(matched.columns) == OUTPUT_COLUMNS
    assert matched.index.equals(leads.index) and len(matched) == len(leads)
    assert matched["match_method"].isin(["domain", "name"]).eq(matched["account_id"].notna()).all()
    assert matched["match_score"].dropna().between(0, 100).all()
    assert matched["match_explanation"].notna().all()
