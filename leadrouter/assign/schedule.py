"""When a rep works: time zone, working hours, days, public holidays and time off (the roster's calendar)."""

from __future__ import annotations

import zoneinfo
from datetime import date, time
from typing import Literal

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WorkingHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: time = time(9)
    end: time = time(17, 30)
    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]

    @model_validator(mode="after")
    def _start_before_end(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end} (hours within one day)")
        return self


class TimeOff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date
    end: date  # inclusive: the last day off
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> TimeOff:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Schedule(BaseModel):
    """When someone works: time zone, hours, and the public holidays they take (a country, or COUNTRY-SUBDIV)."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    hours: WorkingHours = Field(default_factory=WorkingHours)
    holidays: str | None = None  # "US", "US-CA", "DE-BY": the `holidays` package's country and subdivision

    _zone = field_validator("timezone")(lambda v: known_zone(v))
    _calendar = field_validator("holidays")(lambda v: known_calendar(v))


def known_zone(value: str | None) -> str | None:
    if value is not None:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin") from exc
    return value


def known_calendar(value: str | None) -> str | None:
    if value is not None:
        holiday_calendar(value)
    return value


def holiday_calendar(code: str) -> holidays.HolidayBase:
    """The public holidays of "US" or "US-CA"; an unknown country or subdivision is an error naming it."""
    country, _, subdiv = code.partition("-")
    try:
        return holidays.country_holidays(country.upper(), subdiv=subdiv.upper() or None)
    except NotImplementedError as exc:
        raise ValueError(f"unknown holiday calendar {code!r}: {exc}") from exc
