"""bbb-webhooks on the wire: the hooks API answers, its checksum, the mapped events and the
callback request, each against the reference examples byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bbbfleet.protocol import errors as E
from bbbfleet.protocol import webhooks as wh
from tests.conftest import EXAMPLES, example

SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
CALLBACK = "https://lms.example.org/bbb/hooks"
HOOK_ID = "b0f6a2c1-3e44-4d5a-9d6e-2f7c8a9b0c1d"
INTERNAL = "8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700"
EXTERNAL = "random-9019868"


# --- API answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("hooks-checksumError.xml", E.HOOKS_CHECKSUM),
        ("hooks-create-createHookError.xml", E.HOOKS_CREATE_ERROR),
        ("hooks-create-missingParamCallbackURL.xml", E.HOOKS_MISSING_CALLBACK_URL),
        ("hooks-destroy-destroyMissingHook.xml", E.HOOKS_DESTROY_MISSING),
        ("hooks-destroy-missingParamHookID.xml", E.HOOKS_MISSING_HOOK_ID),
    ],
)
def test_error_answers(name: str, error: E.ApiError) -> None:
    assert wh.hooks_error_xml(error) == example(name)


def test_list_error_text() -> None:
    assert wh.hooks_error_xml(E.HOOKS_LIST_ERROR) == (
        "<response><returncode>FAILED</returncode><messageKey>listHookError</messageKey>"
        "<message>An error happened while listing registered hooks. Check the logs.</message>"
        "</response>"
    )


def test_create_answers() -> None:
    assert wh.hooks_create_xml(HOOK_ID, False, False) == example("hooks-create-success.xml")
    assert wh.hooks_duplicate_xml(HOOK_ID) == example("hooks-create-duplicateWarning.xml")
    assert "<permanentHook>true</permanentHook><rawData>true</rawData>" in wh.hooks_create_xml(
        HOOK_ID, True, True
    )


def test_destroy_and_list_answers() -> None:
    assert wh.hooks_destroy_xml() == example("hooks-destroy-success.xml")
    assert wh.hooks_list_xml([]) == example("hooks-list-empty.xml")
    hooks = [
        wh.HookListing(HOOK_ID, CALLBACK),
        wh.HookListing(
            "5d8f0f8e-7c3b-4f6a-a1e2-9b8c7d6e5f4a",
            "https://stats.example.org/in?src=bbb1",
            meeting_id="moodle-course-7-room-3",
            event_ids=wh.parse_event_ids("Meeting-Created,meeting-ended"),
            get_raw=True,
        ),
    ]
    assert wh.hooks_list_xml(hooks) == example("hooks-list.xml")


def test_list_values_are_not_escaped_and_whitespace_after_tags_goes() -> None:
    """Hand-built strings: nothing is escaped, and ``cleanupXML`` also eats whitespace that
    follows a ``>`` inside a value."""
    body = wh.hooks_list_xml([wh.HookListing("h", "http://x/a?b=1&c=> d")])
    assert "<callbackURL><![CDATA[http://x/a?b=1&c=>d]]></callbackURL>" in body


# --- create parameters ----------------------------------------------------------------------------


def test_parse_create() -> None:
    params = wh.hooks_query_params(
        b"callbackURL=http%3A%2F%2Fh%2Fx%3Fa%3D1&meetingID=m+1&eventID=User-Joined,user-left"
        b"&getRaw=TRUE&callbackURL=second"
    )
    request = wh.parse_hooks_create(params)
    assert request == wh.HookCreateRequest(
        callback_url="http://h/x?a=1",
        meeting_id="m 1",
        event_ids=("user-joined", "user-left"),
        get_raw=True,
    )


def test_parse_create_errors() -> None:
    assert wh.parse_hooks_create({}) is E.HOOKS_MISSING_CALLBACK_URL
    assert wh.parse_hooks_create({"callbackURL": "x", "getRaw": "yes"}) is E.HOOKS_CREATE_ERROR
    plain = wh.parse_hooks_create({"callbackURL": "", "getRaw": ""})
    assert isinstance(plain, wh.HookCreateRequest)
    assert plain.get_raw is False and plain.event_ids is None and plain.meeting_id is None
    assert wh.parse_event_ids("") == ("",)


# --- API checksum ---------------------------------------------------------------------------------


def _sum(method: str, query: str, algorithm: str = "sha1") -> str:
    return hashlib.new(algorithm, (method + query + SECRET).encode()).hexdigest()


def test_checksum_positions() -> None:
    query = "callbackURL=http%3A%2F%2Fh%2Fx&meetingID=m1"
    checksum = _sum("hooks/create", query)
    for signed in (
        f"{query}&checksum={checksum}",
        f"checksum={checksum}&{query}",
        f"callbackURL=http%3A%2F%2Fh%2Fx&checksum={checksum}&meetingID=m1",
    ):
        assert wh.hooks_checksum_valid("hooks/create", signed.encode(), SECRET), signed
    assert wh.hooks_checksum_valid("hooks/list", f"checksum={_sum('hooks/list', '')}", SECRET)
    assert wh.sign_hooks_query("hooks/create", query, SECRET) == f"{query}&checksum={checksum}"


def test_checksum_refusals() -> None:
    query = "hookID=1"
    good = _sum("hooks/destroy", query)
    assert not wh.hooks_checksum_valid("hooks/destroy", f"{query}&checksum={good.upper()}", SECRET)
    assert not wh.hooks_checksum_valid("hooks/destroy", query, SECRET)
    assert not wh.hooks_checksum_valid("hooks/destroy", f"{query}&checksum=", SECRET)
    assert not wh.hooks_checksum_valid("hooks/destroy", f"{query}&checksum=abc", SECRET)
    assert not wh.hooks_checksum_valid("hooks/create", f"{query}&checksum={good}", SECRET)
    assert not wh.hooks_checksum_valid("hooks/destroy", f"{query}&checksum={good}", "other")
    sha256 = _sum("hooks/destroy", query, "sha256")
    assert wh.hooks_checksum_valid("hooks/destroy", f"{query}&checksum={sha256}", SECRET)
    assert not wh.hooks_checksum_valid(
        "hooks/destroy", f"{query}&checksum={sha256}", SECRET, supported_algorithms=["sha1"]
    )


# --- mapped events ----------------------------------------------------------------------------------


def test_meeting_events() -> None:
    created = wh.meeting_created_event(
        internal_meeting_id=INTERNAL,
        external_meeting_id=EXTERNAL,
        name=EXTERNAL,
        is_breakout=False,
        parent_id="bbb-none",
        duration=0,
        create_time=1698771157700,
        create_date="Tue Oct 31 13:52:37 BRT 2023",
        moderator_pass="mp",
        viewer_pass="ap",
        record=False,
        voice_conf="71347",
        dial_number="613-555-1234",
        max_users=0,
        metadata={"bbb-origin": "Moodle"},
        ts=1708381132686,
    )
    assert wh.event_json(created) == example("webhook-event-meeting-created.json")
    ended = wh.meeting_ended_event(INTERNAL, EXTERNAL, 1708381155717)
    assert wh.event_json(ended) == example("webhook-event-meeting-ended.json")
    recording = wh.meeting_recording_event(INTERNAL, EXTERNAL, True, 1708381135000)
    assert wh.event_json(recording) == example("webhook-event-meeting-recording-started.json")
    assert wh.event_id_of(wh.meeting_recording_event(INTERNAL, EXTERNAL, False, 1)) == (
        "meeting-recording-stopped"
    )


def test_user_events() -> None:
    joined_user = wh.user_attributes(
        "w_xfsb9gxtlfom",
        "moodle-user-17",
        name="John Doe",
        role="MODERATOR",
        presenter=False,
        userdata={"bbb_auto_join_audio": "true"},
        guest=False,
    )
    joined = wh.user_joined_event(INTERNAL, EXTERNAL, joined_user, 1708381133689)
    assert wh.event_json(joined) == example("webhook-event-user-joined.json")
    left_user = wh.user_attributes("w_xfsb9gxtlfom", "moodle-user-17", guest=False)
    left = wh.user_left_event(INTERNAL, EXTERNAL, left_user, 1708381154716)
    assert wh.event_json(left) == example("webhook-event-user-left.json")


def test_media_events() -> None:
    user = wh.user_attributes("w_1", "u1")
    enabled = wh.user_audio_voice_enabled_event(
        "i", "e", user, listening_only=False, muted=False, ts=5
    )
    assert enabled["data"]["attributes"]["user"] == {
        "internal-user-id": "w_1",
        "external-user-id": "u1",
        "listening-only": False,
        "sharing-mic": True,
        "muted": False,
    }
    disabled = wh.user_audio_voice_disabled_event("i", "e", user, 6)
    assert wh.event_json(disabled["data"]["attributes"]["user"]) == (
        '{"internal-user-id":"w_1","external-user-id":"u1",'
        '"listening-only":false,"sharing-mic":false,"muted":true}'
    )
    assert wh.event_id_of(wh.user_audio_muted_event("i", "e", user, True, 7)) == "user-audio-muted"
    assert wh.event_id_of(wh.user_audio_muted_event("i", "e", user, False, 7)) == (
        "user-audio-unmuted"
    )
    cam = wh.user_cam_event("i", "e", wh.user_attributes("w_1", "u1", stream="s1"), True, 8)
    assert wh.event_id_of(cam) == "user-cam-broadcast-start"
    assert cam["data"]["attributes"]["user"]["stream"] == "s1"
    presenter = wh.user_presenter_event("i", "e", user, True, 9)
    assert wh.event_id_of(presenter) == "user-presenter-assigned"
    assert all(
        wh.event_id_of(e) in wh.OUTPUT_EVENT_IDS for e in (enabled, disabled, cam, presenter)
    )


def test_chat_event() -> None:
    event = wh.chat_group_message_sent_event(
        INTERNAL,
        EXTERNAL,
        message_id="1698771232706-9idm9pxf",
        message="Public chat test",
        sender_id="w_xfsb9gxtlfom",
        sender_name="John Doe",
        time=1698771232706,
        ts=1708381146705,
    )
    assert wh.event_json(event) == example("webhook-event-chat-group-message-sent.json")


def test_rap_events() -> None:
    archive = wh.rap_archive_ended_event(
        INTERNAL,
        EXTERNAL,
        record_id=INTERNAL,
        success=True,
        step_time=1520,
        recorded=True,
        duration=1785000,
        ts=1708381300123,
    )
    assert wh.event_json(archive) == example("webhook-event-rap-archive-ended.json")
    published = wh.rap_state_event("published", INTERNAL, EXTERNAL, INTERNAL, 1708382000000)
    assert wh.event_json(published) == example("webhook-event-rap-published.json")
    playback = wh.rap_playback(
        "presentation",
        f"https://bbb.example.com/playback/presentation/2.3/{INTERNAL}",
        7177,
        1785000,
        1251342,
    )
    publish = wh.rap_publish_ended_event(
        INTERNAL,
        EXTERNAL,
        record_id=INTERNAL,
        success=True,
        step_time=4521,
        workflow="presentation",
        start_time=1698771157700,
        end_time=1698772943000,
        raw_size=42851740,
        metadata={
            "isBreakout": "false",
            "meetingId": EXTERNAL,
            "meetingName": EXTERNAL,
            "bbb-origin": "Moodle",
        },
        playback=playback,
        ts=1708381400456,
    )
    assert wh.event_json(publish) == example("webhook-event-rap-publish-ended.json")
    process = wh.rap_step_event(
        "rap-process-ended",
        INTERNAL,
        EXTERNAL,
        record_id=INTERNAL,
        success=True,
        step_time=10,
        ts=11,
        workflow="video",
    )
    assert list(process["data"]["attributes"]) == [
        "meeting",
        "record-id",
        "success",
        "step-time",
        "workflow",
    ]


def test_event_json_is_json_stringify() -> None:
    event = {"a": 'é ✓ \u2028 \n \x01 / "q"'}
    assert wh.event_json(event) == '{"a":"é ✓ \u2028 \\n \\u0001 / \\"q\\""}'


# --- callback request -----------------------------------------------------------------------------


def _http_example(name: str) -> tuple[str, dict[str, str], str]:
    path = Path(EXAMPLES) / name
    if not path.exists():
        pytest.skip(f"reference example {name} not available")
    raw = path.read_bytes().decode("utf-8")
    head, body = raw.split("\r\n\r\n", 1)
    request_line, *header_lines = head.split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return request_line, headers, body


@pytest.mark.parametrize("version", ["3.3", "3.4"])
def test_callback_request_matches_example(version: wh.CallbackChecksumVersion) -> None:
    request_line, headers, body = _http_example(f"webhook-callback-request-v{version}.http")
    event = wh.meeting_ended_event(INTERNAL, EXTERNAL, 1708381155717)
    request = wh.build_callback_request(
        CALLBACK,
        event,
        domain="bbb.example.com",
        timestamp=1708381155720,
        secret=SECRET,
        version=version,
    )
    assert request.body == body
    assert len(request.body.encode()) == int(headers["Content-Length"])
    assert request.content_type == headers["Content-Type"]
    path = request.url.removeprefix("https://lms.example.org")
    assert request_line == f"POST {path} HTTP/1.1"
    assert wh.callback_checksum_valid(request.url, request.body, SECRET, version)
    other: wh.CallbackChecksumVersion = "3.4" if version == "3.3" else "3.3"
    assert not wh.callback_checksum_valid(request.url, request.body, SECRET, other)
    assert not wh.callback_checksum_valid(request.url, request.body, "wrong", version)
    assert wh.callback_checksum_version(request.url, request.body, SECRET) == version
    assert wh.callback_checksum_version(request.url, request.body, "wrong") is None
    form = wh.parse_callback_body(request.body)
    assert form.domain == "bbb.example.com" and form.timestamp == 1708381155720
    assert form.events == [event]


def test_callback_url_separator_and_split() -> None:
    assert wh.callback_url_with_checksum("http://h/x", "ab") == "http://h/x?checksum=ab"
    assert wh.callback_url_with_checksum("http://h/x?a=1", "ab") == "http://h/x?a=1&checksum=ab"
    assert wh.callback_url_with_checksum("http://h/x?", "ab") == "http://h/x?&checksum=ab"
    assert wh.split_callback_checksum("http://h/x?a=1&checksum=ab") == ("http://h/x?a=1", "ab")
    assert wh.split_callback_checksum("http://h/x?checksum=ab") == ("http://h/x", "ab")
    assert wh.split_callback_checksum("http://h/x?a=1") == ("http://h/x?a=1", None)
    assert not wh.callback_checksum_valid("http://h/x", "", SECRET)


def test_form_urlencode() -> None:
    assert wh.form_urlencode("a b~*-._!'()é") == "a+b%7E*-._%21%27%28%29%C3%A9"
    assert wh.callback_form_body("d", "[]", 1) == "domain=d&event=%5B%5D&timestamp=1"


def test_sha256_callback_checksum() -> None:
    body = wh.callback_form_body("d", "[]", 1)
    checksum = wh.callback_checksum(CALLBACK, body, SECRET, "3.4", "sha256")
    assert len(checksum) == 64
    url = wh.callback_url_with_checksum(CALLBACK, checksum)
    assert wh.callback_checksum_valid(url, body, SECRET, "3.4")
    assert not wh.callback_checksum_valid(url, body, SECRET, "3.4", algorithms=["sha1"])


def test_checksum_over_the_bytes_received() -> None:
    """Raw UTF-8 and percent escapes are hashed as sent, never re-encoded."""
    for query in ("callbackURL=http://h/ü", "callbackURL=http%3A%2F%2Fh%2F%C3%BC+x"):
        raw = query.encode()
        checksum = hashlib.sha1(b"hooks/create" + raw + SECRET.encode()).hexdigest()
        assert wh.hooks_checksum_valid(
            "hooks/create", raw + f"&checksum={checksum}".encode(), SECRET
        )
    params = wh.hooks_query_params(b"callbackURL=http%3A%2F%2Fh%2F%C3%BC+x&bad=%ZZ%FF")
    assert params == {"callbackURL": "http://h/ü x", "bad": "%ZZ\ufffd"}


def test_bearer_auth_instead_of_a_checksum() -> None:
    event = wh.meeting_ended_event(INTERNAL, EXTERNAL, 1)
    request = wh.build_callback_request(
        CALLBACK, event, domain="d", timestamp=2, secret=SECRET, bearer_auth=True
    )
    assert request.url == CALLBACK
    assert request.headers == {
        "Content-Type": wh.CALLBACK_CONTENT_TYPE,
        "Authorization": f"Bearer {SECRET}",
    }
