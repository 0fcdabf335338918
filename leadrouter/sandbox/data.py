"""Seeded, vectorised generator of realistic CRM data for the sandbox: accounts, their contacts, and inbound
leads with ground-truth labels (category, tier, kind) kept apart from the CRM fields.

Same generator state in, same frames out. Every step works on whole columns: loops run over templates or
word lists, never over rows. The word lists and mix tables live in `sandbox.words`.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import count

import numpy as np
import pandas as pd

from leadrouter.sandbox import words as W
from leadrouter.schema import CATEGORIES, LEAD_COLUMNS, Tier
from leadrouter.validate import vocabularies

LEAD_OUTPUT = [c for c in LEAD_COLUMNS if c not in ("crm_owner_id", "modified_at")]
LABEL_COLUMNS = ["label_category", "label_tier", "label_kind"]
ACCOUNT_COLUMNS = ["account_id", "name", "website", "domain", "industry", "employees", "annual_revenue"]
ACCOUNT_COLUMNS += ["country", "state", "city", "region"]
CONTACT_COLUMNS = ["contact_id", "account_id", "first_name", "last_name", "email", "title"]
COMPANY = ["name", "domain", "website", "industry", "employees", "annual_revenue", "country", "state", "city"]
P_MALFORMED, P_DUPLICATE, P_INTENT, P_NO_TITLE, P_NO_PHONE = 0.03, 0.05, 0.65, 0.06, 0.18
SENIOR_RE = r"(?i)\b(?:chief|c[eftrmoi]o|founder|owner|president|vp|svp|evp|head|managing director)\b"
JUNIOR_RE = r"(?i)\b(?:intern|student|assistant|associate|coordinator|junior|candidate)\b"
if set(W.CATEGORY_SHARE) != set(CATEGORIES):  # labels must stay within the schema's categories
    raise RuntimeError("sandbox words' CATEGORY_SHARE drifted from leadrouter.schema.Category")
if set(W.INDUSTRIES) != set(vocabularies.INDUSTRIES):  # generated industries must be ones an import knows
    raise RuntimeError("sandbox words' INDUSTRIES drifted from leadrouter.validate.vocabularies.INDUSTRIES")


def _lines(text: str) -> list[list[str]]:
    return [line.split("|") for line in text.strip().splitlines()]


def _slug(word: str) -> str:
    """Lowercase ascii for emails and domains: Müller -> mueller, José -> jose, O'Brien -> obrien."""
    word = word.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "_": ""}))
    return re.sub(r"[^a-z0-9-]", "", unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode())


def _arr(items: object) -> np.ndarray:
    return np.array(list(items), dtype=object)


def _p(weights: object) -> np.ndarray:
    w = np.asarray(list(weights), dtype=float)
    return w / w.sum()


class _Ragged:
    """Option lists flattened into one array, so each row can pick from its own key's list in one go."""

    slug: np.ndarray  # name lists also carry their email and company forms, aligned with items
    cap: np.ndarray
    initial: np.ndarray
    brand: np.ndarray

    def __init__(self, lists: list[list]) -> None:
        self.count = np.array([len(x) for x in lists])
        self.start = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)
        self.items = _arr(x for sub in lists for x in sub)

    def pick(self, rng: np.random.Generator, keys: np.ndarray) -> np.ndarray:
        """Position in `items` of one uniform choice from each key's list."""
        return self.start[keys] + (rng.random(len(keys)) * self.count[keys]).astype(np.int64)


# --- tables built once at import ----------------------------------------------------------------------------
_C = pd.DataFrame(_lines(W.COUNTRIES), columns="code name region w culture tlds sfx cc style vars".split())
CODES, REGION, _C_NAME, _CC = (_C[c].to_numpy(dtype=object) for c in ("code", "region", "name", "cc"))
_C["w"] = _C["w"].astype(float)
COUNTRY_P = _p(_C["region"].map(W.REGION_SHARE) * _C["w"] / _C.groupby("region")["w"].transform("sum"))
CULTURES, _LANGS = list(W.NAMES), ["en", "de", "fr", "es", "pt"]
_C_CULTURE = _C["culture"].map(CULTURES.index).to_numpy()
_C_LANG = _C["culture"].map(lambda c: _LANGS.index(c) if c in _LANGS else 0).to_numpy()
TLDS, SUFFIXES = _Ragged([t.split(",") for t in _C["tlds"]]), _Ragged([s.split(",") for s in _C["sfx"]])
_GOV = {"US": ".gov", "GB": ".gov.uk", "AU": ".gov.au"}
_GOV_TLD = _arr(_GOV.get(c, t.split(",")[0]) for c, t in zip(CODES, _C["tlds"], strict=True))
VARIANTS = _Ragged([v.split(",") if v else [n] for v, n in zip(_C["vars"], _C["name"], strict=True)])
PHONES = _Ragged([W.PHONE_FORMATS[s] for s in _C["style"]])
_mail = [W.FREE_MAIL.get(c, W.FREE_MAIL["*"]).split(",") for c in CODES]
FREE = _Ragged([[d for part in m for d, w in [part.split(":")] for _ in range(int(w))] for m in _mail])

_CITY = pd.DataFrame(_lines(W.CITIES), columns=["country", "city", "state", "state_name", "area"])
_CITY_KEY = pd.Index(_CITY["country"] + "|" + _CITY["city"])
_CITY_NAME, _AREA = _CITY["city"].to_numpy(dtype=object), _CITY["area"].to_numpy(dtype=object)
_CITY_SLUG = _arr(_slug(c) for c in _CITY_NAME)
_STATE, _STATE_NAME = (_CITY[c].replace("", None).to_numpy(dtype=object) for c in ("state", "state_name"))
CITIES = _Ragged([list(np.flatnonzero(_CITY["country"] == c)) for c in CODES])

_FIRST, _LAST = (_Ragged([W.NAMES[c][i].split() for c in CULTURES]) for i in (0, 1))
for _r in (_FIRST, _LAST):  # per name: slug, Capitalised slug and initial for emails, and display form
    _r.slug = _arr(_slug(x) for x in _r.items)
    _r.cap, _r.initial = _arr(s.capitalize() for s in _r.slug), _arr(s[:1] for s in _r.slug)
    _r.items = _arr(x.replace("_", " ") for x in _r.items)
    _r.brand = _arr(x[:1].upper() + x[1:] for x in _r.items)  # "de Jong" heads a company as "De Jong"

INDUSTRIES = list(W.INDUSTRIES)
INDUSTRY_P = _p(w for w, _ in W.INDUSTRIES.values())
_REV_PER_HEAD = np.array([r for _, r in W.INDUSTRIES.values()], dtype=float)
NOUNS = _Ragged([W.NOUNS[i].get(lang, W.NOUNS[i]["en"]).split(",") for i in INDUSTRIES for lang in _LANGS])
_NOUN_SLUG = _arr(_slug(x) for x in NOUNS.items)
_BRANDS, _HEADS, _TAILS = (_arr(w.split()) for w in (W.BRANDS, W.BRAND_HEADS, W.BRAND_TAILS))
TITLES = _Ragged([W.TITLES[level] for level in W.LEVELS])
_SENIOR, _JUNIOR = np.isin(W.LEVELS, W.SENIOR), np.isin(W.LEVELS, W.JUNIOR)
GROUPS = list(W.GROUP_MIX)
_FREE_SHARE = np.array([f for f, _ in W.GROUP_MIX.values()])
_SOURCE_W = np.array([s for _, s in W.GROUP_MIX.values()], dtype=float)
_LEVEL_W = np.array([W.LEVEL_SHARE[c] for c in CATEGORIES], dtype=float)


def _static(text: str, cols: list[str], **fixed: object) -> pd.DataFrame:
    frame = pd.DataFrame(_lines(text), columns=cols).replace("", None).assign(**fixed)
    frame["website"] = "https://www." + frame["domain"]
    return frame.reindex(columns=COMPANY).astype({"employees": float, "annual_revenue": float})


# where a lead can work besides accounts and prospects: a university, an outlet, a spam shop, nowhere
_OTHER_PLACES = [
    _static(W.UNIVERSITIES, ["name", "domain", "country", "city", "state"], industry="Education"),
    _static(W.OUTLETS, ["name", "domain", "country"], industry="Media"),
    _static(W.SPAM_ORGS, ["name", "domain"]),
    _static("|", ["name", "domain"]).assign(name=None, domain=None, website=None),
]
ACCOUNT, PROSPECT, UNIVERSITY, OUTLET, SPAM_SHOP, NOWHERE = range(6)
# chance a lead's form shows the company's industry, employees and revenue, by where the lead works
_SHOWN = np.array([[1, 0.65, 0.8, 0.6, 0, 0], [1, 0.7, 0, 0, 0, 0], [1, 0.35, 0, 0, 0, 0]])


# --- vectorised helpers -------------------------------------------------------------------------------------
_FIELD = re.compile(r"\{(\w+)\}")


def _render(
    templates: np.ndarray, which: np.ndarray, values: dict[str, np.ndarray], rows: np.ndarray | None = None
) -> np.ndarray:
    """templates[which[i]] filled from values[key][rows[i]]; loops over distinct templates, not rows."""
    rows = np.arange(len(which)) if rows is None else rows
    out = np.empty(len(which), dtype=object)
    if not len(which):
        return out
    order = np.argsort(which, kind="stable")
    distinct, starts = np.unique(which[order], return_index=True)
    for t, at in zip(distinct, np.split(order, starts[1:]), strict=True):
        parts = _FIELD.split(templates[t])
        text = np.full(len(at), parts[0], dtype=object)
        for key, literal in zip(parts[1::2], parts[2::2], strict=True):
            text = text + values[key][rows[at]] + literal
        out[at] = text
    return out


def _draw(rng: np.random.Generator, weights: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """One outcome per row from its own distribution weights[keys[i]]."""
    cdf = np.cumsum(np.asarray(weights, dtype=float), axis=1)
    return (rng.random(len(keys))[:, None] * cdf[keys, -1:] >= cdf[keys]).sum(axis=1)


def _choose(rng: np.random.Generator, shares: dict, n: int) -> np.ndarray:
    return _arr(shares)[rng.choice(len(shares), n, p=_p(shares.values()))]


def _chars(codes: np.ndarray) -> np.ndarray:
    """Rows of ascii codes as strings, e.g. phone digits (a byte view, no row loop)."""
    text = np.ascontiguousarray(codes, dtype=np.uint8).view(f"S{codes.shape[1]}").ravel()
    return text.astype(str).astype(object)


def _ids(prefix: str, start: int, n: int) -> np.ndarray:
    return (prefix + pd.Series(np.arange(start, start + n)).astype(str).str.zfill(12)).to_numpy(dtype=object)


def _maybe(rng: np.random.Generator, values: np.ndarray, p_null: float | np.ndarray) -> np.ndarray:
    return np.where(rng.random(len(values)) < p_null, None, values)


def _country_index(codes: np.ndarray) -> np.ndarray:
    return pd.Index(CODES).get_indexer(pd.Series(codes, dtype=object))


def _people(rng: np.random.Generator, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in the first and last name lists; most people carry a name of their country's culture."""
    own = rng.random(len(country)) < 0.8
    culture = np.where(own, _C_CULTURE[country], rng.integers(len(CULTURES), size=len(country)))
    return _FIRST.pick(rng, culture), _LAST.pick(rng, culture)


def _titles(rng: np.random.Generator, level: np.ndarray) -> np.ndarray:
    functions = _arr(W.FUNCTIONS)[rng.integers(len(W.FUNCTIONS), size=len(level))]
    return _render(TITLES.items, TITLES.pick(rng, level), {"F": functions})


def _companies(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """n companies shaped like CRM accounts, without ids; domains may repeat (see _unique_domains)."""
    country = rng.choice(len(CODES), n, p=COUNTRY_P)
    city = CITIES.items[CITIES.pick(rng, country)].astype(np.int64)
    industry = rng.choice(len(INDUSTRIES), n, p=INDUSTRY_P)
    noun = NOUNS.pick(rng, industry * len(_LANGS) + np.where(rng.random(n) < 0.6, _C_LANG[country], 0))
    # a brand is a word (Northwind), a coined word (Veridex) or a family name (Bergmann);
    # public agencies take their city's name
    gov = industry == INDUSTRIES.index("Government")
    style = np.where(gov, 3, rng.choice(3, n, p=[0.35, 0.4, 0.25]))
    family = _LAST.pick(rng, _C_CULTURE[country])
    coined = _HEADS[rng.integers(len(_HEADS), size=n)] + _TAILS[rng.integers(len(_TAILS), size=n)]
    brands = [_BRANDS[rng.integers(len(_BRANDS), size=n)], coined, _LAST.brand[family], _CITY_NAME[city]]
    brand = np.choose(style, brands)
    lowered = [pd.Series(b).str.lower().to_numpy(dtype=object) for b in brands[:2]]
    slug = np.choose(style, [*lowered, _LAST.slug[family], _CITY_SLUG[city]])
    bare = gov | (industry == INDUSTRIES.index("Education")) | (rng.random(n) < 0.15)
    suffix = np.where(bare, "", " " + SUFFIXES.items[SUFFIXES.pick(rng, country)])
    joiner = np.where(rng.random(n) < 0.08, "-", "")
    head = np.where(gov | (rng.random(n) < 0.65), slug + joiner + _NOUN_SLUG[noun], slug)
    tld = np.where(rng.random(n) < 0.55, TLDS.items[TLDS.pick(rng, country)], ".com")
    tld = np.where((industry == 0) & (rng.random(n) < 0.12), ".io", np.where(gov, _GOV_TLD[country], tld))
    # log-normal headcount: most companies small or mid-size, a long tail of enterprises
    employees = np.clip(np.round(np.exp(rng.normal(4.5, 2.4, n))), np.where(gov, 40, 1), 400_000)
    revenue = np.round(employees * _REV_PER_HEAD[industry] * np.exp(rng.normal(0, 0.5, n)), -3)
    frame = {"name": brand + " " + NOUNS.items[noun] + suffix, "domain": head + tld}
    frame |= {"industry": _arr(INDUSTRIES)[industry], "employees": employees.astype(np.int64)}
    frame |= {"annual_revenue": revenue, "country": CODES[country], "state": _STATE[city]}
    return pd.DataFrame(frame | {"city": _CITY_NAME[city], "region": REGION[country]})


def _unique_domains(domains: np.ndarray, taken: np.ndarray) -> np.ndarray:
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
            head = _render(_arr(W.DOMAIN_VARIANTS), which, {"h": head})
        else:
            head = head + (rank[clash] + attempt).astype(str).astype(object)
        both.iloc[clash] = head + "." + tld
    raise AssertionError("unreachable")


def generate_accounts(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """n CRM accounts with unique domains and ids 001000000000001, 001000000000002, ..."""
    frame = _companies(rng, n)
    frame["domain"] = _unique_domains(frame["domain"].to_numpy(dtype=object), _arr([]))
    frame["website"] = "https://www." + frame["domain"]
    frame["account_id"] = _ids("001", 1, n)
    strings = [c for c in ACCOUNT_COLUMNS if c not in ("employees", "annual_revenue")]
    return frame[ACCOUNT_COLUMNS].astype(dict.fromkeys(strings, "string"))


def generate_contacts(rng: np.random.Generator, accounts: pd.DataFrame, n: int) -> pd.DataFrame:
    """n contacts at `accounts` (bigger accounts have more), emailed first.last@domain, every email unique."""
    if n == 0 or accounts.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in CONTACT_COLUMNS})
    size = pd.to_numeric(accounts["employees"], errors="coerce").fillna(10).clip(lower=1).to_numpy(float)
    at = rng.choice(len(accounts), n, p=_p(np.sqrt(size)))
    country = _country_index(accounts["country"].to_numpy(dtype=object)[at])
    first, last = _people(rng, np.maximum(country, 0))
    title = _titles(rng, rng.choice(len(W.LEVELS), n, p=_p(W.LEVEL_SHARE["contact"])))
    domain = accounts["domain"].astype(object).fillna("").str.lower().to_numpy(dtype=object)[at]
    address = pd.Series(_FIRST.slug[first] + "." + _LAST.slug[last] + "@" + domain)
    # namesakes at one domain become jane.doe2@, jane.doe3@, as a mail admin would do
    rank = address.groupby(address).cumcount().to_numpy()
    number = np.where(rank > 0, (rank + 1).astype(str), "").astype(object)
    email = _FIRST.slug[first] + "." + _LAST.slug[last] + number + "@" + domain
    return pd.DataFrame(
        {"contact_id": _ids("003", 1, n), "account_id": accounts["account_id"].to_numpy(dtype=object)[at]}
        | {"first_name": _FIRST.items[first], "last_name": _LAST.items[last], "email": email, "title": title}
    ).astype("string")


def _company_table(accounts: pd.DataFrame) -> pd.DataFrame:
    """The company columns of an accounts frame (as generated, or read back from the sandbox's SQLite)."""
    table = accounts.reindex(columns=COMPANY).astype(object)
    table = table.where(table.notna(), None)
    for col in ("employees", "annual_revenue"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    return table


def _kinds(rng: np.random.Generator, n: int, can_repeat: bool) -> tuple[np.ndarray, ...]:
    """Per lead: kind, how a malformed one is broken (-1 not, 0 email, 1 company, 2 junk person, 3 size),
    category and message group."""
    u = rng.random(n)
    kind = np.where(u < P_MALFORMED, "malformed", "clean").astype(object)
    kind[(u >= P_MALFORMED) & (u < P_MALFORMED + P_DUPLICATE) & can_repeat] = "duplicate"
    how = np.where(kind == "malformed", rng.choice(4, n, p=_p(W.MALFORMED_SHARE)), -1)
    category = _choose(rng, W.CATEGORY_SHARE, n)
    category[kind == "duplicate"] = _choose(rng, W.DUPLICATE_SHARE, int((kind == "duplicate").sum()))
    category[how == 2] = "spam"
    intent = rng.random(n) < P_INTENT
    group = np.where(category == "sales", np.where(intent, "sales_intent", "sales_content"), category)
    group[how == 2] = "junk"
    return kind, how, category, group


def _workplaces(
    rng: np.random.Generator, category: np.ndarray, contact: np.ndarray, acc: pd.DataFrame, acc_of: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each lead's company columns, and where it comes from (ACCOUNT, PROSPECT, ... NOWHERE).

    A known contact (contact >= 0) works at its account; the rest at an account by their category's share,
    or at a prospect company generated like accounts but never one of them."""
    n = len(category)
    u, v = rng.random(n), rng.random(n)
    at_account = u < pd.Series(category).map(W.ACCOUNT_SHARE).fillna(0).to_numpy() * (len(acc) > 0)
    conditions = [contact >= 0, at_account, category == "research", category == "press"]
    conditions += [(category == "spam") & (v < 0.7), (category == "jobs") & (v < 0.4)]
    source = np.select(conditions, [ACCOUNT, ACCOUNT, UNIVERSITY, OUTLET, SPAM_SHOP, NOWHERE], PROSPECT)
    pool = _companies(rng, max(8, int((source == PROSPECT).sum()) // 2))
    taken = acc["domain"].dropna().str.lower().to_numpy(dtype=object)
    pool["domain"] = _unique_domains(pool["domain"].to_numpy(dtype=object), taken)
    clash = pool["name"].str.lower().isin(set(acc["name"].dropna().str.lower()))
    pool = pool[~clash] if (~clash).any() else pool
    pool = pool.assign(website="https://www." + pool["domain"])[COMPANY].reset_index(drop=True)
    tables = [acc, pool, *_OTHER_PLACES]
    size = np.array([len(t) for t in tables])
    row = (rng.random(n) * np.maximum(size[source], 1)).astype(np.int64)
    fits = np.flatnonzero(pool["industry"].isin(["Professional Services", "Software"]))
    partner = (source == PROSPECT) & (category == "partnership")  # partners are agencies and software houses
    row[partner] = fits[rng.integers(len(fits), size=partner.sum())] if len(fits) else row[partner]
    row[contact >= 0] = acc_of[contact[contact >= 0]]
    offset = np.concatenate([[0], np.cumsum(size)[:-1]])
    picked = pd.concat(tables, ignore_index=True).iloc[offset[source] + row]
    numeric = ("employees", "annual_revenue")
    return {c: picked[c].to_numpy(dtype=float if c in numeric else object) for c in COMPANY}, source


def _messages(rng: np.random.Generator, group: np.ndarray, values: dict[str, np.ndarray]) -> np.ndarray:
    """One sentence from each slot of the row's message group, joined: many distinct texts per category."""
    out = np.full(len(group), "", dtype=object)
    for name, slots in W.MESSAGES.items():
        rows = np.flatnonzero(group == name)
        for slot in slots if len(rows) else []:
            sentence = _render(_arr(slot), rng.integers(len(slot), size=len(rows)), values, rows)
            out[rows] = out[rows] + " " + sentence
    text = pd.Series(out, dtype=object).str.replace(r"\s+", " ", regex=True).str.strip()
    return text.to_numpy(dtype=object)


def _emails(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, domain: np.ndarray, habit: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Addresses in the habit's styles (0 company, 1 known account, 2 free mail), and the name parts used."""
    n = len(first)
    mixed = rng.random(n) < 0.05  # Jane.Doe@
    nn = np.where(rng.random(n) < 0.5, rng.integers(1, 100, n), rng.integers(1965, 2006, n)).astype(str)
    parts = {"f": np.where(mixed, _FIRST.cap[first], _FIRST.slug[first]), "fi": _FIRST.initial[first]}
    parts |= {"l": np.where(mixed, _LAST.cap[last], _LAST.slug[last]), "li": _LAST.initial[last]}
    parts |= {"nn": _arr(nn)}
    local = _render(_arr(W.LOCAL_PARTS), _draw(rng, np.array(list(W.LOCAL_PARTS.values())).T, habit), parts)
    tag = _arr(W.PLUS_TAGS)[rng.integers(len(W.PLUS_TAGS), size=n)]
    local = np.where((habit == 2) & (rng.random(n) < 0.08), local + "+" + tag, local)  # jane+webinar@
    return local + "@" + domain, parts


def _phones(rng: np.random.Generator, country: np.ndarray, city: np.ndarray) -> np.ndarray:
    """A number in one of the country's formats with the city's area code; some left blank."""
    digits = rng.integers(48, 58, (len(country), 11))
    digits[:, [0, 3, 7]] = rng.integers(50, 58, (len(country), 3))  # digit groups never start with 0 or 1
    spans = {"d2": (0, 2), "d2b": (2, 4), "d2c": (4, 6), "d2d": (6, 8), "d3": (0, 3), "d4": (3, 7)}
    spans |= {"d7": (0, 7), "d4b": (7, 11)}
    dial = {k: _chars(digits[:, a:b]) for k, (a, b) in spans.items()}
    dial |= {"cc": _CC[country], "area": _AREA[city]}
    return _maybe(rng, _render(PHONES.items, PHONES.pick(rng, country), dial), P_NO_PHONE)


def _break(rng: np.random.Generator, lead: dict, how: np.ndarray, parts: dict, size: np.ndarray) -> None:
    """Malformed rows: a broken email (0), no company (1), a junk person (2), a negative headcount (3)."""
    at = np.flatnonzero(how == 0)
    domain = pd.Series(lead["email"], dtype=object).str.partition("@")[2]
    parts = parts | {"domain": domain.to_numpy(dtype=object), "head": domain.str.partition(".")[0].to_numpy()}
    lead["email"][at] = _render(_arr(W.BAD_EMAILS), rng.integers(len(W.BAD_EMAILS), size=len(at)), parts, at)
    at = np.flatnonzero(how == 1)
    lead["company"][at], lead["website"][at] = np.where(rng.random(len(at)) < 0.5, None, ""), None
    at = np.flatnonzero(how == 2)
    junk = {"first_name": W.JUNK_FIRST, "last_name": W.JUNK_LAST, "email": W.JUNK_EMAILS}
    for column, words in (junk | {"company": [*W.JUNK_COMPANIES, None, None]}).items():
        lead[column][at] = _arr(words)[rng.integers(len(words), size=len(at))]
    lead["title"][at], lead["website"][at], lead["phone"][at] = None, None, "1234567890"
    at = np.flatnonzero(how == 3)
    lead["employees"][at] = -np.maximum(np.nan_to_num(size[at], nan=1.0), 1.0)


def _repeat_contacts(rng: np.random.Generator, lead: dict, people: pd.DataFrame, dup: np.ndarray) -> None:
    """Known contacts writing in again: their name, title and email, perhaps re-cased or padded."""
    people = people.astype(object).fillna("").astype(str)
    for column in ("first_name", "last_name", "title"):
        lead[column][dup] = people[column].to_numpy(dtype=object)
    email = people["email"]
    local, _, domain = (p for _, p in email.str.partition("@").items())
    variants = [email, local.str.title() + "@" + domain, email.str.upper(), " " + email + " "]
    recase = rng.choice(4, len(people), p=[0.5, 0.2, 0.1, 0.2])
    lead["email"][dup] = np.choose(recase, [v.to_numpy(dtype=object) for v in variants])


def _tiers(
    category: np.ndarray, group: np.ndarray, senior: np.ndarray, junior: np.ndarray, headcount: np.ndarray
) -> np.ndarray:
    """Ground truth: VIP a senior buyer at a fit account, Standard a qualified fit, Nurture other sales."""
    buying = group == "sales_intent"
    vip = buying & senior & (headcount >= 200)
    standard = buying & ~vip & ~junior & (headcount >= 11)
    tiers = [Tier.OTHER.value, Tier.VIP.value, Tier.STANDARD.value]
    return np.select([category != "sales", vip, standard], tiers, Tier.NURTURE.value)


def _utc(ts: pd.Timestamp | str) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _empty_leads() -> pd.DataFrame:
    dtypes = {c: LEAD_COLUMNS[c] for c in LEAD_OUTPUT} | dict.fromkeys(LABEL_COLUMNS, "string")
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in dtypes.items()})


def generate_leads(
    rng: np.random.Generator,
    n: int,
    accounts: pd.DataFrame,
    contacts: pd.DataFrame,
    created_from: pd.Timestamp,
    created_to: pd.Timestamp,
    id_start: int = 1,
) -> pd.DataFrame:
    """n new inbound leads created between created_from and created_to, with ground-truth labels."""
    start, end = _utc(created_from), _utc(created_to)
    if end < start:
        raise ValueError(f"created_to {end} is before created_from {start}")
    if n == 0:
        return _empty_leads()
    acc = _company_table(accounts)
    acc_of = pd.Index(accounts["account_id"]).get_indexer(contacts["account_id"]) if len(contacts) else []
    known = np.flatnonzero(np.asarray(acc_of) >= 0)  # contacts whose account we have
    kind, how, category, group = _kinds(rng, n, len(known) > 0)
    contact = np.full(n, -1)
    dup = kind == "duplicate"
    contact[dup] = known[rng.integers(max(len(known), 1), size=dup.sum())]
    co, source = _workplaces(rng, category, contact, acc, np.asarray(acc_of, dtype=np.int64))
    g = pd.Index(GROUPS).get_indexer(group)

    # the person: country and city (the company's, else their own), name, title, how they found us
    country = _country_index(co["country"])
    country = np.where(country < 0, rng.choice(len(CODES), n, p=COUNTRY_P), country)
    has_city = pd.notna(co["city"])
    city_at = _CITY_KEY.get_indexer(pd.Series(CODES[country] + "|" + np.where(has_city, co["city"], "")))
    city_at = np.where(city_at < 0, CITIES.items[CITIES.pick(rng, country)], city_at).astype(np.int64)
    first, last = _people(rng, country)
    lead = {"lead_id": _ids("00Q", id_start, n), "first_name": _FIRST.items[first]}
    lead["last_name"] = _LAST.items[last]
    level = _draw(rng, _LEVEL_W, pd.Index(CATEGORIES).get_indexer(category))
    p_no_title = np.where(np.isin(category, ["press", "research"]), 0, P_NO_TITLE)
    lead["title"] = _maybe(rng, _titles(rng, level), p_no_title)
    lead["lead_source"] = _arr(W.LEAD_SOURCES)[_draw(rng, _SOURCE_W, g)]

    # email at the company's domain (a student's university), else at a free-mail provider
    free = (rng.random(n) < _FREE_SHARE[g]) | pd.isna(co["domain"])
    mail_domain = np.where(free, FREE.items[FREE.pick(rng, country)], co["domain"])
    habit = np.where(free, 2, np.where(source == ACCOUNT, 1, 0))
    lead["email"], parts = _emails(rng, first, last, mail_domain, habit)
    lead["phone"] = _phones(rng, country, city_at)

    # the form's company fields: copied from an account, partly filled in by anyone else
    lead["company"] = co["name"].copy()
    domain = np.where(pd.isna(co["domain"]), "", co["domain"])
    site_style = _draw(rng, [list(W.WEBSITES.values())], np.zeros(n, int))
    site = np.where(source == ACCOUNT, co["website"], _render(_arr(W.WEBSITES), site_style, {"d": domain}))
    lead["website"] = np.where(domain == "", None, _maybe(rng, site, np.where(free, 0.45, 0.1)))
    written = rng.choice(4, n, p=_p(W.COUNTRY_STYLE))  # US, United States, USA, blank
    spelled = [CODES[country], _C_NAME[country], VARIANTS.items[VARIANTS.pick(rng, country)]]
    lead["country"] = np.select([written == 0, written == 1, written == 2], spelled, None)
    state = np.where(has_city, co["state"], _STATE[city_at])
    state = np.where((rng.random(n) < 0.2) & (state == _STATE[city_at]), _STATE_NAME[city_at], state)
    lead["state"] = _maybe(rng, state, 0.12)
    lead["city"] = _maybe(rng, np.where(has_city, co["city"], _CITY_NAME[city_at]), 0.08)
    seen = rng.random((3, n)) < _SHOWN[:, source]
    lead["industry"] = np.where(seen[0], co["industry"], None)
    lead["employees"] = np.where(seen[1], co["employees"], np.nan)
    lead["annual_revenue"] = np.where(seen[2], co["annual_revenue"], np.nan)

    # the message; content downloads mostly come without one
    letters = rng.integers(97, 123, (n, 12))
    letters[:, 5] = 32
    fill = {k: _arr(v.split("|"))[rng.integers(v.count("|") + 1, size=n)] for k, v in W.FILLERS.items()}
    fill |= {"first": _FIRST.items[first], "last": _LAST.items[last], "gibberish": _chars(letters)}
    fill |= {"company": np.where(pd.isna(co["name"]), "", co["name"]), "city": _CITY_NAME[city_at]}
    quiet = pd.Series(lead["lead_source"]).map({"ebook": 0.75, "webinar": 0.45, "event": 0.4}).fillna(0.3)
    p_none = np.where(group == "sales_content", quiet.to_numpy(), 0.03)
    u = rng.random(n)
    message = _messages(rng, group, fill)
    lead["message"] = np.where(u < p_none, None, np.where(u < p_none + 0.02, "", message))

    _break(rng, lead, how, parts, co["employees"])
    senior, junior = _SENIOR[level], _JUNIOR[level]  # who they are, even when the form's title is blank
    if dup.any():
        _repeat_contacts(rng, lead, contacts.iloc[contact[dup]], dup)
        titles = pd.Series(lead["title"][dup], dtype=object).fillna("").astype(str)
        senior[dup], junior[dup] = titles.str.contains(SENIOR_RE), titles.str.contains(JUNIOR_RE)
    if len(contacts):  # a clean lead that happens to be a known contact is a duplicate too
        on_file = set(contacts["email"].dropna().astype(str).str.strip().str.lower())
        emails = pd.Series(lead["email"], dtype=object).str.strip().str.lower()
        kind[(kind == "clean") & emails.isin(on_file).to_numpy()] = "duplicate"
    tier = _tiers(category, group, senior, junior, np.nan_to_num(co["employees"], nan=0.0))

    micros = np.sort(rng.integers(start.value // 1000, end.value // 1000 + 1, n))
    lead["created_at"] = pd.DatetimeIndex(micros.astype("datetime64[us]")).tz_localize("UTC")
    labels = {"label_category": category, "label_tier": tier, "label_kind": kind}
    frame = pd.DataFrame(lead | labels)[LEAD_OUTPUT + LABEL_COLUMNS]
    return frame.astype(_empty_leads().dtypes.to_dict())
