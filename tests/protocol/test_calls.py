"""The call table: methods (REFERENCE.md §1.1), checksum families (§2.3), body types (§2.4)."""

from __future__ import annotations

import pytest

from bbbfleet.protocol.calls import (
    CALLS,
    ChecksumFamily,
    body_type_allowed,
    media_type,
)

GET_ONLY = {"join", "sendChatMessage", "publishRecordings", "deleteRecordings"}
POST_ONLY = {"insertDocument", "putRecordingTextTrack"}
HOOKS = {"hooks/create", "hooks/list", "hooks/destroy"}


def test_every_mapped_call_is_known() -> None:
    assert set(CALLS) == {
        "create",
        "join",
        "isMeetingRunning",
        "end",
        "getMeetingInfo",
        "getMeetings",
        "getSessions",
        "stuns",
        "signOut",
        "insertDocument",
        "getJoinUrl",
        "learningDashboard",
        "sendChatMessage",
        "getRecordings",
        "updateRecordings",
        "getRecordingTextTracks",
        "putRecordingTextTrack",
        "publishRecordings",
        "deleteRecordings",
        *HOOKS,
    }
    # guestWait and feedback have no controller action in 3.0 GA (404).
    assert "guestWait" not in CALLS
    assert "feedback" not in CALLS


@pytest.mark.parametrize("name", sorted(CALLS))
def test_methods(name: str) -> None:
    call = CALLS[name]
    expect_get = name not in POST_ONLY
    expect_post = name not in GET_ONLY and name not in HOOKS
    assert call.accepts("GET") is expect_get
    assert call.accepts("HEAD") is expect_get
    assert call.accepts("POST") is expect_post
    assert call.accepts("PUT") is False
    assert call.accepts("DELETE") is False


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("create", ChecksumFamily.VALIDATION),
        ("join", ChecksumFamily.VALIDATION),
        ("getSessions", ChecksumFamily.VALIDATION),
        ("insertDocument", ChecksumFamily.VALIDATION),
        ("sendChatMessage", ChecksumFamily.VALIDATION),
        ("getRecordings", ChecksumFamily.RECORDING),
        ("putRecordingTextTrack", ChecksumFamily.RECORDING),
        ("deleteRecordings", ChecksumFamily.RECORDING),
        ("hooks/list", ChecksumFamily.HOOKS),
        ("stuns", ChecksumFamily.NONE),
        ("signOut", ChecksumFamily.NONE),
        ("getJoinUrl", ChecksumFamily.NONE),
        ("learningDashboard", ChecksumFamily.NONE),
    ],
)
def test_checksum_family(name: str, family: ChecksumFamily) -> None:
    assert CALLS[name].checksum is family


def test_media_type() -> None:
    assert media_type("text/XML; charset=utf-8") == "text/xml"
    assert media_type(" Application/X-WWW-Form-Urlencoded ;charset=UTF-8") == (
        "application/x-www-form-urlencoded"
    )
    assert media_type(None) == ""
    assert media_type("") == ""


@pytest.mark.parametrize(
    ("name", "content_type", "allowed"),
    [
        ("create", "application/x-www-form-urlencoded", True),
        ("create", "multipart/form-data; boundary=x", True),
        ("create", "application/xml", True),
        ("create", "TEXT/XML; charset=utf-8", True),
        ("create", "application/json", False),
        ("create", None, False),
        ("insertDocument", "text/xml", True),
        ("insertDocument", "application/x-www-form-urlencoded", False),
        ("end", "application/x-www-form-urlencoded; charset=UTF-8", True),
        ("end", "application/xml", False),
        ("getMeetings", "text/plain", False),
    ],
)
def test_body_type_allowed(name: str, content_type: str | None, allowed: bool) -> None:
    assert body_type_allowed(CALLS[name], content_type) is allowed
