"""Every `leadrouter` command the README shows, run as written against a routed sandbox: none may print a
traceback, and each exits 0 where the README promises it works.

The README's example lead (00Q000000000123) stands for "a lead in the state the command needs": each lead
command runs once on such a lead of the sandbox (it must succeed) and once on the README's literal id (it
must answer without a traceback, whatever the lead's state). `[--option]` runs both with and without it.
The rollout's commands (backtest, rules check --history, rules mine, model train --history) read a small
generated history written into the working folder (leadrouter.sandbox.conversions), with the candidate
rulebook a user would paste together from `rules mine`.
"""

from __future__ import annotations

import re
import shlex
import shutil
import textwrap
from pathlib import Path

import pytest

from leadrouter.backtest.history import read_history
from leadrouter.classify.local import VERSION
from leadrouter.classify.rule_mining import mine_rules, proposal_yaml
from leadrouter.classify.rules import load_rulebook
from leadrouter.config import PROJECT_ROOT, Settings
from leadrouter.enrich.territory import load_territories
from leadrouter.sandbox.conversions import conversion_history
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.schema import Category
from leadrouter.store import open_store
from leadrouter.store.decisions import lead_decisions
from leadrouter.writeback import write_back
from tests.helpers.cli import run as run_cli
from tests.helpers.routed import routed_sandbox

README = PROJECT_ROOT / "README.md"
EXAMPLE_LEAD = "00Q000000000123"
# the README's production ledger sources stand for the sandbox's (routed with a shadow run too)
SOURCES = {"salesforce:shadow": "sandbox:shadow"}
# not run here, each with why; every other command the README shows is run
# (`report --backtest` reads the folder a `backtest` above it wrote: the cases run in the README's order)
NOT_RUN = {
    "demo": "`demo` without --json is the same run as `demo --json` (run here), printed as tables",
}
HISTORY_LEADS = 3_000  # the generated exports the rollout commands read: enough to mine rules and learn from
# the state of the lead each lead command needs: "quarantined", "review", "routed" or "rep" (owned by a rep)
NEEDS = {
    "quarantine release": "quarantined",
    "review set-tier": "review",
    "review assign": "review",
    "rules explain": "routed",
    "explain": "routed",
    "reject": "rep",
}
TRACEBACK = "Traceback (most recent call last)"


def readme_commands(text: str) -> list[str]:
    """The `leadrouter …` lines of the README's code blocks (`$ ` prompts and `.venv/bin/` dropped, line
    continuations joined, trailing comments cut), in order, each once."""
    found: list[str] = []
    for block in re.findall(r"```\w*\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ").removeprefix(".venv/bin/")
            if line.startswith("leadrouter "):
                command = re.sub(r"\s+#.*$", "", line).strip()
                found += [command] if command not in found else []
    return found


def variants(command: str) -> list[str]:
    """`review list [--late]` -> `review list` and `review list --late`."""
    optional = re.search(r"\s*\[([^\]]+)\]", command)
    if not optional:
        return [command]
    without = command[: optional.start()] + command[optional.end() :]
    with_it = command[: optional.start()] + " " + optional.group(1) + command[optional.end() :]
    return variants(without) + variants(with_it)


def subcommand(args: list[str]) -> str:
    """The words naming the command: `review set-tier`, `report --backtest`, `explain`."""
    words = args[1:3]
    two = " ".join(words)
    return two if two in NEEDS or two in NOT_RUN else words[0]


def test_the_readme_shows_the_commands_this_test_knows() -> None:
    """A command added to the README is run here: a new lead command needs its lead state in NEEDS."""
    commands = readme_commands(README.read_text())
    assert len(commands) >= 15
    for command in commands:
        args = shlex.split(command)
        if EXAMPLE_LEAD in args:
            assert subcommand(args) in NEEDS, f"{command}: say in NEEDS which lead state it needs"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, local_model) -> dict:
    """A sandbox routed once and written back (statuses written, quarantined, review), and a working folder
    where the README's relative paths (config/…, report/, the exports) resolve; models are kept apart."""
    folder = tmp_path_factory.mktemp("readme")
    crm, url = routed_sandbox(folder, local_model, seed=11, leads=300, shadow=True)
    with open_store(url) as store:
        write_back(store, crm, "sandbox", "readme")
        leads = {state: lead_in(store, crm, state) for state in ("quarantined", "review", "routed", "rep")}
    work = folder / "work"
    models = folder / "models"
    models.mkdir()
    # the shipped local model is reused from the test cache; what `model train` keeps stays in this folder
    for path in Path(Settings().model_dir).glob(f"{VERSION}-*.joblib"):
        (models / path.name).symlink_to(path)
    write_exports(work)
    env = {"LEADROUTER_STORE_URL": url, "LEADROUTER_SANDBOX_PATH": str(folder / "sandbox.db"),
           "LEADROUTER_MODEL_DIR": str(models)}  # fmt: skip
    return {"env": env, "cwd": work, "leads": leads}


def write_exports(work: Path) -> None:
    """The working folder as the README's user has it: config/ (the shipped files, but backtest-map.yaml
    describes this export), two CRM exports (leads.csv, deals.csv: a generated history) with their map.yaml,
    and candidate.yaml: the shipped rulebook with the rules `rules mine` proposes pasted after the rules that
    must win first (spam, support, jobs, press)."""
    config = work / "config"
    config.mkdir(parents=True)
    for path in (PROJECT_ROOT / "config").iterdir():
        if path.name != "backtest-map.yaml":
            (config / path.name).symlink_to(path)
    paths = conversion_history(HISTORY_LEADS, seed=8).write(work)
    shutil.copy(paths["map"], config / "backtest-map.yaml")
    history = read_history(paths["leads"], paths["deals"], paths["map"], load_territories())
    mining = mine_rules(history.known, history.fields)
    assert mining.proposal is not None, (
        "no rule mined from the generated history: candidate.yaml would be the shipped rulebook"
    )
    shipped = PROJECT_ROOT / "config" / "rulebook.yaml"
    first_sales = next(r.id for r in load_rulebook(shipped).rules if r.category == Category.SALES)
    fragment = textwrap.indent(proposal_yaml(mining, "leads.csv"), "  ")
    text = shipped.read_text(encoding="utf-8")
    at = text.index(f"  - id: {first_sales}\n")
    (work / "candidate.yaml").write_text(text[:at] + fragment + text[at:], encoding="utf-8")


def lead_in(store, crm: SandboxCRM, state: str) -> list[str]:
    """Leads of the sandbox in `state` (two, so two review commands never share one), by the ledger."""
    import sqlalchemy as sa

    from leadrouter.store.tables import decisions

    status = {"quarantined": "quarantined", "review": "review"}.get(state, "written")
    query = sa.select(decisions.c.lead_id, decisions.c.owner_id).where(
        decisions.c.status == status,
        decisions.c.source == "sandbox",  # not the shadow run's copy
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(decisions.c.lead_id)).all()
    if state == "rep":
        rows = [r for r in rows if str(r.owner_id).startswith("005")]  # a rep, not a queue (00G…)
    assert len(rows) >= 2, f"the sandbox has fewer than two {state} leads"
    assert all(lead_decisions(store, r.lead_id) for r in rows[:2])
    return [r.lead_id for r in rows[:2]]


def run(args: list[str], sandbox: dict):
    return run_cli(*args[1:], env=sandbox["env"], cwd=sandbox["cwd"], timeout=600)


def cases() -> list[str]:
    return [v for command in readme_commands(README.read_text()) for v in variants(command)]


@pytest.mark.parametrize("command", cases())
def test_a_readme_command_works_as_written(command: str, sandbox: dict) -> None:
    args = shlex.split(command)
    name = subcommand(args)
    if name in NOT_RUN and (name != "demo" or "--json" not in args):
        pytest.skip(NOT_RUN[name])
    if EXAMPLE_LEAD in args:
        literal = run(args, sandbox)  # the README's own id: whatever its state, a clear answer
        assert TRACEBACK not in literal.stdout + literal.stderr, literal.stderr[-3000:]
        assert literal.stdout.strip() or literal.stderr.strip(), f"{command}: printed nothing"
        used = sandbox["leads"][NEEDS[name]]
        lead = used[1] if name == "review assign" else used[0]
        args = [lead if a == EXAMPLE_LEAD else SOURCES.get(a, a) for a in args]
    done = run(args, sandbox)
    output = done.stdout + done.stderr
    assert TRACEBACK not in output, output[-3000:]
    assert done.returncode == 0, f"{shlex.join(args)} exited {done.returncode}:\n{output[-3000:]}"
