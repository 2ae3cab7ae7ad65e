"""The JSON failures of getRecordingTextTracks and putRecordingTextTrack (REFERENCE.md §5.11,
§5.12): getRecordingTextTracks writes compact Gson, putRecordingTextTrack pretty JsonBuilder
(4-space indentation).  Gson escapes ``< > & = '`` as ``\\u003c`` …; so does this module."""

from __future__ import annotations

import json
from typing import Final

from bbbfleet.protocol.errors import ApiError

KINDS: Final = ("subtitles", "captions")
PUT_MISSING_CHECKSUM: Final = ApiError("paramError", "Missing param checksum.")
PUT_MISSING_RECORD_ID: Final = ApiError("paramError", "Missing param recordID.")


def _gson(text: str) -> str:
    for char in "<>&='":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def tracks_failed_json(key: str, message: str) -> str:
    """A getRecordingTextTracks failure (Gson, compact)."""
    body = {"response": {"returncode": "FAILED", "messageKey": key, "message": message}}
    return _gson(json.dumps(body, separators=(",", ":"), ensure_ascii=False))


def tracks_no_recording_json(record_id: str) -> str:
    return tracks_failed_json("noRecordings", f"No recording found for {record_id}")


def put_failed_json(key: str, message: str) -> str:
    """A putRecordingTextTrack parameter failure (JsonBuilder.toPrettyString)."""
    body = {"response": {"returncode": "FAILED", "messageKey": key, "message": message}}
    return json.dumps(body, indent=4, ensure_ascii=False)


def put_no_recording_json(record_id: str) -> str:
    return put_failed_json("noRecordings", f"No recording was found for {record_id}")
