"""Helpers for the gateway's webhook tests: signed hooks calls, events sent as a backend's
bbb-webhooks sends them."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote

import httpx

from bbbfleet.protocol.webhooks import (
    build_callback_request,
    sign_hooks_query,
    user_attributes,
    user_joined_event,
)
from tests.gateway.conftest import ALPHA_SECRET, BETA_SECRET, Gateway

SECRETS = {"alpha": ALPHA_SECRET, "beta": BETA_SECRET}
# Settings for gateways in webhook tests: loopback receivers allowed, retries and polls fast,
# the registrar out of the way.
FAST_WEBHOOKS: dict[str, Any] = {
    "webhook_allow_private_targets": True,
    "webhook_retry_intervals": [50, 100, 200],
    "webhook_poll_interval": 0.05,
    "webhook_register_interval": 3600,
}
HOOK_ID = re.compile(r"<hookID>([0-9a-f-]{36})</hookID>")


def hooks_url(gw: Gateway, tenant: str, call: str, **params: str) -> str:
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    return f"{gw.api}{call}?{sign_hooks_query(call, query, SECRETS[tenant])}"


async def hooks(gw: Gateway, tenant: str, call: str, **params: str) -> str:
    response = await gw.http.get(hooks_url(gw, tenant, call, **params))
    assert response.status_code == 200
    return response.text


async def create_hook(gw: Gateway, tenant: str, callback: str, **params: str) -> str:
    text = await hooks(gw, tenant, "hooks/create", callbackURL=callback, **params)
    match = HOOK_ID.search(text)
    assert match and "<returncode>SUCCESS</returncode>" in text, text
    return match.group(1)


async def tenant_id(gw: Gateway, name: str) -> int:
    return (await gw.store.tenants.get(name)).id


async def send_events(
    gw: Gateway,
    server_index: int,
    events: list[dict[str, Any]],
    *,
    version: str = "3.3",
    secret: str | None = None,
    hosted: bool = True,
) -> httpx.Response:
    """POST events to the gateway's ingress as server ``server_index``'s bbb-webhooks would
    (one POST per event; returns the last answer)."""
    assert gw.app is not None
    server = sorted(await gw.store.servers.list(), key=lambda s: s.name)[server_index]
    url = gw.app.state.hooks.ingress_url(server)
    if hosted:
        await mark_hosted(gw, server.id, events)
    response: httpx.Response | None = None
    for event in events:
        request = build_callback_request(
            url,
            event,
            domain="bbb1.internal.example.net",
            timestamp=int(time.time() * 1000),
            secret=secret or server.secret,
            version="3.4" if version == "3.4" else "3.3",
        )
        response = await gw.http.post(
            request.url, content=request.body, headers={"Content-Type": request.content_type}
        )
    assert response is not None
    return response


async def mark_hosted(gw: Gateway, server_id: int, events: list[dict[str, Any]]) -> None:
    """Record that the server hosted the events' meetings (as if they had run there and ended),
    for tests that send events of meetings the gateway did not create."""
    from bbbfleet.storage.models import hosted_meetings

    ids = {
        e["data"]["attributes"]["meeting"]["external-meeting-id"]
        for e in events
        if isinstance(e.get("data"), dict)
        and isinstance(e["data"].get("attributes"), dict)
        and isinstance(e["data"]["attributes"].get("meeting"), dict)
        and isinstance(e["data"]["attributes"]["meeting"].get("external-meeting-id"), str)
    }
    rows = [
        {"server_id": server_id, "backend_meeting_id": i, "ended_ms": int(time.time() * 1000)}
        for i in ids
    ]
    if rows:
        await gw.store.db.write(lambda conn: conn.execute(hosted_meetings.insert(), rows))


def joined(backend_meeting_id: str, user: str = "u1", name: str = "Jane Doe") -> dict[str, Any]:
    attributes = user_attributes(
        f"w_{user}", f"ext-{user}", name=name, role="VIEWER", presenter=False, guest=False
    )
    return user_joined_event("0" * 40 + "-1", backend_meeting_id, attributes, 1)
