"""One lead from the command line: JSON (inline or a file) or a lead id in the configured CRM."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from rich.markup import escape

from commands.console import console, fail
from leadrouter.config import Settings

if TYPE_CHECKING:
    from leadrouter.crm.base import CRM


def read_lead(lead: str, settings: Settings, crm: CRM | None = None) -> pd.DataFrame:
    """The lead as JSON, else by its id from `crm` (default: the configured CRM, through its block)."""
    inline = lead.lstrip().startswith("{")  # checked first: a long JSON text is no file name
    text = lead if inline or not Path(lead).is_file() else Path(lead).read_text()
    if text.lstrip().startswith("{"):
        try:
            return pd.DataFrame([json.loads(text)])
        except json.JSONDecodeError as exc:
            fail(f"the lead is not valid JSON: {exc}")
    found = (crm or configured_crm(settings)).fetch_leads([lead])
    if found.empty:
        fail(f"no lead {lead} in the {settings.crm} CRM")
    return found


def configured_crm(settings: Settings) -> CRM:
    """The configured CRM (the sandbox, or Salesforce / HubSpot from its block); a missing one exits 1."""
    from blocks.load import load_crm

    try:
        return load_crm(settings)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))


def lead_columns(lead: pd.DataFrame) -> pd.DataFrame:
    """The lead in the schema's columns and the custom fields; fields that are none of them are named and left
    out."""
    from leadrouter.fields import configured_fields, conform_leads
    from leadrouter.schema import LEAD_COLUMNS

    fields = configured_fields()
    unknown = sorted(set(lead.columns) - set(LEAD_COLUMNS) - set(fields.names))
    if unknown:
        console.print(
            f"[yellow]ignored[/yellow] fields that are not lead columns: {escape(', '.join(unknown))}"
        )
    return conform_leads(lead, fields)


def simulated_lead(lead: pd.DataFrame, at: datetime) -> pd.DataFrame:
    """The lead as a batch of one to route at `at`: a lead given without an id or a creation time gets them."""
    frame = lead_columns(lead)
    frame["lead_id"] = frame["lead_id"].fillna("simulated")
    stamp = pd.Timestamp(at)
    frame["created_at"] = frame["created_at"].fillna(stamp if stamp.tz else stamp.tz_localize("UTC"))
    return frame


def enriched_lead(
    lead: pd.DataFrame, settings: Settings, accounts: pd.DataFrame | None = None
) -> pd.DataFrame:
    from leadrouter.enrich import enrich_leads
    from leadrouter.enrich.territory import load_territories
    from leadrouter.router import open_provider

    return enrich_leads(
        lead_columns(lead), accounts, open_provider(settings), load_territories(settings.territories_path)
    )
