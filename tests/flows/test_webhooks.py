"""The webhook receiver: HubSpot v3 signatures, the Salesforce secret and payloads, coalescing, and the real path
webhook → Prefect event → route-inbound run on the session's Prefect test server (which runs the triggers)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
import yaml
from pydantic import SecretStr
from starlette.testclient import TestClient

from deployments.webhooks import EVENT, SECRET_HEADER, create_app, lead_created_event, lead_created_trigger
from leadrouter.webhooks import Coalescer, WebhookSettings, hubspot_signature_v3

HUBSPOT_SECRET = "hs-client-secret-5a1f0c"
SALESFORCE_SECRET = "sf-shared-secret-93be2d"
ORG_ID = "00D5g000004XyZaEAK"
PUBLIC = "https://hooks.example.com"


def settings(**overrides) -> WebhookSettings:
    values = {
        "hubspot_client_secret": SecretStr(HUBSPOT_SECRET),
        "salesforce_secret": SecretStr(SALESFORCE_SECRET),
        "salesforce_org_id": ORG_ID,
        "coalesce_s": 2.0,
    }
    return WebhookSettings(**(values | overrides))


def hubspot_events(contact_ids: list[int], also_other: bool = True) -> bytes:
    """A batch as HubSpot sends it: contact creations, plus a property change the receiver must skip."""
    events = [
        {"eventId": 100 + i, "subscriptionId": 7, "portalId": 62515, "appId": 54321, "occurredAt": 1_700_000_000_000,
         "subscriptionType": "contact.creation", "attemptNumber": 0, "objectId": cid, "changeFlag": "CREATED",
         "changeSource": "CRM_UI"}
        for i, cid in enumerate(contact_ids)
    ]  # fmt: skip
    if also_other:
        events.append({"eventId": 1, "subscriptionType": "contact.propertyChange", "objectId": 999_999,
                       "propertyName": "email", "propertyValue": "x@example.com"})  # fmt: skip
    return json.dumps(events, separators=(",", ":")).encode()


def documented_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """HubSpot's recipe, written out here on its own: base64(HMAC-SHA256(secret, method+uri+body+timestamp))."""
    source = f"{method}{uri}{body.decode()}{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def signed_headers(body: bytes, uri: str, secret: str = HUBSPOT_SECRET, age_s: float = 0) -> dict[str, str]:
    timestamp = str(int((time.time() - age_s) * 1000))
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Request-Timestamp": timestamp,
        "X-HubSpot-Signature-v3": documented_v3(secret, "POST", uri, body, timestamp),
    }


class Recorder:
    """Stands where the Prefect server is in the HTTP-level tests: it records what would be posted."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str]]] = []

    async def __call__(self, crm: str, lead_ids: list[str]) -> None:
        self.sent.append((crm, lead_ids))


@pytest.fixture
def receiver() -> tuple[TestClient, Recorder]:
    recorder = Recorder()
    with TestClient(create_app(settings(), send=recorder), base_url=PUBLIC) as client:
        yield client, recorder


def test_signature_follows_hubspots_recipe_with_its_uri_decoding() -> None:
    body, timestamp = hubspot_events([1]), "1700000000123"
    # HubSpot decodes the escapes of its table (here %3A, %40, %2C) and leaves the rest (%20) as sent
    sent_uri = f"{PUBLIC}/hubspot?from=a%3Ab%40c%2Cd&note=x%20y"
    signed_uri = f"{PUBLIC}/hubspot?from=a:b@c,d&note=x%20y"
    expected = documented_v3(HUBSPOT_SECRET, "POST", signed_uri, body, timestamp)
    assert hubspot_signature_v3(HUBSPOT_SECRET, "POST", sent_uri, body, timestamp) == expected
    assert hubspot_signature_v3("another-secret", "POST", sent_uri, body, timestamp) != expected


def test_hubspot_contact_creations_become_one_event(receiver) -> None:
    client, recorder = receiver
    body = hubspot_events([51, 52, 51])  # HubSpot may repeat an event in a batch
    response = client.post("/hubspot", content=body, headers=signed_headers(body, f"{PUBLIC}/hubspot"))
    assert response.status_code == 202, response.text
    assert recorder.sent == [("hubspot", ["51", "52"])]


def test_signature_over_the_public_url_behind_a_proxy() -> None:
    recorder = Recorder()
    app = create_app(settings(public_url=PUBLIC + "/"), send=recorder)
    with TestClient(app, base_url="http://127.0.0.1:8787") as client:
        body = hubspot_events([7])
        good = client.post("/hubspot", content=body, headers=signed_headers(body, f"{PUBLIC}/hubspot"))
        local = client.post(
            "/hubspot", content=body, headers=signed_headers(body, "http://127.0.0.1:8787/hubspot")
        )
    assert (good.status_code, local.status_code) == (202, 401)
    assert recorder.sent == [("hubspot", ["7"])]


@pytest.mark.parametrize(
    ("case", "make_headers"),
    [
        ("old timestamp", lambda body: signed_headers(body, f"{PUBLIC}/hubspot", age_s=301)),
        ("wrong secret", lambda body: signed_headers(body, f"{PUBLIC}/hubspot", secret="not-the-secret")),
        ("other url", lambda body: signed_headers(body, f"{PUBLIC}/elsewhere")),
        ("no signature", lambda body: {"Content-Type": "application/json"}),
    ],
)
def test_bad_hubspot_signature_is_refused_and_logged_without_secrets(
    receiver, caplog, case, make_headers
) -> None:
    client, recorder = receiver
    body = hubspot_events([4242424242])
    headers = make_headers(body)
    with caplog.at_level(logging.INFO, logger="leadrouter.webhooks"):
        response = client.post("/hubspot", content=body, headers=headers)
    assert response.status_code == 401 and recorder.sent == []
    logged = caplog.text
    assert "refused hubspot webhook" in logged
    secrets = [HUBSPOT_SECRET, SALESFORCE_SECRET, "4242424242", headers.get("X-HubSpot-Signature-v3", "\0")]
    assert not [secret for secret in secrets if secret in logged]


def test_malformed_hubspot_payload_is_a_400_naming_the_field(receiver) -> None:
    client, recorder = receiver
    body = json.dumps([{"subscriptionType": "contact.creation", "objectId": "abc"}]).encode()
    response = client.post("/hubspot", content=body, headers=signed_headers(body, f"{PUBLIC}/hubspot"))
    assert response.status_code == 400 and "[0].objectId" in response.json()["error"]
    not_a_batch = b'{"objectId": 1}'
    response = client.post(
        "/hubspot", content=not_a_batch, headers=signed_headers(not_a_batch, f"{PUBLIC}/hubspot")
    )
    assert response.status_code == 400 and recorder.sent == []


def test_salesforce_flow_callout_with_the_shared_secret(receiver, caplog) -> None:
    client, recorder = receiver
    body = {"lead_ids": ["00Q5g00000AbCdEEAZ", "00Q5g00000AbCdF"]}
    good = client.post("/salesforce", json=body, headers={SECRET_HEADER: SALESFORCE_SECRET})
    with caplog.at_level(logging.INFO, logger="leadrouter.webhooks"):
        wrong = client.post("/salesforce", json=body, headers={SECRET_HEADER: SALESFORCE_SECRET[:-1] + "x"})
        missing = client.post("/salesforce", json=body)
    bad_id = client.post(
        "/salesforce", json={"lead_ids": ["00Q'; drop"]}, headers={SECRET_HEADER: SALESFORCE_SECRET}
    )
    assert (good.status_code, wrong.status_code, missing.status_code, bad_id.status_code) == (
        202,
        401,
        401,
        400,
    )
    assert "lead_ids[0]" in bad_id.json()["error"]
    assert recorder.sent == [("salesforce", body["lead_ids"])]
    assert caplog.text.count("refused salesforce webhook") == 2
    assert SALESFORCE_SECRET[:-1] not in caplog.text and "00Q5g00000AbCdEEAZ" not in caplog.text


def outbound_message(org_id: str, sobjects: list[tuple[str, str]]) -> bytes:
    """An Outbound Message as Salesforce's notifications() call sends it (its WSDL's shape)."""
    notifications = "".join(
        f'<Notification><Id>04l5g00000{i:08d}</Id><sObject xsi:type="sf:{kind}" '
        f'xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>{sid}</sf:Id>'
        f"<sf:Email>lead{i}@example.com</sf:Email></sObject></Notification>"
        for i, (kind, sid) in enumerate(sobjects)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
        'envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-'
        'instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org_id}</OrganizationId><ActionId>04k5g000000AbCdAAK</ActionId>"
        '<SessionId xsi:nil="true"/><EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0</EnterpriseUrl>'
        "<PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0</PartnerUrl>"
        f"{notifications}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def test_salesforce_outbound_message_is_acknowledged(receiver) -> None:
    client, recorder = receiver
    leads = [
        ("Lead", "00Q5g00000AbCd1EAB"),
        ("Contact", "0035g00000AbCd1AAB"),
        ("Lead", "00Q5g00000AbCd2EAB"),
    ]
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    response = client.post(f"/salesforce?token={SALESFORCE_SECRET}", content=outbound_message(ORG_ID, leads),
                           headers=headers)  # fmt: skip
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    ack = ET.fromstring(response.content).find(".//{http://soap.sforce.com/2005/09/outbound}Ack")
    assert ack is not None and ack.text == "true"
    assert recorder.sent == [("salesforce", [sid for kind, sid in leads if kind == "Lead"])]

    other_org = client.post(f"/salesforce?token={SALESFORCE_SECRET}",
                            content=outbound_message("00D5g000009ZzZzEAK", leads), headers=headers)  # fmt: skip
    no_token = client.post("/salesforce", content=outbound_message(ORG_ID, leads), headers=headers)
    doctype = client.post(f"/salesforce?token={SALESFORCE_SECRET}", headers=headers,
                          content=b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')  # fmt: skip
    assert (other_org.status_code, no_token.status_code, doctype.status_code) == (401, 401, 400)
    assert len(recorder.sent) == 1


def test_a_burst_makes_one_event_now_and_one_trailing_event_with_the_rest() -> None:
    async def burst() -> list[tuple[float, list[str]]]:
        sent: list[tuple[float, list[str]]] = []
        start = time.monotonic()

        async def send(crm: str, lead_ids: list[str]) -> None:
            sent.append((time.monotonic() - start, lead_ids))

        coalescer = Coalescer(send, window_s=0.4)
        answers = [await coalescer.submit("hubspot", [str(i)]) for i in range(20)]
        await asyncio.sleep(0.9)
        assert answers == [True] + [False] * 19
        return sent

    sent = asyncio.run(burst())
    assert [ids for _, ids in sent] == [["0"], [str(i) for i in range(1, 20)]]
    assert sent[1][0] - sent[0][0] >= 0.4  # the trailing event is outside the trigger's window


def test_prefect_yaml_trigger_fires_on_the_receivers_events() -> None:
    """prefect.yaml is the one declaration of route-inbound's trigger (make run and the receiver read it through
    deployments/spec.py): it fires on the events the receiver posts, once a CRM and coalescing window, and the
    deployment queues a run that finds another one routing."""
    from prefect.events import DeploymentTriggerTypes
    from prefect.events.schemas.automations import Posture
    from pydantic import TypeAdapter

    spec = yaml.safe_load((Path(__file__).parents[2] / "prefect.yaml").read_text())
    route = next(d for d in spec["deployments"] if d["name"] == "route-new-leads")
    [declared] = TypeAdapter(list[DeploymentTriggerTypes]).validate_python(route["triggers"])
    event = lead_created_event("hubspot", ["1001"])
    assert declared.expect == {event.event} and declared.match.matches(event.resource)
    assert declared.for_each == {"prefect.resource.id"}  # a window of its own for each CRM
    assert (declared.posture, declared.threshold) == (Posture.Reactive, 1)
    assert declared.within.total_seconds() == WebhookSettings.model_fields["coalesce_s"].default
    in_code = lead_created_trigger(2.0)
    assert in_code.within.total_seconds() == 2.0
    assert in_code.model_dump(exclude={"within"}) == declared.model_dump(exclude={"within"})
    assert route["concurrency_limit"]["collision_strategy"] == "ENQUEUE"


@pytest.mark.usefixtures("prefect_server")
def test_webhooks_start_route_inbound_runs_and_a_burst_coalesces() -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from deployments.spec import declared_as
    from flows.route_inbound import route_inbound
    from localapi.server import LocalServer

    window = 2.0
    # as prefect.yaml declares it, over a shorter window
    one_at_a_time = declared_as("route-new-leads").concurrency_limit
    deployment = route_inbound.to_deployment(
        name="webhook-test", concurrency_limit=one_at_a_time, triggers=[lead_created_trigger(window)]
    )
    deployment_id = deployment.apply()
    server = LocalServer(create_app(settings(coalesce_s=window))).start()  # the real post_event
    try:
        with get_client(sync_client=True) as client:

            def runs() -> list:
                only_ours = DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
                return client.read_flow_runs(deployment_filter=only_ours)

            def wait_for_runs(count: int, timeout_s: float) -> list:
                deadline = time.monotonic() + timeout_s
                while len(found := runs()) < count and time.monotonic() < deadline:
                    time.sleep(0.2)
                return found

            def wait_for_events(count: int, timeout_s: float = 20) -> list[dict]:
                # the server stores events in batches (every few seconds)
                deadline, query = (
                    time.monotonic() + timeout_s,
                    {"filter": {"event": {"name": [EVENT]}}, "limit": 50},
                )
                while (
                    len(found := client.request("POST", "/events/filter", json=query).json()["events"])
                    < count
                ):
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                return found

            def post(contact_ids: list[int]) -> httpx.Response:
                body = hubspot_events(contact_ids, also_other=False)
                uri = f"{server.url}/hubspot"
                return httpx.post(uri, content=body, headers=signed_headers(body, uri), timeout=10)

            assert runs() == []
            posted = time.monotonic()
            assert post([1001]).json() == {"leads": 1, "event": "sent"}
            first = wait_for_runs(1, timeout_s=20)
            print(f"webhook → route-inbound run created in {time.monotonic() - posted:.2f} s")
            assert len(first) == 1 and first[0].state.is_scheduled()

            events = wait_for_events(1)
            assert [e["payload"]["lead_ids"] for e in events] == [["1001"]]
            assert events[0]["resource"]["prefect.resource.id"] == "leadrouter.crm.hubspot"

            time.sleep(window)  # the first event's window ends
            started = time.monotonic()
            answers = [post([2000 + i]).json()["event"] for i in range(20)]
            # on a loaded machine the 20 posts may outlast a window: each window past the first adds one event
            windows = 1 + int((time.monotonic() - started) // window)
            wait_for_runs(3, timeout_s=window + 3)  # the trailing event, and the trigger's answer to it
            time.sleep(1)  # room for a run too many to show up
            burst_runs = len(runs()) - 1
            burst = [str(2000 + i) for i in range(20)]

            def burst_events() -> list[dict]:
                return [e for e in wait_for_events(2) if set(e["payload"]["lead_ids"]) & set(burst)]

            deadline = time.monotonic() + 20  # the server stores events in batches
            found = burst_events()
            while sum(len(e["payload"]["lead_ids"]) for e in found) < 20:
                assert time.monotonic() < deadline, f"the burst's events announced only {found}"
                time.sleep(0.5)
                found = burst_events()
            assert answers == ["sent"] + ["coalesced"] * 19
            assert 1 <= burst_runs <= len(found) <= 1 + windows, f"{burst_runs} runs, {len(found)} events"
            assert sorted(i for e in found for i in e["payload"]["lead_ids"]) == burst  # each lead once
    finally:
        server.stop()
        with get_client(sync_client=True) as client:
            client.delete_resource_owned_automations(f"prefect.deployment.{deployment_id}")
            client.delete_deployment(deployment_id)
