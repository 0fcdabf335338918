"""Rulebooks for tests: a small one with known dead, idle and misspelt rules, and the shipped one with one rule
moved to another tier."""

from __future__ import annotations

from pathlib import Path

from leadrouter.config import PROJECT_ROOT

MOVED_RULE = "standard-mid-market"  # the moved rulebook sends this rule's leads to Nurture

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


def rulebook_with_moved_rule(folder: Path) -> Path:
    """config/rulebook.yaml with MOVED_RULE's tier changed from Standard to Nurture, nothing else, in folder."""
    text = (PROJECT_ROOT / "config" / "rulebook.yaml").read_text(encoding="utf-8")
    at = text.index(f"- id: {MOVED_RULE}")
    tier = text.index("tier: Standard", at)
    path = folder / "moved.yaml"
    path.write_text(text[:tier] + "tier: Nurture" + text[tier + len("tier: Standard") :], encoding="utf-8")
    return path
