"""``SimulatedServer`` without HTTP: generated values, lookups, guest policies, seats, expiry."""

from __future__ import annotations

import random
import re

import pytest

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.params import ApiParams
from bbbfleet.simulator import (
    BbbProperties,
    CreateSpec,
    GuestPolicy,
    GuestStatus,
    JoinSpec,
    ManualClock,
    Meeting,
    Refused,
    Role,
    SimulatedServer,
    UnknownMeeting,
)


def make_server(clock: ManualClock | None = None, **properties: object) -> SimulatedServer:
    return SimulatedServer(
        "secret",
        clock=clock or ManualClock(),
        rng=random.Random(1),
        properties=BbbProperties(**properties),  # type: ignore[arg-type]
    )


def create(server: SimulatedServer, meeting_id: str = "room", **params: str) -> Meeting:
    spec = CreateSpec.from_params(
        ApiParams({"meetingID": meeting_id, "name": "Room", **params}), server.properties
    )
    return server.create_meeting(spec).meeting


def join_spec(**params: str) -> JoinSpec:
    return JoinSpec.from_params(ApiParams({"fullName": "Ada", **params}))


def test_generated_values_have_bbb_shapes() -> None:
    server = make_server()
    meeting = create(server)
    assert re.fullmatch(r"[0-9a-f]{40}-1715261728123", meeting.internal_id)
    assert re.fullmatch(r"[A-Za-z0-9]{8}", meeting.attendee_pw)
    assert re.fullmatch(r"[A-Za-z0-9]{8}", meeting.moderator_pw)
    assert re.fullmatch(r"\d{5}", meeting.voice_bridge)
    assert meeting.web_voice == meeting.voice_bridge
    user = server.join(meeting, join_spec(role="viewer"))
    assert re.fullmatch(r"w_[a-z0-9]{12}", user.internal_id)
    assert user.external_id == user.internal_id
    assert re.fullmatch(r"[a-z0-9]{12}", user.auth_token)
    assert re.fullmatch(r"[a-z0-9]{16}", user.session_token)


def test_voice_bridges_are_drawn_among_free_ones_until_none_is_left() -> None:
    server = make_server(voice_bridge_digits=2)
    bridges = {create(server, f"room-{i}").voice_bridge for i in range(20)}
    assert len(bridges) == 20
    tiny = make_server(voice_bridge_digits=1)
    for digit in range(10):
        create(tiny, f"room-{digit}", voiceBridge=str(digit))
    with pytest.raises(Refused) as refused:
        create(tiny, "one-too-many")
    assert refused.value.error is E.NON_UNIQUE_VOICE_BRIDGE


def test_meeting_lookup_by_external_id_internal_id_and_prefix() -> None:
    server = make_server()
    meeting = create(server, "room")
    assert server.find_meeting("room") is meeting
    assert server.find_meeting(meeting.internal_id) is meeting
    assert server.find_meeting(meeting.internal_id[:6]) is meeting
    assert server.find_meeting("other") is None
    assert server.find_meeting("") is None
    assert server.find_meeting(None) is None
    with pytest.raises(UnknownMeeting):
        server.meeting("other")


@pytest.mark.parametrize(
    ("policy", "params", "expected"),
    [
        (GuestPolicy.ALWAYS_ACCEPT, {"role": "viewer", "guest": "true"}, GuestStatus.ALLOW),
        (GuestPolicy.ALWAYS_DENY, {"role": "viewer"}, GuestStatus.DENY),
        (GuestPolicy.ALWAYS_DENY, {"role": "moderator"}, GuestStatus.ALLOW),
        (GuestPolicy.ALWAYS_DENY, {"role": "viewer", "guest": "false"}, GuestStatus.ALLOW),
        (GuestPolicy.ASK_MODERATOR, {"role": "viewer"}, GuestStatus.WAIT),
        (GuestPolicy.ASK_MODERATOR, {"role": "viewer", "guest": "true"}, GuestStatus.WAIT),
        (GuestPolicy.ASK_MODERATOR, {"role": "viewer", "guest": "false"}, GuestStatus.ALLOW),
        (GuestPolicy.ALWAYS_ACCEPT_AUTH, {"role": "viewer"}, GuestStatus.ALLOW),
        (GuestPolicy.ALWAYS_ACCEPT_AUTH, {"role": "viewer", "guest": "true"}, GuestStatus.WAIT),
        ("SOMETHING_ELSE", {"role": "viewer"}, GuestStatus.DENY),
    ],
)
def test_guest_status(policy: str, params: dict[str, str], expected: GuestStatus) -> None:
    server = make_server()
    meeting = create(server, guestPolicy=policy)
    if expected is GuestStatus.DENY:
        with pytest.raises(Refused) as refused:
            server.join(meeting, join_spec(**params))
        assert refused.value.error is E.GUEST_DENIED
    else:
        assert server.join(meeting, join_spec(**params)).guest_status is expected


def test_roles_from_role_or_password() -> None:
    server = make_server()
    meeting = create(server, attendeePW="ap", moderatorPW="mp")
    assert server.join(meeting, join_spec(password="mp")).role is Role.MODERATOR
    assert server.join(meeting, join_spec(password="ap")).role is Role.VIEWER
    assert server.join(meeting, join_spec(role="MODERATOR", password="ap")).role is Role.MODERATOR
    for params, error in [
        ({"password": "zz"}, E.WRONG_PASSWORD),
        ({}, E.ROLE_OR_PASSWORD_REQUIRED),
        ({"createTime": "12x"}, E.MISMATCH_CREATE_TIME),
    ]:
        with pytest.raises(Refused) as refused:
            server.join(meeting, join_spec(**params))
        assert refused.value.error is error


def test_max_participants_counts_people_not_bots_or_rejoins() -> None:
    clock = ManualClock()
    server = make_server(clock)
    meeting = create(server, maxParticipants="2")
    server.join(meeting, join_spec(role="viewer", userID="a"))
    server.join(meeting, join_spec(role="viewer", userID="b"))
    server.join(meeting, join_spec(role="viewer", userID="a"))
    server.join(meeting, join_spec(role="viewer", userID="bot", bot="true"))
    with pytest.raises(Refused) as refused:
        server.join(meeting, join_spec(role="viewer", userID="c"))
    assert refused.value.error is E.MAX_PARTICIPANTS_REACHED
    # Registered users who never open the client give their seat back after usersTimeout.
    clock.advance(61)
    assert server.join(meeting, join_spec(role="viewer", userID="c")).external_id == "c"


def test_presenter_passes_to_another_moderator_when_the_presenter_leaves() -> None:
    server = make_server()
    meeting = create(server)
    first = server.join(meeting, join_spec(role="moderator", userID="first"))
    second = server.join(meeting, join_spec(role="moderator", userID="second"))
    for user in (first, second):
        server.attend(user.session_token)
    assert (first.is_presenter, second.is_presenter) == (True, False)
    server.leave("room", "first")
    assert second.is_presenter


def test_expiry_is_lazy_and_follows_the_clock() -> None:
    clock = ManualClock()
    server = make_server(clock)
    meeting = create(server)
    user = server.join(meeting, join_spec(role="moderator"))
    server.attend(user.session_token)
    clock.advance(3600)
    assert server.find_meeting("room") is meeting  # someone is in: it runs on
    server.leave("room")
    clock.advance(59.9)
    assert server.is_running(meeting)
    clock.advance(0.1)
    assert server.find_meeting("room") is None
    assert [(e.meeting_id, e.reason) for e in server.ended] == [("room", "lastUserLeft")]
    assert server.sessions == {}


def test_create_spec_reads_parameters_like_bbb_web() -> None:
    spec = CreateSpec.from_params(
        ApiParams(
            {
                "meetingID": "m",
                "name": "Ro\x01om",
                "maxParticipants": "1_000",
                "duration": "15",
                "record": "TRUE",
                "meta_bbb-Origin": "Moodle",
                "meta_bad_name": "dropped",
                "attendeePW": "",
            }
        ),
        BbbProperties(),
    )
    assert spec.name == "Room"
    assert spec.max_participants == 0
    assert spec.duration == 15
    assert spec.record is True
    assert spec.metadata == {"bbb-origin": "Moodle"}
    assert spec.attendee_pw is None
