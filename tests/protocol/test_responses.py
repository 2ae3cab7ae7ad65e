"""Meeting-call responses rendered from data, compared byte for byte with the reference examples
(REFERENCE.md §5.0-5.6, §5.13, §5.17) and the join error redirects (§5.2)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.errors import ApiError
from bbbfleet.protocol.responses import (
    AttendeeSnapshot,
    MeetingSnapshot,
    create_xml,
    end_xml,
    error_wants_json,
    get_meeting_info_xml,
    get_meetings_xml,
    get_sessions_xml,
    graphql_websocket_url,
    is_meeting_running_xml,
    java_date,
    java_uri_quote,
    join_error_base,
    join_error_is_redirect,
    join_error_location,
    join_xml,
    meeting_block,
    send_chat_message_xml,
    sign_out_xml,
    version_json,
    version_xml,
)
from tests.conftest import example

SERVER = "https://bbb.example.com"


def location_header(name: str) -> str:
    lines = example(name).splitlines()
    assert lines[0] == "HTTP/1.1 302 Found"
    return next(line.split(": ", 1)[1] for line in lines if line.startswith("Location: "))


# --- data of the examples ----------------------------------------------------------------------

# Inserted the way an LMS sends them, not in the order getMeetingInfo lists them.
METADATA = {
    "bbb-origin": "Moodle",
    "bbb-origin-version": "v3",
    "bbb-origin-server-name": "lms.example.org",
    "bbb-recording-ready-url": "https://lms.example.org/recording_ready",
    "endcallbackurl": "https://lms.example.org/meeting_ended",
}

ANTON = AttendeeSnapshot(
    user_id="moodle-user-17",
    full_name="Anton G",
    role="MODERATOR",
    is_presenter=True,
    has_joined_voice=True,
    has_video=True,
)
MARY = AttendeeSnapshot(
    user_id="moodle-user-42",
    full_name="Mary Sue",
    role="VIEWER",
    is_listening_only=True,
    customdata={"bbb_auto_join_audio": "true"},
)


def anton_room(**changes: object) -> MeetingSnapshot:
    meeting = MeetingSnapshot(
        name="Anton G's Room",
        meeting_id="moodle-course-7-room-3",
        internal_id="a0715c95000a2bcb90604ecc7097dbc94592c690-1715261728123",
        create_time=1715261728123,
        voice_bridge="66052",
        attendee_pw="1umEM3ic",
        moderator_pw="V91JirCa",
        running=True,
        has_user_joined=True,
        recording=True,
        start_time=1715261728142,
        listener_count=1,
        voice_participant_count=1,
        video_count=1,
        attendees=[ANTON, MARY],
        metadata=dict(METADATA),
    )
    for name, value in changes.items():
        setattr(meeting, name, value)
    return meeting


def demo_meeting() -> MeetingSnapshot:
    return MeetingSnapshot(
        name="Demo Meeting",
        meeting_id="Demo Meeting",
        internal_id="183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1531241258036",
        create_time=1531241258036,
        voice_bridge="66052",
        attendee_pw="1umEM3ic",
        moderator_pw="V91JirCa",
        recording=True,
        start_time=1531241258074,
    )


def meeting_test01() -> MeetingSnapshot:
    return MeetingSnapshot(
        name="test01",
        meeting_id="test01",
        internal_id="c25a79c57906ba7027b36d380230db92bbc0fd64-1715261728123",
        create_time=1715261728123,
        voice_bridge="70757",
        attendee_pw="ap",
        moderator_pw="mp",
    )


# --- version -------------------------------------------------------------------------------------


def test_api_version_xml() -> None:
    assert version_xml(SERVER) == example("api-version.xml")


def test_api_version_reveal_xml() -> None:
    assert version_xml(SERVER, bbb_version="3.0.12") == example("api-version-reveal.xml")


def test_api_version_json() -> None:
    assert version_json(SERVER) == example("api-version.json")


def test_graphql_websocket_url() -> None:
    assert graphql_websocket_url("https://bbb.example.com") == "wss://bbb.example.com/graphql"
    assert graphql_websocket_url("http://localhost:8090") == "http://localhost:8090/graphql"


# --- create --------------------------------------------------------------------------------------


def test_create_success() -> None:
    assert create_xml(meeting_test01()) == example("create-success.xml")


def test_create_duplicate_warning() -> None:
    assert create_xml(meeting_test01(), E.DUPLICATE_WARNING) == example(
        "create-duplicateWarning.xml"
    )


def test_create_leaves_out_empty_passwords() -> None:
    body = create_xml(replace(meeting_test01(), attendee_pw=""))
    assert "<attendeePW>" not in body
    assert "<moderatorPW>mp</moderatorPW>" in body
    assert create_xml(MeetingSnapshot("n", "m", "i", 0, "1")).count("PW>") == 0


def test_create_breakout_parent() -> None:
    meeting = meeting_test01()
    meeting.parent_meeting_id = "parent-internal-id"
    assert "<parentMeetingID>parent-internal-id</parentMeetingID>" in create_xml(meeting)


# --- getMeetingInfo / getMeetings --------------------------------------------------------------


def test_get_meeting_info_success() -> None:
    assert get_meeting_info_xml(anton_room()) == example("getMeetingInfo-success.xml")


def test_get_meeting_info_created_not_joined() -> None:
    meeting = anton_room(
        running=False,
        has_user_joined=False,
        listener_count=0,
        voice_participant_count=0,
        video_count=0,
        attendees=[],
        metadata={},
    )
    assert get_meeting_info_xml(meeting) == example("getMeetingInfo-created-not-joined.xml")


def test_get_meeting_info_with_breakout_rooms() -> None:
    meeting = anton_room(
        listener_count=0,
        attendees=[ANTON],
        breakout_rooms=[
            "9e7c4d5f0b7c2a6b1f3f8f8a2b1d0c9e8f7a6b5c-1715261928000",
            "2b8a1c6e5d4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b-1715261928000",
        ],
    )
    assert get_meeting_info_xml(meeting) == example("getMeetingInfo-with-breakout-rooms.xml")


def test_get_meeting_info_of_a_breakout_room() -> None:
    meeting = anton_room(
        is_breakout=True, parent_meeting_id="parent-id", sequence=2, free_join=True
    )
    body = get_meeting_info_xml(meeting)
    assert body.endswith(
        "<isBreakout>true</isBreakout>\n<parentMeetingID>parent-id</parentMeetingID>\n"
        "<sequence>2</sequence>\n<freeJoin>true</freeJoin>\n</response>"
    )


@pytest.mark.parametrize("order", list(itertools.permutations(METADATA)))
def test_metadata_is_listed_in_hashmap_order_whatever_the_insertion_order(
    order: tuple[str, ...],
) -> None:
    meeting = anton_room(metadata={key: METADATA[key] for key in order})
    assert get_meeting_info_xml(meeting) == example("getMeetingInfo-success.xml")


def test_metadata_in_the_same_bucket_keeps_insertion_order() -> None:
    # "bbb-origin" and "bbb-context" share HashMap bucket 12
    first = anton_room(metadata={"bbb-origin": "a", "bbb-context": "b"})
    second = anton_room(metadata={"bbb-context": "b", "bbb-origin": "a"})
    assert "<bbb-origin>a</bbb-origin>\n<bbb-context>b</bbb-context>" in (
        get_meeting_info_xml(first)
    )
    assert "<bbb-context>b</bbb-context>\n<bbb-origin>a</bbb-origin>" in (
        get_meeting_info_xml(second)
    )


def test_customdata_in_hashmap_order() -> None:
    # Order printed by a JVM for ``new HashMap<>()`` filled in list order.
    inserted = [
        "bbb_auto_join_audio",
        "bbb_skip_check_audio",
        "bbb_listen_only_mode",
        "bbb_context",
    ]
    java_order = [
        "bbb_listen_only_mode",
        "bbb_context",
        "bbb_auto_join_audio",
        "bbb_skip_check_audio",
    ]
    attendee = AttendeeSnapshot("u", "U", "VIEWER", customdata={k: "true" for k in inserted})
    body = get_meeting_info_xml(anton_room(attendees=[attendee]))
    lines = body.split("<customdata>\n", 1)[1].split("\n</customdata>", 1)[0].splitlines()
    assert lines == [f"<{k}>true</{k}>" for k in java_order]


def test_counts_are_derived_from_attendees() -> None:
    viewers = [AttendeeSnapshot(f"v{i}", "V", "VIEWER") for i in range(3)]
    body = get_meeting_info_xml(anton_room(attendees=[ANTON, *viewers]))
    assert "<participantCount>4</participantCount>" in body
    assert "<moderatorCount>1</moderatorCount>" in body


def test_meeting_texts_are_escaped() -> None:
    attendee = AttendeeSnapshot("u<1>", 'Tom "T" & Jerry', "VIEWER", customdata={"k": "'v'"})
    meeting = anton_room(
        name="<Kurs> & 'Übung' \"1\"", attendees=[attendee], metadata={"bbb-context": "a&b"}
    )
    body = get_meeting_info_xml(meeting)
    assert "<meetingName>&lt;Kurs&gt; &amp; &apos;Übung&apos; &quot;1&quot;</meetingName>" in body
    assert "<userID>u&lt;1&gt;</userID>" in body
    assert "<fullName>Tom &quot;T&quot; &amp; Jerry</fullName>" in body
    assert "<k>&apos;v&apos;</k>" in body
    assert "<bbb-context>a&amp;b</bbb-context>" in body


def test_get_meetings_success() -> None:
    blocks = [meeting_block(anton_room()), meeting_block(demo_meeting())]
    assert get_meetings_xml(blocks) == example("getMeetings-success.xml")


def test_get_meetings_no_meetings() -> None:
    assert get_meetings_xml([]) == example("getMeetings-noMeetings.xml")


def test_meeting_block_is_the_get_meeting_info_body() -> None:
    block = meeting_block(anton_room())
    info = get_meeting_info_xml(anton_room())
    assert block.startswith("<meeting>\n<meetingName>")
    assert block.endswith("\n</meeting>")
    inner = info.removeprefix("<response>\n<returncode>SUCCESS</returncode>\n")
    assert block.removeprefix("<meeting>\n") == inner.replace("</response>", "</meeting>")


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("millis", "text"),
    [
        (1715261728123, "Thu May 09 13:35:28 UTC 2024"),
        (1531241258036, "Tue Jul 10 16:47:38 UTC 2018"),
        (0, "Thu Jan 01 00:00:00 UTC 1970"),
        (1735689599999, "Tue Dec 31 23:59:59 UTC 2024"),
    ],
)
def test_java_date(millis: int, text: str) -> None:
    assert java_date(millis) == text


def test_create_date_follows_create_time() -> None:
    assert demo_meeting().create_date == "Tue Jul 10 16:47:38 UTC 2018"


# --- small answers -------------------------------------------------------------------------------


def test_end_success() -> None:
    assert end_xml() == example("end-success.xml")


@pytest.mark.parametrize("running", [True, False])
def test_is_meeting_running(running: bool) -> None:
    name = "isMeetingRunning-true.xml" if running else "isMeetingRunning-false.xml"
    assert is_meeting_running_xml(running) == example(name)


def test_sign_out_success() -> None:
    assert sign_out_xml() == example("signOut-success.xml")


def test_send_chat_message_success() -> None:
    assert send_chat_message_xml() == example("sendChatMessage-success.xml")


# --- join ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name"),
    [("ALLOW", "join-success-noredirect.xml"), ("WAIT", "join-guest-wait-noredirect.xml")],
)
def test_join_without_redirect(status: str, name: str) -> None:
    body = join_xml(
        internal_meeting_id="c25a79c57906ba7027b36d380230db92bbc0fd64-1715261728123",
        user_id="w_euxnssffnsbs",
        auth_token="14mm5y3eurjw",
        session_token="ai1wqj8wb6s7rnk0",
        guest_status=status,
        url="https://bbb.example.com/html5client/join?sessionToken=ai1wqj8wb6s7rnk0",
    )
    assert body == example(name)


def test_join_url_with_ampersand_is_escaped() -> None:
    body = join_xml("m", "u", "a", "s", "ALLOW", "https://x/join?sessionToken=s&a=1")
    assert "<url>https://x/join?sessionToken=s&amp;a=1</url>" in body


@pytest.mark.parametrize(
    ("error", "name"),
    [
        (E.CHECKSUM_MISMATCH, "join-checksumError.http"),
        (E.MEETING_FORCIBLY_ENDED, "join-meeting-not-found.http"),
        (E.GUEST_DENIED, "join-guestDeniedAccess.http"),
        (E.MAX_PARTICIPANTS_REACHED, "join-maxParticipantsReached.http"),
        (E.MISMATCH_CREATE_TIME, "join-mismatchCreateTimeParam.http"),
    ],
)
def test_join_error_redirects(error: ApiError, name: str) -> None:
    assert join_error_location(SERVER, error) == location_header(name)


def test_join_error_redirect_to_error_redirect_url() -> None:
    location = join_error_location("https://lms.example.org/bbb/error", E.MEETING_FORCIBLY_ENDED)
    assert location == location_header("join-errorRedirectUrl.http")


def test_join_error_redirect_appends_to_an_existing_query() -> None:
    location = join_error_location("https://lms.example.org/join.php?id=7", E.GUEST_DENIED)
    assert location.startswith("https://lms.example.org/join.php?id=7&errors=[%7B%22message%22:")
    assert location.endswith("%22key%22:%22guestDeniedAccess%22%7D]")


def test_join_error_redirect_keeps_the_fragment_last() -> None:
    """Reference output of ``new URI(…)`` built by bbb-web from
    ``https://lms.example.org/p?next=%2Fc%3Fid%3D5&y=%7E#top`` (run on a JVM)."""
    location = join_error_location(
        "https://lms.example.org/p?next=%2Fc%3Fid%3D5&y=%7E#top", ApiError("k", "m")
    )
    assert location == (
        "https://lms.example.org/p?next=/c?id=5&y=~&errors=[%7B%22message%22:%22m%22,"
        "%22key%22:%22k%22%7D]#top"
    )


def test_join_error_redirect_with_empty_query_and_fragment() -> None:
    assert join_error_location("https://lms.example.org/x?", ApiError("k", "m")) == (
        "https://lms.example.org/x?&errors=[%7B%22message%22:%22m%22,%22key%22:%22k%22%7D]"
    )
    assert join_error_location("https://lms.example.org/#/room 1", ApiError("k", "m")) == (
        "https://lms.example.org/?errors=[%7B%22message%22:%22m%22,%22key%22:%22k%22%7D]#/room%201"
    )


def test_java_uri_quote() -> None:
    # java.net.URI keeps unreserved, reserved and [] literal; quotes the rest as UTF-8.
    assert java_uri_quote('a b"{}|\\^`<>%') == "a%20b%22%7B%7D%7C%5C%5E%60%3C%3E%25"
    assert java_uri_quote("[]:,=&?/;@+$!~*'()-_.") == "[]:,=&?/;@+$!~*'()-_."
    assert java_uri_quote("ü") == "%C3%BC"


# --- getSessions (§5.18) -------------------------------------------------------------------------


def test_get_sessions_success() -> None:
    sessions = [
        ("a0715c95000a2bcb90604ecc7097dbc94592c690-1715261728123", "Anton G's Room", "Anton G")
    ]
    assert get_sessions_xml(sessions) == example("getSessions-success.xml")


def test_get_sessions_none() -> None:
    assert get_sessions_xml([]) == example("getSessions-noSessions.xml")


# --- getMeetings participant count (§5.5) --------------------------------------------------------


def test_participant_count_override_counts_only_online_users() -> None:
    meeting = anton_room(participant_count=1)
    body = meeting_block(meeting)
    assert "<participantCount>1</participantCount>" in body
    assert body.count("<attendee>") == 2
    assert "<participantCount>0</participantCount>" in meeting_block(
        anton_room(participant_count=0)
    )


# --- where a failed join goes (§5.2) -------------------------------------------------------------


def test_join_error_base_precedence() -> None:
    error_url = "https://lms.example.org/bbb/error"
    logout = "https://lms.example.org/course/view.php?id=7"
    assert join_error_base({"errorRedirectUrl": error_url, "logoutURL": logout}, SERVER) == (
        error_url
    )
    assert join_error_base({"logoutURL": logout}, SERVER) == logout
    assert join_error_base({}, SERVER) == SERVER
    assert join_error_base({"errorRedirectUrl": "", "logoutURL": ""}, SERVER) == SERVER


@pytest.mark.parametrize(
    "bad",
    [
        "https://lms.example.org/course 7",
        'https://lms.example.org/?q="x"',
        "https://lms.example.org/?q={x}",
        "https://lms.example.org/?q=%zz",
        "https://lms.example.org/a[1]",
        "https://lms.example.org/#a#b",
    ],
)
def test_join_error_base_skips_urls_java_cannot_parse(bad: str) -> None:
    logout = "https://lms.example.org/logout"
    assert join_error_base({"errorRedirectUrl": bad, "logoutURL": logout}, SERVER) == logout
    assert join_error_base({"logoutURL": bad}, SERVER) == SERVER


@pytest.mark.parametrize(
    "good",
    [
        "https://lms.example.org/?a=[1]",
        "https://lms.example.org/räume?x=ü",
        "https://[::1]:8443/error",
        "relative/error",
        "https://lms.example.org/?a=%41#frag%20ment",
    ],
)
def test_join_error_base_keeps_urls_java_parses(good: str) -> None:
    assert join_error_base({"errorRedirectUrl": good}, SERVER) == good


def test_join_error_is_redirect() -> None:
    assert join_error_is_redirect(E.MEETING_FORCIBLY_ENDED)
    assert join_error_is_redirect(E.CHECKSUM_MISMATCH)
    assert join_error_is_redirect(E.GUEST_DENIED)
    assert not join_error_is_redirect(E.WRONG_PASSWORD)
    assert not join_error_is_redirect(E.ROLE_REQUIRED_NO_PASSWORDS)
    assert not join_error_is_redirect(E.ROLE_OR_PASSWORD_REQUIRED)


@pytest.mark.parametrize(
    ("accept", "wants_json"),
    [
        ("application/json", True),
        ("Application/JSON; q=0.9", True),
        ("application/json, text/xml", True),
        ("text/xml, application/json", False),
        ("*/*", False),
        ("text/html,application/xhtml+xml", False),
        ("", False),
        (None, False),
    ],
)
def test_error_wants_json(accept: str | None, wants_json: bool) -> None:
    assert error_wants_json(accept) is wants_json
