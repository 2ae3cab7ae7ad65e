"""Fixtures for the simulator tests: a fleet of three simulated servers on free loopback ports,
with a manual clock, and a small client that signs requests like an LMS does."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from bbbfleet.protocol.checksum import compute
from bbbfleet.simulator import ManualClock, SimulatedFleet, SimulatorHost

EXAMPLE_SERVER = "https://bbb.example.com"

# Values a server generates, each with the shape it must have; both the example and the
# simulator's answer are rewritten with these before comparing, everything else must be equal.
GENERATED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[0-9a-f]{40}-\d{13}"), "{internal-meeting-id}"),
    (re.compile(r"<(createTime|startTime)>\d{13}</\1>"), r"<\1>{millis}</\1>"),
    (
        re.compile(r"<createDate>[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}</"),
        "<createDate>{date}</",
    ),
    (re.compile(r"<voiceBridge>\d{5}</voiceBridge>"), "<voiceBridge>{5 digits}</voiceBridge>"),
    (re.compile(r"\bw_[a-z0-9]{12}\b"), "{user-id}"),
    (re.compile(r"<auth_token>[a-z0-9]{12}</"), "<auth_token>{token}</"),
    (re.compile(r"<session_token>[a-z0-9]{16}</"), "<session_token>{token}</"),
    (re.compile(r"sessionToken=[a-z0-9]{16}\b"), "sessionToken={token}"),
]


def normalise(text: str) -> str:
    for pattern, replacement in GENERATED:
        text = pattern.sub(replacement, text)
    return text


def query(*pairs: tuple[str, str], **params: str) -> str:
    """An encoded query string (``%20`` for spaces, like most LMS libraries)."""
    items = [*pairs, *params.items()]
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in items)


@dataclass
class Bbb:
    """An LMS's view of one simulated server: signed API calls and the browser's redirects."""

    host: SimulatorHost
    http: httpx.AsyncClient

    def url(self, call: str, query_string: str = "", secret: str | None = None) -> str:
        checksum = compute(call, query_string, secret or self.host.secret)
        joiner = "&" if query_string else ""
        return f"{self.host.url}{call}?{query_string}{joiner}checksum={checksum}"

    async def get(self, call: str, query_string: str = "", **kwargs: Any) -> httpx.Response:
        return await self.http.get(self.url(call, query_string), **kwargs)

    async def call(self, call: str, *pairs: tuple[str, str], **params: str) -> httpx.Response:
        return await self.get(call, query(*pairs, **params))

    async def create(self, meeting_id: str = "test01", **params: str) -> httpx.Response:
        params.setdefault("name", "Test meeting")
        response = await self.call("create", meetingID=meeting_id, **params)
        assert "<returncode>SUCCESS</returncode>" in response.text, response.text
        return response

    async def join(
        self, meeting_id: str = "test01", *pairs: tuple[str, str], **params: str
    ) -> httpx.Response:
        params.setdefault("fullName", "Ada Lovelace")
        return await self.call("join", *pairs, meetingID=meeting_id, **params)

    async def enter(
        self, meeting_id: str = "test01", *pairs: tuple[str, str], **params: str
    ) -> str:
        """Join and follow the redirect as a browser would; returns the session token."""
        response = await self.join(meeting_id, *pairs, **params)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(f"{self.host.base_url}/html5client/join?sessionToken=")
        client = await self.http.get(location)
        assert client.status_code == 200
        return location.rsplit("=", 1)[1]

    async def control(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.http.request(method, f"{self.host.base_url}/_sim/{path}", json=body)

    def normalise(self, text: str) -> str:
        """As if served from https://bbb.example.com (whose graphql URL is ``wss://``)."""
        base = self.host.base_url
        text = text.replace(f"{base}/graphql", "wss://bbb.example.com/graphql")
        return normalise(text.replace(base, EXAMPLE_SERVER))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fleet(clock: ManualClock) -> AsyncIterator[SimulatedFleet]:
    fleet = SimulatedFleet(3, 0, clock=clock, seed=7)
    await fleet.start()
    try:
        yield fleet
    finally:
        await fleet.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # Plain HTTP on loopback only: skipping the CA bundle saves ~50 ms per test.
    async with httpx.AsyncClient(timeout=5, verify=False) as client:
        yield client


@pytest.fixture
def bbb(fleet: SimulatedFleet, http: httpx.AsyncClient) -> Bbb:
    return Bbb(fleet.servers[0], http)
