"""What ``create`` and ``join`` ask for, read from validated parameters the way bbb-web's
controller reads them (raw values, lenient numbers, Java booleans; REFERENCE.md §4, §5.1, §5.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bbbfleet.protocol.checksum import strip_control_and_trim
from bbbfleet.protocol.params import ApiParams
from bbbfleet.simulator.model import BbbProperties, Role

_JAVA_LONG_TEXT = re.compile(r"[+-]?\d{1,19}")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def strip_control_chars(value: str) -> str:
    """``ParamsUtil.stripControlChars``: no trimming, only the Cc characters go."""
    return _CONTROL_CHARS.sub("", value)


def _given(params: ApiParams, name: str) -> str | None:
    """A parameter as ``StringUtils.isEmpty`` sees it: absent and empty are both "not given"."""
    value = params.get(name)
    return value if value else None


@dataclass(frozen=True, slots=True)
class CreateSpec:
    meeting_id: str
    name: str
    attendee_pw: str | None = None  # as given; None when absent or empty
    moderator_pw: str | None = None
    voice_bridge: str | None = None
    web_voice: str | None = None
    dial_number: str = "613-555-1234"
    duration: int = 0
    max_participants: int = 0
    record: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    logout_url: str | None = None
    meeting_ended_url: str | None = None
    guest_policy: str = "ALWAYS_ACCEPT"
    expire_if_no_user_joined_minutes: int = 5
    expire_when_last_user_left_minutes: int = 1
    is_breakout: bool = False
    parent_meeting_id: str | None = None
    sequence: int = 0
    free_join: bool = False
    disabled_features: frozenset[str] = frozenset()
    chat_texts: dict[str, str] = field(
        default_factory=dict
    )  # welcome, moderatorOnlyMessage, bannerText
    allow_requests_without_session: bool = False

    @classmethod
    def from_params(cls, params: ApiParams, properties: BbbProperties) -> CreateSpec:
        return cls(
            meeting_id=params.get("meetingID", ""),
            name=strip_control_chars(params.get("name", "")),
            attendee_pw=_given(params, "attendeePW"),
            moderator_pw=_given(params, "moderatorPW"),
            voice_bridge=_given(params, "voiceBridge"),
            web_voice=_given(params, "webVoice"),
            dial_number=_given(params, "dialNumber") or properties.dial_number,
            duration=params.integer("duration", properties.meeting_duration),
            max_participants=params.integer("maxParticipants", properties.max_participants),
            record=params.flag("record"),
            metadata=params.metadata(),
            logout_url=_given(params, "logoutURL"),
            meeting_ended_url=_given(params, "meetingEndedURL"),
            guest_policy=_given(params, "guestPolicy") or properties.guest_policy,
            expire_if_no_user_joined_minutes=params.integer(
                "meetingExpireIfNoUserJoinedInMinutes", properties.expire_if_no_user_joined_minutes
            ),
            expire_when_last_user_left_minutes=params.integer(
                "meetingExpireWhenLastUserLeftInMinutes",
                properties.expire_when_last_user_left_minutes,
            ),
            is_breakout=params.flag("isBreakout"),
            parent_meeting_id=_given(params, "parentMeetingID"),
            sequence=params.integer("sequence", 0),
            free_join=params.flag("freeJoin"),
            chat_texts={
                name: params[name]
                for name in ("welcome", "moderatorOnlyMessage", "bannerText")
                if params.get(name)
            },
            allow_requests_without_session=params.flag(
                "allowRequestsWithoutSession", properties.allow_requests_without_session
            ),
            disabled_features=frozenset(
                f.strip() for f in params.get("disabledFeatures", "").split(",") if f.strip()
            ),
        )


@dataclass(frozen=True, slots=True)
class JoinSpec:
    full_name: str
    role: Role | None = None  # from the ``role`` parameter, when it names a role
    password: str | None = None
    create_time: int | None = None  # None when not given; -1 when not a number
    user_id: str | None = None
    guest: bool = False
    guest_given: bool = False
    authenticated: bool = True
    bot: bool = False
    userdata: dict[str, str] = field(default_factory=dict)
    redirect: bool = True
    existing_user_id: str | None = None  # getJoinUrl's URLs: another session for this user
    replace_session_token: str | None = None  # with existing_user_id: the session it replaces

    @classmethod
    def from_params(cls, params: ApiParams) -> JoinSpec:
        guest_given = _given(params, "guest") is not None
        # No ``guest`` parameter: the user counts as authenticated unless ``auth`` says otherwise.
        authenticated = params.flag("auth", default=not guest_given)
        return cls(
            full_name=strip_control_chars(params.get("fullName", "")),
            role=_role(params.get("role")),
            password=_given(params, "password"),
            create_time=_create_time(params.get("createTime")),
            user_id=_given(params, "userID"),
            guest=params.flag("guest"),
            guest_given=guest_given,
            authenticated=authenticated,
            bot=params.flag("bot"),
            userdata=params.userdata(),
            redirect=params.flag("redirect", default=True),
            existing_user_id=_given(params, "existingUserID"),
            replace_session_token=_given(params, "replaceSessionToken"),
        )


def _role(value: str | None) -> Role | None:
    lowered = (value or "").lower()
    if lowered == "moderator":
        return Role.MODERATOR
    if lowered == "viewer":
        return Role.VIEWER
    return None


def _create_time(value: str | None) -> int | None:
    """``Long.parseLong`` of the sanitised value; what it rejects compares as -1."""
    if not value:
        return None
    text = strip_control_and_trim(value)
    return int(text) if _JAVA_LONG_TEXT.fullmatch(text) else -1
