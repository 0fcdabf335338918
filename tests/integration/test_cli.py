"""The `leadrouter` command as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import run


def test_demo_json_meets_its_equations_on_its_own_prefect(tmp_path: Path) -> None:
    """The demo never touches the Prefect of `make run`: given that home and a server URL (nothing listens on
    port 9), it writes nothing under the home, calls no server, and still routes every lead."""
    live_home = tmp_path / "live-prefect-home"
    live_home.mkdir()
    live = {"PREFECT_HOME": str(live_home), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    out = run("demo", "--leads", "400", "--seed", "3", "--json", env=live)
    assert out.returncode == 0, out.stderr[-3000:]
    assert list(live_home.rglob("*")) == []
    summary = json.loads(out.stdout)
    assert summary["leads"] == 400
    assert summary["leads"] == summary["written"] + summary["quarantined"] + summary["review"]
    assert summary["double_assigned"] == 0
    assert sum(summary["by_tier"].values()) == summary["written"] == sum(summary["by_owner"].values())
    assert summary["elapsed_s"] > 0


def test_init_creates_store_and_sandbox_and_keeps_them(tmp_path: Path) -> None:
    env = {
        "LEADROUTER_STORE_URL": f"sqlite:///{tmp_path}/l.db",
        "LEADROUTER_SANDBOX_PATH": str(tmp_path / "s.db"),
    }
    first = run("init", "--leads", "50", env=env)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "l.db").exists() and (tmp_path / "s.db").exists()
    assert "created" in first.stdout
    assert "kept" in run("init", env=env).stdout


def test_init_never_prints_the_store_password(tmp_path: Path) -> None:
    env = {
        "LEADROUTER_STORE_URL": "postgresql://router:s3cr3t-pw@127.0.0.1:1/none",
        "LEADROUTER_SANDBOX_PATH": str(tmp_path / "s.db"),
    }
    out = run("init", env=env)
    assert "s3cr3t-pw" not in out.stdout + out.stderr


def test_help_lists_the_commands() -> None:
    out = run("--help")
    assert out.returncode == 0 and "demo" in out.stdout and "init" in out.stdout
