"""Pre-signed request paths: every BBB call needs a valid checksum and create needs a new
meetingID each time, so the paths are generated and signed here, before the clock starts, and the
load generator only replays them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

from bbbfleet.protocol.checksum import sign_query

API_PATH = "/bigbluebutton/api/"


def signed_path(call: str, params: Sequence[tuple[str, str]], secret: str) -> str:
    """``/bigbluebutton/api/<call>?<query>&checksum=…`` (sha1, what most BBB clients send)."""
    query = urlencode(list(params), quote_via=quote)
    return f"{API_PATH}{call}?{sign_query(call, query, secret)}"


def create_params(meeting_id: str) -> list[tuple[str, str]]:
    return [("name", f"Bench {meeting_id}"), ("meetingID", meeting_id), ("record", "false")]


def join_params(meeting_id: str, user: int, role: str = "VIEWER") -> list[tuple[str, str]]:
    return [("fullName", f"Bench User {user}"), ("meetingID", meeting_id), ("role", role)]


def create_paths(secret: str, prefix: str, count: int) -> list[str]:
    return [signed_path("create", create_params(f"{prefix}-{i}"), secret) for i in range(count)]


def join_paths(secret: str, meeting_ids: Sequence[str], count: int) -> list[str]:
    return [
        signed_path("join", join_params(meeting_ids[i % len(meeting_ids)], i), secret)
        for i in range(count)
    ]


def is_meeting_running_paths(secret: str, meeting_ids: Sequence[str]) -> list[str]:
    return [signed_path("isMeetingRunning", [("meetingID", m)], secret) for m in meeting_ids]


def get_meetings_paths(secret: str) -> list[str]:
    return [signed_path("getMeetings", [], secret)]


def write_paths(path: Path, paths: Iterable[str]) -> Path:
    path.write_text("".join(f"{p}\n" for p in paths))
    return path
