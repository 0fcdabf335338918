"""A custom field end to end through routing's stages on the sandbox, and `leadrouter rules check` over it."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from leadrouter.config import PROJECT_ROOT, Settings
from leadrouter.pipeline import classify_batch
from leadrouter.router import open_router
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.validate.suite import validate_leads
from tests.helpers.cli import run
from tests.helpers.custom_fields import write_fields

STUDENT_RULE = """rules:
  - id: students-nurture
    when: 'occupation == "Student" and time_on_site < 600'
    tier: Nurture
    description: students browse, they do not buy
"""


def rulebook_with(tmp_path: Path, rule: str) -> Path:
    """The shipped rulebook with `rule` first."""
    text = (PROJECT_ROOT / "config" / "rulebook.yaml").read_text(encoding="utf-8")
    path = tmp_path / "rulebook.yaml"
    path.write_text(text.replace("rules:\n", rule, 1), encoding="utf-8")
    return path


def test_a_rule_on_a_custom_field_routes_sandbox_leads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields_path = write_fields(tmp_path)
    monkeypatch.setenv("LEADROUTER_FIELDS_PATH", str(fields_path))
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/ledger.db",
        sandbox_path=tmp_path / "sandbox.db",
        rulebook_path=rulebook_with(tmp_path, "rules:\n" + STUDENT_RULE.removeprefix("rules:\n")),
        model="none",
    )
    SandboxCRM.create(settings.sandbox_path, seed=7, leads=20)
    crm = SandboxCRM(settings.sandbox_path)
    pulled = crm.fetch_new_leads(None, 100)[0]
    ids = validate_leads(pulled).valid["lead_id"].tolist()[:3]
    others = [
        i for i in pulled["lead_id"] if i not in ids
    ]  # the sandbox's own values cleared: no rule hits them
    crm.set_lead_fields(
        pd.DataFrame(
            {
                "lead_id": [*ids, *others],
                "occupation": ["Student", "Student", "Engineer", *[None] * len(others)],
                "time_on_site": [120, 900, 120, *[None] * len(others)],
            }
        )
    )
    with open_router(settings) as router:
        leads, _ = router.crm.fetch_new_leads(None, 100)
        batch = classify_batch(router, leads)
    decided = batch.leads.set_index("lead_id")
    assert set(ids) <= set(decided.index)
    assert decided.loc[ids[0], "decided_by"] == "rule:students-nurture"
    assert decided.loc[ids[0], "tier"] == "Nurture"
    assert decided.loc[ids[1], "decided_by"] != "rule:students-nurture"
    assert decided.loc[ids[2], "decided_by"] != "rule:students-nurture"
    assert (decided["decided_by"] == "rule:students-nurture").sum() == 1
    assert decided.loc[ids[1], "time_on_site"] == 900.0


def test_rules_check_knows_the_custom_fields(tmp_path: Path) -> None:
    env = {"LEADROUTER_FIELDS_PATH": str(write_fields(tmp_path))}
    path = rulebook_with(tmp_path, STUDENT_RULE.replace("occupation ==", "ocupation =="))
    typo = run("rules", "check", str(path), "--probe", "0", env=env)
    assert typo.returncode == 1
    line = path.read_text(encoding="utf-8").splitlines().index("rules:") + 3  # the rule's `when`
    assert f"{path}:{line}: rules[0].when: unknown column 'ocupation'" in typo.stdout.replace("\n", "")
    wrong_type = run(
        "rules", "check", str(rulebook_with(tmp_path, STUDENT_RULE.replace("< 600", '< "ten minutes"'))),
        "--probe", "0", env=env,
    )  # fmt: skip
    assert wrong_type.returncode == 1 and "compares values of the wrong type" in wrong_type.stdout
    fine = run("rules", "check", str(rulebook_with(tmp_path, STUDENT_RULE)), "--probe", "300", env=env)
    assert fine.returncode == 0, fine.stdout + fine.stderr[-2000:]
    # the generated probe leads carry values for the arrival fields (some students, some brief visits): the
    # rule is loaded, run and matches some of them
    assert "matched none" not in fine.stdout.replace("\n", "")
    assert re.search(r"\d+ rules, version \w+: 0 errors, 0 warnings", fine.stdout)


def test_rules_explain_reads_a_custom_field_of_the_lead(tmp_path: Path) -> None:
    env = {"LEADROUTER_FIELDS_PATH": str(write_fields(tmp_path)), "COLUMNS": "200"}
    book = str(rulebook_with(tmp_path, STUDENT_RULE))
    lead = '{"lead_id": "x", "title": "Student", "occupation": "Student", "time_on_site": "120"}'
    fired = run("rules", "explain", lead, "--rulebook", book, env=env)
    assert fired.returncode == 0, fired.stderr[-2000:]
    assert "ignored" not in fired.stdout
    first = fired.stdout.split("students-nurture", 1)[1].split("\n", 1)[0]
    assert "fired" in first and "matched: occupation='Student', time_on_site=120.0" in first
