"""``POST /bigbluebutton/fleet/recordings/push``: BBB servers hand over published recordings.

A server's post-publish script (CONTRACTS C2) sends the recording archive with
``server``, ``recordID``, ``size``, ``sha256`` and a checksum made like a BBB API call's, with the
call name ``recordingsPush`` and that server's own secret.  The body is streamed to a file (never
held in memory), counted and hashed on the way, and refused as soon as it grows past the announced
size or ``recording_archive_max_bytes``.  A verified archive is imported at once when storage
allows, otherwise queued for the recording worker.  An empty body (``size=0``) only refreshes the
index.  Every answer is BBB-style XML.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from bbbfleet.gateway.answers import Document, Failure, to_response
from bbbfleet.gateway.directory import Directory
from bbbfleet.protocol import errors as E
from bbbfleet.protocol.checksum import ChecksumResult, verify
from bbbfleet.protocol.params import ApiParams, ParamsNotUtf8, parse_pairs
from bbbfleet.protocol.recording_push import PUSH_CALL, PUSH_PATH
from bbbfleet.protocol.xml import render_compact
from bbbfleet.recordings.archive import ArchiveError, check_digest, valid_record_id
from bbbfleet.recordings.imports import Importer
from bbbfleet.recordings.storage import StorageFailure
from bbbfleet.settings import Settings
from bbbfleet.storage.imports import ImportState

log = logging.getLogger(__name__)
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class _Refused(Exception):
    def __init__(self, error: E.ApiError) -> None:
        self.error = error


__all__ = ["PUSH_CALL", "PUSH_PATH", "PushReceiver", "push_answer"]


def push_answer(record_id: str, imported: bool, sha256: str) -> str:
    """The SUCCESS answer (``protocol.recording_push.parse_push_answer`` reads it back)."""
    return render_compact(
        [
            ("returncode", "SUCCESS"),
            ("recordID", record_id),
            ("imported", imported),
            ("sha256", sha256),
        ]
    )


class PushReceiver:
    def __init__(
        self,
        settings: Settings,
        directory: Directory,
        importer: Importer,
        clock: Callable[[], int],
    ) -> None:
        self.settings = settings
        self.directory = directory
        self.importer = importer
        self.clock = clock

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except _Refused as refused:
            return to_response(Failure(refused.error), request)
        except ArchiveError as refused:
            return to_response(Failure(refused.error), request)
        except ClientDisconnect:
            return Response(status_code=400)
        except Exception:  # never a 500, never a traceback
            log.exception("unexpected error receiving a recording push")
            return to_response(Failure(E.INTERNAL_ERROR), request)

    async def _handle(self, request: Request) -> Response:
        if request.method != "POST":
            return to_response(Failure(E.METHOD_NOT_ALLOWED, status=405), request)
        raw_query: bytes = request.scope["query_string"]
        try:
            params = ApiParams.from_pairs(parse_pairs(raw_query))
        except ParamsNotUtf8:
            raise _Refused(E.PARAMS_NOT_UTF8) from None
        snapshot = await self.directory.get()
        name = params.get("server")
        server = next((s for s in snapshot.servers if s.name == name), None)
        if server is None:
            raise _Refused(E.UNKNOWN_SERVER)
        result, _secret = verify(PUSH_CALL, raw_query, [server.secret])
        if result is ChecksumResult.MISSING:
            raise _Refused(E.CHECKSUM_MISSING)
        if result is not ChecksumResult.VALID:
            raise _Refused(E.PUSH_CHECKSUM)
        record_id = params.get("recordID")
        if not record_id:
            raise _Refused(E.MISSING_PARAM_RECORD_ID)
        if not valid_record_id(record_id):
            raise _Refused(E.INVALID_ARCHIVE.with_message(f"Invalid record ID {record_id!r}"))
        size_text = params.get("size") or "0"
        if not size_text.isdigit():
            raise _Refused(
                E.INVALID_ARCHIVE.with_message("size must be the archive's length in bytes")
            )
        size = int(size_text)
        if size > self.settings.recording_archive_max_bytes:
            raise _Refused(E.ARCHIVE_TOO_LARGE)
        sha256 = (params.get("sha256") or "").lower()
        if size == 0:
            return await self._index_only(request, server_name=server.name, record_id=record_id)
        if not _SHA256.match(sha256):
            raise _Refused(
                E.ARCHIVE_MISMATCH.with_message("sha256 must be the archive's sha256 in hex")
            )
        staged = await self._receive(request, record_id, size, sha256)
        await self.importer.notify_pushed(server, record_id)
        outcome = await self.importer.receive(
            server, record_id, staged, size, sha256, digest_checked=True
        )
        if outcome.refusal is not None:
            raise _Refused(outcome.refusal)
        if outcome.state is ImportState.FAILED:
            raise _Refused(E.IMPORT_FAILED.with_message(f"Import failed: {outcome.error}"))
        return to_response(
            Document(push_answer(record_id, outcome.imported, outcome.sha256)), request
        )

    async def _index_only(self, request: Request, server_name: str, record_id: str) -> Response:
        async for chunk in request.stream():
            if chunk:
                raise _Refused(
                    E.ARCHIVE_MISMATCH.with_message("size=0 announces no archive, but one came")
                )
        snapshot = await self.directory.get()
        server = next(s for s in snapshot.servers if s.name == server_name)
        await self.importer.notify_pushed(server, record_id)
        return to_response(Document(push_answer(record_id, False, "")), request)

    async def _receive(self, request: Request, record_id: str, size: int, sha256: str) -> Path:
        """Stream the body into ``.incoming``; checked for size and sha256 on the way."""
        try:
            incoming = self.importer.storage.incoming()
        except StorageFailure as exc:
            log.error("cannot stage a recording archive: %s", exc)
            raise _Refused(E.IMPORT_FAILED) from exc
        part = incoming / f"{record_id}-{secrets.token_hex(6)}.part"
        digest = hashlib.sha256()
        received = 0
        limit = self.settings.recording_archive_max_bytes
        try:
            with part.open("xb") as out:
                async for chunk in request.stream():
                    received += len(chunk)
                    if received > limit:
                        raise _Refused(E.ARCHIVE_TOO_LARGE)
                    if received > size:
                        raise ArchiveError(
                            E.ARCHIVE_MISMATCH.with_message(
                                f"The archive is longer than the {size} bytes the push announced"
                            )
                        )
                    digest.update(chunk)
                    out.write(chunk)
            check_digest(received, digest.hexdigest(), size, sha256)
            final = part.with_suffix(".tar")
            part.rename(final)
        except OSError as exc:
            _remove(part)
            log.error("cannot stage the archive of %s: %s", record_id, exc)
            raise _Refused(E.IMPORT_FAILED) from exc
        except BaseException:
            _remove(part)
            raise
        return final


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
