"""Blank out the values that differ between any two BBB answers (generated IDs, times, tokens),
so that a gateway answer and a direct simulator answer can be compared byte for byte."""

from __future__ import annotations

import re

GENERATED = (
    "internalMeetingID",
    "createTime",
    "createDate",
    "voiceBridge",
    "startTime",
    "attendeePW",
    "moderatorPW",
    "meeting_id",
    "user_id",
    "auth_token",
    "session_token",
    "url",
    "userID",
)
_PATTERN = re.compile(r"<({})>[^<]*</\1>".format("|".join(GENERATED)))


def normalise(body: str, **replacements: str) -> str:
    body = _PATTERN.sub(lambda m: f"<{m.group(1)}>*</{m.group(1)}>", body)
    for old, new in replacements.items():
        body = body.replace(old, new)
    return body
