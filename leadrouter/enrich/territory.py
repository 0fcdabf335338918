"""Sales territory and time zone of a lead, from its ISO country code and (US and Canada) its state."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadrouter.config import PROJECT_ROOT, load_yaml_model
from leadrouter.enrich.geo import region_of

DEFAULT_TERRITORIES_PATH = PROJECT_ROOT / "config" / "territories.yaml"
STATE_COUNTRIES = ("US", "CA")  # the countries whose state/province we resolve and route by

# spellings pycountry lacks: AP-style and other common abbreviations, keys folded as _fold makes them
STATE_ALIASES = {
    "US": {
        "ala": "AL", "alas": "AK", "ariz": "AZ", "ark": "AR", "calif": "CA", "cali": "CA", "cal": "CA",
        "colo": "CO", "conn": "CT", "del": "DE", "washingtondc": "DC", "fla": "FL", "ill": "IL", "ind": "IN",
        "kan": "KS", "kans": "KS", "mass": "MA", "mich": "MI", "minn": "MN", "miss": "MS", "mont": "MT",
        "neb": "NE", "nebr": "NE", "nev": "NV", "okla": "OK", "ore": "OR", "oreg": "OR", "penn": "PA",
        "penna": "PA", "tenn": "TN", "tex": "TX", "wash": "WA", "wva": "WV", "wis": "WI", "wisc": "WI",
        "wyo": "WY", "newyorkstate": "NY", "nystate": "NY",
    },
    "CA": {
        "alta": "AB", "sask": "SK", "man": "MB", "ont": "ON", "que": "QC", "pq": "QC", "nfld": "NL",
        "newfoundland": "NL", "labrador": "NL", "pei": "PE", "nwt": "NT", "yukonterritory": "YT",
    },
}  # fmt: skip

# main IANA zone of each US state / Canadian province (the zone most of its people live in)
STATE_ZONE = {
    **dict.fromkeys(
        "US-CT US-DE US-DC US-FL US-GA US-ME US-MD US-MA US-NH US-NJ US-NY US-NC US-OH US-PA US-RI US-SC "
        "US-VT US-VA US-WV US-KY".split(),
        "America/New_York",
    ),
    **dict.fromkeys(
        "US-AL US-AR US-IL US-IA US-KS US-LA US-MN US-MS US-MO US-NE US-ND US-OK US-SD US-TN US-TX "
        "US-WI".split(),
        "America/Chicago",
    ),
    **dict.fromkeys("US-CO US-MT US-NM US-UT US-WY".split(), "America/Denver"),
    **dict.fromkeys("US-CA US-NV US-OR US-WA".split(), "America/Los_Angeles"),
    "US-MI": "America/Detroit", "US-IN": "America/Indiana/Indianapolis", "US-AZ": "America/Phoenix",
    "US-ID": "America/Boise", "US-AK": "America/Anchorage", "US-HI": "Pacific/Honolulu",
    "US-PR": "America/Puerto_Rico", "US-GU": "Pacific/Guam", "US-VI": "America/St_Thomas",
    "US-AS": "Pacific/Pago_Pago", "US-MP": "Pacific/Saipan",
    "CA-NL": "America/St_Johns", "CA-NS": "America/Halifax", "CA-PE": "America/Halifax",
    "CA-NB": "America/Moncton", "CA-QC": "America/Toronto", "CA-ON": "America/Toronto",
    "CA-MB": "America/Winnipeg", "CA-SK": "America/Regina", "CA-AB": "America/Edmonton",
    "CA-BC": "America/Vancouver", "CA-YT": "America/Whitehorse", "CA-NT": "America/Yellowknife",
    "CA-NU": "America/Iqaluit",
}  # fmt: skip

# main zone of the countries leads come from most; others fall back to the first zone tzdata lists
COUNTRY_ZONE = {
    "US": "America/New_York", "CA": "America/Toronto", "MX": "America/Mexico_City", "BR": "America/Sao_Paulo",
    "AR": "America/Argentina/Buenos_Aires", "CL": "America/Santiago", "CO": "America/Bogota",
    "PE": "America/Lima", "VE": "America/Caracas", "EC": "America/Guayaquil", "UY": "America/Montevideo",
    "PY": "America/Asuncion", "BO": "America/La_Paz", "CR": "America/Costa_Rica", "PA": "America/Panama",
    "GT": "America/Guatemala", "DO": "America/Santo_Domingo", "PR": "America/Puerto_Rico",
    "JM": "America/Jamaica", "GB": "Europe/London", "IE": "Europe/Dublin", "DE": "Europe/Berlin",
    "AT": "Europe/Vienna", "CH": "Europe/Zurich", "FR": "Europe/Paris", "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon", "IT": "Europe/Rome", "NL": "Europe/Amsterdam", "BE": "Europe/Brussels",
    "LU": "Europe/Luxembourg", "DK": "Europe/Copenhagen", "SE": "Europe/Stockholm", "NO": "Europe/Oslo",
    "FI": "Europe/Helsinki", "IS": "Atlantic/Reykjavik", "EE": "Europe/Tallinn", "LV": "Europe/Riga",
    "LT": "Europe/Vilnius", "PL": "Europe/Warsaw", "CZ": "Europe/Prague", "SK": "Europe/Bratislava",
    "HU": "Europe/Budapest", "RO": "Europe/Bucharest", "BG": "Europe/Sofia", "GR": "Europe/Athens",
    "HR": "Europe/Zagreb", "SI": "Europe/Ljubljana", "RS": "Europe/Belgrade", "BA": "Europe/Sarajevo",
    "MK": "Europe/Skopje", "AL": "Europe/Tirane", "UA": "Europe/Kyiv", "BY": "Europe/Minsk",
    "MD": "Europe/Chisinau", "RU": "Europe/Moscow", "TR": "Europe/Istanbul", "CY": "Asia/Nicosia",
    "MT": "Europe/Malta", "MC": "Europe/Monaco", "IL": "Asia/Jerusalem", "AE": "Asia/Dubai",
    "SA": "Asia/Riyadh", "QA": "Asia/Qatar", "KW": "Asia/Kuwait", "BH": "Asia/Bahrain", "OM": "Asia/Muscat",
    "JO": "Asia/Amman", "LB": "Asia/Beirut", "EG": "Africa/Cairo", "MA": "Africa/Casablanca",
    "TN": "Africa/Tunis", "NG": "Africa/Lagos", "KE": "Africa/Nairobi", "ZA": "Africa/Johannesburg",
    "GH": "Africa/Accra", "ET": "Africa/Addis_Ababa", "IN": "Asia/Kolkata", "PK": "Asia/Karachi",
    "BD": "Asia/Dhaka", "LK": "Asia/Colombo", "NP": "Asia/Kathmandu", "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong", "TW": "Asia/Taipei", "JP": "Asia/Tokyo", "KR": "Asia/Seoul",
    "SG": "Asia/Singapore", "MY": "Asia/Kuala_Lumpur", "ID": "Asia/Jakarta", "TH": "Asia/Bangkok",
    "VN": "Asia/Ho_Chi_Minh", "PH": "Asia/Manila", "AU": "Australia/Sydney", "NZ": "Pacific/Auckland",
    "KZ": "Asia/Almaty", "GE": "Asia/Tbilisi", "AM": "Asia/Yerevan", "AZ": "Asia/Baku",
}  # fmt: skip


class Territory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    countries: list[str] = Field(min_length=1)  # ISO alpha-2
    states: list[str] = []  # US states / Canadian provinces, as codes or names; empty: the whole countries

    @field_validator("countries", "states", mode="before")
    @classmethod
    def _no_yaml_booleans(cls, values: object) -> object:
        # YAML 1.1 reads bare NO (Norway) and ON (Ontario) as booleans
        if isinstance(values, list) and any(isinstance(v, bool) for v in values):
            raise ValueError('a code was read as true/false: quote codes such as "NO" and "ON"')
        return values

    @field_validator("countries")
    @classmethod
    def _upper(cls, countries: list[str]) -> list[str]:
        return [c.strip().upper() for c in countries]

    def state_codes(self) -> set[str]:
        """The states as ISO 3166-2 codes ("US-CA"), resolved against each of the territory's countries."""
        return {code for s in self.states for c in self.countries if (code := subdivision_code(c, s))}


class Territories(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territories: list[Territory] = Field(min_length=1)  # first match wins; unmatched leads get their region

    def problems(self) -> list[tuple[tuple, str]]:
        out: list[tuple[tuple, str]] = []
        for i, territory in enumerate(self.territories):
            where = ("territories", i)
            out += [
                ((*where, "countries", j), f"unknown country code {code!r}: use ISO 3166 alpha-2, e.g. 'DE'")
                for j, code in enumerate(territory.countries)
                if pycountry.countries.get(alpha_2=code) is None
            ]
            out += [
                ((*where, "states", j), f"unknown state {state!r} in {'/'.join(territory.countries)}")
                for j, state in enumerate(territory.states)
                if not any(subdivision_code(c, state) for c in territory.countries)
            ]
            if territory.name in [t.name for t in self.territories[:i]]:
                out.append(((*where, "name"), f"duplicate territory {territory.name!r}"))
        return out


def load_territories(path: Path | str = DEFAULT_TERRITORIES_PATH) -> Territories:
    return load_yaml_model(path, Territories)


def _fold(text: str) -> str:
    """Letters and digits only, lower-case, accents dropped: "Calif." -> "calif", "Québec" -> "quebec"."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return re.sub(r"[\W_]+", "", "".join(ch for ch in text if not unicodedata.combining(ch)))


@cache
def _state_names(country: str) -> dict[str, str]:
    """Every folded spelling of the country's states we accept -> ISO 3166-2 code."""
    if country not in STATE_COUNTRIES:
        return {}
    names: dict[str, str] = {}
    for sub in pycountry.subdivisions.get(country_code=country) or []:
        for spelling in (sub.code, sub.code.split("-", 1)[1], sub.name):
            names[_fold(spelling)] = sub.code
    return names | {alias: f"{country}-{code}" for alias, code in STATE_ALIASES.get(country, {}).items()}


def subdivision_code(country: str | None, state: str | None) -> str | None:
    """ "US", "calif." -> "US-CA"; None when the country has no states we route by or the state is unknown."""
    if not country or not state or len(state) > 60:  # no state name is longer: skip folding junk
        return None
    return _state_names(country.upper()).get(_fold(state))


def _per_pair(frame: pd.DataFrame, fn: Callable[[str | None, str | None], str | None]) -> pd.Series:
    """fn(country, state) for each row, computed once per distinct pair; unknown country codes become None."""
    country_codes, countries = pd.factorize(_column(frame, "country"))
    state_codes, states = pd.factorize(_column(frame, "state"))
    # number each (country, state) pair; missing values factorize to -1, hence the shifts
    width = len(states) + 1
    pairs, inverse = np.unique((country_codes + 1) * width + state_codes + 1, return_inverse=True)
    iso = _iso_codes()
    country_of = [None, *(c if (c := str(raw).strip().upper()) in iso else None for raw in countries)]
    state_of = [None, *map(str, states)]
    values = [fn(country_of[pair // width], state_of[pair % width]) for pair in pairs.tolist()]
    return pd.Series(np.array(values, dtype=object)[inverse], index=frame.index, dtype="string")


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name].astype("string")
    return pd.Series(pd.NA, index=frame.index, dtype="string")


@cache
def _iso_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def _region(country: str) -> str | None:
    region = region_of(pd.Series([country], dtype="string")).iloc[0]
    return None if pd.isna(region) else str(region)


def territory_of(frame: pd.DataFrame, territories: Territories | Sequence[Territory]) -> pd.Series:
    """Each lead's territory: the first whose countries (and states, if listed) match, else its region."""
    listed = territories.territories if isinstance(territories, Territories) else list(territories)
    # (name, countries, state codes or None for the whole countries), resolved once per call
    rules = [(t.name, set(t.countries), t.state_codes() if t.states else None) for t in listed]

    def first_match(country: str | None, state: str | None) -> str | None:
        if country is None:
            return None
        code = subdivision_code(country, state)
        for name, countries, states in rules:
            if country in countries and (states is None or code in states):
                return name
        return _region(country)

    return _per_pair(frame, first_match)


@cache
def _tzdata_first_zones() -> dict[str, str]:
    """Country -> the first zone tzdata's zone.tab lists for it (its most populous, as a rule)."""
    for directory in zoneinfo.TZPATH:
        table = Path(directory) / "zone.tab"
        if table.is_file():
            break
    else:
        return {}
    zones: dict[str, str] = {}
    for line in table.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            zones.setdefault(fields[0], fields[2])
    return zones


def _zone(country: str | None, state: str | None) -> str | None:
    code = subdivision_code(country, state)
    if code in STATE_ZONE:
        return STATE_ZONE[code]
    if not country:
        return None
    return COUNTRY_ZONE.get(country) or _tzdata_first_zones().get(country)


def timezone_of(frame: pd.DataFrame) -> pd.Series:
    """IANA zone of each lead: its US state's or Canadian province's when known, else its country's."""
    return _per_pair(frame, _zone)
