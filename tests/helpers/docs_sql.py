"""The SQL examples of a documentation page, and the named parameters each one takes."""

from __future__ import annotations

import re
from pathlib import Path

BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)
PARAMETER = re.compile(r"(?<![:\w]):([a-z_]+)\b")


def sql_blocks(page: Path) -> list[str]:
    """Every ```sql block of the page, in order."""
    return [block.strip() for block in BLOCK.findall(page.read_text())]


def parameters(sql: str, values: dict[str, object]) -> dict[str, object]:
    """The values of the parameters the query names; a parameter with no value fails loudly."""
    names = set(PARAMETER.findall(sql))
    missing = names - set(values)
    if missing:
        raise KeyError(f"no value for parameter(s) {sorted(missing)} of query: {sql[:80]}")
    return {name: values[name] for name in names}
