"""From a backend's view of a meeting to the tenant's (pure).

The gateway sends BBB ``bf<tenant id>-<tenant meetingID>``, or ``bf<tenant id>-h-<sha256 hex>``
when that would exceed BBB's 256 characters (``gateway.meetings.backend_meeting_id``).  The
first form can be read back without the meetings table (events arrive after a meeting was
forgotten: ``meeting-ended``, the recording pipeline); the hashed form only through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BACKEND_ID = re.compile(r"bf([0-9]+)-(.*)", re.DOTALL)
_HASHED = re.compile(r"h-[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class ParsedMeetingId:
    tenant_id: int
    meeting_id: str | None  # None: hashed, only the meetings table knows the tenant's ID


def parse_backend_meeting_id(backend_meeting_id: str) -> ParsedMeetingId | None:
    """The tenant (and meetingID) a backend meetingID stands for; None when it is not one the
    gateway made (a meeting created on the backend directly)."""
    match = _BACKEND_ID.fullmatch(backend_meeting_id)
    if match is None or match.group(1).startswith("0"):
        return None
    rest = match.group(2)
    if _HASHED.fullmatch(rest):
        return ParsedMeetingId(int(match.group(1)), None)
    return ParsedMeetingId(int(match.group(1)), rest)
