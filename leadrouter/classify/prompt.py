"""What Claude is asked: the system prompt, the strict tool its answer must call, and the user turn that
carries one lead's document between tags the document cannot close. The prompt's text (the policy and its
worked examples) is in prompt.yaml."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import anthropic
import yaml

from leadrouter.classify.catalog import ModelFacts
from leadrouter.classify.model import ANSWER_SCHEMA

TOOL_NAME = "record_classification"
TAG = "lead_document"

# the policy and its worked examples are text, kept beside this module
_TEXT = yaml.safe_load(Path(__file__).with_name("prompt.yaml").read_text(encoding="utf-8"))
_POLICY = _TEXT["policy"].replace("{TAG}", TAG).replace("{TOOL_NAME}", TOOL_NAME)
_EXAMPLES = [(e["facts"], e["answer"], e["why"]) for e in _TEXT["examples"]]

SYSTEM_PROMPT = _POLICY + "\n".join(f"- {facts}: {answer}. Why: {why}." for facts, answer, why in _EXAMPLES)

TOOL = {
    "name": TOOL_NAME,
    "description": "Record the classification of the one lead in the user turn.",
    # the SDK's strict-mode transform: constraints the API cannot enforce (maxLength, minimum) move into the
    # descriptions; Answer.model_validate enforces them on the way back
    "input_schema": anthropic.transform_schema(ANSWER_SCHEMA),
    "strict": True,
}
# the cache key changes whenever the prompt or the schema does, so an old answer is never reused for a new policy
PROMPT_VERSION = hashlib.sha256((SYSTEM_PROMPT + json.dumps(TOOL, sort_keys=True)).encode()).hexdigest()[:12]

# "<" and ">" and their look-alikes as JSON escapes: the document still parses to the same values, but no tag
# (least of all </lead_document>) can be written inside it
_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in "<>＜＞﹤﹥‹›〈〉⟨⟩〈〉"}


def request(model: str, document: str, max_tokens: int, facts: ModelFacts | None) -> dict:
    """The Messages API request for one lead: the cached prefix (tools + system) then the lead's user turn.
    The tool is forced where the model allows it; elsewhere the prompt alone asks for it."""
    forced = facts is None or facts.forced_tool_choice
    choice = {"type": "tool", "name": TOOL_NAME} if forced else {"type": "auto"}
    return {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}],
        "tools": [TOOL],
        "tool_choice": choice | {"disable_parallel_tool_use": True},
        "messages": [{"role": "user", "content": user_turn(document)}],
    }


def user_turn(document: str) -> str:
    """The lead document between tags it cannot close."""
    return f"<{TAG}>\n{document.translate(_ESCAPES)}\n</{TAG}>\n\nClassify this lead with {TOOL_NAME}."
