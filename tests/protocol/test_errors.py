"""The error vocabulary matches BBB's texts exactly: each constant, rendered as bbb-web's
``invalid()`` answer, is byte for byte the reference example (typos and double spaces included)."""

from __future__ import annotations

import pytest

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.errors import ApiError
from bbbfleet.protocol.xml import render_compact, render_error
from tests.conftest import example

PLAIN_ERRORS: list[tuple[ApiError, str]] = [
    (E.CHECKSUM_MISMATCH, "create-checksumError.xml"),
    (E.CHECKSUM_MISMATCH, "isMeetingRunning-checksumError.xml"),
    (E.RECORDING_CHECKSUM, "getRecordings-checksumError.xml"),
    (E.RECORDING_CHECKSUM, "publishRecordings-checksumError.xml"),
    (E.RECORDING_CHECKSUM, "putRecordingTextTrack-checksumError.xml"),
    (E.UNSUPPORTED_CONTENT_TYPE, "create-unsupportedContentType.xml"),
    (E.UNSUPPORTED_CONTENT_TYPE, "any-unsupportedContentType.xml"),
    (E.API_NOT_ENABLED, "apiNotEnabled.xml"),
    (E.MEETING_ID_COMMA, "create-meetingID-with-comma.xml"),
    (E.MEETING_ID_INVALID, "create-missing-or-untrimmed-meetingID.xml"),
    (E.MEETING_NAME_NULL, "create-missing-name.xml"),
    (E.MEETING_NAME_SIZE, "create-name-too-short.xml"),
    (E.INVALID_PASSWORD, "create-invalidPassword.xml"),
    (E.INVALID_PASSWORD, "end-invalidPassword.xml"),
    (E.ID_NOT_UNIQUE, "create-idNotUnique.xml"),
    (E.PARENT_MEETING_ID_MISSING, "create-parentMeetingIDMissing.xml"),
    (E.PARENT_MEETING_DOES_NOT_EXIST, "create-parentMeetingDoesNotExist.xml"),
    (E.PRESENTATION_URL_INVALID, "create-invalid-presentationUploadExternalUrl.xml"),
    (E.NOT_FOUND, "end-notFound.xml"),
    (E.NOT_FOUND, "getMeetingInfo-notFound.xml"),
    (E.WRONG_PASSWORD, "join-wrong-password.xml"),
    (E.ROLE_REQUIRED_NO_PASSWORDS, "join-no-passwords-on-meeting.xml"),
    (E.ROLE_OR_PASSWORD_REQUIRED, "join-no-role-no-password.xml"),
    (E.CHAT_MESSAGE_NULL, "sendChatMessage-missing-message.xml"),
    (E.CHAT_MESSAGE_SIZE, "sendChatMessage-message-too-long.xml"),
    (E.CHAT_MEETING_NOT_FOUND, "sendChatMessage-meetingNotFound.xml"),
]


@pytest.mark.parametrize(("error", "name"), PLAIN_ERRORS, ids=[name for _, name in PLAIN_ERRORS])
def test_error_constant_renders_as_the_reference_example(error: ApiError, name: str) -> None:
    assert render_error(error.key, error.message) == example(name)


def test_hooks_checksum_error_is_hand_built() -> None:
    body = render_compact(
        [
            ("returncode", "FAILED"),
            ("messageKey", E.HOOKS_CHECKSUM.key),
            ("message", E.HOOKS_CHECKSUM.message),
        ]
    )
    assert body == example("hooks-checksumError.xml")


def test_exact_texts_that_plugins_match_on() -> None:
    # Typos, double spaces and final periods are BBB's own.
    assert E.NO_SESSIONS.message.endswith("serverr")
    assert "  Please use" in E.ID_NOT_UNIQUE.message
    assert "sould the meeting" in E.ROLE_OR_PASSWORD_REQUIRED.message
    assert E.WRONG_PASSWORD.key == "Params required"
    assert E.HOOKS_CHECKSUM.message == E.RECORDING_CHECKSUM.message + "."
    assert E.END_REQUEST_SENT.message.endswith("verify that it was ended.")


def test_unknown_tenant_is_indistinguishable_from_a_wrong_checksum() -> None:
    assert E.UNKNOWN_TENANT == E.CHECKSUM_MISMATCH


def test_with_message_keeps_the_key() -> None:
    changed = E.NOT_FOUND.with_message("We could not find recordings")
    assert changed == ApiError("notFound", "We could not find recordings")
    assert E.NOT_FOUND.message == "A meeting with that ID does not exist"
    assert render_error(changed.key, changed.message) == example("publishRecordings-notFound.xml")
