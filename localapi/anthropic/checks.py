"""What the real Messages API rejects before it reads a word: each check gives the documented error (status,
type, message) of the first rule a request breaks, or None when it passes."""

from __future__ import annotations

from leadrouter.classify import catalog

# the top-level fields of POST /v1/messages (API reference); anything else is rejected
FIELDS = {
    "model", "messages", "max_tokens", "system", "tools", "tool_choice", "metadata", "stop_sequences", "stream",
    "temperature", "top_p", "top_k", "thinking", "service_tier", "container", "mcp_servers", "output_config",
    "context_management", "inference_geo", "cache_control",
}  # fmt: skip
SAMPLING = ("temperature", "top_p", "top_k")
# the API version the installed SDK sends, from which sampling parameters are gone
NO_SAMPLING_FROM = "2026-10-21"
CACHE_TYPES, CACHE_TTLS = {"ephemeral"}, {"5m", "1h"}

Problem = tuple[int, str, str]


def invalid(message: str) -> Problem:
    return 400, "invalid_request_error", message


def check(body: object, version: str) -> Problem | None:
    """The first rule the request breaks, as (status, error type, message); None when it would be answered."""
    if not isinstance(body, dict):
        return invalid("request body must be a JSON object")
    extra = sorted(set(body) - FIELDS)
    if extra:
        return invalid(f"{extra[0]}: Extra inputs are not permitted")
    for field in ("model", "messages", "max_tokens"):
        if field not in body:
            return invalid(f"{field}: Field required")
    facts = catalog.facts(str(body["model"]))
    if facts is None:
        return 404, "not_found_error", f"model: {body['model']}"
    return (
        _max_tokens(body["max_tokens"], facts)
        or _messages(body["messages"])
        or _tools(body.get("tools"), body.get("tool_choice"), facts)
        or _sampling(body, version, facts)
        or _cache_controls(body)
    )


def _max_tokens(value: object, facts: catalog.ModelFacts) -> Problem | None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        return invalid("max_tokens: Input should be a valid integer greater than or equal to 1")
    if value > facts.max_output_tokens:
        return invalid(
            f"max_tokens: {value} > {facts.max_output_tokens}, which is the maximum allowed number of output "
            f"tokens for {facts.model}"
        )
    return None


def _messages(messages: object) -> Problem | None:
    if not isinstance(messages, list) or not messages:
        return invalid("messages: at least one message is required")
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    if any(r not in ("user", "assistant") for r in roles):
        return invalid("messages: each message needs a role of user or assistant")
    if roles[0] != "user":
        return invalid('messages: first message must use the "user" role')
    return None


def _tools(tools: object, choice: object, facts: catalog.ModelFacts) -> Problem | None:
    names = [t.get("name") for t in tools if isinstance(t, dict)] if isinstance(tools, list) else []
    if choice is None:
        return None
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        return invalid(
            "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
        )
    kind = choice["type"]
    if kind in ("any", "tool") and not names:
        return invalid(f"tool_choice: tool_choice.type '{kind}' requires tools to be provided")
    if kind == "tool" and choice.get("name") not in names:
        return invalid(f"tool_choice: Tool '{choice.get('name')}' not found in tools")
    if kind in ("any", "tool") and not facts.forced_tool_choice:
        return invalid(
            f"tool_choice: forced tool use is not supported with {facts.model}; use 'auto' or 'none'"
        )
    return None


def _sampling(body: dict, version: str, facts: catalog.ModelFacts) -> Problem | None:
    given = [p for p in SAMPLING if p in body]
    if given and version >= NO_SAMPLING_FROM:
        return invalid(
            f"{given[0]}: Extra inputs are not permitted (removed in API version {NO_SAMPLING_FROM})"
        )
    if given and not facts.sampling:
        return invalid(f"{given[0]}: sampling parameters are not supported with {facts.model}")
    return None


def _cache_controls(body: dict) -> Problem | None:
    """Every cache_control marker: type ephemeral, ttl 5m or 1h."""
    blocks = [body] + [b for key in ("system", "tools") for b in (body.get(key) or []) if isinstance(b, dict)]
    for message in body["messages"]:
        content = message.get("content") if isinstance(message, dict) else None
        blocks += [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
    for block in blocks:
        marker = block.get("cache_control")
        if marker is None:
            continue
        if not isinstance(marker, dict) or marker.get("type") not in CACHE_TYPES:
            kind = marker.get("type") if isinstance(marker, dict) else marker
            return invalid(f"cache_control.type: Input should be 'ephemeral' (got '{kind}')")
        if marker.get("ttl", "5m") not in CACHE_TTLS:
            return invalid(f"cache_control.ttl: Input should be '5m' or '1h' (got '{marker.get('ttl')}')")
    return None
