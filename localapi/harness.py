"""One CRM world behind each adapter: the sandbox itself, and local Salesforce and HubSpot servers seeded from it.

A Harness gives the contract tests the adapter, a way to change the CRM behind its back (new leads, deletes,
touches, rejections) and the CRM's own view of owners and owner writes, all in the sandbox's lead ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import requests

from leadrouter.crm.base import CRM
from leadrouter.fields import NO_CUSTOM_FIELDS, LeadFields
from leadrouter.retry import RetryPolicy
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.traffic import simulate_traffic
from localapi.server import Faults, LocalServer
from localapi.world import World

KINDS = ["sandbox", "salesforce", "hubspot"]


def seeded_sandbox(path: Path, leads: int = 300, seed: int = 5) -> SandboxCRM:
    """A sandbox whose leads were routed and then lived a while: touches, deals opened, deals closed."""
    now = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(hours=4)
    crm = SandboxCRM.create(path, seed=seed, leads=leads, now=now)
    pulled = crm.leads()
    routed = pulled.iloc[: leads * 5 // 6]
    reps = np.array([f"0050000000000{i:02d}" for i in range(1, 14)])
    crm.write_assignments(
        pd.DataFrame(
            {
                "lead_id": routed["id"],
                "owner_id": reps[np.arange(len(routed)) % len(reps)],
                "tier": "Standard",
                "routing_reason": "seeded",
            }
        )
    )
    for tick in range(1, 7):
        simulate_traffic(crm, now + pd.Timedelta(minutes=30 * tick), leads_per_minute=0, seed=tick)
    return crm


@dataclass
class Harness:
    kind: str
    crm: CRM
    sandbox: SandboxCRM
    api: object | None = None  # the local server's state (SalesforceAPI / HubSpotAPI)
    server: LocalServer | None = None
    stamp_unit: str = "us"  # the CRM's stamp precision
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(99))

    @property
    def world(self) -> World:
        return World.from_sandbox(self.sandbox.path)

    def crm_id(self, lead_id: str) -> str:
        return self.api.crm_id(lead_id) if self.api else lead_id

    def account_ids(self, crm_ids: pd.Series) -> pd.Series:
        """World account ids of CRM account ids (HubSpot numbers its companies)."""
        if not self.api or not hasattr(self.api, "account_crm_id"):
            return crm_ids
        back = {self.api.account_crm_id(i): i for i in self.sandbox_accounts()}
        return crm_ids.map(back)

    def sandbox_accounts(self) -> list[str]:
        return World.from_sandbox(self.sandbox.path).accounts["id"].tolist()

    def world_ids(self, crm_ids: pd.Series) -> pd.Series:
        back = {self.crm_id(i): i for i in self.sandbox.leads()["id"]}
        return crm_ids.map(back)

    def add_leads(self, n: int) -> list[str]:
        last = self.sandbox.leads()["id"].max()
        now = pd.Timestamp.now(tz="UTC")
        self.sandbox.add_leads(n, self.rng, now - pd.Timedelta(minutes=5), now)
        new = World.new_leads(self.sandbox.path, last)
        if self.api:
            self.api.add_leads(new)
        return new["id"].tolist()

    def delete_lead(self, lead_id: str) -> None:
        with self.sandbox._db() as db:
            db.execute("UPDATE leads SET is_deleted = 1 WHERE id = ?", (lead_id,))
        if self.api:
            self.api.delete_lead(lead_id)

    def reject(self, lead_ids: list[str], at: pd.Timestamp | pd.Series) -> None:
        """Each lead's owner hands it back at `at` (one time, or one per lead): the CRM's rejection status, kept
        in its status history."""
        self.sandbox.reject(lead_ids, at)
        if self.api:
            self.api.reject(lead_ids, at)

    def deactivate(self, user_id: str) -> None:
        """An admin deactivates the user in the CRM (and in the sandbox the servers were seeded from)."""
        self.sandbox.deactivate_user(user_id)
        if self.api:
            self.api.deactivate(user_id)

    def owners_of(self, lead_ids: list[str]) -> pd.Series:
        if self.api:
            return self.api.owners_of(lead_ids)
        return self.sandbox.leads().set_index("id")["owner_id"].reindex(lead_ids)

    def owner_writes(self) -> pd.Series:
        return self.api.owner_writes() if self.api else self.sandbox.owner_write_counts()

    def close(self) -> None:
        if self.server:
            self.server.stop()


def open_harness(
    kind: str,
    tmp: Path,
    faults: Faults | None = None,
    leads: int = 300,
    fresh: bool = False,
    fields: LeadFields = NO_CUSTOM_FIELDS,
    custom_values: pd.DataFrame | None = None,
    **api_options,
) -> Harness:
    """fresh: only new, unrouted leads (a CRM meeting the router for the first time). fields: the custom lead
    fields every CRM knows (a Salesforce __c field, a HubSpot property); custom_values (lead_id, a column per
    field) are set in the world before the servers are seeded from it."""
    path = tmp / "sandbox.db"
    sandbox = SandboxCRM.create(path, seed=5, leads=leads) if fresh else seeded_sandbox(path, leads=leads)
    sandbox = SandboxCRM(path, fields=fields)
    if custom_values is not None:
        sandbox.set_lead_fields(custom_values)
    if kind == "sandbox":
        return Harness(kind, sandbox, sandbox)
    world = World.from_sandbox(sandbox.path)
    if kind == "salesforce":
        from leadrouter.crm.salesforce.client import SalesforceCRM
        from leadrouter.crm.salesforce.session import client_credentials_login
        from localapi.salesforce import SalesforceAPI

        api = SalesforceAPI(world, faults, lead_fields=fields, **api_options)
        server = LocalServer(api.app, tls_dir=tmp / "tls").start()
        api.url = server.url
        crm = SalesforceCRM(
            partial(
                client_credentials_login,
                server.url,
                api.client_id,
                api.client_secret,
                session=tls_session(server),
            ),
            retry=RetryPolicy(attempts=8, first_delay_s=0.01),
            custom=fields,
        )
        return Harness(kind, crm, sandbox, api, server, stamp_unit="s")
    from leadrouter.crm.hubspot.client import HubSpotCRM, make_client
    from localapi.hubspot import HubSpotAPI

    api = HubSpotAPI(world, faults, retry_after_s=0, fields=fields, **api_options)
    server = LocalServer(api.app).start()
    policy = RetryPolicy(attempts=9, first_delay_s=0.01)  # the client's 8 retries of a 429 or 5xx
    crm = HubSpotCRM(make_client(api.token, host=server.url, retry=policy), custom=fields)
    return Harness(kind, crm, sandbox, api, server, stamp_unit="ms")


def connection_block(h: Harness, **options: object) -> object:
    """The Prefect connection block that reaches the harness's local CRM (Salesforce or HubSpot)."""
    if h.kind == "salesforce":
        from blocks.salesforce import SalesforceConnection

        return SalesforceConnection(
            instance_url=h.server.url,
            client_id=h.api.client_id,
            client_secret=h.api.client_secret,
            ca_bundle=str(h.server.certfile),
            **options,
        )
    from blocks.hubspot import HubSpotConnection

    return HubSpotConnection(access_token=h.api.token, host=h.server.url, **options)


def tls_session(server: LocalServer) -> requests.Session:
    """A session that trusts the local server's self-signed certificate (and only the bundle given)."""
    session = requests.Session()
    session.verify, session.trust_env = str(server.certfile), False
    return session
