"""Seeded, vectorised generator of the sandbox CRM's accounts and their contacts."""

from __future__ import annotations

from itertools import count

import numpy as np
import pandas as pd

from leadrouter.sandbox import words as W
from leadrouter.sandbox.arrays import (
    BRANDS,
    C_CULTURE,
    C_LANG,
    CITIES,
    CITY_NAME,
    CITY_SLUG,
    CODES,
    COUNTRY_P,
    FIRST,
    GOV_TLD,
    HEADS,
    INDUSTRIES,
    INDUSTRY_P,
    LANGS,
    LAST,
    NOUN_SLUG,
    NOUNS,
    REGION,
    REV_PER_HEAD,
    STATE,
    SUFFIXES,
    TAILS,
    TLDS,
    as_objects,
    country_index,
    crm_ids,
    normalise,
    pick_names,
    pick_titles,
    render,
)  # fmt: skip

ACCOUNT_COLUMNS = ["account_id", "name", "website", "domain", "industry", "employees", "annual_revenue"]
ACCOUNT_COLUMNS += ["country", "state", "city", "region"]
CONTACT_COLUMNS = ["contact_id", "account_id", "first_name", "last_name", "email", "title"]
COMPANY = ["name", "domain", "website", "industry", "employees", "annual_revenue", "country", "state", "city"]


def generate_companies(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """n companies shaped like CRM accounts, without ids; domains may repeat (see unique_domains)."""
    country = rng.choice(len(CODES), n, p=COUNTRY_P)
    city = CITIES.items[CITIES.pick(rng, country)].astype(np.int64)
    industry = rng.choice(len(INDUSTRIES), n, p=INDUSTRY_P)
    noun = NOUNS.pick(rng, industry * len(LANGS) + np.where(rng.random(n) < 0.6, C_LANG[country], 0))
    # a brand is a word (Northwind), a coined word (Veridex) or a family name (Bergmann);
    # public agencies take their city's name
    gov = industry == INDUSTRIES.index("Government")
    style = np.where(gov, 3, rng.choice(3, n, p=[0.35, 0.4, 0.25]))
    family = LAST.pick(rng, C_CULTURE[country])
    coined = HEADS[rng.integers(len(HEADS), size=n)] + TAILS[rng.integers(len(TAILS), size=n)]
    brands = [BRANDS[rng.integers(len(BRANDS), size=n)], coined, LAST.brand[family], CITY_NAME[city]]
    brand = np.choose(style, brands)
    lowered = [pd.Series(b).str.lower().to_numpy(dtype=object) for b in brands[:2]]
    slug = np.choose(style, [*lowered, LAST.slug[family], CITY_SLUG[city]])
    bare = gov | (industry == INDUSTRIES.index("Education")) | (rng.random(n) < 0.15)
    suffix = np.where(bare, "", " " + SUFFIXES.items[SUFFIXES.pick(rng, country)])
    joiner = np.where(rng.random(n) < 0.08, "-", "")
    head = np.where(gov | (rng.random(n) < 0.65), slug + joiner + NOUN_SLUG[noun], slug)
    tld = np.where(rng.random(n) < 0.55, TLDS.items[TLDS.pick(rng, country)], ".com")
    tld = np.where((industry == 0) & (rng.random(n) < 0.12), ".io", np.where(gov, GOV_TLD[country], tld))
    # log-normal headcount: most companies small or mid-size, a long tail of enterprises
    employees = np.clip(np.round(np.exp(rng.normal(4.5, 2.4, n))), np.where(gov, 40, 1), 400_000)
    revenue = np.round(employees * REV_PER_HEAD[industry] * np.exp(rng.normal(0, 0.5, n)), -3)
    frame = {"name": brand + " " + NOUNS.items[noun] + suffix, "domain": head + tld}
    frame |= {"industry": as_objects(INDUSTRIES)[industry], "employees": employees.astype(np.int64)}
    frame |= {"annual_revenue": revenue, "country": CODES[country], "state": STATE[city]}
    return pd.DataFrame(frame | {"city": CITY_NAME[city], "region": REGION[country]})


def unique_domains(domains: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """Domains made unique (and distinct from `taken`) with variants: getx.com, xhq.com, then x9.com."""
    both = pd.Series(np.concatenate([taken, domains]), dtype=object)
    for attempt in count():  # each round renames every clash at once; numbered names end it quickly
        rank = both.groupby(both, sort=False).cumcount().to_numpy()
        clash = np.flatnonzero(rank[len(taken) :] > 0) + len(taken)
        if not len(clash):
            return both.iloc[len(taken) :].to_numpy(dtype=object)
        head, _, tld = (p.to_numpy(dtype=object) for _, p in both.iloc[clash].str.partition(".").items())
        if attempt < len(W.DOMAIN_VARIANTS):
            which = (rank[clash] + attempt) % len(W.DOMAIN_VARIANTS)
            head = render(as_objects(W.DOMAIN_VARIANTS), which, {"h": head})
        else:
            head = head + (rank[clash] + attempt).astype(str).astype(object)
        both.iloc[clash] = head + "." + tld
    raise AssertionError("unreachable")


def generate_accounts(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """n CRM accounts with unique domains and ids 001000000000001, 001000000000002, ..."""
    frame = generate_companies(rng, n)
    frame["domain"] = unique_domains(frame["domain"].to_numpy(dtype=object), as_objects([]))
    frame["website"] = "https://www." + frame["domain"]
    frame["account_id"] = crm_ids("001", 1, n)
    strings = [c for c in ACCOUNT_COLUMNS if c not in ("employees", "annual_revenue")]
    return frame[ACCOUNT_COLUMNS].astype(dict.fromkeys(strings, "string"))


def generate_contacts(rng: np.random.Generator, accounts: pd.DataFrame, n: int) -> pd.DataFrame:
    """n contacts at `accounts` (bigger accounts have more), emailed first.last@domain, every email unique."""
    if n == 0 or accounts.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in CONTACT_COLUMNS})
    size = pd.to_numeric(accounts["employees"], errors="coerce").fillna(10).clip(lower=1).to_numpy(float)
    at = rng.choice(len(accounts), n, p=normalise(np.sqrt(size)))
    country = country_index(accounts["country"].to_numpy(dtype=object)[at])
    first, last = pick_names(rng, np.maximum(country, 0))
    title = pick_titles(rng, rng.choice(len(W.LEVELS), n, p=normalise(W.LEVEL_SHARE["contact"])))
    domain = accounts["domain"].astype(object).fillna("").str.lower().to_numpy(dtype=object)[at]
    address = pd.Series(FIRST.slug[first] + "." + LAST.slug[last] + "@" + domain)
    # namesakes at one domain become jane.doe2@, jane.doe3@, as a mail admin would do
    rank = address.groupby(address).cumcount().to_numpy()
    number = np.where(rank > 0, (rank + 1).astype(str), "").astype(object)
    email = FIRST.slug[first] + "." + LAST.slug[last] + number + "@" + domain
    return pd.DataFrame(
        {"contact_id": crm_ids("003", 1, n), "account_id": accounts["account_id"].to_numpy(dtype=object)[at]}
        | {"first_name": FIRST.items[first], "last_name": LAST.items[last], "email": email, "title": title}
    ).astype("string")


def company_table(accounts: pd.DataFrame) -> pd.DataFrame:
    """The company columns of an accounts frame (as generated, or read back from the sandbox's SQLite)."""
    table = accounts.reindex(columns=COMPANY).astype(object)
    table = table.where(table.notna(), None)
    for col in ("employees", "annual_revenue"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    return table
