"""A small rulebook with known dead, idle and misspelt rules, written to a file as the commands read it."""

from __future__ import annotations

from pathlib import Path

BOOK = """define:
  big: employees >= 1000
  big_senior: big and seniority in ("C-level", "VP")
rules:
  - {id: big-any, when: big, tier: VIP}
  - {id: big-vp, when: 'big and seniority == "VP"', tier: VIP}
  - {id: huge, when: employees >= 2000000, tier: Standard}
  - {id: dach, when: 'territory in ("DACH", "Narnia")', tier: Standard}
  - {id: mid, when: employees >= 500, tier: Nurture}
  - {id: mid-big, when: employees >= 1500, tier: Nurture}
"""


def write(tmp_path: Path, text: str) -> Path:
    """text saved as tmp_path/rulebook.yaml; its path."""
    path = tmp_path / "rulebook.yaml"
    path.write_text(text)
    return path
