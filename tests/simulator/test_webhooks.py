"""bbb-webhooks on simulated servers, over real loopback HTTP: the hooks API answers, and the
callbacks a real receiver on loopback gets (order, checksums, filters, scoping, retries)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bbbfleet.protocol import webhooks as wh
from bbbfleet.simulator import HookSettings, ManualClock, SimulatedFleet, SimulatedServer
from bbbfleet.simulator.listener import LoopbackListener
from tests.conftest import example
from tests.simulator.conftest import Bbb, query

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
FAST = HookSettings(domain="bbb.example.com", retry_intervals_ms=(20, 20, 20), tick_ms=50)


# --- a callback receiver on loopback ------------------------------------------------------------


@dataclass
class Received:
    path: str
    query: str
    headers: dict[str, str]
    body: str

    @property
    def form(self) -> wh.CallbackForm:
        return wh.parse_callback_body(self.body)

    @property
    def event(self) -> dict[str, Any]:
        events = self.form.events
        assert len(events) == 1
        event: dict[str, Any] = events[0]
        return event

    @property
    def event_id(self) -> str | None:
        return wh.event_id_of(self.event)


@dataclass
class Receiver:
    """Records every POST; ``statuses[path]`` are the answers to give first (then 200),
    ``delays[path]`` seconds to wait before answering."""

    listener: LoopbackListener | None = None
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    answered: list[tuple[str, int]] = field(default_factory=list)

    def url(self, path: str) -> str:
        assert self.listener is not None
        return f"{self.listener.base_url}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def ids(self, path: str) -> list[str | None]:
        return [r.event_id for r in self.at(path)]

    async def wait_for(self, path: str, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.delivered(path)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{path}: {self.ids(path)} after {timeout}s")
            await asyncio.sleep(0.01)
        return self.delivered(path)

    def delivered(self, path: str) -> list[Received]:
        """Requests to ``path`` that got a 2xx or 401 answer."""
        ok = [
            status in range(200, 300) or status == 401 for p, status in self.answered if p == path
        ]
        return [r for r, good in zip(self.at(path), ok, strict=False) if good]

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        self.received.append(
            Received(
                path,
                request.scope["query_string"].decode(),
                dict(request.headers),
                (await request.body()).decode(),
            )
        )
        delay = self.delays.get(path, 0)
        if delay:
            await asyncio.sleep(delay)
        pending = self.statuses.get(path)
        status = pending.pop(0) if pending else 200
        self.answered.append((path, status))
        return PlainTextResponse("ok", status_code=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST", "GET"])])
    receiver.listener = LoopbackListener(app)
    await receiver.listener.start()
    try:
        yield receiver
    finally:
        await receiver.listener.stop(grace=0)


@pytest.fixture
async def fleet(clock: ManualClock) -> AsyncIterator[SimulatedFleet]:
    fleet = SimulatedFleet(
        2, 0, clock=clock, seed=7, hooks=FAST, secrets=["hook-secret-0", "hook-secret-1"]
    )
    await fleet.start()
    try:
        yield fleet
    finally:
        await fleet.stop()


def hooks_url(bbb: Bbb, method: str, query_string: str = "", secret: str | None = None) -> str:
    signed = wh.sign_hooks_query(method, query_string, secret or bbb.host.secret)
    return f"{bbb.host.url}{method}?{signed}"


async def hooks_call(bbb: Bbb, method: str, *pairs: tuple[str, str], **params: str) -> str:
    response = await bbb.http.get(hooks_url(bbb, method, query(*pairs, **params)))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    return response.text


async def register(bbb: Bbb, callback_url: str, **params: str) -> str:
    body = await hooks_call(bbb, "hooks/create", callbackURL=callback_url, **params)
    match = re.search(r"<hookID>([^<]+)</hookID>", body)
    assert match is not None and "<returncode>SUCCESS</returncode>" in body, body
    return match.group(1)


async def settled(server: SimulatedServer, timeout: float = 5.0) -> None:
    """Until every queued event has been delivered (or given up)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while server.hooks.pending():
        assert asyncio.get_running_loop().time() < deadline, server.hooks.to_json()
        await asyncio.sleep(0.01)


def meeting_of(received: Received) -> dict[str, Any]:
    meeting: dict[str, Any] = received.event["data"]["attributes"]["meeting"]
    return meeting


# --- the hooks API --------------------------------------------------------------------------------


async def test_create_list_destroy_answer_like_the_examples(bbb: Bbb) -> None:
    first_url = "https://lms.example.org/bbb/hooks"
    second_url = "https://stats.example.org/in?src=bbb1"
    created = await hooks_call(bbb, "hooks/create", callbackURL=first_url)
    first = UUID4.search(created)
    assert first is not None
    assert created.replace(first.group(0), "b0f6a2c1-3e44-4d5a-9d6e-2f7c8a9b0c1d") == example(
        "hooks-create-success.xml"
    )
    second = await register(
        bbb,
        second_url,
        meetingID="moodle-course-7-room-3",
        eventID="meeting-created,meeting-ended",
        getRaw="TRUE",
    )
    listed = await hooks_call(bbb, "hooks/list")
    expected = example("hooks-list.xml")
    expected = expected.replace("b0f6a2c1-3e44-4d5a-9d6e-2f7c8a9b0c1d", first.group(0))
    expected = expected.replace("5d8f0f8e-7c3b-4f6a-a1e2-9b8c7d6e5f4a", second)
    assert listed == expected

    duplicate = await hooks_call(bbb, "hooks/create", callbackURL=first_url, meetingID="x")
    assert duplicate == example("hooks-create-duplicateWarning.xml").replace(
        "b0f6a2c1-3e44-4d5a-9d6e-2f7c8a9b0c1d", first.group(0)
    )
    destroyed = await hooks_call(bbb, "hooks/destroy", hookID=first.group(0))
    assert destroyed == example("hooks-destroy-success.xml")
    again = await hooks_call(bbb, "hooks/destroy", hookID=first.group(0))
    assert again == example("hooks-destroy-destroyMissingHook.xml")
    await hooks_call(bbb, "hooks/destroy", hookID=second)
    assert await hooks_call(bbb, "hooks/list") == example("hooks-list-empty.xml")


async def test_bad_hooks_input(bbb: Bbb) -> None:
    assert await hooks_call(bbb, "hooks/create") == example(
        "hooks-create-missingParamCallbackURL.xml"
    )
    assert await hooks_call(bbb, "hooks/destroy") == example("hooks-destroy-missingParamHookID.xml")
    assert await hooks_call(bbb, "hooks/destroy", hookID="no-such-hook") == example(
        "hooks-destroy-destroyMissingHook.xml"
    )
    assert await hooks_call(bbb, "hooks/create", callbackURL="http://x/", getRaw="maybe") == (
        example("hooks-create-createHookError.xml")
    )
    checksum_error = example("hooks-checksumError.xml")
    base = f"{bbb.host.url}hooks/create"
    signed = wh.sign_hooks_query("hooks/create", "callbackURL=http%3A%2F%2Fx%2F", bbb.host.secret)
    for url in (
        f"{base}?callbackURL=http%3A%2F%2Fx%2F",  # no checksum
        f"{base}?callbackURL=http%3A%2F%2Fx%2F&checksum=",  # empty
        f"{base}?callbackURL=http%3A%2F%2Fx%2F&checksum=abc",  # a length no algorithm has
        f"{base}?{signed.upper()}",  # hooks compare case-sensitively
        hooks_url(bbb, "hooks/create", "callbackURL=http%3A%2F%2Fx%2F", secret="wrong"),
        hooks_url(bbb, "hooks/list").replace("hooks/list", "hooks/destroy"),  # other method
    ):
        response = await bbb.http.get(url)
        assert response.status_code == 200
        assert response.text == checksum_error, url
    assert await hooks_call(bbb, "hooks/list") == example("hooks-list-empty.xml")
    ping = await bbb.http.get(f"{bbb.host.url}hooks/ping")
    assert ping.status_code == 200 and ping.text == "bbb-webhooks API up!"
    assert "content-type" not in ping.headers
    post = await bbb.http.post(hooks_url(bbb, "hooks/list"))
    assert post.status_code == 404
    assert "<pre>Cannot POST /bigbluebutton/api/hooks/list</pre>" in post.text
    unknown = await bbb.http.get(f"{bbb.host.url}hooks/unknown?x=<1>")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "text/html; charset=utf-8"
    assert unknown.text == (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>Error</title>\n</head>\n<body>\n"
        "<pre>Cannot GET /bigbluebutton/api/hooks/unknown</pre>\n</body>\n</html>\n"
    )
    assert (await bbb.http.get(f"{bbb.host.url}getMeetingsX")).status_code == 404


async def test_list_by_meeting_and_permanent_hooks(bbb: Bbb) -> None:
    server = bbb.host.state
    response = await bbb.control(
        "POST", "hooks", {"permanentURLs": [{"url": "http://perm.example/in", "getRaw": True}]}
    )
    assert response.status_code == 200
    permanent = str(uuid.uuid5(uuid.NAMESPACE_URL, "http://perm.example/in"))
    assert [h.hook_id for h in server.hooks.hooks.values()] == [permanent]
    scoped = await register(bbb, "http://a.example/", meetingID="room-1")
    other = await register(bbb, "http://b.example/", meetingID="room-2")
    listed = await hooks_call(bbb, "hooks/list", meetingID="room-1")
    ids = re.findall(r"<hookID>([^<]+)</hookID>", listed)
    assert ids == sorted([permanent, scoped]) and other not in ids
    assert "<permanentHook>true</permanentHook><rawData>true</rawData>" in listed
    assert await hooks_call(bbb, "hooks/destroy", hookID=permanent) == example(
        "hooks-destroy-destroyMissingHook.xml"
    )
    assert await hooks_call(bbb, "hooks/create", callbackURL="http://perm.example/in") == (
        example("hooks-create-duplicateWarning.xml").replace(
            "b0f6a2c1-3e44-4d5a-9d6e-2f7c8a9b0c1d", permanent
        )
    )


async def test_v33_drops_meeting_ids(bbb: Bbb) -> None:
    assert (await bbb.control("POST", "hooks", {"scopedHooks": False})).status_code == 200
    await register(bbb, "http://a.example/", meetingID="room-1")
    listed = await hooks_call(bbb, "hooks/list")
    assert "<meetingID>" not in listed
    assert "listHookError" in await hooks_call(bbb, "hooks/list", meetingID="room-1")


async def test_control_refuses_bad_settings(bbb: Bbb) -> None:
    for body in (
        {"checksumVersion": "2.7"},
        {"retryIntervals": [10, -1]},
        {"retryIntervals": "fast"},
        {"permanentURLs": [{"getRaw": True}]},
        {"scopedHooks": "yes"},
        {"tickMs": -5},
    ):
        response = await bbb.control("POST", "hooks", body)
        assert response.status_code == 400, body
        assert "error" in response.json()
    state = (await bbb.control("GET", "hooks")).json()
    assert state["checksumVersion"] == "3.3" and state["retryIntervals"] == [20, 20, 20]


# --- events ---------------------------------------------------------------------------------------


async def test_meeting_lifecycle_in_order_with_v33_checksums(bbb: Bbb, receiver: Receiver) -> None:
    callback = receiver.url("/lms/hooks")
    await register(bbb, callback)
    await bbb.create(
        "m1", name="Room 1", **{"meta_bbb-origin": "Moodle"}, attendeePW="ap", moderatorPW="mp"
    )
    await bbb.enter("m1", fullName="Ada", role="MODERATOR", userID="u-ada", **{"userdata-x": "1"})
    await bbb.enter("m1", fullName="Bob", role="VIEWER", userID="u-bob", guest="true")
    response = await bbb.call(
        "sendChatMessage", meetingID="m1", message="Hello all", userName="Host"
    )
    assert "SUCCESS" in response.text
    for change in ({"hasJoinedVoice": True}, {"isMuted": True}, {"hasVideo": True}):
        assert (await bbb.control("POST", "meetings/m1/users/u-bob", change)).status_code == 200
    await bbb.control("POST", "meetings/m1/leave", {"userID": "u-bob"})
    assert "SUCCESS" in (await bbb.call("end", meetingID="m1")).text

    expected = [
        "meeting-created",
        "user-joined",
        "user-presenter-assigned",
        "user-joined",
        "chat-group-message-sent",
        "user-audio-voice-enabled",
        "user-audio-muted",
        "user-cam-broadcast-start",
        "user-left",
        "user-left",
        "meeting-ended",
    ]
    received = await receiver.wait_for("/lms/hooks", len(expected))
    assert [r.event_id for r in received] == expected
    internal = bbb.host.state.ended[-1].internal_id
    secret = bbb.host.secret
    for r in received:
        full_url = f"{callback}?{r.query}"
        assert r.query.startswith("checksum=")
        assert wh.callback_checksum_valid(full_url, r.body, secret, "3.3")
        assert not wh.callback_checksum_valid(full_url, r.body, secret, "3.4")
        assert r.headers["content-type"] == "application/x-www-form-urlencoded;charset=UTF-8"
        assert r.form.domain == "bbb.example.com" and r.form.timestamp is not None
        assert meeting_of(r)["internal-meeting-id"] == internal
        assert meeting_of(r)["external-meeting-id"] == "m1"
    created = received[0].event["data"]["attributes"]["meeting"]
    assert created["metadata"] == {"bbb-origin": "Moodle"}
    assert (created["moderator-pass"], created["viewer-pass"], created["record"]) == (
        "mp",
        "ap",
        False,
    )
    ada = received[1].event["data"]["attributes"]["user"]
    assert ada == {
        "internal-user-id": ada["internal-user-id"],
        "external-user-id": "u-ada",
        "name": "Ada",
        "role": "MODERATOR",
        "presenter": False,
        "userdata": {"x": "1"},
        "guest": False,
    }
    assert received[3].event["data"]["attributes"]["user"]["guest"] is True
    chat = received[4].event["data"]["attributes"]
    assert chat["chat-message"]["message"] == "Hello all"
    assert chat["chat-message"]["sender"]["name"] == "Host"
    assert chat["chat-id"] == "MAIN-PUBLIC-GROUP-CHAT"
    voice = received[5].event["data"]["attributes"]["user"]
    assert (voice["listening-only"], voice["sharing-mic"], voice["muted"]) == (False, True, False)
    assert received[6].event["data"]["attributes"]["user"]["muted"] is True
    bob_left = received[8].event["data"]["attributes"]["user"]
    assert set(bob_left) == {"internal-user-id", "external-user-id", "guest"}
    assert bob_left["external-user-id"] == "u-bob"
    # Ada was still in when the meeting ended: the made-up user-left carries her as she joined.
    ada_left = received[9].event["data"]["attributes"]["user"]
    assert ada_left["external-user-id"] == "u-ada" and ada_left["presenter"] is True
    assert ada_left["name"] == "Ada"


async def test_v34_checksum_over_the_body(bbb: Bbb, receiver: Receiver) -> None:
    assert (await bbb.control("POST", "hooks", {"checksumVersion": "3.4"})).status_code == 200
    assert bbb.host.state.hook_checksum_version == "3.4"
    callback = receiver.url("/v34?tenant=a")
    await register(bbb, callback)
    await bbb.create("m2")
    [r] = await receiver.wait_for("/v34", 1)
    assert r.query.startswith("tenant=a&checksum=")
    full_url = f"{receiver.url('/v34')}?{r.query}"
    assert wh.callback_checksum_valid(full_url, r.body, bbb.host.secret, "3.4")
    assert not wh.callback_checksum_valid(full_url, r.body, bbb.host.secret, "3.3")


async def test_fleet_kwarg_selects_the_checksum_version(clock: ManualClock) -> None:
    fleet = SimulatedFleet(1, 0, clock=clock, hook_checksum_version="3.4")
    assert fleet.servers[0].state.hook_checksum_version == "3.4"
    with pytest.raises(ValueError):
        fleet.servers[0].state.hook_checksum_version = "2.6"  # type: ignore[assignment]


async def test_event_filters_and_raw_hooks(bbb: Bbb, receiver: Receiver) -> None:
    await register(bbb, receiver.url("/filtered"), eventID="MEETING-CREATED,meeting-ended")
    await register(bbb, receiver.url("/raw"), getRaw="true")
    await bbb.create("m3")
    await bbb.enter("m3", fullName="Ada", role="MODERATOR")
    await bbb.call("end", meetingID="m3")
    await receiver.wait_for("/filtered", 2)
    raw = await receiver.wait_for("/raw", 5)
    await asyncio.sleep(0.1)
    assert receiver.ids("/filtered") == ["meeting-created", "meeting-ended"]
    names = [r.event.get("envelope", {}).get("name") or r.event_id for r in receiver.at("/raw")]
    # The user-left bbb-webhooks makes up at the end is a mapped event, raw hooks get it as is.
    assert names == [
        "MeetingCreatedEvtMsg",
        "UserJoinedMeetingEvtMsg",
        "PresenterAssignedEvtMsg",
        "user-left",
        "MeetingDestroyedEvtMsg",
    ]
    created = raw[0].event
    assert created["core"]["body"]["props"]["meetingProp"]["extId"] == "m3"


async def test_scoped_hooks_get_only_their_meeting(bbb: Bbb, receiver: Receiver) -> None:
    await register(bbb, receiver.url("/scoped"), meetingID="room-a")
    await register(bbb, receiver.url("/global"))
    await bbb.create("room-a")
    await bbb.create("room-b")
    await bbb.call("end", meetingID="room-b")
    await bbb.call("end", meetingID="room-a")
    global_hook = await receiver.wait_for("/global", 4)
    scoped = await receiver.wait_for("/scoped", 2)
    await asyncio.sleep(0.1)
    assert [meeting_of(r)["external-meeting-id"] for r in global_hook] == [
        "room-a",
        "room-b",
        "room-b",
        "room-a",
    ]
    assert [(r.event_id, meeting_of(r)["external-meeting-id"]) for r in scoped] == [
        ("meeting-created", "room-a"),
        ("meeting-ended", "room-a"),
    ]
    assert len(receiver.at("/scoped")) == 2


async def test_retries_then_success_keep_the_order(bbb: Bbb, receiver: Receiver) -> None:
    receiver.statuses["/flaky"] = [500, 502]
    await register(bbb, receiver.url("/flaky"))
    await bbb.create("m4")
    await bbb.call("end", meetingID="m4")
    await receiver.wait_for("/flaky", 2)
    attempts = receiver.at("/flaky")
    assert [r.event_id for r in attempts] == [
        "meeting-created",
        "meeting-created",
        "meeting-created",
        "meeting-ended",
    ]
    # A retry resends the same request (the timestamp is when the dispatch started).
    assert attempts[0].body == attempts[1].body == attempts[2].body
    assert attempts[0].query == attempts[2].query
    await settled(bbb.host.state)
    hook = next(iter(bbb.host.state.hooks.hooks.values()))
    assert (hook.delivered, hook.failed_attempts, len(hook.queue)) == (2, 2, 0)


async def test_exhausted_retries_remove_the_hook(bbb: Bbb, receiver: Receiver) -> None:
    receiver.statuses["/down"] = [500] * 10
    receiver.statuses["/perm"] = [503] * 5
    await bbb.control(
        "POST",
        "hooks",
        {"permanentURLs": [{"url": receiver.url("/perm")}], "permanentIntervalReset": 30},
    )
    hook_id = await register(bbb, receiver.url("/down"))
    await bbb.create("m5")
    deadline = asyncio.get_running_loop().time() + 5
    while hook_id in bbb.host.state.hooks.hooks:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    assert len(receiver.at("/down")) == 4  # the first try and three retries
    assert hook_id not in await hooks_call(bbb, "hooks/list")
    # A permanent hook outlives its retries and gets the event once the receiver is back.
    [perm] = await receiver.wait_for("/perm", 1)
    assert perm.event_id == "meeting-created" and len(receiver.at("/perm")) == 6
    await bbb.call("end", meetingID="m5")
    await receiver.wait_for("/perm", 2)
    assert len(receiver.at("/down")) == 4


async def test_401_counts_as_delivered(bbb: Bbb, receiver: Receiver) -> None:
    receiver.statuses["/denied"] = [401, 401]
    await register(bbb, receiver.url("/denied"))
    await bbb.create("m6")
    await bbb.call("end", meetingID="m6")
    await receiver.wait_for("/denied", 2)
    assert receiver.ids("/denied") == ["meeting-created", "meeting-ended"]
    assert len(bbb.host.state.hooks.hooks) == 1


async def test_a_slow_receiver_does_not_stall_other_hooks(bbb: Bbb, receiver: Receiver) -> None:
    receiver.delays["/slow"] = 0.5
    await register(bbb, receiver.url("/slow"))
    await register(bbb, receiver.url("/fast"))
    await bbb.create("m7")
    await bbb.enter("m7", fullName="Ada", role="VIEWER")
    await bbb.call("end", meetingID="m7")
    started = asyncio.get_running_loop().time()
    await receiver.wait_for("/fast", 4)
    assert asyncio.get_running_loop().time() - started < 0.45
    assert len(receiver.delivered("/slow")) == 0
    slow = await receiver.wait_for("/slow", 4, timeout=10)
    assert [r.event_id for r in slow] == [r.event_id for r in receiver.at("/fast")]


async def test_recording_and_expiry_events(
    bbb: Bbb, receiver: Receiver, clock: ManualClock
) -> None:
    await register(bbb, receiver.url("/rec"))
    await bbb.create("m8", record="true", **{"meta_bbb-origin": "Moodle"})
    await bbb.enter("m8", fullName="Ada", role="MODERATOR", userID="u-ada")
    clock.advance(90)
    await bbb.call("end", meetingID="m8")
    first = [
        "meeting-created",
        "user-joined",
        "user-presenter-assigned",
        "meeting-recording-started",
        "user-left",
        "meeting-ended",
        "rap-archive-ended",
    ]
    received = await receiver.wait_for("/rec", len(first))
    assert [r.event_id for r in received] == first
    archive = received[-1].event["data"]["attributes"]
    record_id = archive["record-id"]
    assert archive["recorded"] is True and archive["duration"] == 90_000
    # Processing ends while nobody calls the API: the server's ticker reports it.
    clock.advance(10)
    rap = await receiver.wait_for("/rec", len(first) + 4)
    steps = [(r.event_id, r.event["data"]["attributes"]["workflow"]) for r in rap[len(first) :]]
    assert steps == [
        ("rap-process-ended", "presentation"),
        ("rap-process-ended", "video"),
        ("rap-publish-ended", "presentation"),
        ("rap-publish-ended", "video"),
    ]
    published = rap[len(first) + 2].event["data"]["attributes"]["recording"]
    assert published["playback"]["link"].endswith(f"/playback/presentation/2.3/{record_id}")
    assert published["metadata"]["bbb-origin"] == "Moodle"
    assert published["is-breakout"] == "false" and published["end-time"] > published["start-time"]

    await bbb.call("publishRecordings", recordID=record_id, publish="false")
    await bbb.call("publishRecordings", recordID=record_id, publish="false")  # no change
    await bbb.call("deleteRecordings", recordID=record_id)
    final = await receiver.wait_for("/rec", len(first) + 6)
    assert [r.event_id for r in final[-2:]] == ["rap-unpublished", "rap-deleted"]
    assert final[-1].event["data"]["attributes"]["record-id"] == record_id

    # A meeting nobody joins ends by itself after 5 minutes, reported without any API call
    # (its end callback goes out too).
    await bbb.create("m9", meetingEndedURL=receiver.url("/ended"))
    await receiver.wait_for("/rec", len(first) + 7)
    clock.advance(301)
    ended = await receiver.wait_for("/rec", len(first) + 8)
    assert ended[-1].event_id == "meeting-ended"
    assert meeting_of(ended[-1])["external-meeting-id"] == "m9"
    [end_callback] = await receiver.wait_for("/ended", 1)
    assert end_callback.query == "recordingmarks=false"


async def test_media_events_from_the_control_api(bbb: Bbb, receiver: Receiver) -> None:
    await bbb.create("m10")
    await bbb.enter("m10", fullName="Ada", role="MODERATOR", userID="ada")
    await bbb.enter("m10", fullName="Bob", role="VIEWER", userID="bob")
    await register(bbb, receiver.url("/media"))
    steps: list[tuple[str, dict[str, bool]]] = [
        ("bob", {"isListeningOnly": True}),
        ("bob", {"isListeningOnly": False, "hasJoinedVoice": True}),
        ("bob", {"isMuted": True}),
        ("bob", {"isMuted": False}),
        ("bob", {"hasJoinedVoice": False}),
        ("bob", {"hasVideo": True}),
        ("bob", {"hasVideo": False}),
        ("bob", {"isPresenter": True}),
    ]
    for user, change in steps:
        response = await bbb.control("POST", f"meetings/m10/users/{user}", change)
        assert response.status_code == 200
    expected = [
        "user-audio-voice-enabled",
        "user-audio-voice-disabled",
        "user-audio-voice-enabled",
        "user-audio-muted",
        "user-audio-unmuted",
        "user-audio-voice-disabled",
        "user-cam-broadcast-start",
        "user-cam-broadcast-end",
        "user-presenter-unassigned",
        "user-presenter-assigned",
    ]
    received = await receiver.wait_for("/media", len(expected))
    assert [r.event_id for r in received] == expected
    users = [r.event["data"]["attributes"]["user"] for r in received]
    assert (users[0]["listening-only"], users[0]["sharing-mic"], users[0]["muted"]) == (
        True,
        False,
        True,
    )
    assert users[6]["stream"] == users[7]["stream"]
    assert users[8]["external-user-id"] == "ada" and users[9]["external-user-id"] == "bob"
    bad = await bbb.control("POST", "meetings/m10/users/bob", {"isMuted": "yes"})
    assert bad.status_code == 400


async def test_no_hooks_no_work(bbb: Bbb, http: httpx.AsyncClient) -> None:
    await bbb.create("m11")
    await bbb.enter("m11", role="VIEWER")
    assert bbb.host.state.hooks.pending() == []
    state = (await http.get(f"{bbb.host.base_url}/_sim/hooks")).json()
    assert state["hooks"] == []
    assert json.dumps(state)  # plain JSON


async def test_a_callback_url_that_is_no_url_loses_its_hook(bbb: Bbb) -> None:
    hook_id = await register(bbb, "not a url")
    empty_id = await register(bbb, "")
    await bbb.create("m12")
    deadline = asyncio.get_running_loop().time() + 5
    while bbb.host.state.hooks.hooks:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    listed = await hooks_call(bbb, "hooks/list")
    assert hook_id not in listed and empty_id not in listed


async def test_a_waiting_guest_who_leaves_never_joined(bbb: Bbb, receiver: Receiver) -> None:
    await register(bbb, receiver.url("/lobby"))
    await bbb.create("m13", guestPolicy="ASK_MODERATOR")
    await bbb.enter("m13", fullName="Gus", role="VIEWER", guest="true", userID="gus")
    await bbb.control("POST", "meetings/m13/leave", {"userID": "gus"})
    await bbb.call("end", meetingID="m13")
    await receiver.wait_for("/lobby", 2)
    await settled(bbb.host.state)
    assert receiver.ids("/lobby") == ["meeting-created", "meeting-ended"]


async def test_auth2_0_sends_the_secret_as_bearer_token(bbb: Bbb, receiver: Receiver) -> None:
    assert (await bbb.control("POST", "hooks", {"auth2_0": True})).status_code == 200
    await register(bbb, receiver.url("/bearer"))
    await bbb.create("m14")
    [r] = await receiver.wait_for("/bearer", 1)
    assert r.query == ""
    assert r.headers["authorization"] == f"Bearer {bbb.host.secret}"
