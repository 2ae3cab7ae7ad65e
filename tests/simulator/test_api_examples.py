"""The simulator answers byte for byte like the reference examples of a BBB 3.0 server (generated
IDs, times and tokens aside), over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from bbbfleet.simulator import ManualClock
from tests.conftest import example
from tests.simulator.conftest import Bbb, normalise, query

ANTON_ROOM = "moodle-course-7-room-3"
ANTON_PASSWORDS = {"attendeePW": "1umEM3ic", "moderatorPW": "V91JirCa"}
# Given in another order than the example lists them: the answer must use Java HashMap order.
METADATA = [
    ("meta_bbb-origin", "Moodle"),
    ("meta_endCallbackUrl", "https://lms.example.org/meeting_ended"),
    ("meta_bbb-recording-ready-url", "https://lms.example.org/recording_ready"),
    ("meta_bbb-origin-server-name", "lms.example.org"),
    ("meta_bbb-origin-version", "v3"),
]


def assert_example(bbb: Bbb, response: httpx.Response, name: str) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml;charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert bbb.normalise(response.text) == normalise(example(name))


def assert_http_example(bbb: Bbb, response: httpx.Response, name: str) -> None:
    """A ``.http`` example: status line and every header it shows, and an empty body."""
    status_line, *header_lines = example(name).split("\r\n")
    assert response.status_code == int(status_line.split(" ")[1])
    for line in filter(None, header_lines):
        header, value = line.split(": ", 1)
        assert bbb.normalise(response.headers[header]) == normalise(value), header
    assert response.content == b""


async def create_anton_room(bbb: Bbb, *, with_metadata: bool = True) -> None:
    await bbb.call(
        "create",
        *(METADATA if with_metadata else []),
        name="Anton G's Room",
        meetingID=ANTON_ROOM,
        record="true",
        **ANTON_PASSWORDS,
    )


async def fill_anton_room(bbb: Bbb) -> None:
    """The two attendees of the getMeetingInfo-success example, with their audio and video."""
    await bbb.enter(ANTON_ROOM, fullName="Anton G", userID="moodle-user-17", password="V91JirCa")
    await bbb.enter(
        ANTON_ROOM,
        ("userdata-bbb_auto_join_audio", "true"),
        fullName="Mary Sue",
        userID="moodle-user-42",
        password="1umEM3ic",
    )
    room = f"meetings/{ANTON_ROOM}/users"
    anton = await bbb.control(
        "POST", f"{room}/moodle-user-17", {"hasJoinedVoice": True, "hasVideo": True}
    )
    mary = await bbb.control("POST", f"{room}/moodle-user-42", {"isListeningOnly": True})
    assert anton.status_code == mary.status_code == 200


# --- version ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/bigbluebutton/api", "/bigbluebutton/api/"])
async def test_version_root(bbb: Bbb, path: str) -> None:
    response = await bbb.http.get(bbb.host.base_url + path)
    assert_example(bbb, response, "api-version.xml")


async def test_version_as_json_only_for_exactly_application_json(bbb: Bbb) -> None:
    url = bbb.host.url
    response = await bbb.http.get(url, headers={"Content-Type": "application/json"})
    assert response.headers["content-type"].startswith("application/json")
    assert bbb.normalise(response.text) == example("api-version.json")
    charset = await bbb.http.get(url, headers={"Content-Type": "application/json; charset=utf-8"})
    assert_example(bbb, charset, "api-version.xml")


# --- create -------------------------------------------------------------------------------------


async def test_create_success(bbb: Bbb) -> None:
    response = await bbb.call(
        "create", name="Test", meetingID="test01", attendeePW="ap", moderatorPW="mp"
    )
    assert_example(bbb, response, "create-success.xml")
    # The manual clock starts at the examples' createTime, so even the IDs match unnormalised.
    assert (
        "<internalMeetingID>c25a79c57906ba7027b36d380230db92bbc0fd64-1715261728123<"
        in response.text
    )


async def test_create_again_is_a_duplicate_warning_with_the_original_meeting(
    bbb: Bbb, clock: ManualClock
) -> None:
    await bbb.call("create", name="Test", meetingID="test01", attendeePW="ap", moderatorPW="mp")
    clock.advance(30)
    again = await bbb.call(
        "create", name="Renamed", meetingID="test01", attendeePW="ap", moderatorPW="mp"
    )
    assert_example(bbb, again, "create-duplicateWarning.xml")
    assert "<createTime>1715261728123</createTime>" in again.text
    without_passwords = await bbb.call("create", name="Test", meetingID="test01")
    assert_example(bbb, without_passwords, "create-duplicateWarning.xml")


async def test_create_with_other_passwords_is_id_not_unique(bbb: Bbb) -> None:
    await bbb.call("create", name="Test", meetingID="test01", attendeePW="ap", moderatorPW="mp")
    response = await bbb.call(
        "create", name="Test", meetingID="test01", attendeePW="xx", moderatorPW="mp"
    )
    assert_example(bbb, response, "create-idNotUnique.xml")
    only_one = await bbb.call("create", name="Test", meetingID="test01", attendeePW="ap")
    assert_example(bbb, only_one, "create-idNotUnique.xml")


@pytest.mark.parametrize(
    ("query_string", "name"),
    [
        ("name=Test&meetingID=test01&attendeePW=a", "create-invalidPassword.xml"),
        ("name=Test&meetingID=test%2C01", "create-meetingID-with-comma.xml"),
        ("meetingID=test01", "create-missing-name.xml"),
        ("name=Test", "create-missing-or-untrimmed-meetingID.xml"),
        ("name=Test&meetingID=%20test01", "create-missing-or-untrimmed-meetingID.xml"),
        ("name=T&meetingID=test01", "create-name-too-short.xml"),
        ("name=Test&meetingID=test01&isBreakout=true", "create-parentMeetingIDMissing.xml"),
        (
            "name=Test&meetingID=test01&isBreakout=true&parentMeetingID=nope",
            "create-parentMeetingDoesNotExist.xml",
        ),
        # Several violations at once: bbb-web reports the first of its HashMap (invalidPassword
        # is in bucket 8, nullError in bucket 14).
        ("meetingID=test01&attendeePW=a", "create-invalidPassword.xml"),
    ],
)
async def test_create_validation_errors(bbb: Bbb, query_string: str, name: str) -> None:
    assert_example(bbb, await bbb.get("create", query_string), name)


async def test_create_checksum_errors_win_over_parameter_errors(bbb: Bbb) -> None:
    wrong = await bbb.http.get(bbb.url("create", "meetingID=x,y", secret="not-the-secret"))
    assert_example(bbb, wrong, "create-checksumError.xml")
    missing = await bbb.http.get(f"{bbb.host.url}create?name=Test&meetingID=test01")
    assert_example(bbb, missing, "create-checksumError.xml")


async def test_create_presentation_upload_url_skips_all_other_checks(bbb: Bbb) -> None:
    bad = "name=Test&meetingID=test01&presentationUploadExternalUrl=not%20a%20url"
    response = await bbb.http.get(f"{bbb.host.url}create?{bad}&checksum=0000")
    assert_example(bbb, response, "create-invalid-presentationUploadExternalUrl.xml")
    # A source bug reproduced: with a valid URL even a wrong checksum is accepted.
    good = query(
        name="Test",
        meetingID="test01",
        presentationUploadExternalUrl="https://lms.example.org/upload?m=%%MEETINGID%%",
    )
    response = await bbb.http.get(f"{bbb.host.url}create?{good}&checksum=0000")
    assert "<returncode>SUCCESS</returncode>" in response.text


async def test_create_unsupported_content_type(bbb: Bbb) -> None:
    response = await bbb.http.post(
        bbb.url("create", "name=Test&meetingID=test01"),
        content=b"hello",
        headers={"Content-Type": "text/plain"},
    )
    assert_example(bbb, response, "create-unsupportedContentType.xml")
    # Among parameter errors it comes first (HashMap bucket 1) ...
    response = await bbb.http.post(
        bbb.url("create", "name=T&meetingID=a,b"),
        content=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert_example(bbb, response, "any-unsupportedContentType.xml")
    # ... but never before the checksum.
    response = await bbb.http.post(
        bbb.url("create", "name=Test&meetingID=test01", secret="wrong"),
        content=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert_example(bbb, response, "create-checksumError.xml")


async def test_create_by_post_with_form_body_and_xml_body(bbb: Bbb) -> None:
    form = query(name="Test", meetingID="test01", attendeePW="ap", moderatorPW="mp")
    # All parameters in the body: the checksum covers the empty query string (§2.1).
    response = await bbb.http.post(
        bbb.host.url + "create",
        content=f"{form}&checksum={bbb.url('create').rsplit('=', 1)[1]}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_example(bbb, response, "create-success.xml")
    modules = (
        b'<modules><module name="presentation"><document url="https://x/y.pdf"/></module></modules>'
    )
    response = await bbb.http.post(
        bbb.url("create", query(name="Other", meetingID="test02")),
        content=modules,
        headers={"Content-Type": "application/xml; charset=UTF-8"},
    )
    assert "<meetingID>test02</meetingID>" in response.text


async def test_create_with_a_voice_bridge_in_use(bbb: Bbb) -> None:
    await bbb.call("create", name="Test", meetingID="test01", voiceBridge="70757")
    response = await bbb.call("create", name="Test", meetingID="test02", voiceBridge="70757")
    assert_example(bbb, response, "create-nonUniqueVoiceBridge.xml")


# --- join ---------------------------------------------------------------------------------------


async def test_join_redirects_to_the_client(bbb: Bbb) -> None:
    await bbb.create(attendeePW="ap", moderatorPW="mp")
    response = await bbb.join(password="mp")
    assert_http_example(bbb, response, "join-success-redirect.http")


async def test_join_without_redirect(bbb: Bbb) -> None:
    await bbb.create(attendeePW="ap", moderatorPW="mp")
    response = await bbb.join(password="mp", redirect="false")
    assert_example(bbb, response, "join-success-noredirect.xml")


async def test_join_as_a_waiting_guest_without_redirect(bbb: Bbb) -> None:
    await bbb.create(attendeePW="ap", moderatorPW="mp", guestPolicy="ASK_MODERATOR")
    response = await bbb.join(password="ap", redirect="false")
    assert_example(bbb, response, "join-guest-wait-noredirect.xml")


async def test_join_password_and_role_errors_are_xml(bbb: Bbb) -> None:
    await bbb.create(attendeePW="ap", moderatorPW="mp")
    assert_example(bbb, await bbb.join(password="wrong"), "join-wrong-password.xml")
    assert_example(bbb, await bbb.join(), "join-no-role-no-password.xml")
    assert_example(bbb, await bbb.join(role="guest"), "join-no-role-no-password.xml")
    meeting = bbb.host.state.meeting("test01")
    meeting.attendee_pw = meeting.moderator_pw = ""
    assert_example(bbb, await bbb.join(), "join-no-passwords-on-meeting.xml")
    assert (await bbb.join(role="viewer")).status_code == 302


async def test_join_an_unknown_meeting(bbb: Bbb) -> None:
    response = await bbb.join("nope")
    assert_http_example(bbb, response, "join-meeting-not-found.http")
    # Errors are redirects even when the client asked for XML (3.0.x GA).
    response = await bbb.join("nope", redirect="false")
    assert_http_example(bbb, response, "join-meeting-not-found.http")


async def test_join_error_redirect_url(bbb: Bbb) -> None:
    response = await bbb.join("nope", errorRedirectUrl="https://lms.example.org/bbb/error")
    assert_http_example(bbb, response, "join-errorRedirectUrl.http")
    response = await bbb.join("nope", logoutURL="https://lms.example.org/bbb/error")
    assert_http_example(bbb, response, "join-errorRedirectUrl.http")


async def test_join_with_a_wrong_checksum(bbb: Bbb) -> None:
    response = await bbb.http.get(bbb.url("join", "meetingID=x&fullName=y", secret="wrong"))
    assert_http_example(bbb, response, "join-checksumError.http")


async def test_join_with_a_mismatching_create_time(bbb: Bbb) -> None:
    await bbb.create()
    response = await bbb.join(role="viewer", createTime="1715261728000")
    assert_http_example(bbb, response, "join-mismatchCreateTimeParam.http")
    response = await bbb.join(role="viewer", createTime="1715261728123")
    assert response.headers["location"].startswith(bbb.host.base_url + "/html5client/join?")


async def test_join_when_max_participants_reached(bbb: Bbb) -> None:
    await bbb.create(maxParticipants="1")
    await bbb.enter(role="moderator", userID="first")
    response = await bbb.join(role="viewer", userID="second")
    assert_http_example(bbb, response, "join-maxParticipantsReached.http")
    again = await bbb.join(role="viewer", userID="first")  # the same person coming back
    assert again.headers["location"].startswith(bbb.host.base_url + "/html5client/join?")


async def test_join_denied_by_guest_policy(bbb: Bbb) -> None:
    await bbb.create(guestPolicy="ALWAYS_DENY")
    response = await bbb.join(role="viewer")
    assert_http_example(bbb, response, "join-guestDeniedAccess.http")
    moderator = await bbb.join(role="moderator")
    assert moderator.status_code == 302
    assert "errors=" not in moderator.headers["location"]


async def test_join_accepts_get_only(bbb: Bbb) -> None:
    response = await bbb.http.post(bbb.url("join", "meetingID=test01&fullName=x"))
    assert response.status_code == 405


# --- end, isMeetingRunning, getMeetingInfo ------------------------------------------------------


async def test_end(bbb: Bbb) -> None:
    await bbb.create()
    assert_example(
        bbb, await bbb.call("end", meetingID="test01", password="x"), "end-invalidPassword.xml"
    )
    assert_example(bbb, await bbb.call("end", meetingID="test01"), "end-success.xml")
    assert_example(bbb, await bbb.call("end", meetingID="test01"), "end-notFound.xml")
    info = await bbb.call("getMeetingInfo", meetingID="test01")
    assert_example(bbb, info, "getMeetingInfo-notFound.xml")
    running = await bbb.call("isMeetingRunning", meetingID="test01")
    assert_example(bbb, running, "isMeetingRunning-false.xml")
    join = await bbb.join(role="viewer")
    assert_http_example(bbb, join, "join-meeting-not-found.http")


async def test_is_meeting_running(bbb: Bbb) -> None:
    assert_example(
        bbb, await bbb.call("isMeetingRunning", meetingID="test01"), "isMeetingRunning-false.xml"
    )
    await bbb.create()
    await bbb.join(role="moderator")  # registered, but the client is not open yet
    assert_example(
        bbb, await bbb.call("isMeetingRunning", meetingID="test01"), "isMeetingRunning-false.xml"
    )
    await bbb.enter(role="moderator")
    assert_example(
        bbb, await bbb.call("isMeetingRunning", meetingID="test01"), "isMeetingRunning-true.xml"
    )
    wrong = await bbb.http.get(bbb.url("isMeetingRunning", "meetingID=test01", secret="x"))
    assert_example(bbb, wrong, "isMeetingRunning-checksumError.xml")


async def test_get_meeting_info_created_not_joined(bbb: Bbb) -> None:
    await create_anton_room(bbb, with_metadata=False)
    response = await bbb.call("getMeetingInfo", meetingID=ANTON_ROOM)
    assert_example(bbb, response, "getMeetingInfo-created-not-joined.xml")


async def test_get_meeting_info_with_two_attendees(bbb: Bbb) -> None:
    await create_anton_room(bbb)
    await fill_anton_room(bbb)
    response = await bbb.call("getMeetingInfo", meetingID=ANTON_ROOM)
    assert_example(bbb, response, "getMeetingInfo-success.xml")


async def test_get_meeting_info_by_internal_id(bbb: Bbb) -> None:
    await create_anton_room(bbb, with_metadata=False)
    internal_id = bbb.host.state.meeting(ANTON_ROOM).internal_id
    for meeting_id in (internal_id, internal_id[:12]):
        response = await bbb.call("getMeetingInfo", meetingID=meeting_id)
        assert_example(bbb, response, "getMeetingInfo-created-not-joined.xml")


# --- getMeetings, getSessions -------------------------------------------------------------------


async def test_get_meetings_empty(bbb: Bbb) -> None:
    assert_example(bbb, await bbb.get("getMeetings"), "getMeetings-noMeetings.xml")


async def test_get_meetings(bbb: Bbb) -> None:
    await create_anton_room(bbb)
    await fill_anton_room(bbb)
    await bbb.call(
        "create", name="Demo Meeting", meetingID="Demo Meeting", record="true", **ANTON_PASSWORDS
    )
    assert_example(bbb, await bbb.get("getMeetings"), "getMeetings-success.xml")


async def test_get_sessions(bbb: Bbb) -> None:
    assert_example(bbb, await bbb.get("getSessions"), "getSessions-noSessions.xml")
    await create_anton_room(bbb)
    await bbb.join(ANTON_ROOM, fullName="Anton G", password="V91JirCa")
    assert_example(bbb, await bbb.get("getSessions"), "getSessions-success.xml")


# --- sendChatMessage, signOut -------------------------------------------------------------------


async def test_send_chat_message(bbb: Bbb) -> None:
    await bbb.create()
    response = await bbb.call("sendChatMessage", meetingID="test01", message="hello")
    assert_example(bbb, response, "sendChatMessage-meetingNotFound.xml")
    await bbb.enter(role="moderator")
    missing = await bbb.call("sendChatMessage", meetingID="test01")
    assert_example(bbb, missing, "sendChatMessage-missing-message.xml")
    too_long = await bbb.call("sendChatMessage", meetingID="test01", message="x" * 501)
    assert_example(bbb, too_long, "sendChatMessage-message-too-long.xml")
    sent = await bbb.call("sendChatMessage", meetingID="test01", message="hello", userName="LMS")
    assert_example(bbb, sent, "sendChatMessage-success.xml")
    assert [(m.sender, m.text) for m in bbb.host.state.meeting("test01").chat] == [("LMS", "hello")]
    unknown = await bbb.call("sendChatMessage", meetingID="nope", message="hello")
    assert_example(bbb, unknown, "sendChatMessage-meetingNotFound.xml")


async def test_sign_out_always_succeeds_and_ends_the_session(bbb: Bbb) -> None:
    await bbb.create()
    token = await bbb.enter(role="viewer")
    for session_token in (token, token, "unknown"):
        response = await bbb.http.get(f"{bbb.host.url}signOut?sessionToken={session_token}")
        assert response.text == example("signOut-success.xml")
    assert_example(bbb, await bbb.get("getSessions"), "getSessions-noSessions.xml")


# --- routing and content negotiation ------------------------------------------------------------


async def test_unknown_and_unsimulated_calls_are_not_found(bbb: Bbb) -> None:
    for call in ("nonsense", "create/"):
        response = await bbb.http.get(bbb.url(call))
        assert response.status_code == 404
        assert "<response>" not in response.text


async def test_wrong_method_is_405(bbb: Bbb) -> None:
    response = await bbb.http.put(bbb.url("create", "name=Test&meetingID=test01"))
    assert response.status_code == 405
    chat = await bbb.http.post(bbb.url("sendChatMessage", "meetingID=test01&message=x"))
    assert chat.status_code == 405


async def test_errors_in_json_when_the_client_prefers_it(bbb: Bbb) -> None:
    response = await bbb.http.get(
        bbb.url("getMeetingInfo", "meetingID=nope"), headers={"Accept": "application/json"}
    )
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "response": {
            "returncode": "FAILED",
            "messageKey": "notFound",
            "message": "A meeting with that ID does not exist",
        }
    }
