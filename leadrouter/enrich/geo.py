"""Geography: country names to ISO alpha-2 codes, and codes to sales regions."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import pandas as pd
import pycountry
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

# names people type that pycountry does not know: abbreviations, old and native names; keys as _fold makes them
COUNTRY_ALIASES = {
    "us": "US", "usa": "US", "u s": "US", "u s a": "US", "america": "US", "united states of america": "US",
    "estados unidos": "US", "etats unis": "US", "vereinigte staaten": "US",
    "uk": "GB", "u k": "GB", "england": "GB", "great britain": "GB", "britain": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "united kingdom of great britain": "GB",
    "deutschland": "DE", "allemagne": "DE", "alemania": "DE", "germania": "DE",
    "holland": "NL", "nederland": "NL", "pays bas": "NL",
    "espana": "ES", "espanha": "ES", "brasil": "BR", "italia": "IT", "mexique": "MX",
    "osterreich": "AT", "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "svizra": "CH",
    "belgie": "BE", "belgique": "BE", "belgien": "BE", "danmark": "DK", "sverige": "SE", "norge": "NO",
    "noreg": "NO", "suomi": "FI", "eire": "IE", "republic of ireland": "IE", "polska": "PL", "cesko": "CZ",
    "ceska republika": "CZ", "czech republic": "CZ", "slovensko": "SK", "magyarorszag": "HU",
    "hrvatska": "HR", "slovenija": "SI", "srbija": "RS", "ellada": "GR", "hellas": "GR",
    "ελλαδα": "GR", "turkiye": "TR", "turkey": "TR", "russia": "RU", "rossiya": "RU", "россия": "RU",
    "ukraina": "UA", "украина": "UA", "україна": "UA", "lietuva": "LT", "latvija": "LV", "eesti": "EE",
    "nippon": "JP", "nihon": "JP", "日本": "JP", "prc": "CN", "zhongguo": "CN", "中国": "CN", "中國": "CN",
    "korea": "KR", "south korea": "KR", "republic of korea": "KR", "hanguk": "KR", "한국": "KR",
    "대한민국": "KR", "台灣": "TW", "台湾": "TW", "香港": "HK", "macau": "MO", "bharat": "IN", "भारत": "IN",
    "aotearoa": "NZ", "rsa": "ZA", "uae": "AE", "emirates": "AE", "ksa": "SA", "pilipinas": "PH",
    "singapura": "SG", "ivory coast": "CI", "cote divoire": "CI", "cape verde": "CV", "swaziland": "SZ",
    "burma": "MM", "macedonia": "MK", "vatican": "VA", "vatican city": "VA", "palestine": "PS",
    "brunei": "BN", "micronesia": "FM", "east timor": "TL", "north korea": "KP", "dprk": "KP",
    "hong kong sar": "HK", "macau sar": "MO", "czech rep": "CZ", "bosnia": "BA", "russland": "RU",
}  # fmt: skip
FUZZY_MIN_LENGTH = 5  # shorter names sit one typo apart from each other (Iran, Iraq): never guessed
NA = {"US", "CA"}
LATAM = set(
    """
    MX GT BZ SV HN NI CR PA CU DO HT JM TT BS BB PR CO VE EC PE BO CL AR UY PY BR GY SR
    """.split()
)
APAC = set(
    """
    CN JP KR KP TW HK MO MN IN PK BD LK NP BT MV AF SG MY ID TH VN PH KH LA MM BN TL AU NZ PG FJ SB VU WS
    TO KI FM MH PW NR TV
    """.split()
)


def _fold(text: str) -> str:
    """Case, accents, dots and punctuation folded away: "U.S.A" -> "usa", "Österreich" -> "osterreich"."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace(".", "").replace("'", "")
    text = " ".join(re.sub(r"[^\w]+", " ", text.replace("&", " and ")).split())
    return text.removeprefix("the ")


@cache
def _names() -> dict[str, str]:
    """Every spelling we accept exactly, folded: pycountry's codes and names, then our aliases."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            if value := getattr(country, attr, None):
                names[_fold(value)] = country.alpha_2
    return names | {_fold(alias): code for alias, code in COUNTRY_ALIASES.items()}


@cache
def _fuzzy_choices() -> tuple[list[str], list[str]]:
    """The names a typo may be matched to, and their codes: no codes as names, too short to guess at."""
    names = [name for name in _names() if len(name) >= FUZZY_MIN_LENGTH]
    return names, [_names()[name] for name in names]


def _closest(key: str) -> str | None:
    """The country a typo most likely means: within 1 edit (2 from 9 letters) and with no rival country."""
    names, codes = _fuzzy_choices()
    budget = 1 if len(key) < 9 else 2
    found = process.extract(key, names, scorer=DamerauLevenshtein.distance, score_cutoff=budget, limit=None)
    if not found:
        return None
    best = min(distance for _, distance, _ in found)
    rivals = {codes[at] for _, distance, at in found if distance == best}
    return rivals.pop() if len(rivals) == 1 else None  # "Nigera": Niger or Nigeria? unknown beats wrong


@lru_cache(maxsize=8192)  # bounded: lead text is untrusted and unbounded in variety
def _lookup(raw: str) -> str | None:
    if len(raw) > 100:  # no country name is this long; do not fold or fuzz megabytes
        return None
    key = _fold(raw)
    if not key:
        return None
    if key in _names():
        return _names()[key]
    try:
        return pycountry.countries.lookup(raw.strip()).alpha_2  # e.g. numeric codes
    except LookupError:
        return _closest(key) if len(key) >= FUZZY_MIN_LENGTH else None


def country_code(countries: pd.Series) -> pd.Series:
    """ISO alpha-2 for each value, from codes, English, native and misspelt names; unknown values stay <NA>.

    Looks up each distinct value once.
    """
    text = countries.astype("string")
    codes = {value: _lookup(value) for value in text.dropna().unique()}
    return text.map(codes).astype("string")


def region_of(codes: pd.Series) -> pd.Series:
    """NA / LATAM / APAC / EMEA from an alpha-2 code; <NA> when the country is unknown."""
    region = pd.Series("EMEA", index=codes.index, dtype="string")
    region[codes.isin(NA)] = "NA"
    region[codes.isin(LATAM)] = "LATAM"
    region[codes.isin(APAC)] = "APAC"
    return region.where(codes.notna())
