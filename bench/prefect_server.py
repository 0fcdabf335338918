"""A local Prefect server for one benchmark: its own PREFECT_HOME in a temporary directory, a free port.

The benchmarks run their flows in fresh child processes against it, so no run pays for starting a server.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from deployments.postgres import database_uri, embedded_postgres, ensure_database

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def local_server(
    timeout_s: float = 180, database_url: str | None = None, extra_env: Mapping[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """Start `prefect server start`, wait for its health check, yield the environment its clients need.

    database_url: the server's own database (`postgresql+asyncpg://…`, migrated on start); default SQLite in
    the temporary PREFECT_HOME. extra_env: more settings for the server, e.g. a service turned off.
    """
    with tempfile.TemporaryDirectory(prefix="leadrouter-bench-prefect-") as home:
        port = free_port()
        env = {
            **os.environ,
            "PREFECT_HOME": home,
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            **({"PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url} if database_url else {}),
            **(extra_env or {}),
        }
        log = open(Path(home) / "server.log", "wb")  # noqa: SIM115 - closed after the server stops
        server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_healthy(server, env["PREFECT_API_URL"], timeout_s)
            yield env
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()


@contextmanager
def local_postgres() -> Iterator[str]:
    """A PostgreSQL server (deployments.postgres) in a temporary directory; yields the URL of a fresh database for
    a Prefect server (asyncpg). A server on SQLite locks up under a worker polling every second, as production
    warns: production runs it on PostgreSQL, and so does the benchmark."""
    with (
        tempfile.TemporaryDirectory(prefix="leadrouter-bench-pg-") as data,
        embedded_postgres(Path(data)) as server,
    ):
        yield database_uri(ensure_database(server, "prefect"), "prefect", driver="asyncpg")


def wait_healthy(server: subprocess.Popen, api: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the Prefect server did not answer at {api} within {timeout_s:.0f} s")


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def reset_peak_rss() -> None:
    """Start this process's peak resident set over from its present size (Linux 4.0+, /proc/self/clear_refs);
    a no-op elsewhere."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_since_reset_mb(pid: int | str = "self") -> float | None:
    """A process's peak resident set (this one's by default) since reset_peak_rss, or since it started (Linux's
    VmHWM); None where there is none."""
    with contextlib.suppress(OSError):
        found = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
        return round(int(found.group(1)) / 1024, 1) if found else None
    return None


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def make_run(workdir: Path, extra_env: Mapping[str, str] | None = None) -> Iterator[MakeRun]:
    """`make run` as a user starts it, in its own process group, with its Prefect home, PostgreSQL, ledger,
    sandbox CRM and model under `workdir` and free ports (a `make run` of the user's is left alone); its output
    goes to workdir/make-run.log. Stopped with Ctrl-C (SIGINT to the group, as a terminal sends) on exit, unless
    the caller stopped it already."""
    port, hook = free_port(), free_port()
    var = workdir / "var"
    env = {
        **os.environ,
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "LEADROUTER_WEBHOOK_PORT": str(hook),
        "LEADROUTER_PREFECT_POSTGRES": str(var / "prefect-postgres"),
        "LEADROUTER_STORE_URL": f"sqlite:///{var / 'leadrouter.db'}",
        "LEADROUTER_SANDBOX_PATH": str(var / "sandbox.db"),
        "LEADROUTER_MODEL_DIR": str(var / "models"),
        **(extra_env or {}),
    }
    var.mkdir(parents=True, exist_ok=True)
    log = workdir / "make-run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PREFECT_HOME={workdir / '.prefect'}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        run = MakeRun(proc, env, log, time.monotonic())
        try:
            yield run
        finally:
            if proc.poll() is None:
                run.interrupt()


class MakeRun:
    """A running `make run` (see make_run)."""

    def __init__(self, proc: subprocess.Popen, env: dict[str, str], log: Path, started: float) -> None:
        self.proc, self.env, self.log, self.started = proc, env, log, started

    @property
    def ui(self) -> str:
        return self.env["PREFECT_API_URL"].removesuffix("/api")

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 1)

    def interrupt(self, timeout_s: float = 60) -> float:
        """Ctrl-C: SIGINT to the whole group, as a terminal sends it; seconds until every process of the group
        and every child make run started in a session of its own (server, worker, PostgreSQL) had exited."""
        import psutil

        family = [self.proc.pid, *(c.pid for c in psutil.Process(self.proc.pid).children(recursive=True))]
        began = time.monotonic()
        os.killpg(self.proc.pid, signal.SIGINT)
        _gone, alive = psutil.wait_procs([p for p in map(_process, family) if p], timeout=timeout_s)
        for straggler in alive:
            straggler.kill()
        self.proc.wait()
        return round(time.monotonic() - began, 2) if not alive else float("inf")


def _process(pid: int):
    import psutil

    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None
