"""Validation of the ValidationService calls: keys, messages and which violation wins
(REFERENCE.md §3, §5.1-5.6, §5.13).  Where an example file exists, the winning violation is
rendered and compared with it byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.errors import ApiError
from bbbfleet.protocol.params import ApiParams
from bbbfleet.protocol.responses import join_error_location
from bbbfleet.protocol.validation import (
    create_controller_error,
    create_violations,
    end_violations,
    first_violation,
    get_meeting_info_violations,
    is_meeting_running_violations,
    is_valid_url,
    java_length,
    join_violations,
    meeting_id_violations,
    presentation_upload_url_violations,
    send_chat_message_violations,
)
from bbbfleet.protocol.xml import render_error
from tests.conftest import example


def params(**values: str) -> ApiParams:
    return ApiParams(dict(values))


def rendered(error: ApiError | None) -> str:
    assert error is not None
    return render_error(error.key, error.message)


def location_header(name: str) -> str:
    lines = example(name).splitlines()
    return next(line.split(": ", 1)[1] for line in lines if line.startswith("Location: "))


CREATE_OK = {"name": "Anton G's Room", "meetingID": "moodle-course-7-room-3"}


def create(**changes: str | None) -> list[ApiError]:
    values = {**CREATE_OK, **changes}
    return create_violations(params(**{k: v for k, v in values.items() if v is not None}))


# --- first_violation ---------------------------------------------------------------------------


def test_first_violation_of_nothing_is_none() -> None:
    assert first_violation([]) is None


def test_first_violation_follows_java_hashmap_order_not_list_order() -> None:
    # buckets: nullError 14, sizeError 11, invalidPassword 8, meetingForciblyEnded 7,
    # missingParamFullName 6, checksumError 1
    assert first_violation([E.MEETING_NAME_NULL, E.MEETING_ID_SIZE]) == E.MEETING_ID_SIZE
    assert first_violation([E.MEETING_ID_SIZE, E.INVALID_PASSWORD]) == E.INVALID_PASSWORD
    assert first_violation([E.FULL_NAME_MISSING, E.MEETING_FORCIBLY_ENDED]) == E.FULL_NAME_MISSING
    assert first_violation([E.NOT_FOUND, E.CHECKSUM_MISMATCH]) == E.CHECKSUM_MISMATCH


def test_first_violation_same_bucket_keeps_insertion_order() -> None:
    # invalidMeetingIdentifier and notFound share bucket 10; nullError/validationError bucket 14
    assert first_violation([E.NOT_FOUND, E.INVALID_MEETING_IDENTIFIER]) == E.NOT_FOUND
    assert first_violation([E.INVALID_MEETING_IDENTIFIER, E.NOT_FOUND]) == (
        E.INVALID_MEETING_IDENTIFIER
    )
    assert first_violation([E.MEETING_ID_COMMA, E.MEETING_NAME_NULL]) == E.MEETING_ID_COMMA
    assert first_violation([E.MEETING_NAME_NULL, E.MEETING_ID_COMMA]) == E.MEETING_NAME_NULL


def test_first_violation_keeps_one_message_per_key() -> None:
    assert first_violation([E.VOICE_BRIDGE_NOT_INTEGRAL, E.RECORD_NOT_BOOLEAN]) == (
        E.VOICE_BRIDGE_NOT_INTEGRAL
    )


# --- java_length ---------------------------------------------------------------------------------


def test_java_length_counts_utf16_code_units() -> None:
    assert java_length("") == 0
    assert java_length("abc") == 3
    assert java_length("Zoë") == 3
    assert java_length("日本") == 2
    assert java_length("😀") == 2
    assert java_length("a😀b") == 4


# --- create ------------------------------------------------------------------------------------


def test_create_valid() -> None:
    assert create() == []
    assert create_controller_error(params(**CREATE_OK)) is None


def test_create_without_name() -> None:
    error = first_violation(create(name=None))
    assert error == E.MEETING_NAME_NULL
    assert rendered(error) == example("create-missing-name.xml")


def test_create_name_too_short() -> None:
    error = first_violation(create(name="a"))
    assert error == E.MEETING_NAME_SIZE
    assert rendered(error) == example("create-name-too-short.xml")


@pytest.mark.parametrize("name", ["", "   ", "\x00\t"])
def test_create_empty_name_is_empty_error(name: str) -> None:
    # emptyError (bucket 4) and sizeError (11) both fire; emptyError is reported.
    violations = create(name=name)
    assert E.MEETING_NAME_EMPTY in violations
    assert E.MEETING_NAME_SIZE in violations
    assert first_violation(violations) == E.MEETING_NAME_EMPTY


def test_create_name_length_limits() -> None:
    assert create(name="ab") == []
    assert create(name="x" * 256) == []
    assert first_violation(create(name="x" * 257)) == E.MEETING_NAME_SIZE
    assert create(name="😀" * 128) == []  # 256 UTF-16 units
    assert first_violation(create(name="😀" * 128 + "x")) == E.MEETING_NAME_SIZE
    assert create(name="😀") == []  # two units: long enough for Java


def test_create_name_is_measured_after_sanitising() -> None:
    assert first_violation(create(name=" a\x00 ")) == E.MEETING_NAME_SIZE
    assert create(name="  \x07ab\x7f ") == []


def test_create_meeting_id_with_comma() -> None:
    error = first_violation(create(meetingID="course-7,room-3"))
    assert error == E.MEETING_ID_COMMA
    assert rendered(error) == example("create-meetingID-with-comma.xml")


def test_create_empty_meeting_id_reports_size_error() -> None:
    """NotEmpty (missingParamMeetingID, bucket 15), Size (sizeError, 11) and Pattern
    ``^[^,]+$`` (validationError, 14) all fail; the HashMap lists sizeError first."""
    violations = create(meetingID="")
    assert set(violations) == {E.MEETING_ID_MISSING, E.MEETING_ID_SIZE, E.MEETING_ID_COMMA}
    error = first_violation(violations)
    assert error == ApiError("sizeError", "Meeting ID must be between 2 and 256 characters")
    assert first_violation(create(meetingID=" \x00 ")) == E.MEETING_ID_SIZE


def test_create_absent_meeting_id_passes_validation_but_not_the_controller() -> None:
    assert create(meetingID=None) == []
    error = create_controller_error(params(name="Room"))
    assert error == E.MEETING_ID_INVALID
    assert rendered(error) == example("create-missing-or-untrimmed-meetingID.xml")


@pytest.mark.parametrize("meeting_id", ["a", ",", "x" * 257])
def test_create_meeting_id_size(meeting_id: str) -> None:
    assert first_violation(create(meetingID=meeting_id)) == E.MEETING_ID_SIZE


def test_create_meeting_id_length_counts_utf16_units() -> None:
    assert create(meetingID="😀") == []
    assert create(meetingID="😀" * 128) == []
    assert first_violation(create(meetingID="😀" * 128 + "x")) == E.MEETING_ID_SIZE


@pytest.mark.parametrize("field", ["attendeePW", "moderatorPW"])
@pytest.mark.parametrize("password", ["x", "x" * 65, "😀" * 33])
def test_create_invalid_password(field: str, password: str) -> None:
    error = first_violation(create(**{field: password}))
    assert error == E.INVALID_PASSWORD
    assert rendered(error) == example("create-invalidPassword.xml")


@pytest.mark.parametrize("password", ["", "ab", "x" * 64, "😀" * 32, "  "])
def test_create_acceptable_password(password: str) -> None:
    assert create(attendeePW=password, moderatorPW=password) == []


def test_invalid_password_wins_over_missing_name() -> None:
    # invalidPassword (bucket 8) is iterated before nullError (14)
    assert first_violation(create(name=None, attendeePW="x")) == E.INVALID_PASSWORD


def test_meeting_id_size_wins_over_missing_name() -> None:
    assert first_violation(create(name=None, meetingID=",")) == E.MEETING_ID_SIZE


@pytest.mark.parametrize(
    "value", ["", "70757", "0", "-1", "+5", "00042", "9223372036854775807", "-9223372036854775808"]
)
def test_create_integral_voice_bridge(value: str) -> None:
    assert create(voiceBridge=value) == []


@pytest.mark.parametrize(
    "value", ["12a", "1.0", "1e5", "0x10", "9223372036854775808", "1_000", "+", "--1", "٣x"]
)
def test_create_non_integral_voice_bridge(value: str) -> None:
    assert create(voiceBridge=value) == [E.VOICE_BRIDGE_NOT_INTEGRAL]


def test_voice_bridge_is_checked_after_sanitising() -> None:
    assert create(voiceBridge=" 70757\n") == []


@pytest.mark.parametrize("value", ["", "true", "false", "TRUE", "False", "0", "1", " true "])
def test_create_boolean_record_and_breakout_room(value: str) -> None:
    assert create(record=value, isBreakoutRoom=value) == []


@pytest.mark.parametrize("value", ["yes", "no", "2", "on", "t", "truee"])
def test_create_non_boolean_record(value: str) -> None:
    assert create(record=value) == [E.RECORD_NOT_BOOLEAN]
    assert create(isBreakoutRoom=value) == [E.BREAKOUT_NOT_BOOLEAN]


def test_is_breakout_itself_is_not_validated() -> None:
    """bbb-web validates ``isBreakoutRoom`` but the controller reads ``isBreakout``."""
    assert create(isBreakout="maybe") == []


# --- create controller checks ------------------------------------------------------------------


@pytest.mark.parametrize("meeting_id", [" room-1", "room-1 ", "room\x00-1", "\troom-1", "room-1\n"])
def test_untrimmed_meeting_id_is_invalid(meeting_id: str) -> None:
    error = create_controller_error(params(name="Room", meetingID=meeting_id))
    assert error == E.MEETING_ID_INVALID
    assert rendered(error) == example("create-missing-or-untrimmed-meetingID.xml")


def test_non_ascii_space_is_not_trimmed_by_java() -> None:
    values = params(name="Room", meetingID="\u00a0room-1\u3000")
    assert create_violations(values) == []
    assert create_controller_error(values) is None


def test_breakout_without_parent() -> None:
    error = create_controller_error(params(meetingID="room-1", isBreakout="true"))
    assert error == E.PARENT_MEETING_ID_MISSING
    assert rendered(error) == example("create-parentMeetingIDMissing.xml")
    assert create_controller_error(
        params(meetingID="room-1", isBreakout="TRUE", parentMeetingID="")
    ) == (E.PARENT_MEETING_ID_MISSING)


def test_breakout_with_parent_is_left_to_the_parent_lookup() -> None:
    values = params(meetingID="room-1", isBreakout="true", parentMeetingID="abc-123")
    assert create_controller_error(values) is None


@pytest.mark.parametrize("flag", ["false", "1", "yes", " true", ""])
def test_not_a_breakout_for_parse_boolean(flag: str) -> None:
    assert create_controller_error(params(meetingID="room-1", isBreakout=flag)) is None


def test_invalid_meeting_id_is_checked_before_the_breakout_parent() -> None:
    values = params(meetingID=" room-1", isBreakout="true")
    assert create_controller_error(values) == E.MEETING_ID_INVALID


# --- join --------------------------------------------------------------------------------------

JOIN_OK = {"meetingID": "moodle-course-7-room-3", "fullName": "Mary Sue", "password": "ap"}


def join(
    meeting_exists: bool = True, meeting_ended: bool = False, **changes: str | None
) -> list[ApiError]:
    values = {**JOIN_OK, **changes}
    return join_violations(
        params(**{k: v for k, v in values.items() if v is not None}), meeting_exists, meeting_ended
    )


def test_join_valid() -> None:
    assert join() == []
    assert join(password=None, role="MODERATOR") == []


def test_join_unknown_meeting_is_forcibly_ended() -> None:
    violations = join(meeting_exists=False)
    assert E.INVALID_MEETING_IDENTIFIER in violations
    error = first_violation(violations)
    assert error == E.MEETING_FORCIBLY_ENDED
    base = "https://bbb.example.com"
    assert join_error_location(base, error) == location_header("join-meeting-not-found.http")


def test_join_unknown_meeting_with_error_redirect_url() -> None:
    error = first_violation(join(meeting_exists=False))
    assert error is not None
    assert join_error_location("https://lms.example.org/bbb/error", error) == location_header(
        "join-errorRedirectUrl.http"
    )


def test_join_ended_meeting() -> None:
    assert first_violation(join(meeting_ended=True)) == E.MEETING_FORCIBLY_ENDED


def test_join_absent_meeting_id_of_unknown_meeting() -> None:
    assert first_violation(join(meeting_exists=False, meetingID=None)) == (E.MEETING_FORCIBLY_ENDED)


def test_join_missing_name_beats_unknown_meeting() -> None:
    # missingParamFullName is in bucket 6, meetingForciblyEnded in 7
    assert first_violation(join(meeting_exists=False, fullName="")) == E.FULL_NAME_MISSING


@pytest.mark.parametrize("full_name", ["", "  ", "\x00", None])
def test_join_missing_full_name(full_name: str | None) -> None:
    assert join(fullName=full_name) == [E.FULL_NAME_MISSING]


def test_join_password_length() -> None:
    assert join(password="x" * 65) == [E.INVALID_PASSWORD]
    assert first_violation(join(password="x")) == ApiError("invalidPassword", "Invalid password")
    assert join(password="") == []


def test_join_unknown_meeting_with_bad_password_is_forcibly_ended() -> None:
    assert first_violation(join(meeting_exists=False, password="x")) == E.MEETING_FORCIBLY_ENDED


def test_join_boolean_and_integral_checks() -> None:
    assert join(guest="yes") == [E.GUEST_NOT_BOOLEAN]
    assert join(auth="nope") == [E.AUTH_NOT_BOOLEAN]
    assert join(createTime="yesterday") == [E.NOT_INTEGRAL]
    assert join(guest="TRUE", auth="0", createTime="1715261728123") == []
    assert join(redirect="maybe") == []  # not validated


def test_join_meeting_id_rules_apply() -> None:
    assert first_violation(join(meetingID="a,b")) == E.MEETING_ID_COMMA
    assert first_violation(join(meetingID="a")) == E.MEETING_ID_SIZE


# --- end / getMeetingInfo / isMeetingRunning ----------------------------------------------------


def test_end_valid() -> None:
    assert end_violations(params(meetingID="room-1", password="mp"), meeting_exists=True) == []


def test_end_unknown_meeting() -> None:
    error = first_violation(end_violations(params(meetingID="room-1"), meeting_exists=False))
    assert error == E.NOT_FOUND
    assert rendered(error) == example("end-notFound.xml")


def test_end_password_too_long() -> None:
    error = first_violation(
        end_violations(params(meetingID="room-1", password="p" * 65), meeting_exists=True)
    )
    assert rendered(error) == example("end-invalidPassword.xml")


def test_end_bad_password_beats_unknown_meeting() -> None:
    violations = end_violations(params(meetingID="room-1", password="p"), meeting_exists=False)
    assert first_violation(violations) == E.INVALID_PASSWORD


def test_get_meeting_info_unknown_meeting() -> None:
    values = params(meetingID="room-1")
    assert get_meeting_info_violations(values, meeting_exists=True) == []
    error = first_violation(get_meeting_info_violations(values, meeting_exists=False))
    assert rendered(error) == example("getMeetingInfo-notFound.xml")


def test_get_meeting_info_empty_id_of_unknown_meeting_is_not_found() -> None:
    # notFound (bucket 10) comes before sizeError (11)
    violations = get_meeting_info_violations(params(meetingID=""), meeting_exists=False)
    assert first_violation(violations) == E.NOT_FOUND


def test_is_meeting_running() -> None:
    assert is_meeting_running_violations(params(meetingID="room-1")) == []
    assert is_meeting_running_violations(params()) == [E.MEETING_ID_MISSING]
    assert first_violation(is_meeting_running_violations(params(meetingID="r"))) == (
        E.MEETING_ID_SIZE
    )


def test_meeting_id_violations_absent_passes() -> None:
    assert meeting_id_violations(params()) == []


# --- sendChatMessage ---------------------------------------------------------------------------


def chat(**changes: str | None) -> list[ApiError]:
    values = {"meetingID": "room-1", "message": "Hello", **changes}
    return send_chat_message_violations(
        params(**{k: v for k, v in values.items() if v is not None})
    )


def test_chat_valid() -> None:
    assert chat() == []
    assert chat(message="x" * 500, userName="u" * 255) == []
    assert chat(message="😀" * 250) == []


def test_chat_missing_message() -> None:
    error = first_violation(chat(message=None))
    assert rendered(error) == example("sendChatMessage-missing-message.xml")


@pytest.mark.parametrize("message", ["x" * 501, "", "   ", "😀" * 250 + "x"])
def test_chat_message_size(message: str) -> None:
    error = first_violation(chat(message=message))
    assert error == E.CHAT_MESSAGE_SIZE
    assert rendered(error) == example("sendChatMessage-message-too-long.xml")


def test_chat_user_name_size() -> None:
    assert chat(userName="u" * 256) == [E.CHAT_USERNAME_SIZE]
    assert chat(userName="😀" * 128) == [E.CHAT_USERNAME_SIZE]
    assert chat(userName="") == []


def test_chat_absent_meeting_id_is_reported_as_missing() -> None:
    assert chat(meetingID=None) == [E.MEETING_ID_MISSING]
    # nullError (14) is iterated before missingParamMeetingID (15)
    assert first_violation(chat(meetingID=None, message=None)) == E.CHAT_MESSAGE_NULL


def test_chat_message_too_long_and_user_name_too_long_share_the_key() -> None:
    error = first_violation(chat(message="x" * 501, userName="u" * 256))
    assert error is not None
    assert error.key == "sizeError"


# --- properties --------------------------------------------------------------------------------

_ID_CHARS = st.characters(
    blacklist_categories=("Cc", "Cs"), blacklist_characters=",", max_codepoint=0xFFFF
)


@settings(max_examples=100, deadline=None)
@given(st.text(_ID_CHARS, min_size=2, max_size=256).filter(lambda s: s == s.strip(" ")))
def test_any_plain_meeting_id_of_2_to_256_chars_passes(meeting_id: str) -> None:
    values = params(name="Room", meetingID=meeting_id)
    assert create_violations(values) == []
    assert create_controller_error(values) is None
    assert end_violations(values, meeting_exists=True) == []


@settings(max_examples=100, deadline=None)
@given(
    st.text(_ID_CHARS, max_size=120),
    st.text(_ID_CHARS, max_size=120),
)
def test_any_meeting_id_with_a_comma_fails(before: str, after: str) -> None:
    meeting_id = f"{before},{after}".strip(" ")
    violations = create_violations(params(name="Room", meetingID=meeting_id))
    assert E.MEETING_ID_COMMA in violations
    expected = E.MEETING_ID_SIZE if len(meeting_id) < 2 else E.MEETING_ID_COMMA
    assert first_violation(violations) == expected


@settings(max_examples=50, deadline=None)
@given(st.text(_ID_CHARS, min_size=257, max_size=400).filter(lambda s: s == s.strip(" ")))
def test_any_meeting_id_longer_than_256_fails(meeting_id: str) -> None:
    violations = create_violations(params(name="Room", meetingID=meeting_id))
    assert first_violation(violations) == E.MEETING_ID_SIZE


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs")), min_size=1, max_size=80))
def test_password_validity_follows_its_utf16_length(password: str) -> None:
    violations = create_violations(params(name="Room", meetingID="room", moderatorPW=password))
    units = len(password.encode("utf-16-le")) // 2
    assert (violations == []) == (2 <= units <= 64)


# --- presentationUploadExternalUrl (§5.1) ------------------------------------------------------

# Verdicts of ``new java.net.URL(s).toURI()`` on a JVM.
JAVA_URL_VERDICTS = [
    ("https://lms.example.org/upload?m=%%MEETINGID%%&u=%%USERID%%&n=%%USERNAME%%", True),
    ("ftp://files.example.org/x", True),
    ("mailto:x@y.org", True),
    ("HTTPS://X.ORG/", True),
    ("http:foo", True),
    ("file:///tmp/x", True),
    ("https://[::1]:99/x", True),
    ("https://u:p@x.org/", True),
    ("https://x.org:/", True),
    ("https://x.org:8080/x", True),
    ("https://x.org/ü", True),
    ("not a url", False),
    ("http://", False),
    ("javascript:alert(1)", False),
    ("data:text/plain,hi", False),
    ("//x.org/a", False),
    ("https://exa mple.org/", False),
    ("https://x.org/?q=%zz", False),
    ("https://x.org/?a={b}", False),
    ("https://x.org:abc/", False),
    ("https://u:p@x.org:x/", False),
    ("https://x.org/a#b#c", False),
]


@pytest.mark.parametrize(("url", "valid"), JAVA_URL_VERDICTS)
def test_is_valid_url_agrees_with_java(url: str, valid: bool) -> None:
    assert is_valid_url(url) is valid


def test_presentation_upload_url_violation() -> None:
    bad = params(presentationUploadExternalUrl="not a url")
    error = first_violation(presentation_upload_url_violations(bad))
    assert rendered(error) == example("create-invalid-presentationUploadExternalUrl.xml")


def test_presentation_upload_url_is_checked_sanitised_and_only_when_present() -> None:
    assert presentation_upload_url_violations(params()) == []
    assert (
        presentation_upload_url_violations(
            params(presentationUploadExternalUrl=" https://lms.example.org/up\n")
        )
        == []
    )
