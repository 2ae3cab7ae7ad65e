"""The gateway's own ``meetingEndedURL``: BBB tells the gateway at once when a meeting ends.

Every create sent to a backend carries ``meetingEndedURL=<public_url>/bigbluebutton/fleet/ended/
<meeting>/<token>``; the token is an HMAC with the hosting server's secret over the placement's
nonce, so only that server can end that placement (a stale copy on an old server, or a late
callback of an earlier run of the same meeting, cannot end the current one).  The
tenant's own ``meetingEndedURL``, if it gave one, is called afterwards like BBB would call it
(GET, ``recordingmarks`` appended), retried a few times.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable

import httpx
from starlette.requests import Request
from starlette.responses import Response

from bbbfleet.protocol.params import ApiParams
from bbbfleet.storage.repository import Meeting, Server, Store

log = logging.getLogger(__name__)
ENDED_PATH = "/bigbluebutton/fleet/ended"
RELAY_DELAYS = (0.0, 1.0, 5.0, 30.0)


def _token(meeting: Meeting, server: Server) -> str:
    message = f"{meeting.id}:{meeting.nonce}:{server.id}".encode()
    return hmac.new(server.secret.encode(), message, hashlib.sha256).hexdigest()[:32]


class EndCallbacks:
    def __init__(
        self,
        store: Store,
        public_url: str,
        clock: Callable[[], int],
        timeout: float = 5.0,
    ) -> None:
        self.store = store
        self.public_url = public_url
        self.clock = clock
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=True)
        self._relays: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for task in list(self._relays):
            task.cancel()
        await self._http.aclose()

    def url_for(self, meeting: Meeting, server: Server) -> str:
        return f"{self.public_url}{ENDED_PATH}/{meeting.id}/{_token(meeting, server)}"

    async def handle(self, request: Request) -> Response:
        """BBB calls this (GET) when the meeting ended."""
        try:
            meeting_pk = int(request.path_params["meeting"])
        except ValueError:
            return Response(status_code=404)
        meeting = await self.store.meetings.get_by_pk(meeting_pk)
        servers = {s.id: s for s in await self.store.servers.list()}
        server = servers.get(meeting.server_id) if meeting and meeting.server_id else None
        if meeting is None or server is None:
            return Response(status_code=404)
        if not hmac.compare_digest(request.path_params["token"], _token(meeting, server)):
            return Response(status_code=404)
        await self.store.meetings.forget(meeting, self.clock())
        tenant_url = ApiParams.parse(meeting.create_query.encode()).get("meetingEndedURL")
        if tenant_url:
            marks = request.query_params.get("recordingmarks", "false")
            task = asyncio.create_task(self._relay(tenant_url, marks))
            self._relays.add(task)
            task.add_done_callback(self._relays.discard)
        return Response(status_code=200)

    async def _relay(self, url: str, recording_marks: str) -> None:
        target = f"{url}{'&' if '?' in url else '?'}recordingmarks={recording_marks}"
        for delay in RELAY_DELAYS:
            await asyncio.sleep(delay)
            try:
                response = await self._http.get(target)
                if response.status_code < 500:
                    return
            except httpx.HTTPError as exc:
                log.info("meetingEndedURL %s failed: %r", url, exc)
        log.warning("gave up calling meetingEndedURL %s", url)
