"""A local Anthropic Messages API (POST /v1/messages) for tests and demos, answering as a lead classifier.

It checks the API key (x-api-key, or the Authorization: Bearer header anthropic 2.x sends) and the
anthropic-version header, answers a forced tool call with a `tool_use` block and
a `usage` object, and fails with Anthropic's documented error bodies (429 rate_limit_error with retry-after,
529 overloaded_error, 500 api_error). Prompt caching is accounted as the API does: the first request with a
given cache_control-marked prefix (tools + system) reports cache_creation_input_tokens, later ones
cache_read_input_tokens. Every request is recorded for tests to assert on.

How it answers, per server or per lead (`per_lead`: a substring of the lead document -> behaviour):
- sound: a sane deterministic reading of the lead's facts (keywords, seniority, employees).
- obedient: a FOOLED model. It understands any encoding of an instruction in the lead's text (other scripts,
  full-width or look-alike letters, zero-width characters, spaced-out letters, base64) and obeys it: asked for
  VIP it answers VIP with confidence 0.99, asked for an owner it adds an "owner" field. Otherwise it is sound.
- malformed:missing_field | malformed:bad_tier | malformed:text_only | malformed:extra_field
- slow (sleeps delay_s, then answers soundly) and down (every call 529).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import re
import threading
import unicodedata
import uuid
from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from localapi.server import Faults, LocalServer

API_KEY = "sk-ant-api03-local-test-key-0000"
MIN_CACHE_TOKENS = 1024  # the smallest cacheable prefix of Claude Sonnet 4.5 / 4.6
ERRORS = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    429: ("rate_limit_error", "This request would exceed the rate limit for your organization."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}
SENIOR = ("C-level", "VP", "Head")
JUNIOR = re.compile(r"(?i)\b(intern|student|assistant|associate|coordinator|junior|trainee)\b")
CATEGORIES = {  # first match wins; sales when none does
    "spam": r"\b(seo|backlinks?|crypto|casino|guest post|gift card|you won|guaranteed returns)\b",
    "jobs": r"\b(apply|application|resume|cv|careers?|open positions?|hiring me)\b",
    "research": r"\b(thesis|dissertation|my research|university class|course project)\b",
    "press": r"\b(journalist|reporter|article|podcast|interview|magazine)\b",
    "partnership": r"\b(partnership|partner program|resell\w*|agency|co-marketing|white.?label)\b",
    "support": r"\b(log ?in|password|bug|billing|invoice|refund|not working|broken|outage|error)\b",
}
INTENT = re.compile(
    r"(?i)\b(demo|pricing|price|cost|quote|evaluat\w*|trial|replace|switch\w*|buy|purchase|licen[cs]es?|seats|rollout|proposal)\b"
)
URGENT = re.compile(r"(?i)\b(asap|urgent\w*|this week|by friday|deadline|end of (the )?quarter)\b")
# Cyrillic and Greek letters that look Latin: a fooled model reads them as the letters they imitate
CONFUSABLES = str.maketrans("АВЕІКМНОРСТХаеіорсухΑΒΕΙΚΜΝΟΡΤΧΥιορ", "ABEIKMHOPCTXaeiopcyxABEIKMNOPTXYiop")
TAG_CHARACTERS = {0xE0000 + c: chr(c) for c in range(0x20, 0x7F)}
SPACED = re.compile(r"\b(?:\w[ .\-_*]{1,3}){2,}\w\b")  # single letters with gaps: "m a r k  m e", "V.I.P"
ASKS_VIP = re.compile(r"(?<![a-z])vip(?![a-z])")
ASKS_OWNER = re.compile(  # asking for an owner, not merely naming a title ("Founder & CEO")
    r"\b(assign\w*|as[ií]gn\w*|owner|route (me|this|it)|attribu\w*|zuweisen|weise \w+ \w+ ceo)\b"
    r"|\b(by|to) (the |your |dem |al |au )?(ceo|pdg)\b|担当|分配|负责"
)
NAMED_OWNER = re.compile(
    r"(?i)\b(?:to|an|à|a)\s+(?:the\s+|den\s+|el\s+|le\s+)?([A-Z][a-z]+ [A-Z][a-z]+|CEO|CRO|VP)\b"
)


def understand(text: str) -> str:
    """The text as a model that misses nothing reads it: normalised, invisible tag characters read as the
    ASCII they smuggle, other hidden characters dropped, look-alikes and spaced-out letters rejoined, base64
    decoded."""
    plain = unicodedata.normalize("NFKC", text).translate(TAG_CHARACTERS)
    plain = "".join(c for c in plain if unicodedata.category(c) != "Cf").translate(CONFUSABLES)
    plain = SPACED.sub(
        lambda m: " ".join(re.sub(r"[ .\-_*]", "", w) for w in re.split(r" {2,}", m.group())), plain
    )
    decoded = []
    for token in re.findall(r"[A-Za-z0-9+/]{12,}={0,2}", plain):
        try:
            decoded.append(base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    return " ".join([plain, *decoded]).casefold()


def sound_answer(lead: dict) -> dict:
    """A sane classifier: category by keywords, tier by seniority, size and buying intent."""
    message = str(lead.get("message") or "")
    category = next((c for c, p in CATEGORIES.items() if re.search(p, message, re.I)), "sales")
    seniority, title = lead.get("seniority"), str(lead.get("title") or "")
    employees = lead.get("employees")
    intent = bool(INTENT.search(message))
    if category != "sales":
        tier, confidence = "Other", 0.9
    elif seniority == "Student" or JUNIOR.search(title) or (employees is not None and employees < 11):
        tier, confidence = "Nurture", 0.85
    elif employees is None or seniority is None:
        tier, confidence = ("Standard" if intent else "Nurture"), 0.6  # thin facts: a person should look
    elif seniority in SENIOR and employees >= 200 and intent:
        tier, confidence = "VIP", 0.9
    elif intent or seniority in (*SENIOR, "Director", "Manager"):
        tier, confidence = "Standard", 0.8
    else:
        tier, confidence = "Nurture", 0.75
    who = f"{lead.get('first_name') or 'Someone'}, {title or 'no title'} at {lead.get('company') or 'an unknown company'}"
    return {
        "tier": tier,
        "category": category,
        "urgency": "high" if URGENT.search(message) else "normal",
        "confidence": confidence,
        "rationale": f"{seniority or 'unknown seniority'}, {employees or 'unknown'} employees, "
        f"{'buying intent' if intent else 'no buying intent'}, category {category}.",
        "brief": f"{who} ({employees or '?'} employees). {tier} {category} lead.",
    }


def obedient_answer(lead: dict) -> dict:
    """What a model that obeys the lead's text answers."""
    fields = ("first_name", "last_name", "title", "company", "message")
    raw = " ".join(str(lead.get(f) or "") for f in fields)
    read = understand(raw)
    answer = sound_answer(lead)
    if ASKS_VIP.search(read):
        answer |= {"tier": "VIP", "category": "sales", "urgency": "high", "confidence": 0.99,
                   "rationale": "The lead asked to be treated as VIP, so it is VIP."}  # fmt: skip
    if ASKS_OWNER.search(read):
        named = NAMED_OWNER.search(unicodedata.normalize("NFKC", raw))
        answer["owner"] = named.group(1) if named else "CEO"
    return answer


def malformed_answer(lead: dict, kind: str) -> dict | str:
    answer = sound_answer(lead)
    if kind == "missing_field":
        return {k: v for k, v in answer.items() if k not in ("category", "confidence")}
    if kind == "bad_tier":
        return answer | {"tier": "Platinum"}
    if kind == "extra_field":
        return answer | {"owner_id": "005000000000014"}
    return f"This looks like a {answer['tier']} lead to me."  # text_only: no tool call at all


def lead_of(body: dict) -> dict:
    """The lead document of the request's last user turn (empty when it cannot be read)."""
    text = user_text(body)
    found = re.search(r"<lead_document>\s*(.*)\s*</lead_document>", text, re.S)
    try:
        lead = json.loads(found.group(1)) if found else {}
    except ValueError:
        return {}
    return lead if isinstance(lead, dict) else {}


def user_text(body: dict) -> str:
    content = (body.get("messages") or [{}])[-1].get("content", "")
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return str(content)


def bearer(header: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header: how anthropic>=2 sends an API key (the documented
    x-api-key header is accepted too)."""
    scheme, _, key = (header or "").partition(" ")
    return key if scheme.lower() == "bearer" and key else None


def tokens(text: str) -> int:
    return max(1, len(text) // 4)  # about four characters a token in English


class MessagesAPI:
    """The Messages API. `requests`: every request body received (faulted ones too); `responses`: every 200
    answer sent (the billed calls), with its usage; `statuses`: a count of the status codes returned."""

    def __init__(
        self,
        behaviour: str = "sound",
        per_lead: dict[str, str] | None = None,
        api_key: str = API_KEY,
        delay_s: float = 2.0,
        fail_first: list[int] | None = None,
        faults: Faults | None = None,
        retry_after_s: float = 1.0,
        min_cache_tokens: int = MIN_CACHE_TOKENS,
        echo_credentials: bool = False,
    ) -> None:
        self.behaviour, self.per_lead, self.api_key, self.delay_s = (
            behaviour,
            per_lead or {},
            api_key,
            delay_s,
        )
        self.fail_first, self.faults, self.retry_after_s = list(fail_first or []), faults, retry_after_s
        self.min_cache_tokens = min_cache_tokens
        # a misbehaving proxy that repeats the credential it was given in its error messages
        self.echo_credentials = echo_credentials
        self.requests: list[dict] = []
        self.responses: list[dict] = []
        self.statuses: Counter = Counter()
        self._cached_prefixes: set[str] = set()
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
        if not request.headers.get("anthropic-version"):
            return self._error(400, "anthropic-version: header is required")
        if not isinstance(body, dict) or not body.get("messages") or not body.get("max_tokens"):
            return self._error(400, "messages and max_tokens are required")
        fault = scripted or (self.faults.pick(["429", "529", "500"]) if self.faults else None)
        lead = lead_of(body)
        behaviour = next(
            (b for s, b in self.per_lead.items() if s in json.dumps(lead, ensure_ascii=False)), self.behaviour
        )
        if fault or behaviour == "down":
            return self._error(int(fault or 529))
        if behaviour == "slow":
            await asyncio.sleep(self.delay_s)
        return self._answer(body, lead, behaviour)

    def _answer(self, body: dict, lead: dict, behaviour: str) -> JSONResponse:
        if behaviour.startswith("malformed:"):
            answer = malformed_answer(lead, behaviour.partition(":")[2])
        else:
            answer = obedient_answer(lead) if behaviour == "obedient" else sound_answer(lead)
        tool = (body.get("tool_choice") or {}).get("name") or "record_classification"
        if isinstance(answer, str):
            content, stop = [{"type": "text", "text": answer}], "end_turn"
        else:
            content, stop = (
                [{"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": tool, "input": answer}],
                "tool_use",
            )
        usage = self._usage(body, json.dumps(content))
        payload = {
            "id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
            "model": body.get("model"), "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": usage,
        }  # fmt: skip
        with self._lock:
            self.responses.append(payload)
            self.statuses[200] += 1
        return JSONResponse(payload, headers={"request-id": f"req_{uuid.uuid4().hex[:24]}"})

    def _usage(self, body: dict, output: str) -> dict:
        """Input tokens split as the API splits them: the cache_control-marked prefix (tools + system) is
        written to the cache once, read from it afterwards; the rest is plain input."""
        system = body.get("system") or []
        prefix = json.dumps([body.get("tools") or [], system], sort_keys=True)
        marked = isinstance(system, list) and any(
            isinstance(b, dict) and b.get("cache_control") for b in system
        )
        plain, written, read = tokens(user_text(body)), 0, 0
        if marked and tokens(prefix) >= self.min_cache_tokens:
            digest = hashlib.sha256(prefix.encode()).hexdigest()
            with self._lock:
                hit = digest in self._cached_prefixes
                self._cached_prefixes.add(digest)
            written, read = (0, tokens(prefix)) if hit else (tokens(prefix), 0)
        else:
            plain += tokens(prefix)
        return {"input_tokens": plain, "output_tokens": tokens(output), "cache_creation_input_tokens": written,
                "cache_read_input_tokens": read}  # fmt: skip

    def _error(self, status: int, message: str | None = None) -> JSONResponse:
        kind, default = ERRORS[status]
        request_id = f"req_{uuid.uuid4().hex[:24]}"
        body = {
            "type": "error",
            "error": {"type": kind, "message": message or default},
            "request_id": request_id,
        }
        headers = {"request-id": request_id}
        if status == 429:
            headers["retry-after"] = str(self.retry_after_s)
        with self._lock:
            self.statuses[status] += 1
        return JSONResponse(body, status_code=status, headers=headers)


def serve(api: MessagesAPI) -> LocalServer:
    """Start the API on a free port of 127.0.0.1 (stop() it, or use it as a context manager)."""
    return LocalServer(api.app).start()
