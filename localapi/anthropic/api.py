"""A local Anthropic Messages API (POST /v1/messages) for tests and demos, as strict as the real one.

It checks the API key (x-api-key, or the Authorization: Bearer header anthropic 2.x sends) and the
anthropic-version header, rejects what the real API rejects (localapi.anthropic.checks), honours max_tokens
(an answer longer than it stops at "max_tokens"), and fails with Anthropic's documented error bodies: 429
rate_limit_error with retry-after, 529 overloaded_error, 500 api_error, 401 authentication_error, and the spend
limits (429 with error.details.error_code enforced_spend_limit_reached and no retry-after; 400 "You have reached
your specified API usage limits"). Prompt caching is accounted as the API does: a cache_control-marked prefix
(tools + system) at least as long as the model's minimum (leadrouter.classify.catalog) is written once, read
afterwards until it goes unused for its TTL (5 minutes by default, read off `clock`, which tests may move).
Every request is recorded for tests to assert on. How it answers: localapi.anthropic.answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import jsonschema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from leadrouter.classify import catalog
from localapi.anthropic import answers
from localapi.anthropic.checks import check
from localapi.server import Faults, LocalServer

API_KEY = "sk-ant-api03-local-test-key-0000"
TTL_S = {"5m": 300.0, "1h": 3600.0}
VERBOSE_TOKENS = 1500  # what a "verbose" answer takes
SPEND_LIMIT = "You have reached your monthly spend limit for your usage tier; access resumes on the 1st."
USAGE_LIMIT = (
    "You have reached your specified API usage limits. You will regain access on 2027-01-01 at 00:00 UTC."
)
ERRORS: dict[int | str, tuple[int, str, str]] = {
    400: (400, "invalid_request_error", "Invalid request"),
    401: (401, "authentication_error", "invalid x-api-key"),
    429: (429, "rate_limit_error", "This request would exceed the rate limit for your organization."),
    500: (500, "api_error", "Internal server error"),
    529: (529, "overloaded_error", "Overloaded"),
    "spend_limit": (429, "rate_limit_error", SPEND_LIMIT),
    "usage_limit": (400, "invalid_request_error", USAGE_LIMIT),
}


def bearer(header: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header: how anthropic>=2 sends an API key (the documented
    x-api-key header is accepted too)."""
    scheme, _, key = (header or "").partition(" ")
    return key if scheme.lower() == "bearer" and key else None


class MessagesAPI:
    """The Messages API. `requests`: every request body received (faulted ones too); `responses`: every 200
    answer sent (the billed calls), with its usage; `statuses`: a count of the status codes returned;
    `rejected`: the error message of every 4xx. misbehaving: answers may break the strict tool's schema (for
    the guard tests); otherwise they never do. fail_first: status codes (or "spend_limit", "usage_limit") the
    first requests get, in order."""

    def __init__(
        self,
        behaviour: str = "sound",
        per_lead: dict[str, str] | None = None,
        api_key: str = API_KEY,
        delay_s: float = 2.0,
        fail_first: list[int | str] | None = None,
        faults: Faults | None = None,
        retry_after_s: float = 1.0,
        echo_credentials: bool = False,
        misbehaving: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        breaking = ({behaviour} | set((per_lead or {}).values())) & answers.SCHEMA_BREAKING
        if breaking and not misbehaving:
            raise ValueError(f"{sorted(breaking)} break the strict tool schema: pass misbehaving=True")
        self.behaviour, self.per_lead, self.api_key = behaviour, per_lead or {}, api_key
        self.delay_s, self.misbehaving, self.clock = delay_s, misbehaving, clock
        self.fail_first, self.faults, self.retry_after_s = list(fail_first or []), faults, retry_after_s
        # a misbehaving proxy that repeats the credential it was given in its error messages
        self.echo_credentials = echo_credentials
        self.requests: list[dict] = []
        self.responses: list[dict] = []
        self.statuses: Counter = Counter()
        self.rejected: list[str] = []
        self._cache: dict[str, float] = {}  # prefix digest -> when it expires
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    async def _messages(self, request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        with self._lock:
            self.requests.append(body if isinstance(body, dict) else {})
            scripted = self.fail_first.pop(0) if self.fail_first else None
        if self.api_key not in (
            request.headers.get("x-api-key"),
            bearer(request.headers.get("authorization")),
        ):
            shown = request.headers.get("authorization") or request.headers.get("x-api-key")
            return self._error(401, f"invalid credential {shown}" if self.echo_credentials else None)
        version = request.headers.get("anthropic-version")
        if not version:
            return self._error(400, "anthropic-version: header is required")
        problem = check(body, version)
        if problem:
            return self._reply_error(*problem)
        fault = scripted or (self.faults.pick(["429", "529", "500"]) if self.faults else None)
        lead = answers.lead_of(body)
        document = json.dumps(lead, ensure_ascii=False)
        behaviour = next((b for s, b in self.per_lead.items() if s in document), self.behaviour)
        if fault or behaviour == "down":
            return self._error(int(fault) if str(fault).isdigit() else (fault or 529))
        if behaviour == "slow":
            await asyncio.sleep(self.delay_s)
        return self._answer(body, lead, behaviour)

    def _content(self, body: dict, lead: dict, behaviour: str) -> tuple[list[dict], str, int]:
        """(content blocks, stop reason, output tokens) before max_tokens is applied."""
        if behaviour == "refuse":
            return [], "refusal", 5
        if behaviour.startswith("malformed:"):
            answer = answers.malformed_answer(lead, behaviour.partition(":")[2])
        elif behaviour == "long":
            answer = answers.long_answer(lead)
        elif behaviour == "obedient":
            answer = answers.obedient_answer(lead, self.misbehaving)
        else:
            answer = answers.sound_answer(lead)
        if isinstance(answer, str):
            return [{"type": "text", "text": answer}], "end_turn", answers.tokens(answer)
        tool = (body.get("tool_choice") or {}).get("name") or "record_classification"
        self._check_strict(body, tool, answer)
        block = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": tool, "input": answer}
        spent = VERBOSE_TOKENS if behaviour == "verbose" else answers.tokens(json.dumps(block))
        return [block], "tool_use", spent

    def _check_strict(self, body: dict, tool: str, answer: dict) -> None:
        """Under strict: true the real API never returns input its schema rejects; neither does this one
        unless it was told to misbehave."""
        spec = next((t for t in body.get("tools") or [] if t.get("name") == tool), None)
        if spec and spec.get("strict") and not self.misbehaving:
            jsonschema.validate(answer, spec["input_schema"])

    def _answer(self, body: dict, lead: dict, behaviour: str) -> JSONResponse:
        content, stop, spent = self._content(body, lead, behaviour)
        if spent > body["max_tokens"]:  # cut where the limit fell: the tool input holds only what was written
            kept = body["max_tokens"] / spent
            for block in content:
                if block["type"] == "tool_use":
                    fields = list(block["input"].items())
                    block["input"] = dict(fields[: int(len(fields) * kept)])
            stop, spent = "max_tokens", body["max_tokens"]
        payload = {
            "id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
            "model": body.get("model"), "content": content, "stop_reason": stop, "stop_sequence": None,
            "stop_details": {"type": "refusal", "category": "general_harms", "explanation": "declined"}
            if stop == "refusal" else None,
            "usage": self._usage(body, spent),
        }  # fmt: skip
        with self._lock:
            self.responses.append(payload)
            self.statuses[200] += 1
        return JSONResponse(payload, headers={"request-id": f"req_{uuid.uuid4().hex[:24]}"})

    def _usage(self, body: dict, output_tokens: int) -> dict:
        """Input tokens split as the API splits them: the cache_control-marked prefix (tools + system) is
        written to the cache when it is long enough for the model, read from it while it lives; the rest is
        plain input."""
        system = body.get("system") or []
        marker = next(
            (b["cache_control"] for b in system if isinstance(b, dict) and b.get("cache_control")), None
        )
        prefix = json.dumps([body.get("tools") or [], system], sort_keys=True)
        plain, size, written, read = answers.tokens(answers.user_text(body)), answers.tokens(prefix), 0, 0
        ttl = (marker or {}).get("ttl", "5m")
        minimum = catalog.facts(body["model"]).cache_min_tokens
        if marker and size >= minimum:
            digest = hashlib.sha256(f"{body['model']}\n{prefix}".encode()).hexdigest()
            with self._lock:
                now = self.clock()
                hit = self._cache.get(digest, -1.0) > now
                self._cache[digest] = now + TTL_S[ttl]  # a read refreshes the entry's lifetime
            written, read = (0, size) if hit else (size, 0)
        else:
            plain += size
        return {
            "input_tokens": plain, "output_tokens": output_tokens,
            "cache_creation_input_tokens": written, "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": written if ttl == "5m" else 0,
                               "ephemeral_1h_input_tokens": written if ttl == "1h" else 0},
        }  # fmt: skip

    def _error(self, fault: int | str, message: str | None = None) -> JSONResponse:
        status, kind, default = ERRORS[fault]
        details = {"error_code": "enforced_spend_limit_reached"} if fault == "spend_limit" else None
        return self._reply_error(status, kind, message or default, details, retry=fault == 429)

    def _reply_error(
        self, status: int, kind: str, message: str, details: dict | None = None, retry: bool = False
    ) -> JSONResponse:
        request_id = f"req_{uuid.uuid4().hex[:24]}"
        error = {"type": kind, "message": message} | ({"details": details} if details else {})
        headers = {"request-id": request_id}
        if retry:
            headers["retry-after"] = str(self.retry_after_s)
        with self._lock:
            self.statuses[status] += 1
            if status < 500 and status != 429:
                self.rejected.append(message)
        return JSONResponse(
            {"type": "error", "error": error, "request_id": request_id}, status_code=status, headers=headers
        )


def serve(api: MessagesAPI) -> LocalServer:
    """Start the API on a free port of 127.0.0.1 (stop() it, or use it as a context manager)."""
    return LocalServer(api.app).start()
