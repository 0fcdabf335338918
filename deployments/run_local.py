"""`make run`: a local Prefect server on 127.0.0.1:4200, prefect.yaml's deployments served on their schedules, the
webhook receiver.

Ctrl-C stops them all, in order: the children run in their own sessions so the terminal's SIGINT reaches
only this process, which stops the flow server before the API server it talks to. PREFECT_HOME (set by the Makefile) keeps the server's database inside the project.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from deployments.recover import recover_orphaned_runs

API = os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api")


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
            time.sleep(1)
    sys.exit(f"the Prefect server did not answer at {API} within {timeout_s:.0f} s")


def default_sigint() -> None:
    """In the child: let SIGINT stop it (Python turns it into KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def prepare_local_model() -> None:
    """Train and cache the default model now, so the first routing run does not wait for it."""
    from leadrouter.classify.local import default_model
    from leadrouter.config import Settings

    default_model(Settings().model_dir)


def main() -> None:
    children: list[subprocess.Popen] = []

    def stop(*_: object) -> None:
        # the flow server first (it pauses its schedules through the API), then the API server
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    # installed explicitly: a shell that started us in the background may have set SIGINT to ignored
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        print("starting the Prefect server (first start migrates its database; ~20 s)", flush=True)
        children.append(
            subprocess.Popen(
                ["prefect", "server", "start", "--host", "127.0.0.1", "--port", "4200"],
                start_new_session=True,
                preexec_fn=default_sigint,
            )
        )
        wait_for_server(children[0])
        if orphaned := recover_orphaned_runs():
            print(f"marked {orphaned} runs of an earlier, killed session as crashed", flush=True)
        print("loading the local model (the first start trains it on synthetic history: ~30 s)", flush=True)
        prepare_local_model()
        print("Prefect UI: http://127.0.0.1:4200  (Ctrl-C stops everything)", flush=True)
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "deployments.serve"], start_new_session=True, preexec_fn=default_sigint
            )
        )
        # CRM webhooks → events → route-inbound at once (LEADROUTER_WEBHOOK_PORT, 8787 by default)
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "deployments.webhooks"],
                start_new_session=True,
                preexec_fn=default_sigint,
            )
        )
        while all(child.poll() is None for child in children):
            time.sleep(1)
    finally:
        stop()


if __name__ == "__main__":
    main()
