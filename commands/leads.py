"""One lead from the command line: JSON (inline or a file) or a lead id in the configured CRM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from commands.console import console, fail
from leadrouter.config import Settings
from leadrouter.inert import terminal

if TYPE_CHECKING:
    from leadrouter.crm.base import CRM


def read_lead(lead: str, settings: Settings, crm: CRM | None = None) -> pd.DataFrame:
    """The lead as JSON, else by its id from `crm` (default: the configured CRM, through its block); fields
    that are no lead column are named, as routing leaves them out."""
    from leadrouter.pipeline import unknown_fields

    inline = lead.lstrip().startswith("{")  # checked first: a long JSON text is no file name
    text = lead if inline or not Path(lead).is_file() else Path(lead).read_text()
    if text.lstrip().startswith("{"):
        try:
            found = pd.DataFrame([json.loads(text)])
        except json.JSONDecodeError as exc:
            fail(f"the lead is not valid JSON: {exc}")
    else:
        found = (crm or configured_crm(settings)).fetch_leads([lead])
        if found.empty:
            fail(f"no lead {lead} in the {settings.crm} CRM")
    unknown = unknown_fields(found)
    if unknown:
        console.print(
            f"[yellow]ignored[/yellow] fields that are not lead columns: {terminal(', '.join(unknown))}"
        )
    return found


def configured_crm(settings: Settings) -> CRM:
    """The configured CRM (the sandbox, or Salesforce / HubSpot from its block); a missing one exits 1."""
    from blocks.load import load_crm

    try:
        return load_crm(settings)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
