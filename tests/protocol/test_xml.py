"""The FreeMarker-like and hand-built XML renderers and the pretty JSON (REFERENCE.md §1.3)."""

from __future__ import annotations

import json

import pytest

from bbbfleet.protocol.xml import (
    EMPTY,
    escape,
    render_compact,
    render_error,
    render_error_json,
    render_multi_error,
    render_pretty_json,
    render_template,
    text_of,
)
from tests.conftest import example

# --- escaping ----------------------------------------------------------------------------------


def test_escape_all_five_entities() -> None:
    assert escape("""<a href="x">Tom & Jerry's</a>""") == (
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;"
    )


def test_escape_does_not_double_escape_or_touch_unicode() -> None:
    assert escape("&amp;") == "&amp;amp;"
    assert escape("Zoë 日本語 😀 — ok") == "Zoë 日本語 😀 — ok"
    assert escape("") == ""


def test_text_of_values() -> None:
    assert text_of(None) == ""
    assert text_of(True) == "true"
    assert text_of(False) == "false"
    assert text_of(0) == "0"
    assert text_of(1715261728123) == "1715261728123"
    assert text_of("x") == "x"


# --- render_template ---------------------------------------------------------------------------


def test_render_template_one_element_per_line_without_trailing_newline() -> None:
    body = render_template([("returncode", "SUCCESS"), ("running", False), ("count", 3)])
    assert body == (
        "<response>\n<returncode>SUCCESS</returncode>\n<running>false</running>\n"
        "<count>3</count>\n</response>"
    )


def test_render_template_escapes_text_but_not_markup() -> None:
    body = render_template([("meetingName", '<b>Anton G\'s</b> & "Co"')])
    assert body == (
        "<response>\n<meetingName>&lt;b&gt;Anton G&apos;s&lt;/b&gt; &amp; &quot;Co&quot;"
        "</meetingName>\n</response>"
    )


def test_render_template_empty_values_and_containers() -> None:
    body = render_template(
        [("messageKey", ""), ("message", None), ("attendees", []), ("meetings", EMPTY)]
    )
    assert body == (
        "<response>\n<messageKey></messageKey>\n<message></message>\n"
        "<attendees>\n</attendees>\n<meetings/>\n</response>"
    )


def test_render_template_nested_containers() -> None:
    body = render_template(
        [("attendee", [("userID", "u1"), ("customdata", [("k", "v")])])], root="meeting"
    )
    assert body == (
        "<meeting>\n<attendee>\n<userID>u1</userID>\n<customdata>\n<k>v</k>\n</customdata>\n"
        "</attendee>\n</meeting>"
    )


def test_render_template_unicode_is_written_as_is() -> None:
    assert render_template([("fullName", "Zoë 😀")]) == (
        "<response>\n<fullName>Zoë 😀</fullName>\n</response>"
    )


def test_render_compact_single_line() -> None:
    body = render_compact(
        [("returncode", "SUCCESS"), ("deleted", True), ("list", []), ("none", EMPTY)]
    )
    assert body == (
        "<response><returncode>SUCCESS</returncode><deleted>true</deleted>"
        "<list></list><none/></response>"
    )


def test_render_compact_escapes_like_the_template() -> None:
    assert render_compact([("m", "a'b&c")]) == "<response><m>a&apos;b&amp;c</m></response>"


# --- invalid() errors --------------------------------------------------------------------------

# Reference errors whose key/message have no constant in errors.py (recordings, feedback).
OTHER_PLAIN_ERRORS = [
    ("notFound", "We could not find recordings", "deleteRecordings-notFound.xml"),
    ("notFound", "We could not find recordings", "updateRecordings-notFound.xml"),
    ("notFound", "We could not find recordings", "publishRecordings-notFound.xml"),
    (
        "missingParamRecordID",
        "You must specify a recordID.",
        "publishRecordings-missingParamRecordID.xml",
    ),
    (
        "missingParamRecordID",
        "You must specify a recordID.",
        "getRecordingTextTracks-missingParamRecordID.xml",
    ),
    (
        "missingParamPublish",
        "You must specify a publish value true or false.",
        "publishRecordings-missingParamPublish.xml",
    ),
    ("missingSession", "Invalid session token", "feedback-missingSession-3.0-prerelease.xml"),
]


@pytest.mark.parametrize(
    ("key", "message", "name"), OTHER_PLAIN_ERRORS, ids=[n for *_, n in OTHER_PLAIN_ERRORS]
)
def test_render_error_reproduces_reference_errors(key: str, message: str, name: str) -> None:
    assert render_error(key, message) == example(name)


def test_render_error_escapes_apostrophes() -> None:
    assert render_error("validationError", "Meeting ID cannot contain ','") == example(
        "create-meetingID-with-comma.xml"
    )
    assert "&apos;role&apos;" in render_error("Params required", "the 'role' parameter")


@pytest.mark.parametrize(
    ("key", "message", "name"),
    [
        (
            "missingParamCallbackURL",
            "You must specify a callbackURL in the parameters.",
            "hooks-create-missingParamCallbackURL.xml",
        ),
        (
            "createHookError",
            "An error happened while creating your hook. Check the logs.",
            "hooks-create-createHookError.xml",
        ),
        (
            "destroyMissingHook",
            "The hook informed was not found.",
            "hooks-destroy-destroyMissingHook.xml",
        ),
        (
            "missingParamHookID",
            "You must specify a hookID in the parameters.",
            "hooks-destroy-missingParamHookID.xml",
        ),
    ],
)
def test_render_compact_reproduces_webhook_errors(key: str, message: str, name: str) -> None:
    body = render_compact([("returncode", "FAILED"), ("messageKey", key), ("message", message)])
    assert body == example(name)


def test_render_compact_reproduces_recording_successes() -> None:
    assert render_compact([("returncode", "SUCCESS"), ("deleted", True)]) == example(
        "deleteRecordings-success.xml"
    )
    assert render_compact([("returncode", "SUCCESS"), ("published", True)]) == example(
        "publishRecordings-success.xml"
    )
    assert render_compact([("returncode", "SUCCESS"), ("published", False)]) == example(
        "publishRecordings-unpublish-success.xml"
    )
    assert render_compact([("returncode", "SUCCESS"), ("updated", True)]) == example(
        "updateRecordings-success.xml"
    )


def test_render_multi_error_non_unique_voice_bridge() -> None:
    body = render_multi_error(
        [("nonUniqueVoiceBridge", "The selected voice bridge is already in use.")]
    )
    assert body == example("create-nonUniqueVoiceBridge.xml")


def test_render_multi_error_several_and_escaped() -> None:
    body = render_multi_error([("a", "x'y"), ("b", "<z>")])
    assert body == (
        "<response>\n<returncode>FAILED</returncode>\n<errors>\n"
        "<error>\n<key>a</key>\n<message>x&apos;y</message>\n</error>\n"
        "<error>\n<key>b</key>\n<message>&lt;z&gt;</message>\n</error>\n"
        "</errors>\n</response>"
    )


# --- JSON --------------------------------------------------------------------------------------


def test_render_pretty_json_layout() -> None:
    body = render_pretty_json({"response": {"returncode": "SUCCESS", "count": 2, "ok": True}})
    assert body == (
        '{\n    "response": {\n        "returncode": "SUCCESS",\n'
        '        "count": 2,\n        "ok": true\n    }\n}'
    )


def test_render_pretty_json_escapes_non_ascii() -> None:
    body = render_pretty_json({"m": "Zoë 😀"})
    assert body == '{\n    "m": "Zo\\u00eb \\ud83d\\ude00"\n}'
    assert json.loads(body) == {"m": "Zoë 😀"}


def test_render_error_json() -> None:
    assert render_error_json("checksumError", "Checksums do not match") == (
        "{\n"
        '    "response": {\n'
        '        "returncode": "FAILED",\n'
        '        "messageKey": "checksumError",\n'
        '        "message": "Checksums do not match"\n'
        "    }\n"
        "}"
    )
