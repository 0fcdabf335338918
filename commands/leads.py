"""One lead from the command line: JSON (inline or a file) or a lead id in the CRM, enriched as routing would."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from rich.markup import escape

from commands.console import console, fail
from leadrouter.config import Settings


def read_lead(lead: str, settings: Settings) -> pd.DataFrame:
    inline = lead.lstrip().startswith("{")  # checked first: a long JSON text is no file name
    text = lead if inline or not Path(lead).is_file() else Path(lead).read_text()
    if text.lstrip().startswith("{"):
        try:
            return pd.DataFrame([json.loads(text)])
        except json.JSONDecodeError as exc:
            fail(f"the lead is not valid JSON: {exc}")
    from leadrouter.router import open_crm

    found = open_crm(settings).fetch_leads([lead])
    if found.empty:
        fail(f"no lead {lead} in the {settings.crm} CRM")
    return found


def enriched_lead(
    lead: pd.DataFrame, settings: Settings, accounts: pd.DataFrame | None = None
) -> pd.DataFrame:
    from leadrouter.enrich import enrich_leads
    from leadrouter.enrich.territory import load_territories
    from leadrouter.router import open_provider
    from leadrouter.schema import LEAD_COLUMNS, conform

    unknown = sorted(set(lead.columns) - set(LEAD_COLUMNS))
    if unknown:
        console.print(
            f"[yellow]ignored[/yellow] fields that are not lead columns: {escape(', '.join(unknown))}"
        )
    return enrich_leads(
        conform(lead), accounts, open_provider(settings), load_territories(settings.territories_path)
    )
