"""The recording calls of BBB 3.0: getRecordings, publishRecordings, deleteRecordings and
updateRecordings (REFERENCE.md §5.7-5.10, §6).

* ``RecordingQuery`` reads getRecordings' filters (IDs, states, ``meta_*``, pagination) and
  decides which recordings match, so the simulator and the gateway filter alike.
* ``recording_block`` / ``get_recordings_xml`` write getRecordings as bbb-web's Scala XML
  literals do: the ``<response>`` wrapper keeps its source indentation, everything inside
  ``<recordings>`` is compact, text escapes only ``& < > "`` (apostrophes stay literal).  With
  pagination the JDK transformer re-serialises the document: empty elements become ``<x/>``.
* ``publish_recordings_xml`` & co. are the hand-built one-line answers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar
from urllib.parse import unquote_plus

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.params import META_NAME, ApiParams
from bbbfleet.protocol.xml import render_compact

PUBLISHED: Final = "published"
UNPUBLISHED: Final = "unpublished"
DELETED: Final = "deleted"
PROCESSING: Final = "processing"
PROCESSED: Final = "processed"
ALL_STATES: Final = frozenset({PUBLISHED, UNPUBLISHED, DELETED, PROCESSING, PROCESSED})
DEFAULT_STATES: Final = frozenset({PUBLISHED, UNPUBLISHED})
# The states publish/delete/updateRecordings look in to decide whether a record ID exists.
EXISTING_STATES: Final = frozenset({PUBLISHED, UNPUBLISHED})

THUMBNAIL_WIDTH: Final = 176
THUMBNAIL_HEIGHT: Final = 136
MAX_LIMIT: Final = 100
MINUTE_MS: Final = 60_000

# The <response> wrapper of RecMetaXmlHelper keeps the indentation of its Scala source.
_CHILD_INDENT: Final = "\n          "
_CLOSE_INDENT: Final = "\n        "


# --- what a recording shows ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreviewImage:
    """One ``<image>`` of a format's ``<preview>`` (a slide thumbnail)."""

    alt: str
    url: str
    width: int = THUMBNAIL_WIDTH
    height: int = THUMBNAIL_HEIGHT


@dataclass(frozen=True, slots=True)
class PlaybackFormat:
    """One playback format (``presentation``, ``video`` …) as its metadata.xml describes it."""

    type: str
    url: str
    processing_time_ms: int
    duration_ms: int
    size: int
    preview: tuple[PreviewImage, ...] = ()

    @property
    def length_minutes(self) -> int:
        return self.duration_ms // MINUTE_MS


@dataclass(frozen=True, slots=True)
class BreakoutOf:
    """The ``<breakout>`` element of a breakout room's recording."""

    parent_id: str
    sequence: int
    free_join: bool


@dataclass(frozen=True, slots=True)
class RecordingSnapshot:
    """Everything getRecordings shows about one recording (REFERENCE.md §6.2)."""

    record_id: str
    meeting_id: str  # external
    name: str
    state: str
    start_time: int
    end_time: int
    participants: int
    raw_size: int
    is_breakout: bool = False
    # (key, value) in metadata.xml order; None when the recording has no <meta> at all.
    metadata: tuple[tuple[str, str], ...] | None = ()
    breakout: BreakoutOf | None = None
    breakout_rooms: tuple[str, ...] = ()
    playback: tuple[PlaybackFormat, ...] = ()
    data: tuple[tuple[str, str], ...] = ()  # (type, url) of data formats

    @property
    def published(self) -> bool:
        return self.state == PUBLISHED

    @property
    def size(self) -> int:
        return sum(f.size for f in self.playback)


# --- Scala XML ----------------------------------------------------------------------------------


def escape(text: str) -> str:
    """``scala.xml.Utility.escape``: ``& < > "``; apostrophes stay literal."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _text(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


@dataclass(frozen=True, slots=True)
class _Element:
    tag: str
    content: str | list[_Element] = ""
    attributes: tuple[tuple[str, str], ...] = ()
    parsed: bool = False  # read from metadata.xml: an empty one prints as <x/>

    def render(self, out: list[str], reserialised: bool) -> None:
        attributes = "".join(f' {name}="{escape(value)}"' for name, value in self.attributes)
        if not self.content:
            if self.parsed or reserialised:
                out.append(f"<{self.tag}{attributes}/>")
            else:
                out.append(f"<{self.tag}{attributes}></{self.tag}>")
        elif isinstance(self.content, str):
            out.append(f"<{self.tag}{attributes}>{self.content}</{self.tag}>")
        else:
            out.append(f"<{self.tag}{attributes}>")
            for child in self.content:
                child.render(out, reserialised)
            out.append(f"</{self.tag}>")


def _leaf(tag: str, value: str | int | bool) -> _Element:
    return _Element(tag, _text(value))


def _format_element(playback: PlaybackFormat) -> _Element:
    children = [
        _leaf("type", playback.type),
        _leaf("url", playback.url),
        _leaf("processingTime", playback.processing_time_ms),
        _leaf("length", playback.length_minutes),
        _leaf("size", playback.size),
    ]
    if playback.preview:
        images = [
            _Element(
                "image",
                escape(image.url),
                # alphabetical, which is also the order the JDK transformer writes them in
                (("alt", image.alt), ("height", str(image.height)), ("width", str(image.width))),
            )
            for image in playback.preview
        ]
        children.append(_Element("preview", [_Element("images", images)]))
    return _Element("format", children)


def _recording_element(recording: RecordingSnapshot) -> _Element:
    children = [
        _leaf("recordID", recording.record_id),
        _leaf("meetingID", recording.meeting_id),
        _leaf("internalMeetingID", recording.record_id),
        _leaf("name", recording.name),
        _leaf("isBreakout", recording.is_breakout),
        _leaf("published", recording.published),
        _leaf("state", recording.state),
        _leaf("startTime", recording.start_time),
        _leaf("endTime", recording.end_time),
        _leaf("participants", recording.participants),
        _leaf("rawSize", recording.raw_size),
    ]
    if recording.metadata is not None:
        metadata = [_Element(k, escape(v), parsed=True) for k, v in recording.metadata]
        children.append(_Element("metadata", metadata, parsed=True))
    if recording.breakout is not None:
        breakout = recording.breakout
        children.append(
            _Element(
                "breakout",
                [
                    _leaf("parentId", breakout.parent_id),
                    _leaf("sequence", breakout.sequence),
                    _leaf("freeJoin", breakout.free_join),
                ],
            )
        )
    if recording.breakout_rooms:
        rooms = [_leaf("breakoutRoom", room) for room in recording.breakout_rooms]
        children.append(_Element("breakoutRooms", rooms))
    children.append(_leaf("size", recording.size))
    children.append(_Element("playback", [_format_element(f) for f in recording.playback]))
    data = [
        _Element("format", [_leaf("type", kind), _leaf("url", url)]) for kind, url in recording.data
    ]
    children.append(_Element("data", data))
    return _Element("recording", children)


def recording_block(recording: RecordingSnapshot, *, paginated: bool = False) -> str:
    """One compact ``<recording>…</recording>``; ``paginated`` as re-serialised by the JDK."""
    out: list[str] = []
    _recording_element(recording).render(out, paginated)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Pagination:
    """The ``<pagination>`` element of a paginated answer (REFERENCE.md §6.3)."""

    offset: int
    limit: int
    total: int  # recordings after filtering
    empty: bool  # this page holds none

    def render(self) -> str:
        return render_compact(
            [
                (
                    "pageable",
                    [
                        ("offset", self.offset),
                        ("limit", self.limit),
                        ("paged", True),
                        ("unpaged", False),
                    ],
                ),
                ("totalElements", self.total),
                ("empty", self.empty),
            ],
            root="pagination",
        )


def get_recordings_xml(blocks: Sequence[str], pagination: Pagination | None = None) -> str:
    """getRecordings from rendered ``<recording>`` blocks (possibly from several servers), or
    the ``noRecordings`` answer when there are none."""
    if not blocks:
        return (
            f"<response>{_CHILD_INDENT}<returncode>SUCCESS</returncode>"
            f"{_CHILD_INDENT}<recordings></recordings>"
            f"{_CHILD_INDENT}<messageKey>{E.NO_RECORDINGS.key}</messageKey>"
            f"{_CHILD_INDENT}<message>{escape(E.NO_RECORDINGS.message)}</message>"
            f"{_CLOSE_INDENT}</response>"
        )
    head = (
        f"<response>{_CHILD_INDENT}<returncode>SUCCESS</returncode>"
        f"{_CHILD_INDENT}<recordings>{''.join(blocks)}</recordings>{_CLOSE_INDENT}"
    )
    if pagination is None:
        return head + "</response>"
    return head + pagination.render() + "</response>"


def fetch_all_disabled_xml() -> str:
    """The answer to an unfiltered getRecordings with ``allowFetchAllRecordings=false``."""
    return render_compact(
        [
            ("returncode", "SUCCESS"),
            ("messageKey", E.NO_RECORDINGS_FETCH_ALL.key),
            ("message", E.NO_RECORDINGS_FETCH_ALL.message),
        ]
    )


def publish_recordings_xml(publish: str) -> str:
    """The ``publish`` parameter is echoed as given (``True``, ``y``, ``1`` …)."""
    return render_compact([("returncode", "SUCCESS"), ("published", publish)])


def delete_recordings_xml() -> str:
    return render_compact([("returncode", "SUCCESS"), ("deleted", True)])


def update_recordings_xml() -> str:
    return render_compact([("returncode", "SUCCESS"), ("updated", True)])


# --- parameters ---------------------------------------------------------------------------------

_JAVA_INT = re.compile(r"[+-]?\d{1,10}")


def _java_int(value: str | None) -> int | None:
    """``Integer.parseInt``, None where it throws."""
    if value is None or not _JAVA_INT.fullmatch(value):
        return None
    number = int(value)
    return number if -(2**31) <= number < 2**31 else None


def split_ids(value: str | None) -> list[str]:
    """A comma-separated ID list; blanks dropped."""
    return [part for part in (value or "").split(",") if part]


def groovy_to_boolean(value: str) -> bool:
    """Groovy ``String.toBoolean()``: ``true``, ``y`` or ``1`` (trimmed, any case)."""
    return value.strip().lower() in ("true", "y", "1")


def recording_action_error(params: Mapping[str, str], *, needs_publish: bool) -> E.ApiError | None:
    """The parameter checks that publish/delete/updateRecordings make before verifying the
    checksum (REFERENCE.md §5.8): a missing checksum comes first, then ``recordID``, then
    ``publish``.  The caller verifies the checksum when this returns None."""
    if not params.get("checksum"):
        return E.RECORDING_CHECKSUM
    if not params.get("recordID"):
        return E.MISSING_PARAM_RECORD_ID
    if needs_publish and not params.get("publish"):
        return E.MISSING_PARAM_PUBLISH
    return None


def metadata_updates(params: ApiParams) -> dict[str, str]:
    """updateRecordings' ``meta_*`` parameters: lowercased name → value ("" deletes the key)."""
    return params.metadata()


class OffsetBeyondResults(LookupError):
    """bbb-web throws (HTTP 500) when ``offset`` is larger than the number of recordings."""


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RecordingQuery:
    """getRecordings' filters (REFERENCE.md §5.7)."""

    record_ids: tuple[str, ...] = ()
    meeting_ids: tuple[str, ...] = ()  # external, decoded
    states: frozenset[str] = DEFAULT_STATES
    metadata: tuple[tuple[str, str], ...] = ()
    offset: int = 0
    limit: int | None = None  # None: no pagination
    _prefixes: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def from_params(cls, params: ApiParams) -> RecordingQuery:
        meeting_ids = tuple(unquote_plus(m) for m in split_ids(params.get("meetingID")))
        record_ids = tuple(split_ids(params.get("recordID")))
        requested = split_ids(params.get("state"))
        states = ALL_STATES if "any" in requested else frozenset(requested) or DEFAULT_STATES
        metadata = tuple(
            (name[5:].lower(), value) for name, value in params.items() if META_NAME.fullmatch(name)
        )
        limit = _java_int(params.get("limit"))
        offset = _java_int(params.get("offset")) or 0
        # recordID wins over meetingID; a meetingID names the internal IDs sha1(meetingID)-…
        prefixes = record_ids or tuple(
            hashlib.sha1(m.encode("utf-8")).hexdigest() for m in meeting_ids
        )
        return cls(
            record_ids=record_ids,
            meeting_ids=meeting_ids,
            states=states,
            metadata=metadata,
            offset=max(offset, 0),
            limit=None if limit is None else min(max(limit, 1), MAX_LIMIT),
            _prefixes=prefixes,
        )

    @property
    def fetches_all(self) -> bool:
        """No IDs and no limit: what ``allowFetchAllRecordings=false`` refuses."""
        return not self.record_ids and not self.meeting_ids and self.limit is None

    def matches(self, record_id: str, state: str, metadata: Mapping[str, str] | None) -> bool:
        if self._prefixes and not any(record_id.startswith(p) for p in self._prefixes):
            return False
        if state not in self.states:
            return False
        return all(
            metadata is not None and name in metadata and meta_matches(metadata[name], pattern)
            for name, pattern in self.metadata
        )

    def page(self, items: Sequence[T]) -> tuple[list[T], Pagination | None]:
        """The requested page of the matching items, and what ``<pagination>`` says about it."""
        if self.limit is None:
            return list(items), None
        if self.offset > len(items):
            raise OffsetBeyondResults(f"offset {self.offset} > {len(items)} recordings")
        page = list(items[self.offset : self.offset + self.limit])
        return page, Pagination(self.offset, self.limit, len(items), not page)


def meta_matches(value: str, pattern: str) -> bool:
    """A ``meta_*`` filter: exact, or ``%x`` (ends with), ``x%`` (starts with), ``%x%``."""
    if len(pattern) >= 2 and pattern.startswith("%") and pattern.endswith("%"):
        return pattern[1:-1] in value
    if pattern.startswith("%"):
        return value.endswith(pattern[1:])
    if pattern.endswith("%"):
        return value.startswith(pattern[:-1])
    return value == pattern
