"""Enrichment's one-pass paths give what the pandas str chains gave: email domains, normalised company names,
comparison keys and the nothing-to-match test, against verbatim copies of the old functions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.enrich.accounts import match_accounts
from leadrouter.enrich.company_names import (
    _LEGAL_ENDINGS,
    _LEGAL_TAIL,
    _LETTER_FOLDS,
    MAX_NAME_LENGTH,
    comparison_key,
    normalize_company,
    without_noise,
)
from leadrouter.enrich.email import email_domain
from leadrouter.enrich.firmographics import (
    FIRMOGRAPHIC_COLUMNS,
    FIRMOGRAPHIC_DTYPES,
    ProviderError,
    TableProvider,
    _typed,
    enrich_firmographics,
)

DATA = Path(__file__).parents[1] / "data"
ACCOUNTS = pd.read_csv(DATA / "accounts.csv", dtype="string", keep_default_na=False, na_values=[""])
LABELLED = pd.read_csv(DATA / "account_matches.csv", dtype="string", keep_default_na=False, na_values=[""])
_FOLDED_LETTER = f"[{''.join(_LETTER_FOLDS)}]"


def _email_domain_before(emails: pd.Series) -> pd.Series:
    domains = emails.astype("string").str.strip().str.lower().str.extract(r"@([^@\s]+)$", expand=False)
    codes, distinct = pd.factorize(domains)
    return pd.Series(distinct.take(codes, allow_fill=True), index=emails.index, name=domains.name)


def _normalize_company_before(names: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(names.astype("string"))
    text = pd.Series(uniques, dtype="string").str.slice(0, MAX_NAME_LENGTH).str.casefold()
    accented = ~text.str.isascii().fillna(True).astype(bool)
    folded = text[accented].str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
    text[accented] = folded.str.replace(_FOLDED_LETTER, lambda m: _LETTER_FOLDS[m[0]], regex=True)
    text = text.str.replace(r"\([^)]*\)", " ", regex=True)
    text = text.str.replace("&", " and ", regex=False)
    text = text.str.replace(r"[./](?<=\b\w[./])", "", regex=True)
    text = text.str.replace(r"['’‘`´]", "", regex=True)
    text = text.str.replace(r"[\W_]+", " ", regex=True).str.strip()
    legal = (" " + text).str.endswith(_LEGAL_ENDINGS).fillna(False).astype(bool)
    text[legal] = text[legal].str.replace(_LEGAL_TAIL, "", regex=True)
    text = text.str.removeprefix("the ").str.strip()
    normalized = pd.array(text.where(text != ""), dtype="string")
    return pd.Series(normalized.take(codes, allow_fill=True), index=names.index, name="company_normalized")


def _comparison_key_before(normalized: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(normalized)
    keys = pd.Series(uniques, dtype="string").map(without_noise).array
    return pd.Series(keys.take(codes, allow_fill=True), index=normalized.index, dtype="string")


def _nothing_before(leads: pd.DataFrame) -> list[bool]:
    lead = leads.reindex(columns=["email", "company", "website"]).astype("string")
    return lead.apply(lambda values: values.str.strip().replace("", pd.NA)).isna().all(axis=1).tolist()


def _enrich_firmographics_before(leads: pd.DataFrame, provider: TableProvider) -> pd.DataFrame:
    out = leads.copy()
    for column in FIRMOGRAPHIC_COLUMNS:
        dtype = FIRMOGRAPHIC_DTYPES[column]
        out[column] = out[column].astype(dtype) if column in out else pd.Series(pd.NA, out.index, dtype)
    domain = out["email_domain"].astype("string").str.lower()
    free = out["is_free_mail"].astype("boolean").fillna(False) if "is_free_mail" in out else False
    own_values = out[FIRMOGRAPHIC_COLUMNS].notna()
    needed = ~own_values.all(axis=1) & domain.notna() & ~free

    filled = pd.Series(False, index=out.index)
    failed = False
    if needed.any():
        try:
            found = _typed(provider.lookup(list(domain[needed].unique()))).set_index("domain")
        except Exception as exc:
            failed = True
            reason = str(exc) if isinstance(exc, ProviderError) else type(exc).__name__
            assert reason
        else:
            for column in FIRMOGRAPHIC_COLUMNS:
                value = domain.where(needed).map(found[column]).astype(FIRMOGRAPHIC_DTYPES[column])
                gap = out[column].isna() & value.notna()
                out[column] = out[column].mask(gap, value)
                filled |= gap

    out["enrichment_failed"] = (needed & failed).astype("boolean")
    source = pd.Series(pd.NA, index=out.index, dtype="string")
    source[own_values.any(axis=1)] = "lead"
    source[filled] = "provider"
    out["firmographics_source"] = source
    return out


# where the paths could part: whitespace Python strips (\x1c-\x1f, \x85, \xa0, \u2009, \u3000) or not (\u200b),
# case folds that change length (ß, İ), accents and the letters NFKD keeps, legal forms, dots and brackets
_PIECES = st.sampled_from(
    [
        "@", "@@", ".", " ", "\t", "\n", "\x0b", "\x1c", "\x1f", "\x85", "\xa0", "\u2009", "\u3000", "\u200b",
        "a", "Z", "7", "_", "é", "É", "ß", "İ", "ø", "Æ", "ł", "\u0301", "漢", "ж", "&", "(", ")", "'", "’",
        "/", "-", "S.A.", "A/S", "GmbH", " Inc.", " & Co. KG", "The ", " the", "Acme", "ACME.COM", "gmail.com",
    ]
)  # fmt: skip
_TEXT = st.one_of(st.lists(_PIECES, max_size=10).map("".join), st.text(max_size=20), st.none())


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, max_size=10))
def test_email_domains_are_found_as_before(emails: list[str | None]) -> None:
    for dtype in ("string", "str", object):
        values = pd.Series(emails, index=range(50, 50 + len(emails)), dtype=dtype, name="email")
        pd.testing.assert_series_equal(email_domain(values), _email_domain_before(values), check_exact=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, max_size=10))
def test_company_names_normalise_and_key_as_before(names: list[str | None]) -> None:
    values = pd.Series(names, index=range(50, 50 + len(names)), dtype="string", name="company")
    normalized = normalize_company(values)
    pd.testing.assert_series_equal(normalized, _normalize_company_before(values), check_exact=True)
    pd.testing.assert_series_equal(
        comparison_key(normalized), _comparison_key_before(normalized), check_exact=True
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT, _TEXT), max_size=8))
def test_leads_with_nothing_to_match_are_told_as_before(rows: list[tuple]) -> None:
    leads = pd.DataFrame(rows, columns=["email", "company", "website"], dtype="string")
    nothing = match_accounts(leads, ACCOUNTS)["match_explanation"].str.startswith("No match: the lead has no")
    assert nothing.tolist() == _nothing_before(leads)


def test_the_labelled_names_and_emails_give_what_they_gave() -> None:
    names = pd.concat([ACCOUNTS["name"], LABELLED["company"]], ignore_index=True)
    normalized = normalize_company(names)
    pd.testing.assert_series_equal(normalized, _normalize_company_before(names), check_exact=True)
    pd.testing.assert_series_equal(
        comparison_key(normalized), _comparison_key_before(normalized), check_exact=True
    )
    emails = LABELLED["email"]
    pd.testing.assert_series_equal(email_domain(emails), _email_domain_before(emails), check_exact=True)


def test_a_given_email_domain_matches_as_the_derived_one() -> None:
    given_domain = LABELLED.assign(email_domain=email_domain(LABELLED["email"]))
    pd.testing.assert_frame_equal(
        match_accounts(given_domain, ACCOUNTS), match_accounts(LABELLED, ACCOUNTS), check_exact=True
    )


_DOMAINS = st.sampled_from(["acme.com", "ACME.com", "bücher.de", "gmail.com", "unknown.org", "", " "])
_LEAD_ROW = st.tuples(
    st.one_of(_DOMAINS, st.none()),
    st.one_of(st.booleans(), st.none()),
    st.one_of(st.integers(0, 10**6), st.none()),
    st.one_of(st.sampled_from(["Retail", "Ölhandel", ""]), st.none()),
    st.one_of(st.floats(0, 1e9), st.none()),
)
_KNOWN_ROW = st.tuples(
    st.one_of(_DOMAINS, st.none()),
    st.one_of(st.integers(0, 10**6), st.floats(0, 1e6), st.none()),
    st.one_of(st.sampled_from(["Software", "Größe", ""]), st.none()),
    st.one_of(st.floats(0, 1e9), st.none()),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_LEAD_ROW, max_size=8), st.lists(_KNOWN_ROW, max_size=5), st.integers(0, 3))
def test_firmographics_fill_as_before(rows: list[tuple], known: list[tuple], start: int) -> None:
    leads = pd.DataFrame(
        rows, columns=["email_domain", "is_free_mail", "employees", "industry", "annual_revenue"]
    ).astype(
        {"email_domain": "string", "is_free_mail": "boolean", "employees": "Int64", "industry": "string"}
    )
    leads.index = range(start, start + len(leads))
    provider = TableProvider(
        pd.DataFrame(known, columns=["domain", "employees", "industry", "annual_revenue"], dtype=object)
    )
    pd.testing.assert_frame_equal(
        enrich_firmographics(leads, provider), _enrich_firmographics_before(leads, provider), check_exact=True
    )
