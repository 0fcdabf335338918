"""RouterSettings: where a deployment's store, CRM and config files are."""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from leadrouter.config import Settings


class RouterSettings(Block):
    """Settings for leadrouter flows; unset fields fall back to LEADROUTER_* environment variables."""

    _block_type_name = "Leadrouter Settings"
    _description = "Store URL, CRM choice and config file paths for leadrouter flows."

    store_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL of the ledger, e.g. postgresql://user:password@host/db"
    )
    crm: Literal["sandbox", "salesforce", "hubspot"] | None = Field(
        default=None, description="Which CRM adapter to route from."
    )
    crm_block: str | None = Field(
        default=None,
        description="Name of the SalesforceConnection or HubSpotConnection block with the credentials.",
    )
    model: Literal["local", "claude", "none"] | None = Field(
        default=None,
        description="Who decides what rules leave open: the local model, or Claude backed by it.",
    )
    claude_block: str | None = Field(default=None, description="Name of the ClaudeConnection block.")
    sandbox_path: str | None = None
    rulebook_path: str | None = None
    roster_path: str | None = None
    batch_size: int | None = Field(default=None, gt=0)
    lookback_s: float | None = Field(
        default=None,
        ge=0,
        description="Seconds each run re-reads before the watermark, for late-committed saves.",
    )

    def get_settings(self) -> Settings:
        """Core Settings: this block's values over the environment's."""
        fields = self.model_dump(include=set(Settings.model_fields), exclude_none=True)
        if self.store_url is not None:  # a URL may carry a password: kept secret until here
            fields["store_url"] = self.store_url.get_secret_value()
        return Settings(**fields)
