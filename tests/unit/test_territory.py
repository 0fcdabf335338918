import zoneinfo

import pandas as pd
import pytest

from leadrouter.config import ConfigError
from leadrouter.enrich.territory import (
    COUNTRY_ZONE,
    STATE_ZONE,
    load_territories,
    subdivision_code,
    territory_of,
    timezone_of,
)

# (country, state) -> (territory, time zone), against the shipped config/territories.yaml
CASES = [
    ("US", "CA", "NA-West", "America/Los_Angeles"),
    ("US", "California", "NA-West", "America/Los_Angeles"),
    ("US", "calif.", "NA-West", "America/Los_Angeles"),
    ("US", "  CALIFORNIA ", "NA-West", "America/Los_Angeles"),
    ("US", "US-WA", "NA-West", "America/Los_Angeles"),
    ("US", "Arizona", "NA-West", "America/Phoenix"),
    ("US", "Colo.", "NA-West", "America/Denver"),
    ("US", "Hawaii", "NA-West", "Pacific/Honolulu"),
    ("US", "NY", "NA-East", "America/New_York"),
    ("US", "New York", "NA-East", "America/New_York"),
    ("US", "N.Y.", "NA-East", "America/New_York"),
    ("US", "Mass.", "NA-East", "America/New_York"),
    ("US", "District of Columbia", "NA-East", "America/New_York"),
    ("US", "W. Va.", "NA-East", "America/New_York"),
    ("US", "Michigan", "NA-East", "America/Detroit"),
    ("US", "TX", "NA-Central", "America/Chicago"),
    ("US", "Tex.", "NA-Central", "America/Chicago"),
    ("US", "illinois", "NA-Central", "America/Chicago"),
    ("US", None, "NA", "America/New_York"),  # no state: the region, and the most populous zone
    ("US", "Narnia", "NA", "America/New_York"),
    ("us", "ca", "NA-West", "America/Los_Angeles"),
    ("CA", "Ontario", "NA-East", "America/Toronto"),
    ("CA", "ON", "NA-East", "America/Toronto"),
    ("CA", "Québec", "NA-East", "America/Toronto"),
    ("CA", "Que.", "NA-East", "America/Toronto"),
    ("CA", "B.C.", "NA-West", "America/Vancouver"),
    ("CA", "Alberta", "NA-West", "America/Edmonton"),
    ("CA", "Sask.", "NA-Central", "America/Regina"),
    ("CA", "CA", "NA", "America/Toronto"),  # "CA" is California, not a Canadian province
    ("GB", None, "UKI", "Europe/London"),
    ("IE", "Dublin", "UKI", "Europe/Dublin"),  # states outside the US/CA are ignored
    ("DE", None, "DACH", "Europe/Berlin"),
    ("CH", None, "DACH", "Europe/Zurich"),
    ("NO", None, "EMEA-North", "Europe/Oslo"),
    ("NL", None, "EMEA-North", "Europe/Amsterdam"),
    ("FR", None, "EMEA-South", "Europe/Paris"),
    ("PL", None, "EMEA", "Europe/Warsaw"),  # no territory: the region
    ("ZA", None, "EMEA", "Africa/Johannesburg"),
    ("AU", "NSW", "APAC-ANZ", "Australia/Sydney"),
    ("JP", None, "APAC", "Asia/Tokyo"),
    ("MN", None, "APAC", "Asia/Ulaanbaatar"),  # region default; zone from tzdata's zone.tab
    ("BR", None, "LATAM", "America/Sao_Paulo"),
    ("JM", None, "LATAM", "America/Jamaica"),  # not in the LATAM territory: the LATAM region
    ("ZW", None, "EMEA", "Africa/Harare"),
    ("XX", None, None, None),
    (None, "CA", None, None),
]


@pytest.fixture(scope="module")
def territories():
    return load_territories()


def test_labelled_cases(territories) -> None:
    frame = pd.DataFrame([c[:2] for c in CASES], columns=["country", "state"], dtype="string")
    got = pd.DataFrame({"territory": territory_of(frame, territories), "zone": timezone_of(frame)})
    expected = pd.DataFrame([c[2:] for c in CASES], columns=["territory", "zone"], dtype="string")
    mismatches = got.compare(expected)
    assert mismatches.empty, frame.join(mismatches, how="inner")
    assert str(got["zone"].dtype) == "string" and str(got["territory"].dtype) == "string"


def test_first_match_wins_and_index_is_kept(territories) -> None:
    frame = pd.DataFrame({"country": ["US", "DE"], "state": ["NY", None]}, index=[10, 3])
    narrow_first = [territories.territories[4].model_copy(update={"countries": ["DE"], "name": "Berlin"})]
    assert territory_of(frame, narrow_first + territories.territories).to_dict() == {
        10: "NA-East",
        3: "Berlin",
    }


def test_no_state_column() -> None:
    assert timezone_of(pd.DataFrame({"country": ["FR"]})).tolist() == ["Europe/Paris"]


def test_every_zone_exists() -> None:
    for zone in {*STATE_ZONE.values(), *COUNTRY_ZONE.values()}:
        zoneinfo.ZoneInfo(zone)


def test_subdivision_code() -> None:
    assert subdivision_code("US", "Calif.") == "US-CA"
    assert subdivision_code("CA", "Newfoundland") == "CA-NL"
    assert subdivision_code("DE", "Bayern") is None
    assert subdivision_code("US", "x" * 10_000) is None


def write(tmp_path, text: str):
    path = tmp_path / "territories.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_country_names_file_and_line(tmp_path) -> None:
    path = write(
        tmp_path,
        "territories:\n  - name: UKI\n    countries:\n      - GB\n      - UK\n",
    )
    with pytest.raises(ConfigError) as raised:
        load_territories(path)
    assert (raised.value.path, raised.value.line) == (str(path), 5)
    assert "territories[0].countries[1]" in str(raised.value) and "'UK'" in str(raised.value)


def test_unknown_state_and_schema_errors_name_the_line(tmp_path) -> None:
    path = write(tmp_path, "territories:\n  - name: West\n    countries: [US]\n    states: [CA, Cascadia]\n")
    with pytest.raises(
        ConfigError, match=r"territories\.yaml:4: territories\[0\]\.states\[1\]: unknown state"
    ):
        load_territories(path)
    path = write(tmp_path, "territories:\n  - name: Nordics\n    countries: [SE, NO]\n")
    with pytest.raises(ConfigError, match=r"territories\.yaml:3: .*quote codes"):
        load_territories(path)
    path = write(tmp_path, "territories:\n  - name: X\n    countries: [SE]\n    region: EMEA\n")
    with pytest.raises(ConfigError, match=r"territories\.yaml:4: territories\[0\]\.region"):
        load_territories(path)
