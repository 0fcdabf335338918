"""Temporary cover: a colleague takes a rep's new leads for a period, and nothing the rep owns moves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Cover(BaseModel):
    """A colleague takes a rep's new leads for a period (inclusive, in the rep's own calendar); what the rep
    already owns stays theirs, and what arrives meanwhile stays with the colleague."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    rep: str
    by: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Cover:
        if self.end < self.start:
            raise ValueError(f"to {self.end} is before from {self.start}")
        if self.rep == self.by:
            raise ValueError(f"{self.rep!r} cannot cover themselves: name a colleague under by")
        return self


def cover_problems(
    covers: list[Cover], rep_id: Callable[[str], str], people: set[str]
) -> list[tuple[tuple, str]]:
    """The roster's covers naming someone unknown, or overlapping: a rep covered twice, or a covering colleague
    covered at the same time (each with its place in the file)."""
    out = []
    for i, c in enumerate(covers):
        for field in ("rep", "by"):
            if getattr(c, field) not in people:
                out.append((("cover", i, field), f"unknown rep {getattr(c, field)!r}: add it under reps"))
        for j, other in enumerate(covers[:i]):
            if other.start <= c.end and c.start <= other.end:
                if rep_id(other.rep) == rep_id(c.rep):
                    out.append((("cover", i, "rep"), f"{c.rep!r} is already covered then (cover {j})"))
                elif rep_id(other.rep) == rep_id(c.by) or rep_id(other.by) == rep_id(c.rep):
                    message = f"cover {j} overlaps: a colleague who is covered cannot cover; name one at work"
                    out.append((("cover", i, "by"), message))
    return out
