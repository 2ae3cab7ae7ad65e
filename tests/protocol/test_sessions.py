"""The session-token calls' JSON answers and the join URL getJoinUrl builds (REFERENCE.md
§5.14-5.16), against the reference examples."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.checksum import compute
from bbbfleet.protocol.sessions import (
    JoinUrlRequest,
    TurnServer,
    java_url_encode,
    join_url,
    join_url_json,
    join_url_query,
    learning_dashboard_json,
    session_failure_json,
    session_token_violations,
    stuns_failure_json,
    stuns_json,
    turn_credentials,
    userdata_of,
)
from tests.conftest import example

SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
ANTON = JoinUrlRequest(
    full_name="Anton G",
    meeting_id="moodle-course-7-room-3",
    moderator=True,
    internal_user_id="w_ftcrsyuh44oj",
    session_token="abcdefghijklmnop",
    session_name="Room display",
)


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("Anton G", "Anton+G"),
        ("a+b&c=d", "a%2Bb%26c%3Dd"),
        ("*-._~!'()", "*-._%7E%21%27%28%29"),
        ("Jürgen", "J%C3%BCrgen"),
    ],
)
def test_java_url_encode(text: str, encoded: str) -> None:
    assert java_url_encode(text) == encoded


def test_join_url_matches_the_example_up_to_the_illustrative_checksum() -> None:
    query = join_url_query(ANTON)
    url = join_url("https://bbb.example.com", query, SECRET)
    body = json.loads(example("getJoinUrl-success.json"))
    expected_url = body["response"]["url"]
    assert url.rsplit("&checksum=", 1)[0] == expected_url.rsplit("&checksum=", 1)[0]
    assert url.endswith(f"&checksum={compute('join', query, SECRET, 'sha1')}")
    assert query.startswith("&fullName=Anton%2BG&")


def test_join_url_json_is_the_example() -> None:
    url = json.loads(example("getJoinUrl-success.json"))["response"]["url"]
    assert join_url_json(url) == example("getJoinUrl-success.json")


def test_double_encoding_of_meeting_id_and_options_in_order() -> None:
    request = JoinUrlRequest(
        full_name="A&B",
        meeting_id="room 1",
        moderator=False,
        internal_user_id="w_000000000000",
        session_token="tok",
        replace_session=True,
        session_name="S",
        enforce_layout="CAMERAS_ONLY",
        userdata=(("bbb_presenter_tools", "x"), ("custom", "y z")),
    )
    assert join_url_query(request) == (
        "&fullName=A%2526B&meetingID=room%2B1&role=VIEWER&redirect=true"
        "&existingUserID=w_000000000000&replaceSessionToken=tok&sessionName=S"
        "&enforceLayout=CAMERAS_ONLY&userdata-custom=y+z"
    )
    assert "bbb_presenter_tools" in join_url_query(request, blocklist=())


def test_userdata_of_keeps_names_with_exactly_one_dash() -> None:
    params = {"userdata-a": "1", "userdata-b-c": "2", "userdata-": "3", "x": "4", "userdata-d": ""}
    assert userdata_of(params) == (("a", "1"), ("d", ""))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("getJoinUrl-missing-session-token.json", E.SESSION_TOKEN_MISSING.message),
        ("getJoinUrl-invalid-session-token.json", E.SESSION_TOKEN_INVALID.message),
        ("getJoinUrl-no-http-session.json", E.NO_HTTP_SESSION),
        ("getJoinUrl-meeting-not-running.json", E.SESSION_MEETING_NOT_FOUND),
        ("learningDashboard-access-denied.json", E.ACCESS_DENIED),
        ("learningDashboard-disabled.json", E.LEARNING_DASHBOARD_DISABLED),
    ],
)
def test_session_failures_are_the_examples(name: str, message: str) -> None:
    assert session_failure_json(message) == example(name)


def test_learning_dashboard_json_is_the_example() -> None:
    data = json.loads(example("learningDashboard-success.json"))["response"]["data"]
    assert learning_dashboard_json(data) == example("learningDashboard-success.json")


def test_stuns_answers_are_the_examples() -> None:
    assert stuns_failure_json("https://bbb.example.com") == example("stuns-failed.json")
    turn = TurnServer(
        "1715348128:w_ftcrsyuh44oj",
        "Lx3TcbqGgB6Wf3W3l2k8ZQZ1Y0E=",
        "turns:turn.example.com:443?transport=tcp",
        86400,
    )
    body = stuns_json(["stun:stun.l.google.com:19302"], [turn], ["192.0.2.10"])
    assert body == example("stuns-success.json")


def test_turn_credentials_follow_the_coturn_rest_scheme() -> None:
    username, password = turn_credentials("s3cret", "w_ftcrsyuh44oj", 1715261728, 86400)
    assert username == "1715348128:w_ftcrsyuh44oj"
    digest = hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest()
    assert password == base64.b64encode(digest).decode()


def test_session_token_violations() -> None:
    assert session_token_violations(None, False) == [E.SESSION_TOKEN_MISSING]
    assert session_token_violations("", False) == [E.SESSION_TOKEN_INVALID]
    assert session_token_violations("tok", True) == []
