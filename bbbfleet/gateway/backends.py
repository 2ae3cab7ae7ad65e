"""Calls from the gateway to backend BBB servers: signing, pooling, timeouts, fault reporting."""

from __future__ import annotations

import logging
from typing import Any
from xml.etree.ElementTree import Element

import httpx

from bbbfleet.protocol import documents
from bbbfleet.protocol.checksum import sign_query
from bbbfleet.protocol.params import RawQuery
from bbbfleet.storage.repository import Server

log = logging.getLogger(__name__)


class BackendFailure(Exception):
    """A backend could not be used for this call."""

    def __init__(self, server: Server, reason: str) -> None:
        super().__init__(f"{server.name}: {reason}")
        self.server = server
        self.reason = reason


class BackendUnavailable(BackendFailure):
    """Refused, timed out, or otherwise unreachable."""


class BackendInvalidAnswer(BackendFailure):
    """Reached, but answered with an HTTP error or something that is not a BBB document."""


def _timeout(seconds: float | None) -> dict[str, Any]:
    return {} if seconds is None else {"timeout": httpx.Timeout(seconds)}


def api_base(server: Server) -> str:
    return server.api_url if server.api_url.endswith("/") else server.api_url + "/"


class BackendClient:
    """One pooled HTTP client for all backend servers."""

    def __init__(self, timeout: float, max_connections: int, algorithm: str) -> None:
        self.algorithm = algorithm
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=False,
        )

    async def close(self) -> None:
        await self._http.aclose()

    def signed_url(self, server: Server, call: str, query: RawQuery) -> str:
        signed = sign_query(call, query.encode(), server.secret, self.algorithm)
        return f"{api_base(server)}{call}?{signed}"

    async def call(
        self,
        server: Server,
        call: str,
        query: RawQuery,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """GET (or POST when there is a body) a signed API call; return the response text.

        Raises BackendUnavailable, or BackendInvalidAnswer for an HTTP error status."""
        url = self.signed_url(server, call, query)
        try:
            if body:
                headers = {"Content-Type": content_type} if content_type else {}
                response = await self._http.post(
                    url, content=body, headers=headers, **_timeout(timeout)
                )
            else:
                response = await self._http.get(url, **_timeout(timeout))
        except httpx.TimeoutException as exc:
            raise BackendUnavailable(server, f"timed out on {call}") from exc
        except httpx.HTTPError as exc:
            raise BackendUnavailable(server, f"unreachable on {call}: {exc!r}") from exc
        if response.status_code != 200:
            raise BackendInvalidAnswer(server, f"HTTP {response.status_code} on {call}")
        return response.text

    async def call_document(
        self,
        server: Server,
        call: str,
        query: RawQuery,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> tuple[str, Element]:
        """Like ``call`` but also parse the answer as a BBB ``<response>`` document."""
        text = await self.call(server, call, query, body=body, content_type=content_type)
        try:
            return text, documents.parse(text)
        except documents.MalformedDocument as exc:
            raise BackendInvalidAnswer(server, f"{call}: {exc}") from exc

    async def meeting_blocks(self, server: Server, timeout: float | None = None) -> list[str]:
        """The rendered ``<meeting>`` blocks of the server's getMeetings."""
        text = await self.call(server, "getMeetings", RawQuery([]), timeout=timeout)
        try:
            return documents.meeting_blocks(text)
        except documents.MalformedDocument as exc:
            raise BackendInvalidAnswer(server, f"getMeetings: {exc}") from exc
