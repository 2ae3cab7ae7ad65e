"""Unauthenticated and malformed requests to the gateway's event ingress and callback relays
never get a 5xx (a 500 makes bbb-webhooks retry for minutes and then delete the gateway's hook;
a traceback leaks internals)."""

from __future__ import annotations

import random
from urllib.parse import quote

import pytest

from tests.gateway.conftest import Gateway
from tests.gateway.hooks_helpers import FAST_WEBHOOKS
from tests.gateway.receiver import Receiver
from tests.gateway.test_callback_relays import create

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

FAST = FAST_WEBHOOKS  # the `gw` fixture (conftest) starts gateways with these


async def test_non_ascii_tokens_are_bad_tokens(gw: Gateway, receiver: Receiver) -> None:
    assert gw.app is not None
    server = sorted(await gw.store.servers.list(), key=lambda s: s.name)[0]
    events = f"{gw.url}/bigbluebutton/fleet/events/{server.id}/%C3%A9"
    assert (await gw.http.post(events, content=b"event=%5B%5D")).status_code == 404
    meta = await create(gw, receiver)
    relay = meta["bbb-recording-ready-url"].rsplit("/", 1)[0]
    for method in ("GET", "POST"):
        response = await gw.http.request(method, f"{relay}/%C3%A9")
        assert response.status_code == 404, method
    ended = f"{gw.url}/bigbluebutton/fleet/ended/1/%C3%A9"
    assert (await gw.http.get(ended)).status_code == 404
    assert (await gw.http.get(f"{ended}?relay=%C3%A9&relay_token=%C3%A9")).status_code == 404


def _segment(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:  # random bytes, percent-encoded (invalid UTF-8 included)
        return "".join(f"%{rng.randrange(256):02X}" for _ in range(rng.randrange(1, 12)))
    if kind == 1:  # random unicode
        text = "".join(
            chr(rng.choice([rng.randrange(0x20, 0x7F), rng.randrange(0xA0, 0x2FFFF)]))
            for _ in range(rng.randrange(1, 12))
        )
        return quote(text.encode("utf-8", "surrogatepass"), safe="")
    if kind == 2:
        return str(rng.choice([0, 1, 2, -1, 10**30]))
    return rng.choice(["%C3%A9", "%ED%A0%80", "%00", "..", "%2F", "x" * 300])


def _body(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
    if kind == 1:
        return ("event=" + _segment(rng) + "&signed_parameters=" + _segment(rng)).encode()
    if kind == 2:
        return b"event=%5B%7B%22data%22%3A%5B1%5D%7D%5D&timestamp=x"
    return "\u00e9\ud800".encode("utf-8", "surrogatepass")


async def test_fuzzed_ingress_and_relay_requests_never_5xx(gw: Gateway, receiver: Receiver) -> None:
    meta = await create(gw, receiver)
    server = sorted(await gw.store.servers.list(), key=lambda s: s.name)[0]
    relay_urls = [
        meta[k] for k in ("bbb-recording-ready-url", "analytics-callback-url", "endcallbackurl")
    ]
    rng = random.Random(20261126)
    for _ in range(150):
        choice = rng.randrange(5)
        if choice == 0:
            url = f"{gw.url}/bigbluebutton/fleet/events/{_segment(rng)}/{_segment(rng)}"
        elif choice == 1:
            url = f"{gw.url}/bigbluebutton/fleet/events/{server.id}/{_segment(rng)}"
        elif choice == 2:
            url = f"{gw.url}/bigbluebutton/fleet/callback/{_segment(rng)}/{_segment(rng)}"
        elif choice == 3:  # the real relay URLs with odd queries and bodies
            url = f"{rng.choice(relay_urls)}?{_segment(rng)}={_segment(rng)}"
        else:
            url = f"{gw.url}/bigbluebutton/fleet/ended/{_segment(rng)}/{_segment(rng)}?relay={_segment(rng)}"
        method = rng.choice(["GET", "POST"])
        body = _body(rng) if method == "POST" else None
        content_type = rng.choice(
            ["application/x-www-form-urlencoded", "application/json", "text/plain; charset=\u00e9"]
        )
        response = await gw.http.request(
            method, url, content=body, headers={"Content-Type": content_type.encode("utf-8")}
        )
        assert response.status_code < 500, (method, url, body, response.status_code)
        assert "Traceback" not in response.text
