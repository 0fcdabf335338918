"""Settings for a flow run: a RouterSettings block when named, else LEADROUTER_* environment variables."""

from __future__ import annotations

from blocks.router_settings import RouterSettings
from leadrouter.config import Settings


def load_settings(block_name: str | None) -> Settings:
    return RouterSettings.load(block_name).get_settings() if block_name else Settings()
