"""Headless Chromium over the Prefect UI: the UI served against any API (the session's test server serves
none), and a page rendered as a screenshot and as the DOM its scripts built."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

WINDOW = (1400, 1000)


@contextmanager
def prefect_ui(api_url: str) -> Iterator[str]:
    """Prefect's own UI app on a free port, its pages reading `api_url` (the API allows any origin by default);
    yields the UI's base URL."""
    import uvicorn
    from prefect.server.api.server import create_ui_app
    from prefect.settings import PREFECT_UI_API_URL, PREFECT_UI_ENABLED, temporary_settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with temporary_settings({PREFECT_UI_API_URL: api_url, PREFECT_UI_ENABLED: True}):
        app = create_ui_app(ephemeral=False)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the UI server did not start"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def render(
    url: str, png: Path, profile: Path, shows: tuple[str, ...] = (), window: tuple[int, int] = WINDOW
) -> str:
    """Headless Chromium: the page after its scripts ran, as a screenshot and as the DOM it built.

    A page whose API answers late (a loaded machine) is rendered again with twice the time, up to three times,
    until its DOM shows every string of `shows`; the caller still asserts on what was shown."""
    for budget in (8_000, 16_000, 32_000):
        shown = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}",
             f"--virtual-time-budget={budget}", f"--screenshot={png}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr[-2000:]
        if all(text in shown.stdout for text in shows):
            break
    return shown.stdout


def assert_real_screenshot(png: Path, window: tuple[int, int] = WINDOW) -> None:
    with Image.open(png) as image:
        assert (image.format, image.size) == ("PNG", window)
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 10, "the screenshot is blank"  # a page that failed to render is one flat colour
