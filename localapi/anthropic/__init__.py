"""The local Anthropic Messages API: the server (api), what it rejects (checks) and how it answers (answers)."""

from localapi.anthropic.answers import INTENT, sound_answer
from localapi.anthropic.api import API_KEY, ERRORS, MessagesAPI, serve

__all__ = ["API_KEY", "ERRORS", "INTENT", "MessagesAPI", "serve", "sound_answer"]
