"""The `leadrouter` command run as a user runs it: a process of its own in the project folder, with its own
environment, arguments, output and exit code.

Each command is forked from a waiting process (one per test session, tests/helpers/cli_fork.py) that has already
imported the heavy third-party libraries: pandas, anthropic, scikit-learn and Great Expectations take seconds
to import, paid once instead of at every command. The project's own modules load in the forked process after
its environment is set, as in a fresh `leadrouter`; LEADROUTER_CLI_FORK=0 runs a fresh interpreter instead.
"""

from __future__ import annotations

import atexit
import json
import locale
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).parents[2]
CLI = [sys.executable, "-c", "from commands.main import main; main()"]
TIMEOUT_S = 300


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = TIMEOUT_S
) -> subprocess.CompletedProcess:
    """`leadrouter *args` in cwd, with this process's environment (less PREFECT_API_URL) updated by env."""
    full_env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | (env or {})
    if os.environ.get("LEADROUTER_CLI_FORK") == "0":
        return subprocess.run(
            [*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=full_env
        )
    return _forker().run(list(args), full_env, cwd, timeout)


class _Forker:
    """The waiting process and the pipes to it: one request (a JSON line) at a time, answered with the forked
    command's pid, then with its exit code once it ended."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.out = Path(tempfile.mkdtemp(prefix="leadrouter-cli-"))
        with open(self.out / "fork.log", "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from tests.helpers.cli_fork import serve; serve()"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"},
            )
        atexit.register(self.close)

    def run(
        self, args: list[str], env: dict[str, str], cwd: Path, timeout: float
    ) -> subprocess.CompletedProcess:
        with self.lock:
            stdout, stderr = self.out / "stdout", self.out / "stderr"
            request = {
                "args": args,
                "env": env,
                "cwd": str(cwd),
                "stdout": str(stdout),
                "stderr": str(stderr),
            }
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            pid, expired = int(self._answer()), threading.Event()

            def expire() -> None:
                expired.set()
                os.kill(pid, signal.SIGKILL)

            timer = threading.Timer(timeout, expire)
            timer.start()
            try:
                code = int(self._answer())
            finally:
                timer.cancel()
            if expired.is_set():
                raise subprocess.TimeoutExpired([*CLI, *args], timeout)
            encoding = locale.getpreferredencoding(False)
            return subprocess.CompletedProcess(
                [*CLI, *args],
                code,
                stdout.read_text(encoding=encoding, errors="replace"),
                stderr.read_text(encoding=encoding, errors="replace"),
            )

    def _answer(self) -> str:
        line = self.process.stdout.readline()
        if not line:
            log = (self.out / "fork.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the CLI fork server exited (code {self.process.poll()}):\n{log}")
        return line

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # the server ends at end of input
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


_FORKER: list[_Forker] = []


def _forker() -> _Forker:
    if not _FORKER or _FORKER[0].process.poll() is not None:
        _FORKER[:] = [_Forker()]
    return _FORKER[0]
