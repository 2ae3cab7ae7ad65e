"""BBB's own callbacks (contract C5) from the simulator to a real loopback receiver: the
recording-ready POST with its HS256 JWT, and the analytics callback of post_events."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import jwt
import pytest

from bbbfleet.simulator import ManualClock
from bbbfleet.simulator.outgoing import snake_case
from bbbfleet.simulator.push import drain
from tests.simulator.conftest import Bbb
from tests.simulator.receiver import Receiver, running_receiver

ROOM = "callback-room"
# the simulator's secrets are short; BBB signs with whatever secret it has
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as receiver:
        yield receiver


async def record(bbb: Bbb, clock: ManualClock, **meta: str) -> str:
    await bbb.create(ROOM, record="true", **{f"meta_{k}": v for k, v in meta.items()})
    await bbb.enter(ROOM, fullName="Ada", role="moderator", userID="ada-1")
    await bbb.enter(ROOM, fullName="Bob", role="viewer", userID="bob-2")
    clock.advance(90)
    await bbb.control("POST", f"meetings/{ROOM}/leave", {"userID": "bob-2"})
    clock.advance(30)
    await bbb.call("end", meetingID=ROOM)
    (recording,) = bbb.host.state.recordings.values()
    return recording.record_id


async def test_recording_ready_callback(bbb: Bbb, clock: ManualClock, receiver: Receiver) -> None:
    bbb.host.state.delivery_backoff_seconds = 0.01
    receiver.answer((500, "try later"), (204, ""))
    url = f"{receiver.base_url}/ready?lms=1"
    record_id = await record(bbb, clock, **{"bbb-recording-ready-url": url})
    assert receiver.requests == []  # not before it is published
    clock.advance(10)
    await bbb.call("getRecordings", meetingID=ROOM)
    first, second = await receiver.wait_for(2)
    await drain()
    assert len(receiver.requests) == 2  # the 500 was retried, the 204 ended it
    assert first.body == second.body
    assert (first.method, first.path, first.raw_query) == ("POST", "/ready", b"lms=1")
    assert first.headers["content-type"] == "application/x-www-form-urlencoded"
    (name, token), *rest = parse_qsl(first.body.decode())
    assert name == "signed_parameters" and rest == []
    assert jwt.get_unverified_header(token) == {"alg": "HS256"}
    claims = jwt.decode(token, bbb.host.secret, algorithms=["HS256"])
    assert claims == {"meeting_id": ROOM, "record_id": record_id}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret", algorithms=["HS256"])


@pytest.mark.parametrize("status", [404, 410])
async def test_recording_ready_gives_up_on_404_and_410(
    bbb: Bbb, clock: ManualClock, receiver: Receiver, status: int
) -> None:
    bbb.host.state.delivery_backoff_seconds = 0.01
    receiver.answer((status, "gone"))
    await record(bbb, clock, **{"canvas-recording-ready-url": f"{receiver.base_url}/canvas"})
    clock.advance(10)
    await bbb.call("getRecordings", meetingID=ROOM)
    await receiver.wait_for(1)
    await drain()
    assert len(receiver.requests) == 1


async def test_analytics_callback(bbb: Bbb, clock: ManualClock, receiver: Receiver) -> None:
    url = f"{receiver.base_url}/analytics"
    record_id = await record(
        bbb, clock, **{"analytics-callback-url": url, "gl_secret": "x", "bbb-context": "Maths"}
    )
    (request,) = await receiver.wait_for(1)
    await drain()
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "BigBlueButton Analytics Callback"
    scheme, token = request.headers["authorization"].split(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token) == {"alg": "HS512", "typ": "JWT"}
    claims = jwt.decode(token, bbb.host.secret, algorithms=["HS512"])  # exp checked too
    assert abs(claims["exp"] - (time.time() + 24 * 3600)) < 60
    payload = json.loads(request.body)
    assert payload["version"] == "1.0"
    assert (payload["meeting_id"], payload["internal_meeting_id"]) == (ROOM, record_id)
    data = payload["data"]
    assert data["duration"] == 120
    assert data["metadata"] == {
        "is_breakout": "false",
        "meeting_name": "Test meeting",
        "analytics_callback_url": url,
        "bbb_context": "Maths",
        "meeting_id": ROOM,
    }
    ada, bob = data["attendees"]
    assert (ada["ext_user_id"], ada["name"], ada["moderator"]) == ("ada-1", "Ada", True)
    assert (bob["ext_user_id"], bob["moderator"], bob["duration"]) == ("bob-2", False, 90)
    assert ada["duration"] == 120 and "id" not in ada
    assert ada["engagement"] == {
        "chats": 0,
        "talks": 0,
        "raisehand": 0,
        "emojis": 0,
        "poll_votes": 0,
        "talk_time": 0,
    }
    assert len(ada["joins"]) == len(ada["leaves"]) == 1
    assert ada["joins"][0].endswith(" +0000") and len(ada["joins"][0]) == 25
    (session,) = ada["sessions"].values()
    assert session["joins"][0]["event"] == "join" and session["lefts"][0]["event"] == "left"
    assert data["files"] == ["default.pdf"] and data["polls"] == []


async def test_no_analytics_without_events(
    bbb: Bbb, clock: ManualClock, receiver: Receiver
) -> None:
    url = f"{receiver.base_url}/analytics"
    await bbb.create(ROOM, **{"meta_analytics-callback-url": url})  # record=false
    await bbb.enter(ROOM, role="viewer")
    await bbb.call("end", meetingID=ROOM)
    await drain()
    assert receiver.requests == []


def test_snake_case_like_active_support() -> None:
    assert [snake_case(k) for k in ("meetingName", "isBreakout", "bbb-origin", "HTMLPage")] == [
        "meeting_name",
        "is_breakout",
        "bbb_origin",
        "html_page",
    ]
