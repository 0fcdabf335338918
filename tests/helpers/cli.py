"""The `leadrouter` command run as a user runs it: a subprocess in the project folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
CLI = [sys.executable, "-c", "from commands.main import main; main()"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | (env or {})
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, cwd=ROOT, env=full_env)
