"""Reading a getRecordings answer back into ``RecordingSnapshot`` values: the inverse of
``bbbfleet.protocol.recordings``' renderer (REFERENCE.md §6); and re-serialising a rendered
block the way a paginated answer shows it.

The gateway's recording index polls each backend's getRecordings and keeps what it parsed, so
it can answer getRecordings itself.  ``recording_block(parse(...))`` gives back the backend's
block byte for byte for everything BBB 3.0 writes; of a format's extensions only ``<preview>``
is kept (other extension elements are dropped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree import ElementTree

from bbbfleet.protocol import recordings as rec
from bbbfleet.protocol.recordings import (
    BreakoutOf,
    PlaybackFormat,
    PreviewImage,
    RecordingSnapshot,
)


class UnreadableRecordings(ValueError):
    """The answer is not a getRecordings document."""


@dataclass(frozen=True, slots=True)
class RecordingsPage:
    """One getRecordings answer: its recordings and, when paginated, the total."""

    recordings: list[RecordingSnapshot]
    total: int | None  # <pagination><totalElements>, None without pagination


def _int(element: ElementTree.Element, tag: str) -> int:
    text = (element.findtext(tag) or "").strip()
    try:
        return int(text)
    except ValueError:
        return 0


def _bool(element: ElementTree.Element, tag: str) -> bool:
    return (element.findtext(tag) or "").strip() == "true"


def _format(element: ElementTree.Element) -> PlaybackFormat:
    images = tuple(
        PreviewImage(
            alt=image.get("alt", ""),
            url=(image.text or "").strip(),
            width=int(image.get("width", rec.THUMBNAIL_WIDTH) or rec.THUMBNAIL_WIDTH),
            height=int(image.get("height", rec.THUMBNAIL_HEIGHT) or rec.THUMBNAIL_HEIGHT),
        )
        for image in element.iterfind("preview/images/image")
    )
    length_minutes = _int(element, "length")
    return PlaybackFormat(
        type=element.findtext("type") or "",
        url=element.findtext("url") or "",
        processing_time_ms=_int(element, "processingTime"),
        # only the minutes are published; keep them as the duration so they render back
        duration_ms=length_minutes * rec.MINUTE_MS,
        size=_int(element, "size"),
        preview=images,
    )


def parse_recording(element: ElementTree.Element) -> RecordingSnapshot:
    """One ``<recording>`` element."""
    metadata_element = element.find("metadata")
    metadata = (
        None
        if metadata_element is None
        else tuple((child.tag, child.text or "") for child in metadata_element)
    )
    breakout_element = element.find("breakout")
    breakout = (
        None
        if breakout_element is None
        else BreakoutOf(
            parent_id=breakout_element.findtext("parentId") or "",
            sequence=_int(breakout_element, "sequence"),
            free_join=_bool(breakout_element, "freeJoin"),
        )
    )
    return RecordingSnapshot(
        record_id=element.findtext("recordID") or "",
        meeting_id=element.findtext("meetingID") or "",
        name=element.findtext("name") or "",
        state=element.findtext("state") or rec.PUBLISHED,
        start_time=_int(element, "startTime"),
        end_time=_int(element, "endTime"),
        participants=_int(element, "participants"),
        raw_size=_int(element, "rawSize"),
        is_breakout=_bool(element, "isBreakout"),
        metadata=metadata,
        breakout=breakout,
        breakout_rooms=tuple(r.text or "" for r in element.iterfind("breakoutRooms/breakoutRoom")),
        playback=tuple(_format(f) for f in element.iterfind("playback/format")),
        data=tuple(
            (f.findtext("type") or "", f.findtext("url") or "")
            for f in element.iterfind("data/format")
        ),
    )


def parse_get_recordings(body: str) -> RecordingsPage:
    """A getRecordings answer; ``noRecordings`` is an empty page.  Raises UnreadableRecordings
    for anything else (FAILED answers, HTML error pages, broken XML)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise UnreadableRecordings(f"not XML: {exc}") from exc
    if root.tag != "response" or root.findtext("returncode") != "SUCCESS":
        key = root.findtext("messageKey") if root.tag == "response" else None
        raise UnreadableRecordings(f"getRecordings did not succeed ({key or root.tag})")
    recordings = [parse_recording(e) for e in root.iterfind("recordings/recording")]
    total_text = root.findtext("pagination/totalElements")
    total = int(total_text) if total_text and total_text.strip().isdigit() else None
    return RecordingsPage(recordings, total)


_EMPTY_ELEMENT = re.compile(r"<([A-Za-z_][\w.\-]*)((?: [^<>]*)?)></\1>")


def paginated_block(block: str) -> str:
    """``recording_block(r)`` → ``recording_block(r, paginated=True)``: the JDK transformer
    writes every empty element as ``<x/>``.  Text and attribute values are escaped, so an
    empty element is the only place ``></`` directly closes what it opened."""
    return _EMPTY_ELEMENT.sub(r"<\1\2/>", block)
