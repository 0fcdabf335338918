"""`make run`: a local Prefect server on 127.0.0.1:4200, then every flow served on its schedule.

Ctrl-C stops both. PREFECT_HOME (set by the Makefile) keeps the server's database inside the project.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

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


def main() -> None:
    children: list[subprocess.Popen] = []

    def stop(*_: object) -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        print("starting the Prefect server (first start migrates its database; ~20 s)", flush=True)
        children.append(
            subprocess.Popen(["prefect", "server", "start", "--host", "127.0.0.1", "--port", "4200"])
        )
        wait_for_server(children[0])
        print("Prefect UI: http://127.0.0.1:4200  (Ctrl-C stops everything)", flush=True)
        children.append(subprocess.Popen([sys.executable, "-m", "deployments.serve"]))
        while all(child.poll() is None for child in children):
            time.sleep(1)
        stop()
    except KeyboardInterrupt:
        stop()


if __name__ == "__main__":
    main()
