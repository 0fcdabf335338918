"""The sandbox CRM's data generator: deterministic, well typed, and realistic where routing relies on it."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from leadrouter.sandbox.accounts import generate_accounts, generate_contacts
from leadrouter.sandbox.leads import generate_leads
from leadrouter.schema import CATEGORIES, TIERS

NOW = pd.Timestamp("2025-03-03 12:00", tz="UTC")
DAY_AGO = NOW - pd.Timedelta(days=1)
LEAD_ORDER = [
    "lead_id", "first_name", "last_name", "email", "phone", "title", "company", "website", "country", "state",
    "city", "industry", "employees", "annual_revenue", "lead_source", "message", "created_at",
    "label_category", "label_tier", "label_kind",
]  # fmt: skip
FREE_MAIL = set(
    """gmail.com yahoo.com outlook.com hotmail.com icloud.com proton.me aol.com gmx.de gmx.net web.de
    t-online.de hotmail.co.uk yahoo.co.uk orange.fr free.fr hotmail.fr yahoo.co.jp qq.com 163.com naver.com
    bol.com.br uol.com.br libero.it""".split()
)
# regions as the sales team splits the world, written out here independently of the generator
NA, LATAM = {"US", "CA"}, {"MX", "BR", "AR", "CO", "CL", "PE", "UY", "PY", "BO", "EC", "VE", "CR", "PA", "GT"}
APAC = {"AU", "NZ", "JP", "CN", "KR", "IN", "SG", "HK", "TW", "ID", "MY", "TH", "VN", "PH"}
SENIOR = (
    r"(?i)\b(?:chief|ceo|cto|cfo|cro|cmo|coo|cio|founder|owner|president|vp|svp|evp|head|managing director)\b"
)
VALID_EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"
SOURCES = {"demo_request", "contact_form", "chat", "ebook", "webinar", "event", "pricing_page", "free_trial"}


World = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]  # accounts, contacts, leads


def build(seed: int, n: int, accounts: int = 400, contacts: int = 1500, id_start: int = 1) -> World:
    rng = np.random.default_rng(seed)
    acc = generate_accounts(rng, accounts)
    con = generate_contacts(rng, acc, contacts)
    return acc, con, generate_leads(rng, n, acc, con, DAY_AGO, NOW, id_start)


@pytest.fixture(scope="module")
def world() -> World:
    return build(7, 5000)


def domain_of(emails: pd.Series) -> pd.Series:
    return emails.str.strip().str.lower().str.rpartition("@")[2]


def region_of(code: str) -> str:
    return "NA" if code in NA else "LATAM" if code in LATAM else "APAC" if code in APAC else "EMEA"


def test_same_seed_gives_identical_frames_and_another_seed_does_not() -> None:
    first, second, other = build(11, 2000), build(11, 2000), build(12, 2000)
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert not first[2]["email"].equals(other[2]["email"])


def test_lead_columns_dtypes_and_ids(world: World) -> None:
    _, _, leads = build(3, 300, id_start=501)
    assert list(leads.columns) == LEAD_ORDER
    for col in LEAD_ORDER:
        expected = {"employees": "Int64", "annual_revenue": "Float64", "created_at": "datetime64[us, UTC]"}
        assert str(leads[col].dtype) == expected.get(col, "string"), col
    assert leads["lead_id"].iloc[0] == "00Q000000000501" and leads["lead_id"].iloc[-1] == "00Q000000000800"
    assert leads["lead_id"].str.fullmatch(r"00Q\d{12}").all() and leads["lead_id"].is_unique
    assert set(leads["lead_source"]) == SOURCES


def test_created_at_is_sorted_and_spread_over_the_window(world: World) -> None:
    created = world[2]["created_at"]
    assert created.is_monotonic_increasing
    assert created.min() >= DAY_AGO and created.max() <= NOW
    assert (created.max() - created.min()) > pd.Timedelta(hours=23)  # spread, not bunched
    hourly = created.dt.floor("h").value_counts()
    assert len(hourly) >= 24 and hourly.max() < 3 * hourly.min()


def test_free_mail_share(world: World) -> None:
    share = domain_of(world[2]["email"]).isin(FREE_MAIL).mean()
    assert 0.2 <= share <= 0.3


def test_malformed_and_duplicate_shares(world: World) -> None:
    kinds = world[2]["label_kind"].value_counts(normalize=True)
    assert set(kinds.index) == {"clean", "malformed", "duplicate"}
    assert abs(kinds["malformed"] - 0.03) < 0.012
    assert abs(kinds["duplicate"] - 0.05) < 0.015


def test_duplicates_are_existing_contacts_and_no_clean_lead_is(world: World) -> None:
    accounts, contacts, leads = world
    on_file = contacts.assign(key=contacts["email"].str.lower()).merge(accounts, on="account_id")
    key = leads["email"].str.strip().str.lower()
    dup = leads["label_kind"] == "duplicate"
    assert key[dup].isin(set(on_file["key"])).all()
    assert not key[leads["label_kind"] == "clean"].isin(set(on_file["key"])).any()
    # same person, same company; the email is sometimes re-cased or padded
    matched = pd.DataFrame({"key": key[dup], "company": leads.loc[dup, "company"]}).merge(on_file, on="key")
    assert (matched["company"] == matched["name"]).all()
    assert (leads.loc[dup, "email"] != key[dup]).any()


def test_malformed_rows_are_broken_and_clean_rows_are_not(world: World) -> None:
    leads = world[2]
    bad_email = ~leads["email"].str.strip().str.fullmatch(VALID_EMAIL, case=False).fillna(False)
    no_company = leads["company"].isna() | (leads["company"] == "")
    junk_name = leads["first_name"].str.lower().isin({"asdf", "test", "qwerty", "xxx", "aaa", "a"})
    negative = leads["employees"].fillna(0) < 0
    broken = bad_email | junk_name | negative | no_company
    malformed = leads["label_kind"] == "malformed"
    assert broken[malformed].all()
    assert not (bad_email | junk_name | negative)[~malformed].any()
    assert (malformed & bad_email).any() and (malformed & negative).any() and (malformed & junk_name).any()


def test_every_category_and_tier_and_their_mix(world: World) -> None:
    leads = world[2]
    assert set(leads["label_category"]) == set(CATEGORIES)
    assert set(leads["label_tier"]) == set(TIERS)
    sales = leads["label_category"] == "sales"
    assert 0.5 < sales.mean() < 0.62
    assert (leads.loc[~sales, "label_tier"] == "Other").all()
    assert (leads.loc[sales, "label_tier"] != "Other").all()


def test_vip_and_standard_match_the_seed_tiers(world: World) -> None:
    leads = world[2]
    # labels are the truth about the person; a malformed row's form fields may lie
    vip = leads[(leads["label_tier"] == "VIP") & (leads["label_kind"] != "malformed")]
    assert len(vip) > 50
    titled = vip["title"].dropna()
    assert titled.str.contains(SENIOR).all()
    assert (vip["employees"].dropna() >= 200).all()
    standard = (leads["label_tier"] == "Standard") & (leads["label_kind"] != "malformed")
    assert (leads.loc[standard, "employees"].dropna() >= 11).all()
    # content downloads without a buying message never reach a rep
    ebook = leads[(leads["lead_source"] == "ebook") & (leads["label_category"] == "sales")]
    assert (ebook["label_tier"] == "Nurture").all()
    assert ebook["message"].isna().mean() > 0.5


def test_accounts_look_like_a_crm(world: World) -> None:
    accounts = world[0]
    assert accounts["account_id"].iloc[0] == "001000000000001"
    assert accounts["account_id"].str.fullmatch(r"001\d{12}").all() and accounts["account_id"].is_unique
    assert accounts["domain"].is_unique
    assert (accounts["website"] == "https://www." + accounts["domain"]).all()
    assert (accounts["region"] == accounts["country"].map(region_of)).all()
    assert set(accounts["region"]) == {"NA", "EMEA", "APAC", "LATAM"}
    assert accounts["region"].value_counts(normalize=True)["NA"] > 0.35
    scale = pd.cut(accounts["employees"], [0, 10, 200, 1000, 10_000, np.inf])
    assert (scale.value_counts() > 0).all()
    assert accounts["employees"].corr(accounts["annual_revenue"], method="spearman") > 0.7
    assert accounts["name"].str.contains(r"\b(?:Inc|LLC|Ltd|GmbH|S\.A\.|BV|Pty Ltd|SAS)\b").mean() > 0.3
    assert accounts["domain"].str.contains(r"\.(?:de|co\.uk|com\.au|fr|com\.br|jp|co\.jp)$").any()
    us = accounts["country"] == "US"
    assert (
        accounts.loc[us, "state"].notna().all()
        and accounts.loc[accounts["country"] == "DE", "state"].isna().all()
    )


def test_contacts_work_at_accounts_with_unique_emails(world: World) -> None:
    accounts, contacts, _ = world
    assert contacts["contact_id"].str.fullmatch(r"003\d{12}").all() and contacts["contact_id"].is_unique
    assert contacts["email"].is_unique and (contacts["email"] == contacts["email"].str.lower()).all()
    at = contacts.merge(accounts, on="account_id", how="left")
    assert at["domain"].notna().all()
    assert (at["email"].str.rpartition("@")[2] == at["domain"]).all()


def test_leads_at_accounts_and_prospects(world: World) -> None:
    accounts, _, leads = world
    at_account = leads["company"].isin(set(accounts["name"]))
    assert 0.25 < at_account.mean() < 0.4
    # a lead mailing from an account's domain works at that account; prospects never share a domain
    by_domain = dict(zip(accounts["domain"], accounts["name"], strict=True))
    domain = domain_of(leads["email"])
    known = domain.isin(by_domain) & (leads["label_kind"] != "malformed")
    assert (leads.loc[known, "company"] == domain[known].map(by_domain)).all()
    assert leads["employees"].dropna().gt(0).mean() > 0.99
    scale = pd.cut(leads["employees"].dropna().astype(float), [0, 10, 200, 1000, 10_000, np.inf])
    assert (scale.value_counts() > 0).all()


def test_students_and_researchers(world: World) -> None:
    leads = world[2]
    research = leads[(leads["label_category"] == "research") & (leads["label_kind"] == "clean")]
    assert research["title"].str.contains(r"(?i)student|candidate|intern").mean() > 0.8
    free = domain_of(research["email"]).isin(FREE_MAIL)
    academic = domain_of(research["email"]).str.contains(r"\.edu|\.ac\.|^uni-|^tu")
    assert 0.3 < free.mean() < 0.6 and academic.any()


def test_messages_vary_and_fit_their_category(world: World) -> None:
    leads = world[2]
    keywords = {
        "jobs": r"apply|resume|cv|role|position|career|internship|job|hiring|opening",
        "press": r"journalist|reporter|interview|podcast|article|magazine|press",
        "research": r"thesis|dissertation|survey|student|research|university",
        "partnership": r"partner|reseller|referral|agenc|white-label|co-marketing",
        "support": r"log in|password|invoice|billing|bug|broken|error|syncing|locked|refund|outage|user",
    }
    for category, pattern in keywords.items():
        text = leads.loc[(leads["label_category"] == category) & (leads["label_kind"] == "clean"), "message"]
        text = text[text.fillna("") != ""]
        assert text.str.contains(pattern, case=False).mean() > 0.9, category
        assert text.nunique() > 0.5 * len(text), category
    sales = leads.loc[leads["label_category"] == "sales", "message"].dropna()
    assert sales.str.contains(r"(?i)demo|pricing|quote|seats").any() and sales.nunique() > 500


def test_countries_phones_and_names_are_messy_like_real_forms(world: World) -> None:
    leads = world[2]
    country = leads["country"]
    assert 0.4 < country.str.fullmatch(r"[A-Z]{2}").mean() < 0.8
    assert country.isin(["United States", "USA", "U.S.", "Deutschland", "UK"]).any() and country.isna().any()
    assert 0.7 < leads["phone"].notna().mean() < 0.9
    assert leads["phone"].dropna().str.fullmatch(r"[+()0-9 .\-/]{7,}").all()
    us = (leads["country"] == "US") & (leads["label_kind"] != "malformed")
    us = leads.loc[us, "phone"].dropna().str.replace(r"\D", "", regex=True)
    assert us.str.fullmatch(r"1?[2-9]\d{9}").all()
    assert leads["title"].str.contains(r"^(?:VP|Vice President|Head of|Dir\.|Director)").any()


def test_generates_from_frames_read_back_from_sqlite() -> None:
    accounts, contacts, _ = build(5, 0)
    with sqlite3.connect(":memory:") as db:
        accounts.drop(columns="region").rename(columns={"account_id": "id"}).to_sql("accounts", db)
        contacts.rename(columns={"contact_id": "id"}).to_sql("contacts", db)
        acc = pd.read_sql_query("SELECT id AS account_id, * FROM accounts", db).assign(region="")
        con = pd.read_sql_query("SELECT id AS contact_id, * FROM contacts", db)
    leads = generate_leads(np.random.default_rng(1), 2000, acc, con, DAY_AGO, NOW, id_start=77)
    assert leads["lead_id"].iloc[0] == "00Q000000000077"
    dup = leads["label_kind"] == "duplicate"
    assert dup.any() and leads.loc[dup, "email"].str.strip().str.lower().isin(set(con["email"])).all()


def test_edge_cases() -> None:
    rng = np.random.default_rng(0)
    accounts = generate_accounts(rng, 50)
    none = generate_contacts(rng, accounts, 0)
    empty = generate_leads(rng, 0, accounts, none, DAY_AGO, NOW)
    assert list(empty.columns) == LEAD_ORDER and empty.empty and str(empty["employees"].dtype) == "Int64"
    assert len(generate_leads(rng, 1, accounts, none, DAY_AGO, DAY_AGO)) == 1
    assert not (generate_leads(rng, 500, accounts, none, DAY_AGO, NOW)["label_kind"] == "duplicate").any()
    alone = generate_leads(rng, 500, accounts.iloc[:0], none, DAY_AGO, NOW)
    assert not alone["company"].isin(set(accounts["name"])).any()
    with pytest.raises(ValueError):
        generate_leads(rng, 5, accounts, none, NOW, DAY_AGO)


def test_a_hundred_thousand_leads() -> None:
    leads = build(9, 100_000)[2]
    assert len(leads) == 100_000 and leads["lead_id"].is_unique
