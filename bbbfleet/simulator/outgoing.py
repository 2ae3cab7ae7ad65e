"""The HTTP POSTs a simulated server sends on its own (contract C2 and C5), built without I/O.

* ``recording_ready`` – ``meta_bbb-recording-ready-url`` (BBB's
  ``post_publish_recording_ready_callback.rb``): form field ``signed_parameters``, an HS256 JWT
  (header ``{"alg":"HS256"}`` as ruby-jwt writes it) of ``meeting_id`` (external) and
  ``record_id``, signed with the server's secret.  The URL may also come from
  ``meta_bn-recording-ready-url`` or ``meta_canvas-recording-ready-url``.
* ``analytics`` – ``meta_analytics-callback-url`` (``post_events_analytics_callback.rb``):
  JSON body ``{"version":"1.0","meeting_id":…,"internal_meeting_id":…,"data":{…}}`` (the
  bbbevents gem's summary, keys snake_case, ``gl_*`` metadata and internal user IDs removed),
  ``Authorization: Bearer`` an HS512 JWT ``{"exp": now + 24 h}`` (header typ JWT),
  ``User-Agent: BigBlueButton Analytics Callback``.
* ``push`` – the post-publish push of the recording archive (``bbbfleet.protocol.recording_push``).

``push.py`` sends them; ``OutgoingPost.retry`` says which answers are worth another try.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from bbbfleet.protocol import recording_push

READY_KEYS: Final = (
    "bbb-recording-ready-url",
    "bn-recording-ready-url",
    "canvas-recording-ready-url",
)
ANALYTICS_KEY: Final = "analytics-callback-url"
ANALYTICS_AGENT: Final = "BigBlueButton Analytics Callback"


@dataclass
class OutgoingPost:
    """One POST to send, with what to do with its answers."""

    kind: str  # "push" | "recording-ready" | "analytics"
    url: str
    body: bytes
    headers: dict[str, str]
    record_id: str | None = None
    sha256: str | None = None  # push: the archive's digest, to check the answer against
    # HTTP statuses that end the attempts although they are no success (BBB logs and stops)
    final_statuses: frozenset[int] = field(default_factory=frozenset)
    retry_server_errors_only: bool = False  # push: 4xx answers are final too

    def retry(self, status: int) -> bool:
        """Whether an answer with this status deserves another attempt."""
        if 200 <= status < 300 or status in self.final_statuses:
            return False
        return status >= 500 if self.retry_server_errors_only else True


def ready_url(metadata: dict[str, str]) -> str | None:
    """The recording-ready URL of a meeting's metadata (first of the three keys BBB reads)."""
    return next((metadata[k] for k in READY_KEYS if metadata.get(k)), None)


def _jwt(claims: dict[str, Any], secret: str, algorithm: str, **headers: Any) -> str:
    # BBB signs with its shared secret whatever its length; PyJWT would warn about short ones.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, secret, algorithm=algorithm, headers=headers or None)


def recording_ready(url: str, meeting_id: str, record_id: str, secret: str) -> OutgoingPost:
    # ruby-jwt writes the header {"alg":"HS256"} only: no "typ"
    token = _jwt({"meeting_id": meeting_id, "record_id": record_id}, secret, "HS256", typ=None)
    return OutgoingPost(
        kind="recording-ready",
        url=url,
        body=urlencode({"signed_parameters": token}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        record_id=record_id,
        final_statuses=frozenset({404, 410}),
    )


def push(base_url: str, server: str, record_id: str, archive: bytes, secret: str) -> OutgoingPost:
    query = recording_push.push_query(server, record_id, archive, secret)
    return OutgoingPost(
        kind="push",
        url=recording_push.push_url(base_url, query),
        body=archive,
        headers={"Content-Type": recording_push.TAR_TYPE},
        record_id=record_id,
        sha256=hashlib.sha256(archive).hexdigest() if archive else None,
        retry_server_errors_only=True,
    )


# --- analytics ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttendeeVisit:
    """One session of a user in the meeting, as events.xml records joins and leaves."""

    internal_id: str
    external_id: str
    name: str
    moderator: bool
    joined_at: int  # ms
    left_at: int  # ms


def ruby_time(millis: int) -> str:
    """Ruby ``Time#to_s`` on a UTC server: ``2023-08-07 14:06:14 +0000``."""
    return time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(millis / 1000))


def snake_case(key: str) -> str:
    """ActiveSupport ``underscore``: ``meetingName`` → ``meeting_name``, ``a-b`` → ``a_b``."""
    key = re.sub(r"([A-Z\d]+)([A-Z][a-z])", r"\1_\2", key)
    key = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", key)
    return key.replace("-", "_").lower()


def analytics_payload(
    meeting_id: str,
    internal_id: str,
    metadata: dict[str, str],
    start: int,
    finish: int,
    visits: list[AttendeeVisit],
    files: list[str],
) -> dict[str, Any]:
    """The body of the analytics callback, built as the script builds it from bbbevents."""
    # format_analytics_data!: gl_* keys go; it deletes "meeting_id" before the keys are
    # snake_cased, so the "meetingId" key survives as "meeting_id" (as on a real server).
    meta = {snake_case(k): v for k, v in metadata.items() if not k.startswith("gl_")}
    attendees: dict[str, dict[str, Any]] = {}
    for visit in visits:
        entry = attendees.setdefault(
            visit.external_id,
            {
                "ext_user_id": visit.external_id,
                "name": visit.name,
                "moderator": visit.moderator,
                "joins": [],
                "leaves": [],
                "duration": 0,
                "recent_talking_time": "",
                "engagement": {
                    "chats": 0,
                    "talks": 0,
                    "raisehand": 0,
                    "emojis": 0,
                    "poll_votes": 0,
                    "talk_time": 0,
                },
                "sessions": {},
            },
        )
        entry["joins"].append(ruby_time(visit.joined_at))
        entry["leaves"].append(ruby_time(visit.left_at))
        entry["duration"] += max(visit.left_at - visit.joined_at, 0) // 1000
        session = entry["sessions"].setdefault(visit.internal_id, {"joins": [], "lefts": []})
        for event, at, bucket in (
            ("join", visit.joined_at, "joins"),
            ("left", visit.left_at, "lefts"),
        ):
            session[bucket].append(
                {
                    "timestamp": ruby_time(at),
                    "userid": visit.internal_id,
                    "ext_userid": visit.external_id,
                    "event": event,
                    "remove": False,
                }
            )
    return {
        "version": "1.0",
        "meeting_id": meeting_id,
        "internal_meeting_id": internal_id,
        "data": {
            "metadata": meta,
            "duration": max(finish - start, 0) // 1000,
            "start": ruby_time(start),
            "finish": ruby_time(finish),
            "attendees": list(attendees.values()),
            "files": files,
            "polls": [],
        },
    }


def analytics(url: str, payload: dict[str, Any], secret: str, now_seconds: int) -> OutgoingPost:
    """``now_seconds`` is wall-clock time: the receiver checks ``exp`` against its own clock."""
    token = _jwt({"exp": now_seconds + 24 * 3600}, secret, "HS512", typ="JWT")
    return OutgoingPost(
        kind="analytics",
        url=url,
        body=json.dumps(payload, separators=(",", ":")).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "User-Agent": ANALYTICS_AGENT,
        },
        record_id=payload["internal_meeting_id"],
    )
