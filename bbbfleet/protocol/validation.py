"""Parameter validation of the ValidationService calls, with BBB's keys, messages and precedence.

Each function returns every violation a real bbb-web would find; ``first_violation`` then picks the
one bbb-web reports (the first entry of a Java HashMap keyed by messageKey, REFERENCE.md §3.1).
Where bbb-web crashes (absent ``fullName`` on join, absent ``meetingID`` on isMeetingRunning) we
report the missing parameter instead: a gateway must never answer with an HTTP 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.errors import ApiError
from bbbfleet.protocol.java_order import java_hashmap_first
from bbbfleet.protocol.params import ApiParams

BOOLEAN_TEXTS = frozenset({"true", "false", "0", "1"})
JAVA_LONG_MIN, JAVA_LONG_MAX = -(2**63), 2**63 - 1


def first_violation(violations: Iterable[ApiError]) -> ApiError | None:
    """The violation bbb-web would answer with, or None when there is none."""
    by_key: dict[str, ApiError] = {}
    if not violations:
        return None
    for violation in violations:
        by_key.setdefault(violation.key, violation)
    first = java_hashmap_first(by_key)
    return None if first is None else by_key[first]


def _is_boolean(value: str | None) -> bool:
    return value is None or value == "" or value.lower() in BOOLEAN_TEXTS


def _is_integral(value: str | None) -> bool:
    if value is None or value == "":
        return True
    try:
        number = int(value, 10)
    except ValueError:
        return False
    return JAVA_LONG_MIN <= number <= JAVA_LONG_MAX and value.lstrip("+-").isdigit()


def java_length(value: str) -> int:
    """``String.length()``: UTF-16 code units, so a character outside the BMP (😀) counts twice.

    bbb-web's Size and Password constraints measure with it."""
    return len(value) + sum(1 for ch in value if ord(ch) > 0xFFFF)


def _password(value: str | None) -> list[ApiError]:
    if value is None or value == "":
        return []
    return [] if 2 <= java_length(value) <= 64 else [E.INVALID_PASSWORD]


def meeting_id_violations(params: ApiParams) -> list[ApiError]:
    """MeetingIDConstraint: absent passes; empty, too short/long or with a comma fails."""
    meeting_id = params.sanitised("meetingID")
    if meeting_id is None:
        return []
    found: list[ApiError] = []
    if meeting_id == "":
        found.append(E.MEETING_ID_MISSING)
    if not 2 <= java_length(meeting_id) <= 256:
        found.append(E.MEETING_ID_SIZE)
    if "," in meeting_id or meeting_id == "":  # the Pattern is ``^[^,]+$``: empty fails it too
        found.append(E.MEETING_ID_COMMA)
    return found


def meeting_id_required(params: ApiParams) -> list[ApiError]:
    """For calls where bbb-web would crash on an absent meetingID: report it as missing."""
    if params.sanitised("meetingID") is None:
        return [E.MEETING_ID_MISSING]
    return meeting_id_violations(params)


def create_violations(params: ApiParams) -> list[ApiError]:
    found = meeting_id_violations(params)
    name = params.sanitised("name")
    if name is None:
        found.append(E.MEETING_NAME_NULL)
    else:
        if name == "":
            found.append(E.MEETING_NAME_EMPTY)
        if not 2 <= java_length(name) <= 256:
            found.append(E.MEETING_NAME_SIZE)
    if not _is_integral(params.sanitised("voiceBridge")):
        found.append(E.VOICE_BRIDGE_NOT_INTEGRAL)
    found += _password(params.sanitised("attendeePW"))
    found += _password(params.sanitised("moderatorPW"))
    if not _is_boolean(params.sanitised("isBreakoutRoom")):
        found.append(E.BREAKOUT_NOT_BOOLEAN)
    if not _is_boolean(params.sanitised("record")):
        found.append(E.RECORD_NOT_BOOLEAN)
    return found


def create_controller_error(params: ApiParams) -> ApiError | None:
    """Checks create's controller makes after validation (§5.1 steps 1-2, parent lookup aside)."""
    raw = params.get("meetingID")
    if raw is None or raw != params.sanitised("meetingID"):
        return E.MEETING_ID_INVALID
    if params.flag("isBreakout") and not params.get("parentMeetingID"):
        return E.PARENT_MEETING_ID_MISSING
    return None


def join_violations(params: ApiParams, meeting_exists: bool, meeting_ended: bool) -> list[ApiError]:
    found = meeting_id_violations(params)
    if not meeting_exists:
        found += [E.INVALID_MEETING_IDENTIFIER, E.MEETING_FORCIBLY_ENDED, E.JOIN_PASSWORD_MISMATCH]
    elif meeting_ended:
        found.append(E.MEETING_FORCIBLY_ENDED)
    full_name = params.sanitised("fullName")
    if full_name is None or full_name == "":
        # bbb-web: empty fails validation, absent crashes with a 500; both are "missing" here.
        found.append(E.FULL_NAME_MISSING)
    found += _password(params.sanitised("password"))
    if not _is_boolean(params.sanitised("guest")):
        found.append(E.GUEST_NOT_BOOLEAN)
    if not _is_boolean(params.sanitised("auth")):
        found.append(E.AUTH_NOT_BOOLEAN)
    if not _is_integral(params.sanitised("createTime")):
        found.append(E.NOT_INTEGRAL)
    return found


def end_violations(params: ApiParams, meeting_exists: bool) -> list[ApiError]:
    found = meeting_id_violations(params)
    if not meeting_exists:
        found.append(E.NOT_FOUND)
    found += _password(params.sanitised("password"))
    return found


def get_meeting_info_violations(params: ApiParams, meeting_exists: bool) -> list[ApiError]:
    found = meeting_id_violations(params)
    if not meeting_exists:
        found.append(E.NOT_FOUND)
    return found


def is_meeting_running_violations(params: ApiParams) -> list[ApiError]:
    return meeting_id_required(params)


def send_chat_message_violations(params: ApiParams) -> list[ApiError]:
    found = meeting_id_required(params)
    message = params.sanitised("message")
    if message is None:
        found.append(E.CHAT_MESSAGE_NULL)
    elif not 1 <= java_length(message) <= 500:
        found.append(E.CHAT_MESSAGE_SIZE)
    user_name = params.sanitised("userName")
    if user_name is not None and java_length(user_name) > 255:
        found.append(E.CHAT_USERNAME_SIZE)
    return found


# --- presentationUploadExternalUrl (§5.1) -------------------------------------------------------

URL_TOKENS = ("%%MEETINGID%%", "%%USERID%%", "%%USERNAME%%")
# The protocols a stock JVM's ``java.net.URL`` knows; any other scheme is a MalformedURLException.
JAVA_URL_PROTOCOLS = frozenset({"http", "https", "ftp", "file", "jar", "mailto"})
_URI_ILLEGAL = frozenset(' "<>\\^`{|}')
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def is_valid_url(value: str) -> bool:
    """``new URL(value).toURI()`` succeeds (after the substitution tokens are filled in)."""
    for token in URL_TOKENS:
        value = value.replace(token, "x")
    scheme, colon, rest = value.partition(":")
    if not colon or scheme.lower() not in JAVA_URL_PROTOCOLS:
        return False
    if any(ch in _URI_ILLEGAL or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return False
    if _BAD_ESCAPE.search(value) or value.count("#") > 1:
        return False
    if rest.startswith("//") and scheme.lower() != "file":
        authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
        return authority != "" and _port_is_numeric(authority)
    return True


def _port_is_numeric(authority: str) -> bool:
    """``java.net.URL`` rejects ``host:abc`` (an empty port is fine)."""
    host_port = authority.rsplit("@", 1)[-1]
    if host_port.startswith("["):  # IPv6 literal
        host_port = host_port.partition("]")[2]
    _host, colon, port = host_port.rpartition(":")
    return not colon or port == "" or (port.isascii() and port.isdigit())


def presentation_upload_url_violations(params: ApiParams) -> list[ApiError]:
    """The only check bbb-web makes when ``presentationUploadExternalUrl`` is present: it then
    skips every other constraint, the checksum included (a source bug, REFERENCE.md §5.1)."""
    value = params.sanitised("presentationUploadExternalUrl")
    if value is None or is_valid_url(value):
        return []
    return [E.PRESENTATION_URL_INVALID]
