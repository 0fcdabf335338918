"""House rule: the core package never imports prefect, tasks, flows, blocks or commands."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).parents[2] / "leadrouter"
FORBIDDEN = {"prefect", "tasks", "flows", "blocks", "deployments", "commands"}


@pytest.mark.parametrize("module", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_no_orchestration(module: Path) -> None:
    tree = ast.parse(module.read_text())
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level == 0
            else []
        )
    }
    assert not imported & FORBIDDEN, f"{module} imports {imported & FORBIDDEN}"
