"""The BBB 3.0 API calls: their names, HTTP methods, checksum family and accepted body types.

REFERENCE.md §1.1 (routing), §2.3 (which checksum implementation) and §2.4 (content types).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ChecksumFamily(enum.Enum):
    """Which of bbb-web's checksum implementations guards a call (they word errors differently)."""

    VALIDATION = "validation"  # ValidationService: "Checksums do not match"
    RECORDING = "recording"  # RecordingController: "You did not pass the checksum security check"
    HOOKS = "hooks"  # bbb-webhooks: same text with a final period
    NONE = "none"  # session-token calls: no checksum at all


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
XML_TYPES = frozenset({"application/xml", "text/xml"})


@dataclass(frozen=True, slots=True)
class ApiCall:
    name: str
    methods: frozenset[str]
    checksum: ChecksumFamily
    body_types: frozenset[str] = FORM_TYPES

    def accepts(self, method: str) -> bool:
        return method in self.methods or (method == "HEAD" and "GET" in self.methods)


_GET = frozenset({"GET"})
_POST = frozenset({"POST"})
_BOTH = frozenset({"GET", "POST"})
V, R, H, N = (
    ChecksumFamily.VALIDATION,
    ChecksumFamily.RECORDING,
    ChecksumFamily.HOOKS,
    ChecksumFamily.NONE,
)

CALLS: dict[str, ApiCall] = {
    call.name: call
    for call in (
        ApiCall("create", _BOTH, V, FORM_TYPES | XML_TYPES),
        ApiCall("join", _GET, V),
        ApiCall("isMeetingRunning", _BOTH, V),
        ApiCall("end", _BOTH, V),
        ApiCall("getMeetingInfo", _BOTH, V),
        ApiCall("getMeetings", _BOTH, V),
        ApiCall("getSessions", _BOTH, V),
        ApiCall("stuns", _BOTH, N),
        ApiCall("signOut", _BOTH, N),
        ApiCall("insertDocument", _POST, V, XML_TYPES),
        ApiCall("getJoinUrl", _BOTH, N),
        ApiCall("learningDashboard", _BOTH, N),
        ApiCall("sendChatMessage", _GET, V),
        ApiCall("getRecordings", _BOTH, R),
        ApiCall("updateRecordings", _BOTH, R),
        ApiCall("getRecordingTextTracks", _BOTH, R),
        ApiCall("putRecordingTextTrack", _POST, R),
        ApiCall("publishRecordings", _GET, R),
        ApiCall("deleteRecordings", _GET, R),
        ApiCall("hooks/create", _GET, H),
        ApiCall("hooks/list", _GET, H),
        ApiCall("hooks/destroy", _GET, H),
    )
}


def media_type(content_type: str | None) -> str:
    """``text/XML; charset=utf-8`` -> ``text/xml``."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def body_type_allowed(call: ApiCall, content_type: str | None) -> bool:
    """The 3.0 relaxed Content-Type check for requests that carry a body (§2.4)."""
    return media_type(content_type) in call.body_types
