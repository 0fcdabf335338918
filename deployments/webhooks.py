"""The webhook receiver: a CRM says "lead created" → a Prefect event → route-inbound's trigger runs it at once.

POST /hubspot     HubSpot webhooks (contact creation), X-HubSpot-Signature-v3 verified.
POST /salesforce  a Flow HTTP callout (JSON, shared secret in X-LeadRouter-Secret) or an Outbound Message
                  (SOAP; it cannot send headers, so the secret comes as ?token=, and the org id is checked).

Refusals are logged with the reason and the caller's address, never the secret, the signature or the body.
`python -m deployments.webhooks` serves it (make run does) on LEADROUTER_WEBHOOK_HOST:PORT.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from prefect.client.orchestration import get_client
from prefect.events import DeploymentEventTrigger, Event
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from deployments.spec import declared_as
from leadrouter.webhooks import (
    OUTBOUND_MESSAGE_ACK,
    Coalescer,
    PayloadError,
    SignatureError,
    WebhookSettings,
    hubspot_contact_ids,
    salesforce_flow_lead_ids,
    salesforce_outbound_message,
    verify_hubspot_v3,
    verify_shared_secret,
)
from leadrouter.webhooks.coalesce import Send

EVENT = "leadrouter.lead.created"
RESOURCE_PREFIX = "leadrouter.crm."
MAX_IDS_IN_EVENT = 1000  # the run pulls everything since the watermark; the ids are for people reading events
SECRET_HEADER = "X-LeadRouter-Secret"

logger = logging.getLogger("leadrouter.webhooks")


def lead_created_trigger(window_s: float) -> DeploymentEventTrigger:
    """route-inbound's trigger as prefect.yaml declares it, over a window of `window_s`: the first
    lead.created event of a CRM starts a run at once.

    Reactive with threshold 1 fires on the first event, then ignores that CRM's events for `window_s`:
    a burst makes one run, not one per lead. The receiver sends no more than one event per window and
    merges what came in meanwhile into one trailing event just after it (leadrouter/webhooks/coalesce.py),
    so a lead announced after a run began still gets a run of its own. The deployment runs one at a time
    and queues a triggered run that finds one routing (ENQUEUE): at most a window's worth of runs wait, and
    the scheduled poll stays the safety net.
    """
    [trigger] = declared_as("route-new-leads").triggers
    return trigger.model_copy(update={"within": timedelta(seconds=window_s)})


def lead_created_event(crm: str, lead_ids: list[str]) -> Event:
    return Event(
        event=EVENT,
        resource={"prefect.resource.id": f"{RESOURCE_PREFIX}{crm}", "prefect.resource.name": crm},
        payload={"crm": crm, "count": len(lead_ids), "lead_ids": lead_ids[:MAX_IDS_IN_EVENT]},
    )


async def post_event(crm: str, lead_ids: list[str]) -> None:
    """POST one event to the Prefect server's /api/events (raises when the server refuses or is down)."""
    event = lead_created_event(crm, lead_ids)
    async with get_client() as client:
        await client.request("POST", "/events", json=[event.model_dump(mode="json")])


def create_app(settings: WebhookSettings, send: Send = post_event) -> Starlette:
    """The receiver; `send` posts one event (crm, lead ids), coalesced per CRM over settings.coalesce_s."""
    coalescer = Coalescer(send, settings.coalesce_s)

    async def hubspot(request: Request) -> Response:
        secret = settings.hubspot_client_secret
        if secret is None:
            return _not_configured("hubspot")
        body = await _body(request, settings)
        if isinstance(body, Response):
            return body
        try:
            verify_hubspot_v3(
                secret.get_secret_value(),
                request.method,
                _signed_uri(request, settings.public_url),
                body,
                request.headers.get("X-HubSpot-Request-Timestamp"),
                request.headers.get("X-HubSpot-Signature-v3"),
                now_ms=int(time.time() * 1000),
                max_age_s=settings.max_age_s,
            )
        except SignatureError as exc:
            return _refuse("hubspot", request, exc)
        try:
            lead_ids = hubspot_contact_ids(body)
        except PayloadError as exc:
            return _malformed("hubspot", exc)
        return await _announce("hubspot", lead_ids)

    async def salesforce(request: Request) -> Response:
        secret = settings.salesforce_secret
        if secret is None:
            return _not_configured("salesforce")
        body = await _body(request, settings)
        if isinstance(body, Response):
            return body
        given = request.headers.get(SECRET_HEADER) or request.query_params.get("token")
        try:
            verify_shared_secret(secret.get_secret_value(), given)
        except SignatureError as exc:
            return _refuse("salesforce", request, exc)
        if "xml" not in request.headers.get("content-type", ""):
            try:
                return await _announce("salesforce", salesforce_flow_lead_ids(body))
            except PayloadError as exc:
                return _malformed("salesforce", exc)
        try:
            org_id, lead_ids = salesforce_outbound_message(body)
        except PayloadError as exc:
            return _malformed("salesforce", exc)
        if settings.salesforce_org_id and org_id[:15] != settings.salesforce_org_id[:15]:
            return _refuse("salesforce", request, SignatureError("Outbound Message from another org"))
        answer = await _announce("salesforce", lead_ids)
        if answer.status_code >= 300:
            return answer  # no Ack: Salesforce retries the message
        return Response(OUTBOUND_MESSAGE_ACK, media_type="text/xml")

    async def _announce(crm: str, lead_ids: list[str]) -> Response:
        if not lead_ids:
            return JSONResponse({"leads": 0, "event": "none"}, status_code=202)
        try:
            sent = await coalescer.submit(crm, lead_ids)
        except Exception as exc:  # the CRM retries a 503; polling routes the leads meanwhile
            logger.error("%s: could not post the event to Prefect (%s)", crm, type(exc).__name__)
            return JSONResponse({"error": "event not delivered; retry"}, status_code=503)
        return JSONResponse(
            {"leads": len(lead_ids), "event": "sent" if sent else "coalesced"}, status_code=202
        )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await coalescer.close()

    routes = [
        Route("/hubspot", hubspot, methods=["POST"]),
        Route("/salesforce", salesforce, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _signed_uri(request: Request, public_url: str | None) -> str:
    """The full URI as the CRM called it: the public base when behind a proxy, the path as sent on the wire."""
    base = public_url.rstrip("/") if public_url else f"{request.url.scheme}://{request.url.netloc}"
    path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    return base + path + (f"?{query}" if query else "")


async def _body(request: Request, settings: WebhookSettings) -> bytes | Response:
    body = await request.body()
    if len(body) > settings.max_body_bytes:
        return JSONResponse({"error": f"body over {settings.max_body_bytes} bytes"}, status_code=413)
    return body


def _refuse(crm: str, request: Request, exc: SignatureError) -> Response:
    client = request.client.host if request.client else "unknown"
    logger.warning("refused %s webhook from %s: %s", crm, client, exc)
    return JSONResponse({"error": "unauthorized"}, status_code=401)


def _malformed(crm: str, exc: PayloadError) -> Response:
    logger.warning("rejected %s webhook: %s", crm, exc)
    return JSONResponse({"error": str(exc)}, status_code=400)


def _not_configured(crm: str) -> Response:
    logger.warning("a %s webhook arrived but no %s secret is configured (LEADROUTER_WEBHOOK_*)", crm, crm)
    return JSONResponse({"error": f"{crm} webhooks are not configured"}, status_code=404)


def load_settings() -> WebhookSettings:
    """LEADROUTER_WEBHOOK_* variables; a secret named by a *_SECRET_BLOCK comes from that Prefect Secret block."""
    from prefect.blocks.system import Secret

    settings = WebhookSettings()
    updates = {
        field: SecretStr(str(Secret.load(block).get()))
        for field, block in (
            ("hubspot_client_secret", settings.hubspot_secret_block),
            ("salesforce_secret", settings.salesforce_secret_block),
        )
        if block
    }
    return settings.model_copy(update=updates)


def main() -> None:
    import uvicorn
    from prefect.settings import PREFECT_API_URL

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not PREFECT_API_URL.value():
        sys.exit(
            "set PREFECT_API_URL to the Prefect server the events go to (e.g. http://127.0.0.1:4200/api)"
        )
    settings = load_settings()
    secrets = {"hubspot": settings.hubspot_client_secret, "salesforce": settings.salesforce_secret}
    configured = [crm for crm, secret in secrets.items() if secret is not None]
    logger.info(
        "webhooks on http://%s:%d for %s", settings.host, settings.port, ", ".join(configured) or "none"
    )
    # no access log: an Outbound Message's URL carries its token
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, access_log=False, log_level="info"
    )


if __name__ == "__main__":
    main()
