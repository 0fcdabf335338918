"""The review queue's escalation manager, as the roster names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadrouter.assign.roster import load_roster
from leadrouter.config import ConfigError
from tests.helpers.ledger import ROSTER

VP_SALES = "005000000000014"


def test_the_escalation_manager_must_be_a_rep(tmp_path: Path) -> None:
    text = ROSTER.read_text().replace('escalation: "005000000000014"', 'escalation: "00G000000000004"')
    path = tmp_path / "roster.yaml"
    path.write_text(text)
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("escalation:"))) + 1
    with pytest.raises(
        ConfigError, match=rf"roster.yaml:{line}: escalation: unknown escalation rep '00G000000000004'"
    ):
        load_roster(path)
    assert load_roster(ROSTER).escalation == VP_SALES
