"""The sandbox generator's word lists as arrays, built once at import, and the vectorised helpers that the
account and lead generators share. Every helper works on whole columns: loops run over templates or word
lists, never over rows. The word lists and mix tables themselves live in `sandbox.words`."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from leadrouter.sandbox import words as W
from leadrouter.schema import CATEGORIES
from leadrouter.validate import vocabularies

if set(W.CATEGORY_SHARE) != set(CATEGORIES):  # labels must stay within the schema's categories
    raise RuntimeError("sandbox words' CATEGORY_SHARE drifted from leadrouter.schema.Category")
if set(W.INDUSTRIES) != set(vocabularies.INDUSTRIES):  # generated industries must be ones an import knows
    raise RuntimeError("sandbox words' INDUSTRIES drifted from leadrouter.validate.vocabularies.INDUSTRIES")


def table_rows(text: str) -> list[list[str]]:
    return [line.split("|") for line in text.strip().splitlines()]


def _slug(word: str) -> str:
    """Lowercase ascii for emails and domains: Müller -> mueller, José -> jose, O'Brien -> obrien."""
    word = word.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "_": ""}))
    return re.sub(r"[^a-z0-9-]", "", unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode())


def as_objects(items: object) -> np.ndarray:
    return np.array(list(items), dtype=object)


def normalise(weights: object) -> np.ndarray:
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
        self.items = as_objects(x for sub in lists for x in sub)

    def pick(self, rng: np.random.Generator, keys: np.ndarray) -> np.ndarray:
        """Position in `items` of one uniform choice from each key's list."""
        return self.start[keys] + (rng.random(len(keys)) * self.count[keys]).astype(np.int64)


_C = pd.DataFrame(
    table_rows(W.COUNTRIES), columns="code name region w culture tlds sfx cc style vars".split()
)
CODES, REGION, C_NAME, CC = (_C[c].to_numpy(dtype=object) for c in ("code", "region", "name", "cc"))
_C["w"] = _C["w"].astype(float)
COUNTRY_P = normalise(_C["region"].map(W.REGION_SHARE) * _C["w"] / _C.groupby("region")["w"].transform("sum"))
CULTURES, LANGS = list(W.NAMES), ["en", "de", "fr", "es", "pt"]
C_CULTURE = _C["culture"].map(CULTURES.index).to_numpy()
C_LANG = _C["culture"].map(lambda c: LANGS.index(c) if c in LANGS else 0).to_numpy()
TLDS, SUFFIXES = _Ragged([t.split(",") for t in _C["tlds"]]), _Ragged([s.split(",") for s in _C["sfx"]])
_GOV = {"US": ".gov", "GB": ".gov.uk", "AU": ".gov.au"}
GOV_TLD = as_objects(_GOV.get(c, t.split(",")[0]) for c, t in zip(CODES, _C["tlds"], strict=True))
VARIANTS = _Ragged([v.split(",") if v else [n] for v, n in zip(_C["vars"], _C["name"], strict=True)])
PHONES = _Ragged([W.PHONE_FORMATS[s] for s in _C["style"]])
_mail = [W.FREE_MAIL.get(c, W.FREE_MAIL["*"]).split(",") for c in CODES]
FREE = _Ragged([[d for part in m for d, w in [part.split(":")] for _ in range(int(w))] for m in _mail])

_CITY = pd.DataFrame(table_rows(W.CITIES), columns=["country", "city", "state", "state_name", "area"])
CITY_KEY = pd.Index(_CITY["country"] + "|" + _CITY["city"])
CITY_NAME, AREA = _CITY["city"].to_numpy(dtype=object), _CITY["area"].to_numpy(dtype=object)
CITY_SLUG = as_objects(_slug(c) for c in CITY_NAME)
STATE, STATE_NAME = (_CITY[c].replace("", None).to_numpy(dtype=object) for c in ("state", "state_name"))
CITIES = _Ragged([list(np.flatnonzero(_CITY["country"] == c)) for c in CODES])

FIRST, LAST = (_Ragged([W.NAMES[c][i].split() for c in CULTURES]) for i in (0, 1))
for _r in (FIRST, LAST):  # per name: slug, Capitalised slug and initial for emails, and display form
    _r.slug = as_objects(_slug(x) for x in _r.items)
    _r.cap, _r.initial = as_objects(s.capitalize() for s in _r.slug), as_objects(s[:1] for s in _r.slug)
    _r.items = as_objects(x.replace("_", " ") for x in _r.items)
    _r.brand = as_objects(x[:1].upper() + x[1:] for x in _r.items)  # "de Jong" heads a company as "De Jong"

INDUSTRIES = list(W.INDUSTRIES)
INDUSTRY_P = normalise(w for w, _ in W.INDUSTRIES.values())
REV_PER_HEAD = np.array([r for _, r in W.INDUSTRIES.values()], dtype=float)
NOUNS = _Ragged([W.NOUNS[i].get(lang, W.NOUNS[i]["en"]).split(",") for i in INDUSTRIES for lang in LANGS])
NOUN_SLUG = as_objects(_slug(x) for x in NOUNS.items)
BRANDS, HEADS, TAILS = (as_objects(w.split()) for w in (W.BRANDS, W.BRAND_HEADS, W.BRAND_TAILS))
TITLES = _Ragged([W.TITLES[level] for level in W.LEVELS])
SENIOR, JUNIOR = np.isin(W.LEVELS, W.SENIOR), np.isin(W.LEVELS, W.JUNIOR)
GROUPS = list(W.GROUP_MIX)
FREE_SHARE = np.array([f for f, _ in W.GROUP_MIX.values()])
SOURCE_W = np.array([s for _, s in W.GROUP_MIX.values()], dtype=float)
LEVEL_W = np.array([W.LEVEL_SHARE[c] for c in CATEGORIES], dtype=float)


_FIELD = re.compile(r"\{(\w+)\}")


def render(
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


def draw_each(rng: np.random.Generator, weights: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """One outcome per row from its own distribution weights[keys[i]]."""
    cdf = np.cumsum(np.asarray(weights, dtype=float), axis=1)
    return (rng.random(len(keys))[:, None] * cdf[keys, -1:] >= cdf[keys]).sum(axis=1)


def choose(rng: np.random.Generator, shares: dict, n: int) -> np.ndarray:
    return as_objects(shares)[rng.choice(len(shares), n, p=normalise(shares.values()))]


def ascii_text(codes: np.ndarray) -> np.ndarray:
    """Rows of ascii codes as strings, e.g. phone digits (a byte view, no row loop)."""
    text = np.ascontiguousarray(codes, dtype=np.uint8).view(f"S{codes.shape[1]}").ravel()
    return text.astype(str).astype(object)


def crm_ids(prefix: str, start: int, n: int) -> np.ndarray:
    return (prefix + pd.Series(np.arange(start, start + n)).astype(str).str.zfill(12)).to_numpy(dtype=object)


def blank_some(rng: np.random.Generator, values: np.ndarray, p_null: float | np.ndarray) -> np.ndarray:
    return np.where(rng.random(len(values)) < p_null, None, values)


def country_index(codes: np.ndarray) -> np.ndarray:
    return pd.Index(CODES).get_indexer(pd.Series(codes, dtype=object))


def pick_names(rng: np.random.Generator, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in the first and last name lists; most people carry a name of their country's culture."""
    own = rng.random(len(country)) < 0.8
    culture = np.where(own, C_CULTURE[country], rng.integers(len(CULTURES), size=len(country)))
    return FIRST.pick(rng, culture), LAST.pick(rng, culture)


def pick_titles(rng: np.random.Generator, level: np.ndarray) -> np.ndarray:
    functions = as_objects(W.FUNCTIONS)[rng.integers(len(W.FUNCTIONS), size=len(level))]
    return render(TITLES.items, TITLES.pick(rng, level), {"F": functions})
