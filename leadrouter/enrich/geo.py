"""Geography: country names to ISO alpha-2 codes, and codes to sales regions."""

from __future__ import annotations

from functools import cache

import pandas as pd
import pycountry

# names people type that pycountry does not know
COUNTRY_ALIASES = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "us": "US",
    "america": "US",
    "united states of america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "england": "GB",
    "great britain": "GB",
    "scotland": "GB",
    "wales": "GB",
    "deutschland": "DE",
    "holland": "NL",
    "españa": "ES",
    "brasil": "BR",
    "méxico": "MX",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "uae": "AE",
    "türkiye": "TR",
    "turkey": "TR",
    "czech republic": "CZ",
}

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


@cache
def _lookup(raw: str) -> str | None:
    text = raw.strip()
    if not text:
        return None
    if text.lower() in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[text.lower()]
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None


def country_code(countries: pd.Series) -> pd.Series:
    """ISO alpha-2 for each value; unknown values stay <NA>. Looks up each distinct value once."""
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
