"""The session-token calls (getJoinUrl, learningDashboard, stuns, signOut) over real HTTP: byte for
byte like the reference examples (generated tokens, IDs and checksums aside), the HTTP-session
cookie of the client page, and the ``existingUserID`` join that getJoinUrl's URLs make."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest

from bbbfleet.protocol.checksum import compute
from bbbfleet.simulator import ManualClock
from tests.conftest import example
from tests.simulator.conftest import Bbb, normalise, query

ANTON_ROOM = "moodle-course-7-room-3"
SESSION_GENERATED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"checksum=[0-9a-f]{40}"), "checksum={sha1}"),
    (re.compile(r'"username": "\d{10}:'), '"username": "{expiry}:'),
    (re.compile(r'"password": "[A-Za-z0-9+/]{27}="'), '"password": "{hmac}"'),
    # The dashboard's per-user stats: the example shows a meeting without any.
    (re.compile(r'\\"users\\":\{.*\}\}"'), r'\\"users\\":{}}"'),
]


def session_normalise(bbb: Bbb, text: str) -> str:
    text = bbb.normalise(text)
    for pattern, replacement in SESSION_GENERATED:
        text = pattern.sub(replacement, text)
    return text


def assert_json_example(bbb: Bbb, response: httpx.Response, name: str) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    expected = normalise(example(name))
    for pattern, replacement in SESSION_GENERATED:
        expected = pattern.sub(replacement, expected)
    assert session_normalise(bbb, response.text) == expected


@pytest.fixture
async def stranger() -> AsyncIterator[httpx.AsyncClient]:
    """Another browser: no cookies from the client page."""
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def session_call(bbb: Bbb, call: str, **params: str) -> httpx.Response:
    return await bbb.http.get(f"{bbb.host.url}{call}?{query(**params)}")


async def anton_moderator(bbb: Bbb, **create: str) -> str:
    await bbb.create(ANTON_ROOM, name="Anton G's Room", **create)
    return await bbb.enter(ANTON_ROOM, fullName="Anton G", role="moderator")


async def join_url_of(bbb: Bbb, token: str, **params: str) -> str:
    response = await session_call(bbb, "getJoinUrl", sessionToken=token, **params)
    answer = json.loads(response.text)["response"]
    assert answer["returncode"] == "SUCCESS", response.text
    url: str = answer["url"]
    return url


# --- getJoinUrl -----------------------------------------------------------------------------------


async def test_get_join_url_success_example(bbb: Bbb) -> None:
    token = await anton_moderator(bbb)
    response = await session_call(bbb, "getJoinUrl", sessionToken=token, sessionName="Room display")
    assert_json_example(bbb, response, "getJoinUrl-success.json")


async def test_join_url_checksum_is_sha1_over_the_query_with_its_leading_ampersand(
    bbb: Bbb,
) -> None:
    token = await anton_moderator(bbb)
    url = await join_url_of(bbb, token)
    query_string, checksum = urlsplit(url).query.rsplit("&checksum=", 1)
    assert query_string.startswith("&fullName=Anton%2BG&meetingID=moodle-course-7-room-3&")
    assert checksum == compute("join", query_string, bbb.host.secret, "sha1")


async def test_get_join_url_failure_examples(bbb: Bbb, stranger: httpx.AsyncClient) -> None:
    missing = await bbb.http.get(f"{bbb.host.url}getJoinUrl")
    assert_json_example(bbb, missing, "getJoinUrl-missing-session-token.json")
    invalid = await session_call(bbb, "getJoinUrl", sessionToken="nosuchtoken12345")
    assert_json_example(bbb, invalid, "getJoinUrl-invalid-session-token.json")
    token = await anton_moderator(bbb)
    no_cookie = await stranger.get(f"{bbb.host.url}getJoinUrl?sessionToken={token}")
    assert_json_example(bbb, no_cookie, "getJoinUrl-no-http-session.json")
    # Known token, no cookie: the session check comes after the token check.
    registered = await bbb.join(ANTON_ROOM, fullName="Late", role="viewer")
    late_token = registered.headers["location"].rsplit("=", 1)[1]
    not_opened = await session_call(bbb, "getJoinUrl", sessionToken=late_token)
    assert_json_example(bbb, not_opened, "getJoinUrl-no-http-session.json")


async def test_get_join_url_meeting_not_running(bbb: Bbb) -> None:
    """A waiting guest has opened the client (so holds the cookie) but nobody is in."""
    await bbb.create(ANTON_ROOM, name="Anton G's Room", guestPolicy="ASK_MODERATOR")
    token = await bbb.enter(ANTON_ROOM, fullName="Mary Sue", role="viewer")
    response = await session_call(bbb, "getJoinUrl", sessionToken=token)
    assert_json_example(bbb, response, "getJoinUrl-meeting-not-running.json")


async def test_allow_requests_without_session_skips_the_cookie(
    bbb: Bbb, stranger: httpx.AsyncClient
) -> None:
    token = await anton_moderator(bbb, allowRequestsWithoutSession="true")
    response = await stranger.get(f"{bbb.host.url}getJoinUrl?sessionToken={token}")
    assert json.loads(response.text)["response"]["returncode"] == "SUCCESS"
    # …but not the running check: a registered user's meeting without attendees is not running.
    await bbb.create("quiet", allowRequestsWithoutSession="true")
    registered = await bbb.join("quiet", fullName="Early", role="moderator")
    early = registered.headers["location"].rsplit("=", 1)[1]
    not_running = await stranger.get(f"{bbb.host.url}getJoinUrl?sessionToken={early}")
    assert_json_example(bbb, not_running, "getJoinUrl-meeting-not-running.json")


async def test_get_join_url_by_post_form(bbb: Bbb) -> None:
    token = await anton_moderator(bbb)
    response = await bbb.http.post(
        f"{bbb.host.url}getJoinUrl", data={"sessionToken": token, "sessionName": "Room display"}
    )
    assert_json_example(bbb, response, "getJoinUrl-success.json")


async def test_join_url_optional_parameters_and_viewer_userdata_blocklist(bbb: Bbb) -> None:
    token = await anton_moderator(bbb)
    viewer = await bbb.enter(ANTON_ROOM, fullName="Mary Sue", role="viewer")
    extra = {
        "replaceSession": "true",
        "enforceLayout": "PRESENTATION_ONLY",
        "userdata-bbb_record_video": "false",
        "userdata-screen-role": "dropped: two dashes",
        "userdata-bbb_custom_style": "a b",
    }
    moderator_url = await join_url_of(bbb, token, **extra)
    assert urlsplit(moderator_url).query.startswith(
        "&fullName=Anton%2BG&meetingID=moodle-course-7-room-3&role=MODERATOR&redirect=true"
        f"&existingUserID={bbb.host.state.sessions[token].internal_user_id}"
        f"&replaceSessionToken={token}&enforceLayout=PRESENTATION_ONLY"
        "&userdata-bbb_record_video=false&userdata-bbb_custom_style=a+b&checksum="
    )
    viewer_url = await join_url_of(bbb, viewer, **extra)
    assert "&role=VIEWER&" in viewer_url
    assert "bbb_record_video" not in viewer_url
    assert "&userdata-bbb_custom_style=a+b&checksum=" in viewer_url


# --- the existingUserID join ------------------------------------------------------------------


async def test_join_url_round_trip_opens_a_second_session_for_the_same_user(
    bbb: Bbb, stranger: httpx.AsyncClient
) -> None:
    token = await anton_moderator(bbb)
    url = await join_url_of(bbb, token, sessionName="Second screen")
    joined = await stranger.get(url)  # another device: no cookie, no password
    assert joined.status_code == 302
    location = joined.headers["location"]
    assert location.startswith(f"{bbb.host.base_url}/html5client/join?sessionToken=")
    second = location.rsplit("=", 1)[1]
    assert second != token
    client = await stranger.get(location)
    assert client.status_code == 200
    assert "JSESSIONID" in client.cookies
    state = bbb.host.state
    meeting = state.meeting(ANTON_ROOM)
    assert len(meeting.users) == 1
    assert state.sessions[second].internal_user_id == state.sessions[token].internal_user_id
    assert token in state.sessions  # no replaceSession: both sessions live on
    # The new device's own cookie now vouches for its token.
    again = await stranger.get(f"{bbb.host.url}getJoinUrl?sessionToken={second}")
    assert json.loads(again.text)["response"]["returncode"] == "SUCCESS"


async def test_join_url_with_replace_session_drops_the_callers_token(bbb: Bbb) -> None:
    token = await anton_moderator(bbb)
    url = await join_url_of(bbb, token, replaceSession="true")
    joined = await bbb.http.get(url)
    assert joined.status_code == 302
    assert token not in bbb.host.state.sessions
    stale = await session_call(bbb, "getJoinUrl", sessionToken=token)
    assert_json_example(bbb, stale, "getJoinUrl-invalid-session-token.json")


async def test_existing_user_join_without_redirect_answers_the_new_token(bbb: Bbb) -> None:
    token = await anton_moderator(bbb)
    user_id = bbb.host.state.sessions[token].internal_user_id
    response = await bbb.join(
        ANTON_ROOM, fullName="Whoever", existingUserID=user_id, redirect="false"
    )
    assert "<returncode>SUCCESS</returncode>" in response.text
    new_token = re.search(r"<session_token>([a-z0-9]{16})</", response.text)
    assert new_token is not None and new_token.group(1) != token
    assert f"<user_id>{user_id}</user_id>" in response.text
    assert len(bbb.host.state.meeting(ANTON_ROOM).users) == 1


async def test_join_url_with_a_wrong_checksum_is_refused(bbb: Bbb) -> None:
    token = await anton_moderator(bbb)
    url = await join_url_of(bbb, token)
    tampered = url.replace("role=MODERATOR", "role=VIEWER")
    response = await bbb.http.get(tampered)
    assert response.status_code == 302
    assert "checksumError" in response.headers["location"]


# --- learningDashboard ----------------------------------------------------------------------------


async def test_learning_dashboard_success_example(bbb: Bbb, clock: ManualClock) -> None:
    token = await anton_moderator(bbb)
    response = await session_call(bbb, "learningDashboard", sessionToken=token)
    assert_json_example(bbb, response, "learningDashboard-success.json")
    data = json.loads(json.loads(response.text)["response"]["data"])
    user_id = bbb.host.state.sessions[token].internal_user_id
    (anton,) = data["users"].values()
    assert anton["name"] == "Anton G"
    assert anton["isModerator"] is True
    assert anton["currentIntId"] == user_id
    assert anton["intIds"][user_id]["leftOn"] == 0


async def test_learning_dashboard_failures(bbb: Bbb, stranger: httpx.AsyncClient) -> None:
    missing = await bbb.http.get(f"{bbb.host.url}learningDashboard")
    assert_json_example(bbb, missing, "getJoinUrl-missing-session-token.json")
    invalid = await session_call(bbb, "learningDashboard", sessionToken="nosuchtoken12345")
    assert_json_example(bbb, invalid, "getJoinUrl-invalid-session-token.json")
    moderator = await anton_moderator(bbb)
    no_cookie = await stranger.get(f"{bbb.host.url}learningDashboard?sessionToken={moderator}")
    assert_json_example(bbb, no_cookie, "getJoinUrl-no-http-session.json")
    viewer = await bbb.enter(ANTON_ROOM, fullName="Mary Sue", role="viewer")
    denied = await session_call(bbb, "learningDashboard", sessionToken=viewer)
    assert_json_example(bbb, denied, "learningDashboard-access-denied.json")


async def test_learning_dashboard_meeting_not_running(bbb: Bbb) -> None:
    await bbb.create(ANTON_ROOM, name="Anton G's Room", allowRequestsWithoutSession="true")
    registered = await bbb.join(ANTON_ROOM, fullName="Anton G", role="moderator")
    token = registered.headers["location"].rsplit("=", 1)[1]
    response = await session_call(bbb, "learningDashboard", sessionToken=token)
    assert_json_example(bbb, response, "getJoinUrl-meeting-not-running.json")


async def test_learning_dashboard_disabled(bbb: Bbb) -> None:
    token = await anton_moderator(bbb, disabledFeatures="chat,learningDashboard")
    response = await session_call(bbb, "learningDashboard", sessionToken=token)
    assert_json_example(bbb, response, "learningDashboard-disabled.json")


# --- stuns ----------------------------------------------------------------------------------------


async def test_stuns_success_example_with_coturn_credentials(bbb: Bbb) -> None:
    token = await anton_moderator(bbb)
    response = await session_call(bbb, "stuns", sessionToken=token)
    assert_json_example(bbb, response, "stuns-success.json")
    (turn,) = json.loads(response.text)["turnServers"]
    props = bbb.host.state.properties
    expiry, user_id = turn["username"].split(":")
    assert user_id == bbb.host.state.sessions[token].internal_user_id
    assert int(expiry) == bbb.host.state.now() // 1000 + props.turn_ttl_seconds
    digest = hmac.new(props.turn_secret.encode(), turn["username"].encode(), hashlib.sha1)
    assert turn["password"] == base64.b64encode(digest.digest()).decode()


async def test_stuns_failures_have_no_response_wrapper(bbb: Bbb) -> None:
    missing = await bbb.http.post(f"{bbb.host.url}stuns")
    assert_json_example(bbb, missing, "stuns-failed.json")
    invalid = await session_call(bbb, "stuns", sessionToken="nosuchtoken12345")
    assert_json_example(bbb, invalid, "stuns-failed.json")


# --- signOut --------------------------------------------------------------------------------------


async def test_sign_out_ends_the_session_for_the_session_calls(bbb: Bbb) -> None:
    token = await anton_moderator(bbb)
    for session_token in (token, "unknown", ""):
        response = await bbb.http.post(
            f"{bbb.host.url}signOut", data={"sessionToken": session_token}
        )
        assert response.text == example("signOut-success.xml")
    after = await session_call(bbb, "getJoinUrl", sessionToken=token)
    assert_json_example(bbb, after, "getJoinUrl-invalid-session-token.json")
    assert not any(bbb.host.state.http_sessions.values())
