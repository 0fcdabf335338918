"""A Japanese department head asking for pricing in Japanese reaches the Japanese speaker of their pool, end
to end (validate, enrich, classify, assign, record), and `simulate` and `explain` say why."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.config import Settings
from leadrouter.pipeline import classify_batch, simulated_lead
from leadrouter.record import BatchContext, record_batch
from leadrouter.router import open_router
from leadrouter.sandbox.crm import SandboxCRM
from tests.helpers.cli import run
from tests.helpers.clock import WORKDAY
from tests.helpers.ledger import NO_QUARANTINE, ROSTER

JORDAN = "005000000000007"  # the one AE of standard-na who works in Japanese (config/roster.yaml)
JAPANESE_PRICING = {
    "lead_id": "00QJA0000000001",
    "first_name": "Haruto",
    "last_name": "Yamada",
    "email": "h.yamada@yamada-seisakusho.example",
    "title": "営業部長",
    "company": "Yamada Seisakusho America",
    "country": "US",
    "state": "CA",
    "employees": 120,
    "lead_source": "pricing_page",
    "message": "お世話になっております。50ユーザー分の料金について、日本語でお見積もりをお願いできますでしょうか。",
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    SandboxCRM.create(tmp_path / "sandbox.db", seed=7)
    values = {
        "LEADROUTER_STORE_URL": f"sqlite:///{tmp_path}/ledger.db",
        "LEADROUTER_SANDBOX_PATH": str(tmp_path / "sandbox.db"),
        "LEADROUTER_ROSTER_PATH": str(ROSTER),
        "COLUMNS": "200",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_a_japanese_pricing_request_goes_to_the_japanese_speaker_and_explain_says_why(env: dict) -> None:
    simulated = run("simulate", json.dumps(JAPANESE_PRICING), "--at", WORKDAY.isoformat(), env=env)
    assert simulated.returncode == 0, simulated.stderr[-2000:]
    assert f"{JORDAN} (Jordan Blake)" in simulated.stdout
    assert "pool standard-na" in simulated.stdout and simulated.stdout.count("NO_LANGUAGE") == 2

    with open_router(Settings()) as router:
        lead = simulated_lead(pd.DataFrame([JAPANESE_PRICING]), WORKDAY)  # as routing reads it
        batch = classify_batch(router, lead, None)
        context = BatchContext(source="sandbox", run_id="r1", rulebook_version="v", at=WORKDAY)
        recorded = record_batch(router.store, context, batch.leads, NO_QUARANTINE, router.roster)
    routed = recorded.set_index("lead_id").loc[JAPANESE_PRICING["lead_id"]]
    assert (routed["tier"], routed["owner_id"], routed["language"]) == ("Standard", JORDAN, "ja")
    assert routed["language_confidence"] > 0.9 and routed["skills_matched"] == "language=ja"
    assert routed["excluded"] == {"005000000000008": "NO_LANGUAGE", "005000000000009": "NO_LANGUAGE"}

    explained = run("explain", JAPANESE_PRICING["lead_id"], env=env)
    assert explained.returncode == 0, explained.stderr[-2000:]
    language = next(line for line in explained.stdout.splitlines() if line.strip().startswith("language"))
    assert language.split()[1] == "ja" and float(language.split()[2].strip("()")) > 0.9
    assert "skills     language=ja" in explained.stdout
