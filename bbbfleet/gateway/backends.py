"""Calls from the gateway to backend BBB servers: signing, pooling, timeouts, fault reporting."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable
from typing import Any
from xml.etree.ElementTree import Element

import aiohttp
from yarl import URL

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


def api_base(server: Server) -> str:
    return server.api_url if server.api_url.endswith("/") else server.api_url + "/"


class BackendClient:
    """One pooled HTTP client (aiohttp: a third of httpx's cost per call) for all servers."""

    def __init__(self, timeout: float, max_connections: int, algorithm: str) -> None:
        self.algorithm = algorithm
        self.timeout = timeout
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # created lazily: an aiohttp session belongs to the event loop that first uses it
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections, limit_per_host=0),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                auto_decompress=True,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def signed_url(self, server: Server, call: str, query: RawQuery) -> str:
        signed = sign_query(call, query.encode(), server.secret, self.algorithm)
        return f"{api_base(server)}{call}?{signed}"

    async def call(
        self,
        server: Server,
        call: str,
        query: RawQuery,
        *,
        body: bytes | AsyncIterable[bytes] | None = None,
        content_type: str | None = None,
        timeout: float | None = None,
        signed: bool = True,
        headers: dict[str, str] | None = None,
        post: bool = False,
    ) -> str:
        """GET (or POST when there is a body, or ``post``) a signed API call; return the text.
        Calls BBB does not checksum (the session-token calls) go ``signed=False``.

        Raises BackendUnavailable, or BackendInvalidAnswer for an HTTP error status."""
        target = (
            self.signed_url(server, call, query)
            if signed
            else f"{api_base(server)}{call}?{query.encode()}"
        )
        url = URL(target, encoded=True)  # sent byte for byte
        options: dict[str, Any] = {"allow_redirects": False}
        if timeout is not None:
            options["timeout"] = aiohttp.ClientTimeout(total=timeout)
        try:
            extra = dict(headers or {})
            if body or post:
                if content_type:
                    extra["Content-Type"] = content_type
                data = b"" if body is None else body  # an async iterable is sent chunked
                request = self._http().post(url, data=data, headers=extra, **options)
            else:
                request = self._http().get(url, headers=extra, **options)
            async with request as response:
                status = response.status
                raw = await response.read()
        except TimeoutError as exc:
            raise BackendUnavailable(server, f"timed out on {call}") from exc
        except aiohttp.ClientError as exc:
            raise BackendUnavailable(server, f"unreachable on {call}: {exc!r}") from exc
        if status != 200:
            raise BackendInvalidAnswer(server, f"HTTP {status} on {call}")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BackendInvalidAnswer(server, f"{call}: answer is not UTF-8") from exc

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
