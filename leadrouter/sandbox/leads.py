"""Seeded, vectorised generator of the sandbox CRM's inbound leads, with ground-truth labels (category, tier,
kind) kept apart from the CRM fields. Accounts and contacts come from `sandbox.accounts`, malformed rows and
repeat contacts from `sandbox.flaws`.

Same generator state in, same frames out. Every step works on whole columns: loops run over templates or
word lists, never over rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadrouter.sandbox import words as W
from leadrouter.sandbox.accounts import COMPANY, company_table, generate_companies, unique_domains
from leadrouter.sandbox.arrays import (
    AREA,
    C_NAME,
    CC,
    CITIES,
    CITY_KEY,
    CITY_NAME,
    CODES,
    COUNTRY_P,
    FIRST,
    FREE,
    FREE_SHARE,
    GROUPS,
    JUNIOR,
    LAST,
    LEVEL_W,
    PHONES,
    SENIOR,
    SOURCE_W,
    STATE,
    STATE_NAME,
    VARIANTS,
    as_objects,
    ascii_text,
    blank_some,
    choose,
    country_index,
    crm_ids,
    draw_each,
    normalise,
    pick_names,
    pick_titles,
    render,
    table_rows,
)  # fmt: skip
from leadrouter.sandbox.flaws import break_malformed, repeat_contacts
from leadrouter.schema import CATEGORIES, LEAD_COLUMNS, Tier

LEAD_OUTPUT = [c for c in LEAD_COLUMNS if c not in ("crm_owner_id", "modified_at")]
LABEL_COLUMNS = ["label_category", "label_tier", "label_kind"]
P_MALFORMED, P_DUPLICATE, P_INTENT, P_NO_TITLE, P_NO_PHONE = 0.03, 0.05, 0.65, 0.06, 0.18
SENIOR_RE = r"(?i)\b(?:chief|c[eftrmoi]o|founder|owner|president|vp|svp|evp|head|managing director)\b"
JUNIOR_RE = r"(?i)\b(?:intern|student|assistant|associate|coordinator|junior|candidate)\b"


def _static(text: str, cols: list[str], **fixed: object) -> pd.DataFrame:
    frame = pd.DataFrame(table_rows(text), columns=cols).replace("", None).assign(**fixed)
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


def _kinds(rng: np.random.Generator, n: int, can_repeat: bool) -> tuple[np.ndarray, ...]:
    """Per lead: kind, how a malformed one is broken (-1 not, 0 email, 1 company, 2 junk person, 3 size),
    category and message group."""
    u = rng.random(n)
    kind = np.where(u < P_MALFORMED, "malformed", "clean").astype(object)
    kind[(u >= P_MALFORMED) & (u < P_MALFORMED + P_DUPLICATE) & can_repeat] = "duplicate"
    how = np.where(kind == "malformed", rng.choice(4, n, p=normalise(W.MALFORMED_SHARE)), -1)
    category = choose(rng, W.CATEGORY_SHARE, n)
    category[kind == "duplicate"] = choose(rng, W.DUPLICATE_SHARE, int((kind == "duplicate").sum()))
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
    pool = generate_companies(rng, max(8, int((source == PROSPECT).sum()) // 2))
    taken = acc["domain"].dropna().str.lower().to_numpy(dtype=object)
    pool["domain"] = unique_domains(pool["domain"].to_numpy(dtype=object), taken)
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
            sentence = render(as_objects(slot), rng.integers(len(slot), size=len(rows)), values, rows)
            out[rows] = out[rows] + " " + sentence
    text = pd.Series(out, dtype=object).str.replace(r"\s+", " ", regex=True).str.strip()
    return text.to_numpy(dtype=object)


def _native(
    rng: np.random.Generator, message: np.ndarray, group: np.ndarray, country: np.ndarray, values: dict
) -> np.ndarray:
    """Some buyers from Japan, Germany, Brazil... write in their own language (W.NATIVE_SALES). Drawn from a
    child of rng, so every other value a seed gives stays as it was."""
    local = rng.spawn(1)[0]
    out = message.copy()
    for code, (_, share, texts) in W.NATIVE_SALES.items():
        rows = np.flatnonzero((group == "sales_intent") & (country == code))
        rows = rows[local.random(len(rows)) < share]
        if len(rows):
            out[rows] = render(as_objects(texts), local.integers(len(texts), size=len(rows)), values, rows)
    return out


def _emails(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, domain: np.ndarray, habit: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Addresses in the habit's styles (0 company, 1 known account, 2 free mail), and the name parts used."""
    n = len(first)
    mixed = rng.random(n) < 0.05  # Jane.Doe@
    nn = np.where(rng.random(n) < 0.5, rng.integers(1, 100, n), rng.integers(1965, 2006, n)).astype(str)
    parts = {"f": np.where(mixed, FIRST.cap[first], FIRST.slug[first]), "fi": FIRST.initial[first]}
    parts |= {"l": np.where(mixed, LAST.cap[last], LAST.slug[last]), "li": LAST.initial[last]}
    parts |= {"nn": as_objects(nn)}
    local = render(
        as_objects(W.LOCAL_PARTS), draw_each(rng, np.array(list(W.LOCAL_PARTS.values())).T, habit), parts
    )
    tag = as_objects(W.PLUS_TAGS)[rng.integers(len(W.PLUS_TAGS), size=n)]
    local = np.where((habit == 2) & (rng.random(n) < 0.08), local + "+" + tag, local)  # jane+webinar@
    return local + "@" + domain, parts


def _phones(rng: np.random.Generator, country: np.ndarray, city: np.ndarray) -> np.ndarray:
    """A number in one of the country's formats with the city's area code; some left blank."""
    digits = rng.integers(48, 58, (len(country), 11))
    digits[:, [0, 3, 7]] = rng.integers(50, 58, (len(country), 3))  # digit groups never start with 0 or 1
    spans = {"d2": (0, 2), "d2b": (2, 4), "d2c": (4, 6), "d2d": (6, 8), "d3": (0, 3), "d4": (3, 7)}
    spans |= {"d7": (0, 7), "d4b": (7, 11)}
    dial = {k: ascii_text(digits[:, a:b]) for k, (a, b) in spans.items()}
    dial |= {"cc": CC[country], "area": AREA[city]}
    return blank_some(rng, render(PHONES.items, PHONES.pick(rng, country), dial), P_NO_PHONE)


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
    acc = company_table(accounts)
    acc_of = pd.Index(accounts["account_id"]).get_indexer(contacts["account_id"]) if len(contacts) else []
    known = np.flatnonzero(np.asarray(acc_of) >= 0)  # contacts whose account we have
    kind, how, category, group = _kinds(rng, n, len(known) > 0)
    contact = np.full(n, -1)
    dup = kind == "duplicate"
    contact[dup] = known[rng.integers(max(len(known), 1), size=dup.sum())]
    co, source = _workplaces(rng, category, contact, acc, np.asarray(acc_of, dtype=np.int64))
    g = pd.Index(GROUPS).get_indexer(group)

    # the person: country and city (the company's, else their own), name, title, how they found us
    country = country_index(co["country"])
    country = np.where(country < 0, rng.choice(len(CODES), n, p=COUNTRY_P), country)
    has_city = pd.notna(co["city"])
    city_at = CITY_KEY.get_indexer(pd.Series(CODES[country] + "|" + np.where(has_city, co["city"], "")))
    city_at = np.where(city_at < 0, CITIES.items[CITIES.pick(rng, country)], city_at).astype(np.int64)
    first, last = pick_names(rng, country)
    lead = {"lead_id": crm_ids("00Q", id_start, n), "first_name": FIRST.items[first]}
    lead["last_name"] = LAST.items[last]
    level = draw_each(rng, LEVEL_W, pd.Index(CATEGORIES).get_indexer(category))
    p_no_title = np.where(np.isin(category, ["press", "research"]), 0, P_NO_TITLE)
    lead["title"] = blank_some(rng, pick_titles(rng, level), p_no_title)
    lead["lead_source"] = as_objects(W.LEAD_SOURCES)[draw_each(rng, SOURCE_W, g)]

    # email at the company's domain (a student's university), else at a free-mail provider
    free = (rng.random(n) < FREE_SHARE[g]) | pd.isna(co["domain"])
    mail_domain = np.where(free, FREE.items[FREE.pick(rng, country)], co["domain"])
    habit = np.where(free, 2, np.where(source == ACCOUNT, 1, 0))
    lead["email"], parts = _emails(rng, first, last, mail_domain, habit)
    lead["phone"] = _phones(rng, country, city_at)

    # the form's company fields: copied from an account, partly filled in by anyone else
    lead["company"] = co["name"].copy()
    domain = np.where(pd.isna(co["domain"]), "", co["domain"])
    site_style = draw_each(rng, [list(W.WEBSITES.values())], np.zeros(n, int))
    site = np.where(
        source == ACCOUNT, co["website"], render(as_objects(W.WEBSITES), site_style, {"d": domain})
    )
    lead["website"] = np.where(domain == "", None, blank_some(rng, site, np.where(free, 0.45, 0.1)))
    written = rng.choice(4, n, p=normalise(W.COUNTRY_STYLE))  # US, United States, USA, blank
    spelled = [CODES[country], C_NAME[country], VARIANTS.items[VARIANTS.pick(rng, country)]]
    lead["country"] = np.select([written == 0, written == 1, written == 2], spelled, None)
    state = np.where(has_city, co["state"], STATE[city_at])
    state = np.where((rng.random(n) < 0.2) & (state == STATE[city_at]), STATE_NAME[city_at], state)
    lead["state"] = blank_some(rng, state, 0.12)
    lead["city"] = blank_some(rng, np.where(has_city, co["city"], CITY_NAME[city_at]), 0.08)
    seen = rng.random((3, n)) < _SHOWN[:, source]
    lead["industry"] = np.where(seen[0], co["industry"], None)
    lead["employees"] = np.where(seen[1], co["employees"], np.nan)
    lead["annual_revenue"] = np.where(seen[2], co["annual_revenue"], np.nan)

    # the message; content downloads mostly come without one
    letters = rng.integers(97, 123, (n, 12))
    letters[:, 5] = 32
    fill = {k: as_objects(v.split("|"))[rng.integers(v.count("|") + 1, size=n)] for k, v in W.FILLERS.items()}
    fill |= {"first": FIRST.items[first], "last": LAST.items[last], "gibberish": ascii_text(letters)}
    fill |= {"company": np.where(pd.isna(co["name"]), "", co["name"]), "city": CITY_NAME[city_at]}
    quiet = pd.Series(lead["lead_source"]).map({"ebook": 0.75, "webinar": 0.45, "event": 0.4}).fillna(0.3)
    p_none = np.where(group == "sales_content", quiet.to_numpy(), 0.03)
    u = rng.random(n)
    message = _native(rng, _messages(rng, group, fill), group, CODES[country], fill)
    lead["message"] = np.where(u < p_none, None, np.where(u < p_none + 0.02, "", message))

    break_malformed(rng, lead, how, parts, co["employees"])
    senior, junior = SENIOR[level], JUNIOR[level]  # who they are, even when the form's title is blank
    if dup.any():
        repeat_contacts(rng, lead, contacts.iloc[contact[dup]], dup)
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
