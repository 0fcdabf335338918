"""Labelled lead history from the sandbox generator: what the local model trains on and what accuracy is
measured against. The labels (label_tier, label_category) come from the generator's ground truth, never
from the rulebook, so rules and model are both graded against the same independent answer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadrouter.enrich import enrich_leads
from leadrouter.enrich.firmographics import TableProvider
from leadrouter.enrich.territory import Territories
from leadrouter.fields import LeadFields, configured_fields, conform_leads
from leadrouter.sandbox.accounts import generate_accounts, generate_contacts
from leadrouter.sandbox.custom import custom_values
from leadrouter.sandbox.leads import generate_leads
from leadrouter.validate.suite import validate_leads

LABELS = ["label_tier", "label_category"]


def labelled_history(
    seed: int,
    leads: int,
    territories: Territories | None = None,
    accounts: int = 400,
    fields: LeadFields | None = None,
) -> pd.DataFrame:
    """`leads` generated leads that pass validation, enriched as route-inbound enriches them, with labels and
    the custom fields known at arrival (fields.model_input_columns; the configured fields by default), typed.
    Fields known only later are left out: a model never reads them."""
    fields = configured_fields() if fields is None else fields
    rng = np.random.default_rng(seed)
    world = generate_accounts(rng, accounts)
    contacts = generate_contacts(rng, world, accounts * 4)
    end = pd.Timestamp("2026-01-01", tz="UTC")
    raw = generate_leads(rng, leads, world, contacts, end - pd.Timedelta(days=90), end)
    arrival = fields.model_copy(update={"custom": [f for f in fields.custom if f.known_at == "arrival"]})
    # their own stream: the canonical leads of a seed are the same whatever fields are configured
    custom = custom_values(np.random.default_rng([seed, 1]), arrival.custom, raw["created_at"])
    valid = validate_leads(conform_leads(raw.join(custom), arrival), fields.required).valid
    crm_accounts = world.assign(owner_id=pd.NA, owner_active=False, last_activity_at=pd.NaT)
    provider = TableProvider(world[["domain", "employees", "industry", "annual_revenue"]])
    enriched = enrich_leads(valid, crm_accounts, provider, territories)
    labels = raw.set_index("lead_id")[LABELS]
    return enriched.join(labels, on="lead_id")
