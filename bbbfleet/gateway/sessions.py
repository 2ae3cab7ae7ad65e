"""The session-token calls (getJoinUrl, signOut, stuns, learningDashboard): no checksum, no
meetingID, only the ``sessionToken`` a BBB server issued at join.  The gateway does not see that
token (joins are redirects), so it finds the server that knows it by asking the servers, and
remembers the answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict

from bbbfleet.gateway.answers import Answer, Document, Failure
from bbbfleet.gateway.backends import BackendClient, BackendFailure
from bbbfleet.gateway.directory import Directory
from bbbfleet.placement import Health
from bbbfleet.protocol import errors as E
from bbbfleet.protocol import responses
from bbbfleet.protocol.params import ApiParams, RawQuery
from bbbfleet.protocol.xml import JSON_MEDIA_TYPE, XML_MEDIA_TYPE
from bbbfleet.storage.repository import Server

log = logging.getLogger(__name__)
CACHE_SIZE = 100_000


def succeeded(call: str, body: str) -> bool:
    """Whether a server's answer shows that it knows the session token."""
    if call == "stuns":
        return '"stunServers"' in body
    try:
        data = json.loads(body)
    except ValueError:
        return False
    response = data.get("response", data) if isinstance(data, dict) else {}
    return isinstance(response, dict) and response.get("returncode") == "SUCCESS"


class SessionRouter:
    def __init__(self, backends: BackendClient, directory: Directory) -> None:
        self.backends = backends
        self.directory = directory
        self._owners: OrderedDict[str, int] = OrderedDict()  # session token -> server id

    async def route(
        self, call: str, params: ApiParams, query: RawQuery, cookie: str | None
    ) -> Answer:
        servers = [
            s for s in (await self.directory.get()).servers if s.health is not Health.OFFLINE
        ]
        if not servers:
            return Failure(E.NO_SERVER_AVAILABLE)
        headers = {"Cookie": cookie} if cookie else None
        query = query.without("checksum")
        if call == "signOut":
            # always SUCCESS on BBB; sign out wherever the session lives
            await asyncio.gather(
                *(self._ask(s, call, query, headers) for s in servers), return_exceptions=True
            )
            self._owners.pop(params.get("sessionToken", ""), None)
            return Document(responses.sign_out_xml())
        token = params.get("sessionToken") or ""
        owner_id = self._owners.get(token)
        owner = next((s for s in servers if s.id == owner_id), None)
        if owner is not None:
            answer = await self._ask(owner, call, query, headers)
            if answer is not None and succeeded(call, answer):
                return _document(answer)
            self._owners.pop(token, None)
        candidates = servers if token else servers[:1]  # no token: any server words the error
        answers = await asyncio.gather(*(self._ask(s, call, query, headers) for s in candidates))
        first_failure: str | None = None
        for server, answer in zip(candidates, answers, strict=True):
            if answer is None:
                continue
            if succeeded(call, answer):
                self._remember(token, server.id)
                return _document(answer)
            first_failure = first_failure or answer
        if first_failure is None:
            return Failure(E.BACKEND_UNAVAILABLE)
        return _document(first_failure)

    async def _ask(
        self, server: Server, call: str, query: RawQuery, headers: dict[str, str] | None
    ) -> str | None:
        try:
            return await self.backends.call(server, call, query, signed=False, headers=headers)
        except BackendFailure as failure:
            log.info("%s", failure)
            return None

    def _remember(self, token: str, server_id: int) -> None:
        self._owners[token] = server_id
        self._owners.move_to_end(token)
        while len(self._owners) > CACHE_SIZE:
            self._owners.popitem(last=False)


def _document(body: str) -> Document:
    stripped = body.lstrip()
    media = JSON_MEDIA_TYPE if stripped.startswith("{") else XML_MEDIA_TYPE
    return Document(body, media_type=media)
