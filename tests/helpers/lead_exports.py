"""Small lead exports written from code (a minimal column map, valid leads, any separator and encoding), for
the import's shape and verdict tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from leadrouter.config import PROJECT_ROOT

MAP_TEXT = """leads:
  lead_id: Lead ID
  first_name: First Name
  last_name: Last Name
  email: Email
  company: Company / Account
  country: Country
  created_at: Create Date
dates:
  timezone: America/New_York
"""
HEADER = ["Lead ID", "First Name", "Last Name", "Email", "Company / Account", "Country", "Create Date"]
FIRST = ["Anna", "Ben", "Carla", "Dirk", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas"]


def lead(i: int, created: object = "03/04/2025 09:30 AM") -> list[object]:
    """A lead validation passes, created at `created` (a cell: text, or a datetime for a sheet)."""
    name = FIRST[i % len(FIRST)]
    return [f"00Q{i:05d}", name, "Meyer", f"{name.lower()}.meyer@northwind{i}.com", f"Northwind {i} GmbH", "Germany",
            created]  # fmt: skip


def write_csv(path: Path, rows: list[list[object]], separator: str = ",", encoding: str = "utf-8",
              trailing: str = "") -> Path:  # fmt: skip
    """HEADER and `rows` as CSV; `trailing` ends every line (a trailing separator)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator=trailing + "\r\n")
    writer.writerows([HEADER, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_map(folder: Path) -> Path:
    """MAP_TEXT as map.yaml in `folder`."""
    path = folder / "map.yaml"
    path.write_text(MAP_TEXT, encoding="utf-8")
    return path


FULL_MAP = PROJECT_ROOT / "config" / "backtest-map.yaml"
_MAP_LINES = FULL_MAP.read_text(encoding="utf-8").splitlines()
# (line, field) of each problem broken_map() makes
BROKEN_MAP_PROBLEMS = [
    (_MAP_LINES.index("  title: Title") + 1, "leads.titel"),
    (_MAP_LINES.index("  amount: Amount") + 1, "deals.amount"),
    (_MAP_LINES.index("  timezone: America/New_York") + 1, "dates.timezone"),
]


def broken_map() -> str:
    """config/backtest-map.yaml with three problems: an unknown key, a list for a column, an unknown zone."""
    return (
        FULL_MAP.read_text(encoding="utf-8")
        .replace("  title: Title\n", "  titel: Title\n")
        .replace("  amount: Amount\n", "  amount: [Amount]\n")
        .replace("  timezone: America/New_York\n", "  timezone: Mars/Olympus\n")
    )
