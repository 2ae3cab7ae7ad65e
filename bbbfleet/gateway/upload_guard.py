"""Watching a streamed putRecordingTextTrack upload for a ``recordID`` form field.

The streamed path checks the checksum and the recording's owner from the query and passes the
multipart body on unread.  bbb-web merges form fields into the parameters, so a ``recordID``
part in the body that differs from the query's could attach the track to another recording
(possibly another tenant's) on the same server.  ``RecordIdGuard`` parses the parts while they
pass (python-multipart's streaming parser, nothing buffered but that one small field) and stops
the stream before the chunk that completes such a part is sent on: the server then gets a
truncated body and stores nothing.  A body the parser cannot read is stopped too, so no body
reaches the server that the gateway could not check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from python_multipart.multipart import MultipartParser, parse_options_header

FIELD = "recordID"
_MAX_FIELD = 4096  # a recordID part longer than this is refused outright


class UploadRefused(Exception):
    """The upload carries a recordID other than the query's, or cannot be parsed."""


class RecordIdGuard:
    def __init__(self, content_type: str, record_id: str) -> None:
        _kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        self.record_id = record_id.strip()
        self.refused: str | None = None  # why, once refused
        self._field = b""
        self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._data = bytearray()
        self._parser: MultipartParser | None = None
        if not boundary:
            self.refused = "the multipart body has no boundary"
            return
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    async def watch(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The chunks, passed on once checked; raises UploadRefused instead of the chunk that
        completes a differing recordID part (or that the parser cannot read)."""
        async for chunk in chunks:
            self.feed(chunk)
            if self.refused is not None:
                raise UploadRefused(self.refused)
            yield chunk

    def feed(self, chunk: bytes) -> None:
        if self.refused is not None or self._parser is None:
            return
        try:
            self._parser.write(chunk)
        except Exception as exc:  # any parse error: the server must not get what we cannot read
            self.refused = f"unreadable multipart body: {exc}"

    # --- parser callbacks ----------------------------------------------------------------------

    def _part_begin(self) -> None:
        self._headers = {}
        self._name = None
        self._data = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"")
        _kind, options = parse_options_header(disposition)
        name = options.get(b"name")
        self._name = None if name is None else name.decode("utf-8", "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._name != FIELD:
            return
        self._data += data[start:end]
        if len(self._data) > _MAX_FIELD:
            self.refused = "the recordID form field is too long"

    def _part_end(self) -> None:
        if self._name != FIELD or self.refused is not None:
            return
        value = self._data.decode("utf-8", "replace").strip()
        if value != self.record_id:
            self.refused = f"the recordID form field ({value!r}) differs from the query's recordID"
