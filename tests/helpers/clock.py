"""The moment tests route at: reps' hours, holidays and daily caps are checked against it, so a test gives the
same owners whenever CI runs. Wed 25 Nov 2026, 16:30 UTC: the Americas and EMEA at work, APAC asleep."""

from datetime import UTC, datetime

WORKDAY = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
