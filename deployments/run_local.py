"""`make run`: PostgreSQL (embedded, data in var/prefect-postgres), a local Prefect server on 127.0.0.1:4200 with
its database there, prefect.yaml's deployments served on their schedules, the webhook receiver.

Ctrl-C stops them all, in order, within 10 s: the children run in their own sessions so the terminal's
SIGINT reaches only this process, which stops the flow worker and the webhook receiver before the API server
they talk to, then PostgreSQL. PREFECT_HOME (set by the Makefile) keeps the server's settings and logs inside
the project; the ledger and the sandbox CRM stay in var/ as LEADROUTER_STORE_URL and LEADROUTER_SANDBOX_PATH
say, so `leadrouter` commands find them with or without `make run`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deployments.postgres import database_uri, embedded_postgres, ensure_database

API = os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api")
ROOT = Path(__file__).resolve().parents[1]
# the Prefect server's PostgreSQL cluster (the benchmarks start make run on a fresh one elsewhere)
POSTGRES_DATA = Path(os.environ.get("LEADROUTER_PREFECT_POSTGRES", ROOT / "var" / "prefect-postgres"))
# Ctrl-C to a quiet terminal within 10 s: runs in flight get WORKER_STOP_S to finish and record their state (a run cut short
# is marked crashed at the next start), the API server SERVER_STOP_S, PostgreSQL and our own exit the rest
WORKER_STOP_S = 4
SERVER_STOP_S = 2.5


class Stopped(Exception):
    """Ctrl-C or SIGTERM: unwind and stop everything."""


def wait_for_server(proc: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the Prefect server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{API}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"the Prefect server did not answer at {API} within {timeout_s:.0f} s")


def default_sigint() -> None:
    """In the child: let SIGINT stop it (Python turns it into KeyboardInterrupt, which each child handles)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, start_new_session=True, preexec_fn=default_sigint)


def stop(children: list[subprocess.Popen], within_s: float) -> None:
    """SIGINT to each child and wait for it to exit, killed when its share of within_s is over."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    deadline = time.monotonic() + within_s
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            print(f"{' '.join(map(str, child.args[-2:]))} did not stop in time: killed", flush=True)
            child.kill()
            child.wait()


def prepare_local_model() -> None:
    """Train and cache the default model now, so the first routing run does not wait for it."""
    began, cpu = time.monotonic(), time.process_time()
    from leadrouter.classify.local_cache import default_model
    from leadrouter.config import Settings

    default_model(Settings().model_dir)
    # CPU-seconds as well: the machine's other work stretches the wall time, not these
    took, cpu = time.monotonic() - began, time.process_time() - cpu
    print(f"the local model is ready: {took:.1f} s, {cpu:.1f} CPU-s", flush=True)


def route_now(flow: str = "route-inbound", deployment: str = "route-new-leads") -> bool:
    """A run of the routing deployment now, for the leads waiting since before make run (its interval schedule
    would start the first up to 30 s after the worker registers it); False until the worker has registered it."""
    try:
        with urllib.request.urlopen(f"{API}/deployments/name/{flow}/{deployment}", timeout=2) as response:
            deployment_id = json.load(response)["id"]
        request = urllib.request.Request(
            f"{API}/deployments/{deployment_id}/create_flow_run",
            data=json.dumps({}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5):
            return True
    except OSError:  # not registered yet (404) or the server is busy: the next tick tries again
        return False


@contextmanager
def prefect_database() -> Iterator[str]:
    """The Prefect server's database on the embedded PostgreSQL: its asyncpg URL while the server runs."""
    with embedded_postgres(POSTGRES_DATA) as server:
        yield database_uri(ensure_database(server, "prefect"), "prefect", driver="asyncpg")


def raise_stopped(*_: object) -> None:
    raise Stopped


def serve(env: dict[str, str]) -> None:
    """Start the API server, then the worker and the receiver; return when one exits or on Ctrl-C."""
    server: list[subprocess.Popen] = []
    others: list[subprocess.Popen] = []
    model: subprocess.Popen | None = None
    try:
        print("starting the Prefect server (a fresh database is migrated first: ~20 s)", flush=True)
        port = str(urllib.parse.urlsplit(API).port or 4200)
        server.append(start(["prefect", "server", "start", "--host", "127.0.0.1", "--port", port], env))
        # the model trains while the server starts, in a child of its own: its validation pool is then out of
        # the terminal's reach too, and a Ctrl-C meanwhile stops it without a traceback
        model = start(
            [sys.executable, "-c", "from deployments.run_local import prepare_local_model as p; p()"]
        )
        wait_for_server(server[0])
        from deployments.recover import recover_orphaned_runs

        if orphaned := recover_orphaned_runs():
            print(f"marked {orphaned} runs of an earlier, killed session as crashed", flush=True)
        if model.poll() is None:
            print("the local model is training on synthetic history (first start only)", flush=True)
        print(f"Prefect UI: {API.removesuffix('/api')}  (Ctrl-C stops everything)", flush=True)
        # the worker starts while the model trains: a run that needs the model waits for it (default_model's lock)
        others.append(start([sys.executable, "-m", "deployments.serve"], env))
        # CRM webhooks → events → route-inbound at once (LEADROUTER_WEBHOOK_PORT, 8787 by default)
        others.append(start([sys.executable, "-m", "deployments.webhooks"], env))
        routed = False
        while all(child.poll() is None for child in server + others):
            if model.poll():
                sys.exit(f"training the local model failed (exit code {model.returncode}): see above")
            routed = routed or route_now()
            time.sleep(0.5)
    except Stopped:
        print("\nstopping (Ctrl-C)…", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stopping short
        started = time.monotonic()
        if model is not None and model.poll() is None:
            os.killpg(model.pid, signal.SIGKILL)  # the model cache is written whole or not at all
            model.wait()
        stop(others, WORKER_STOP_S - (time.monotonic() - started))
        workers_s = time.monotonic() - started
        stop(server, SERVER_STOP_S)
        print(f"stopped the worker and receiver in {workers_s:.1f} s, the server in "
              f"{time.monotonic() - started - workers_s:.1f} s", flush=True)  # fmt: skip


def main() -> None:
    # installed explicitly: a shell that started us in the background may have set SIGINT to ignored
    signal.signal(signal.SIGINT, raise_stopped)
    signal.signal(signal.SIGTERM, raise_stopped)
    stopping = None
    try:
        with prefect_database() as database:
            serve({**os.environ, "PREFECT_SERVER_DATABASE_CONNECTION_URL": database})
            stopping = time.monotonic()
    except Stopped:  # Ctrl-C before the server started
        pass
    postgres = "" if stopping is None else f" (PostgreSQL in {time.monotonic() - stopping:.1f} s)"
    print(f"stopped{postgres}", flush=True)


if __name__ == "__main__":
    main()
