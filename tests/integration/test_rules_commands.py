"""`leadrouter rules check` and `rules explain` as a user runs them."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.cli import run
from tests.helpers.rulebooks import BOOK, write


def test_rules_commands(tmp_path: Path) -> None:
    checked = run("rules", "check", str(write(tmp_path, BOOK)), "--probe", "500")
    assert checked.returncode == 1, checked.stderr[-2000:]
    assert "rulebook.yaml:6: error rule 'big-vp'" in checked.stdout.replace("\n", " ")
    lead = '{"lead_id": "x", "title": "VP Sales", "employees": 1500, "lead_source": "demo_request"}'
    explained = run("rules", "explain", lead)
    assert explained.returncode == 0, explained.stderr[-2000:]
    assert "vip-senior-buyer" in explained.stdout and "fired" in explained.stdout
