"""A local Slack incoming webhook: accepts posts as Slack documents them and keeps them for tests.

200 "ok" for a JSON body with text or blocks; 400 "invalid_payload" for anything else; 404 "no_service" on
another path; and, while `fail_next` is above zero, 500 (a transient failure the sender retries).
"""

from __future__ import annotations

import json
import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from localapi.server import LocalServer

HOOK_PATH = "/services/T000LOCAL/B000LOCAL/XXXXXXXXXXXXXXXXXXXXXXXX"


class SlackWebhook:
    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.fail_next = 0
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/services/{rest:path}", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> PlainTextResponse:
        if request.url.path != HOOK_PATH:
            return PlainTextResponse("no_service", status_code=404)
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return PlainTextResponse("internal_error", status_code=500)
        try:
            body = json.loads(await request.body())
        except json.JSONDecodeError:
            return PlainTextResponse("invalid_payload", status_code=400)
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return PlainTextResponse("invalid_payload", status_code=400)
        with self._lock:
            self.posts.append(body)
        return PlainTextResponse("ok")


def serve(hook: SlackWebhook) -> LocalServer:
    """Start the webhook on a free port; its URL is server.url + HOOK_PATH."""
    return LocalServer(hook.app).start()
