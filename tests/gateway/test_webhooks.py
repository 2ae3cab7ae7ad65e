"""Webhooks through the real gateway: the hooks API per tenant, events from the backends mapped
and filtered, delivered in order with retries to real receivers on loopback; SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from typing import Any
from urllib.parse import quote, unquote

import pytest

from bbbfleet.protocol.webhooks import (
    build_callback_request,
    event_envelope,
    meeting_ended_event,
    sign_hooks_query,
)
from bbbfleet.settings import Settings
from tests.conftest import example
from tests.gateway.conftest import (
    ALPHA_SECRET,
    Gateway,
    free_port,
    q,
    start_gateway,
    stop_gateway,
)
from tests.gateway.hooks_helpers import (
    FAST_WEBHOOKS,
    create_hook,
    hooks,
    hooks_url,
    joined,
    mark_hosted,
    send_events,
    tenant_id,
)
from tests.gateway.receiver import Receiver

FAST = {**FAST_WEBHOOKS, "webhook_timeout": 1.0}  # for the `gw` fixture (conftest)


# --- the hooks API ------------------------------------------------------------------------------


async def test_create_list_destroy_like_bbb_webhooks(gw: Gateway, receiver: Receiver) -> None:
    url = f"{receiver.base}/lms"
    hook_id = await create_hook(gw, "alpha", url, meetingID="room-1")
    text = await hooks(gw, "alpha", "hooks/create", callbackURL=url, meetingID="room-1")
    assert text == example("hooks-create-duplicateWarning.xml").replace(
        "b0f6a2c1-3e44-4d5a-9d6e-2f7c8a9b0c1d", hook_id
    )
    listed = await hooks(gw, "alpha", "hooks/list")
    assert listed == (
        "<response><returncode>SUCCESS</returncode><hooks><hook>"
        f"<hookID>{hook_id}</hookID><callbackURL><![CDATA[{url}]]></callbackURL>"
        "<meetingID><![CDATA[room-1]]></meetingID><permanentHook>false</permanentHook>"
        "<rawData>false</rawData></hook></hooks></response>"
    )
    assert await hooks(gw, "alpha", "hooks/destroy", hookID=hook_id) == example(
        "hooks-destroy-success.xml"
    )
    assert await hooks(gw, "alpha", "hooks/list") == example("hooks-list-empty.xml")
    assert await hooks(gw, "alpha", "hooks/destroy", hookID=hook_id) == example(
        "hooks-destroy-destroyMissingHook.xml"
    )


async def test_create_answer_and_errors(gw: Gateway, receiver: Receiver) -> None:
    text = await hooks(
        gw, "alpha", "hooks/create", callbackURL=f"{receiver.base}/x", meetingID="m", getRaw="TRUE"
    )
    assert text.endswith("<permanentHook>false</permanentHook><rawData>true</rawData></response>")
    assert await hooks(gw, "alpha", "hooks/create", meetingID="m") == example(
        "hooks-create-missingParamCallbackURL.xml"
    )
    assert await hooks(gw, "alpha", "hooks/destroy") == example(
        "hooks-destroy-missingParamHookID.xml"
    )
    bad_raw = await hooks(
        gw, "alpha", "hooks/create", callbackURL=f"{receiver.base}/y", meetingID="m", getRaw="yes"
    )
    assert bad_raw == example("hooks-create-createHookError.xml")


async def test_checksum_rules_of_bbb_webhooks(gw: Gateway) -> None:
    url = hooks_url(gw, "alpha", "hooks/list")
    upper = url[: url.index("checksum=") + 9] + url[url.index("checksum=") + 9 :].upper()
    for bad in (upper, f"{gw.api}hooks/list", f"{gw.api}hooks/list?checksum=abc"):
        response = await gw.http.get(bad)
        assert response.status_code == 200
        assert response.text == example("hooks-checksumError.xml")
        assert response.headers["content-type"] == "text/xml; charset=utf-8"
    # signed with the bbb-web rule (``hooks/list`` + query + secret) in sha256 is accepted too
    sha = hashlib.sha256(f"hooks/list{ALPHA_SECRET}".encode()).hexdigest()
    assert (
        "<returncode>SUCCESS</returncode>"
        in (await gw.http.get(f"{gw.api}hooks/list?checksum={sha}")).text
    )
    ping = await gw.http.get(f"{gw.api}hooks/ping")
    assert ping.text == "bbb-webhooks API up!" and ping.status_code == 200
    assert "content-type" not in ping.headers
    assert (await gw.http.post(hooks_url(gw, "alpha", "hooks/list"))).status_code == 405


async def test_tenants_see_only_their_hooks(gw: Gateway, receiver: Receiver) -> None:
    alpha_hook = await create_hook(gw, "alpha", f"{receiver.base}/a", meetingID="room")
    beta_hook = await create_hook(gw, "beta", f"{receiver.base}/a", meetingID="room")
    assert alpha_hook != beta_hook  # duplicateWarning is per tenant
    assert beta_hook not in await hooks(gw, "alpha", "hooks/list")
    assert alpha_hook not in await hooks(gw, "beta", "hooks/list")
    assert await hooks(gw, "beta", "hooks/destroy", hookID=alpha_hook) == example(
        "hooks-destroy-destroyMissingHook.xml"
    )
    assert alpha_hook in await hooks(gw, "alpha", "hooks/list", meetingID="room")
    assert alpha_hook not in await hooks(gw, "alpha", "hooks/list", meetingID="other")
    # every way of naming the tenant works: path prefix, host name
    listed = hooks_url(gw, "beta", "hooks/list").replace(
        "/bigbluebutton/", "/t/beta/bigbluebutton/"
    )
    assert beta_hook in (await gw.http.get(listed)).text
    by_host = await gw.http.get(
        hooks_url(gw, "beta", "hooks/list"), headers={"Host": "bbb.beta.example"}
    )
    assert beta_hook in by_host.text and alpha_hook not in by_host.text
    # alpha's secret on beta's path is no one's
    wrong = hooks_url(gw, "alpha", "hooks/list").replace(
        "/bigbluebutton/", "/t/beta/bigbluebutton/"
    )
    assert (await gw.http.get(wrong)).text == example("hooks-checksumError.xml")


async def test_meeting_id_required_unless_allowed(gw: Gateway, receiver: Receiver) -> None:
    text = await hooks(gw, "alpha", "hooks/create", callbackURL=f"{receiver.base}/all")
    assert "<returncode>FAILED</returncode><messageKey>missingParamMeetingID</messageKey>" in text
    assert "scoped to one meeting" in text
    await gw.store.tenants.configure("alpha", allow_tenant_hooks=True)
    hook_id = await create_hook(gw, "alpha", f"{receiver.base}/all")
    listed = await hooks(gw, "alpha", "hooks/list", meetingID="any")
    assert hook_id in listed and "<meetingID>" not in listed


async def test_private_callback_urls_refused_by_default(database_url: str) -> None:
    gw = await start_gateway(database_url, webhooks=False, webhook_allow_private_targets=False)
    try:
        for url in ("http://127.0.0.1:9/x", "http://169.254.169.254/", "ftp://lms.example.com/"):
            text = await hooks(gw, "alpha", "hooks/create", callbackURL=url, meetingID="m")
            assert "<messageKey>invalidCallbackURL</messageKey>" in text
        assert "SUCCESS" in await hooks(
            gw, "alpha", "hooks/create", callbackURL="https://lms.example.com/h", meetingID="m"
        )
    finally:
        await stop_gateway(gw)


# --- ingress and delivery ------------------------------------------------------------------------


async def test_event_reaches_the_tenants_hook(gw: Gateway, receiver: Receiver) -> None:
    alpha = await tenant_id(gw, "alpha")
    beta = await tenant_id(gw, "beta")
    await create_hook(gw, "alpha", f"{receiver.base}/alpha", meetingID="room")
    await create_hook(gw, "beta", f"{receiver.base}/beta", meetingID="room")
    response = await send_events(gw, 0, [joined(f"bf{alpha}-room")])
    assert response.status_code == 200
    [got] = await receiver.wait_for("/alpha", 1)
    assert got.method == "POST"
    assert got.headers["Content-Type"] == "application/x-www-form-urlencoded;charset=UTF-8"
    assert list(got.form) == ["domain", "event", "timestamp"]
    assert got.form["domain"] == "127.0.0.1"
    [event] = json.loads(got.form["event"])
    assert event["data"]["id"] == "user-joined"
    assert event["data"]["attributes"]["meeting"]["external-meeting-id"] == "room"
    assert f"bf{alpha}" not in got.body.decode()
    # the v3.3 callback checksum, with the TENANT's secret
    callback = f"{receiver.base}/alpha"
    expected = hashlib.sha1(f"{callback}{{}}{ALPHA_SECRET}".encode()).hexdigest()
    assert got.query == f"checksum={expected}"
    await asyncio.sleep(0.2)
    assert receiver.on("/beta") == []  # beta's "room" is another meeting
    await send_events(gw, 1, [joined(f"bf{beta}-room")])
    await receiver.wait_for("/beta", 1)
    assert len(receiver.on("/alpha")) == 1


async def test_v34_checksum_per_tenant(gw: Gateway, receiver: Receiver) -> None:
    alpha = await tenant_id(gw, "alpha")
    await gw.store.tenants.configure("alpha", hook_checksum_version="3.4")
    await create_hook(gw, "alpha", f"{receiver.base}/h?x=1", meetingID="room")
    await send_events(gw, 0, [joined(f"bf{alpha}-room")], version="3.4")
    [got] = await receiver.wait_for("/h", 1)
    body = got.body.decode()
    expected = hashlib.sha1(f"{receiver.base}/h?x=1{body}{ALPHA_SECRET}".encode()).hexdigest()
    assert got.query == f"x=1&checksum={expected}"


async def test_bad_ingress_is_refused(gw: Gateway, receiver: Receiver) -> None:
    alpha = await tenant_id(gw, "alpha")
    await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
    wrong = await send_events(gw, 0, [joined(f"bf{alpha}-room")], secret="not-the-secret")
    assert wrong.status_code == 401
    assert (await gw.http.post(f"{gw.url}/bigbluebutton/fleet/events/1/0000")).status_code == 404
    assert (await gw.http.post(f"{gw.url}/bigbluebutton/fleet/events/x/0000")).status_code == 404
    hooks_service = gw.app.state.hooks  # type: ignore[union-attr]
    for unknown in ("random-123", "bf999-room", "bf1-h-" + "0" * 64):
        assert (await send_events(gw, 0, [joined(unknown)])).status_code == 200
    assert hooks_service.dropped == 3
    await asyncio.sleep(0.3)
    assert receiver.received == []


async def test_event_filter_and_tenant_wide_hooks(gw: Gateway, receiver: Receiver) -> None:
    alpha = await tenant_id(gw, "alpha")
    await create_hook(
        gw, "alpha", f"{receiver.base}/ended", meetingID="room", eventID="MEETING-ENDED"
    )
    await gw.store.tenants.configure("alpha", allow_tenant_hooks=True)
    await create_hook(gw, "alpha", f"{receiver.base}/all")
    await send_events(
        gw,
        0,
        [joined(f"bf{alpha}-room"), meeting_ended_event("0" * 40 + "-1", f"bf{alpha}-room", 2)],
    )
    await send_events(gw, 0, [joined(f"bf{alpha}-other")])
    got = await receiver.wait_for("/all", 3)
    ids = [json.loads(r.form["event"])[0]["data"]["id"] for r in got]
    assert ids == ["user-joined", "meeting-ended", "user-joined"]
    [ended] = await receiver.wait_for("/ended", 1)
    assert json.loads(ended.form["event"])[0]["data"]["id"] == "meeting-ended"
    # the operator withdraws tenant-wide hooks: they get nothing more
    await gw.store.tenants.configure("alpha", allow_tenant_hooks=False)
    await send_events(gw, 0, [joined(f"bf{alpha}-other", "u2")])
    await asyncio.sleep(0.3)
    assert len(receiver.on("/all")) == 3


async def test_personal_data_removed_for_a_tenant(gw: Gateway, receiver: Receiver) -> None:
    alpha = await tenant_id(gw, "alpha")
    await gw.store.tenants.configure("alpha", hook_personal_data="remove")
    await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
    await send_events(gw, 0, [joined(f"bf{alpha}-room", name="Jane Doe")])
    [got] = await receiver.wait_for("/h", 1)
    user = json.loads(got.form["event"])[0]["data"]["attributes"]["user"]
    assert "name" not in user and "external-user-id" not in user and user["internal-user-id"]


async def test_order_per_hook_with_retries(gw: Gateway, receiver: Receiver) -> None:
    """The first attempts fail: later events wait, then all arrive in order."""
    alpha = await tenant_id(gw, "alpha")
    receiver.status = lambda path, n: 500 if n <= 2 else 200
    await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
    events = [joined(f"bf{alpha}-room", f"u{i}") for i in range(15)]
    await send_events(gw, 0, events)
    got = await receiver.wait_for("/h", 15)
    users = [
        json.loads(r.form["event"])[0]["data"]["attributes"]["user"]["internal-user-id"]
        for r in got
    ]
    assert users == [f"w_u{i}" for i in range(15)]
    assert receiver.attempts["/h"] == 17


async def test_retry_intervals_then_hook_removed(gw: Gateway, receiver: Receiver) -> None:
    alpha = await tenant_id(gw, "alpha")
    receiver.status = lambda path, n: 503
    await create_hook(gw, "alpha", f"{receiver.base}/dead", meetingID="room")
    await send_events(gw, 0, [joined(f"bf{alpha}-room")])
    deadline = time.monotonic() + 5
    while receiver.attempts.get("/dead", 0) < 4 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert receiver.attempts["/dead"] == 4  # first try + 3 retries
    times = receiver.attempt_times["/dead"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 0.045 and gaps[1] >= 0.095 and gaps[2] >= 0.195
    await asyncio.sleep(0.3)
    assert await hooks(gw, "alpha", "hooks/list") == example("hooks-list-empty.xml")
    assert await gw.store.hooks.pending() == 0


async def test_slow_receiver_does_not_stall_others(gw: Gateway, receiver: Receiver) -> None:
    alpha = await tenant_id(gw, "alpha")
    receiver.delay = lambda path: 3.0 if path == "/slow" else 0.0
    await create_hook(gw, "alpha", f"{receiver.base}/slow", meetingID="room")
    await create_hook(
        gw, "alpha", f"{receiver.base}/dead-port".replace(str(receiver.port), "9"), meetingID="room"
    )
    await create_hook(gw, "alpha", f"{receiver.base}/fast", meetingID="room")
    start = time.monotonic()
    await send_events(gw, 0, [joined(f"bf{alpha}-room", f"u{i}") for i in range(5)])
    got = await receiver.wait_for("/fast", 5, timeout=3)
    assert got[-1].at - start < 1.0  # not behind the slow (timing out) or unreachable hooks
    assert receiver.on("/slow") == []


async def test_queue_survives_a_restart(database_url: str, receiver: Receiver) -> None:
    """The gateway stops with four events queued (the first failed once and waits for its
    retry); a new gateway process on the same database delivers them all, in order."""
    gw = await start_gateway(database_url, **{**FAST, "webhook_retry_intervals": [1500]})
    try:
        alpha = await tenant_id(gw, "alpha")
        receiver.status = lambda path, n: 500 if n <= 1 else 200
        await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
        await send_events(gw, 0, [joined(f"bf{alpha}-room", f"u{i}") for i in range(4)])
        deadline = time.monotonic() + 5
        while receiver.attempts.get("/h", 0) < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await gw.stop()
        assert receiver.attempts["/h"] == 1 and receiver.on("/h") == []
        assert await gw.store.hooks.pending() == 4
        await gw.start()  # a new app: new deliverer, nothing kept in memory
        got = await receiver.wait_for("/h", 4)
        users = [
            json.loads(r.form["event"])[0]["data"]["attributes"]["user"]["internal-user-id"]
            for r in got
        ]
        assert users == ["w_u0", "w_u1", "w_u2", "w_u3"]
        assert await gw.store.hooks.pending() == 0
    finally:
        await stop_gateway(gw)


async def test_hashed_meeting_ids_map_through_the_meetings_table(
    gw: Gateway, receiver: Receiver
) -> None:
    long_id = "course-" + "x" * 248  # 255: fits BBB, bf<tenant>- prefix does not
    create = await gw.get(gw.alpha("create", q(name="Long", meetingID=long_id)))
    assert "SUCCESS" in create.text
    alpha = await tenant_id(gw, "alpha")
    meeting = await gw.store.meetings.get(alpha, long_id)
    assert meeting is not None and meeting.backend_meeting_id.startswith(f"bf{alpha}-h-")
    await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID=long_id)
    index = sorted(s.id for s in await gw.store.servers.list()).index(meeting.server_id)
    await send_events(gw, index, [joined(meeting.backend_meeting_id)])

    def user_joined() -> list[dict[str, Any]]:
        events = [json.loads(r.form["event"])[0] for r in receiver.on("/h")]
        return [e for e in events if e["data"]["id"] == "user-joined"]

    for _ in range(200):
        if user_joined():
            break
        await asyncio.sleep(0.02)
    [event] = user_joined()
    assert event["data"]["attributes"]["meeting"]["external-meeting-id"] == long_id
    # the same event from a server the meeting is not on (a stale copy) is dropped
    await send_events(gw, (index + 1) % 3, [joined(meeting.backend_meeting_id)])
    await asyncio.sleep(0.3)
    assert len(user_joined()) == 1


async def test_raw_hooks_get_the_filtered_mapped_event(gw: Gateway, receiver: Receiver) -> None:
    alpha = await tenant_id(gw, "alpha")
    await create_hook(gw, "alpha", f"{receiver.base}/raw", meetingID="room", getRaw="true")
    odd = event_envelope(
        "meeting-screenshare-started",
        {"meeting": {"internal-meeting-id": "x-1", "external-meeting-id": f"bf{alpha}-room"}},
        5,
    )
    await send_events(gw, 0, [odd])
    [got] = await receiver.wait_for("/raw", 1)
    assert (
        json.loads(got.form["event"])[0]["data"]["attributes"]["meeting"]["external-meeting-id"]
        == "room"
    )


# --- with the simulator's bbb-webhooks ------------------------------------------------------------


async def backend_hooks(gw: Gateway, index: int) -> str:
    sim = gw.fleet.servers[index]
    query = sign_hooks_query("hooks/list", "", sim.secret)
    return (await gw.http.get(f"{sim.url}hooks/list?{query}")).text


async def test_gateway_registers_its_hook_once_per_backend(gw: Gateway) -> None:
    assert gw.app is not None
    service = gw.app.state.hooks
    for _ in range(100):
        listings = [await backend_hooks(gw, i) for i in range(3)]
        if all("/bigbluebutton/fleet/events/" in listed for listed in listings):
            break
        await asyncio.sleep(0.05)
    assert await service.register_all() == {"sim-0": True, "sim-1": True, "sim-2": True}
    for index, server in enumerate(sorted(await gw.store.servers.list(), key=lambda s: s.name)):
        listed = await backend_hooks(gw, index)
        assert listed.count("<hook>") == 1
        assert f"<![CDATA[{service.ingress_url(server)}]]>" in listed


async def test_events_from_the_simulator_end_to_end(gw: Gateway, receiver: Receiver) -> None:
    assert gw.app is not None
    await gw.app.state.hooks.register_all()
    await create_hook(gw, "alpha", f"{receiver.base}/alpha", meetingID="room")
    await create_hook(gw, "beta", f"{receiver.base}/beta", meetingID="room")
    create = await gw.get(gw.alpha("create", q(name="Room", meetingID="room")))
    assert "SUCCESS" in create.text
    joined_page = await gw.http.get(
        gw.alpha("join", q(meetingID="room", fullName="Jane Doe", role="MODERATOR", userID="u-17")),
        follow_redirects=True,
    )
    assert joined_page.status_code == 200
    chat = await gw.get(gw.alpha("sendChatMessage", q(meetingID="room", message="Hello")))
    assert "SUCCESS" in chat.text
    assert "SUCCESS" in (await gw.get(gw.alpha("end", q(meetingID="room")))).text
    got = await receiver.wait_for("/alpha", 5)
    await asyncio.sleep(0.3)
    events = [json.loads(r.form["event"])[0] for r in receiver.on("/alpha")]
    ids = [e["data"]["id"] for e in events]
    assert ids[0] == "meeting-created" and ids[-1] == "meeting-ended"
    assert "user-joined" in ids and "chat-group-message-sent" in ids and "user-left" in ids
    for event in events:
        assert event["data"]["attributes"]["meeting"]["external-meeting-id"] == "room"
    user = next(e for e in events if e["data"]["id"] == "user-joined")["data"]["attributes"]["user"]
    assert user["external-user-id"] == "u-17" and user["name"] == "Jane Doe"
    for r in got:
        assert r.form["domain"] == "127.0.0.1"
        text = r.body.decode()
        assert "bf1-" not in text and "bf2-" not in text
        for sim in gw.fleet.servers:
            assert sim.url.split("/bigbluebutton")[0].split("//")[1] not in unquote(text)
    assert receiver.on("/beta") == []


# --- bad input never gets a traceback ------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "query"),
    [
        ("hooks/create", "callbackURL=%ZZ&meetingID=m"),
        ("hooks/create", "callbackURL=https%3A%2F%2Fl%C3%A4ms.example%2Fx&meetingID=%E2%9C%93"),
        ("hooks/create", "callbackURL=https%3A%2F%2Flms.example%2Fx&meetingID=m&eventID="),
        ("hooks/create", "callbackURL=&meetingID=m"),
        ("hooks/create", "callbackURL=%FF%FE&meetingID=m"),
        ("hooks/destroy", "hookID=%00"),
        ("hooks/destroy", "hookID=" + "x" * 5000),
        ("hooks/list", "meetingID=%FF"),
    ],
)
async def test_odd_hooks_input_gets_bbb_answers(gw: Gateway, call: str, query: str) -> None:
    signed = sign_hooks_query(call, query, ALPHA_SECRET)
    response = await gw.http.get(f"{gw.api}{call}?{signed}")
    assert response.status_code == 200
    assert response.text.startswith("<response><returncode>")
    assert response.headers["content-type"] == "text/xml; charset=utf-8"


async def test_odd_event_bodies(gw: Gateway) -> None:
    assert gw.app is not None
    server = sorted(await gw.store.servers.list(), key=lambda s: s.name)[0]
    url = gw.app.state.hooks.ingress_url(server)
    for body in ("event=not-json", "event=%7B%7D", "domain=x", "", "event=%5B1%2C%22x%22%5D"):
        checksum = hashlib.sha1(f"{url}{{}}{server.secret}".encode()).hexdigest()
        response = await gw.http.post(
            f"{url}?checksum={checksum}",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code in (200, 400), body
        assert "Traceback" not in response.text


# --- scale-out ----------------------------------------------------------------------------------


async def test_two_processes_deliver_once_in_order(database_url: str, receiver: Receiver) -> None:
    """Two gateway processes behind one public URL on PostgreSQL: events received by either
    are delivered by the one holding the delivery lock, in order; when it stops, the other takes
    over."""
    if not database_url.startswith("postgresql"):
        pytest.skip("scale-out is PostgreSQL's job")
    one = await start_gateway(database_url, **FAST)
    port = free_port()
    settings = Settings.model_validate({**one.settings.model_dump(), "port": port})
    two = Gateway(f"http://127.0.0.1:{port}", one.fleet, one.store, settings)
    await two.start()
    try:
        alpha = await tenant_id(one, "alpha")
        await create_hook(one, "alpha", f"{receiver.base}/h", meetingID="room")
        server = sorted(await one.store.servers.list(), key=lambda s: s.name)[0]
        assert one.app is not None
        path = one.app.state.hooks.ingress_url(server).removeprefix(one.url)
        await mark_hosted(one, server.id, [joined(f"bf{alpha}-room")])

        async def post(gw: Gateway, n: int) -> None:
            request = build_callback_request(
                one.app.state.hooks.ingress_url(server),  # type: ignore[union-attr]
                joined(f"bf{alpha}-room", f"u{n}"),
                domain="x",
                timestamp=int(time.time() * 1000) + n,
                secret=server.secret,
            )
            response = await gw.http.post(
                gw.url + path + "?" + request.url.split("?", 1)[1],
                content=request.body,
                headers={"Content-Type": request.content_type},
            )
            assert response.status_code == 200

        for n in range(10):
            await post(one if n % 2 else two, n)
        got = await receiver.wait_for("/h", 10)
        await asyncio.sleep(0.3)
        users = [
            json.loads(r.form["event"])[0]["data"]["attributes"]["user"]["internal-user-id"]
            for r in receiver.on("/h")
        ]
        assert users == [f"w_u{n}" for n in range(10)] and len(got) == 10
        # whoever delivers, stopping it hands delivery to the other
        leader, other = (one, two) if one.app.state.deliverer.delivered else (two, one)
        assert other.app is not None and other.app.state.deliverer.delivered == 0
        await leader.stop()
        for n in range(10, 15):
            await post(other, n)
        await receiver.wait_for("/h", 15)
        for _ in range(100):  # counted once the delivery is also off the queue
            if other.app.state.deliverer.delivered == 5:
                break
            await asyncio.sleep(0.02)
        assert other.app.state.deliverer.delivered == 5
    finally:
        await two.stop()
        await two.http.aclose()
        await stop_gateway(one)


async def test_auth2_bearer_from_a_backend(gw: Gateway, receiver: Receiver) -> None:
    """A bbb-webhooks with ``auth2_0: true`` sends the secret as a bearer token, no checksum."""
    assert gw.app is not None
    alpha = await tenant_id(gw, "alpha")
    await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
    server = sorted(await gw.store.servers.list(), key=lambda s: s.name)[0]
    url = gw.app.state.hooks.ingress_url(server)
    await mark_hosted(gw, server.id, [joined(f"bf{alpha}-room")])
    body = "event=" + quote(json.dumps([joined(f"bf{alpha}-room")]), safe="")
    body += f"&timestamp={int(time.time() * 1000)}"
    for secret, status in (("wrong", 401), (server.secret, 200)):
        response = await gw.http.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Bearer {secret}",
            },
        )
        assert response.status_code == status
    await receiver.wait_for("/h", 1)


# --- where callbacks may go ---------------------------------------------------------------------


async def test_redirects_followed_like_node_fetch(gw: Gateway, receiver: Receiver) -> None:
    alpha = await tenant_id(gw, "alpha")
    receiver.redirects["/moved"] = (307, "/new-home")
    receiver.redirects["/see-other"] = (302, f"{receiver.base}/landing")
    await create_hook(gw, "alpha", f"{receiver.base}/moved", meetingID="room")
    await create_hook(gw, "alpha", f"{receiver.base}/see-other", meetingID="room")
    await send_events(gw, 0, [joined(f"bf{alpha}-room")])
    [kept] = await receiver.wait_for("/new-home", 1)
    assert kept.method == "POST" and "event" in kept.form  # 307 keeps method and body
    [landed] = await receiver.wait_for("/landing", 1)
    assert landed.method == "GET" and landed.body == b""  # 302 after a POST becomes a GET


async def test_private_targets_never_reached(database_url: str, receiver: Receiver) -> None:
    """With private targets refused, neither a hook that points at one (registered before the
    setting changed) nor a relayed meta_endCallbackUrl reaches the loopback receiver."""
    settings = {**FAST, "webhook_allow_private_targets": False}
    gw = await start_gateway(database_url, **settings)
    try:
        alpha = await tenant_id(gw, "alpha")
        await gw.store.hooks.create(alpha, f"{receiver.base}/h", "room", None, False, 0)
        await send_events(gw, 0, [joined(f"bf{alpha}-room")])
        create = q(name="Room", meetingID="room", meta_endCallbackUrl=f"{receiver.base}/end")
        assert "SUCCESS" in (await gw.get(gw.alpha("create", create))).text
        assert "SUCCESS" in (await gw.get(gw.alpha("end", q(meetingID="room")))).text
        for _ in range(150):  # 4 attempts each, then the hook is removed and the relay dropped
            if await gw.store.hooks.pending() == 0:
                break
            await asyncio.sleep(0.02)
        assert await gw.store.hooks.pending() == 0
        assert receiver.attempts == {}
        assert await gw.store.hooks.list(alpha) == []
    finally:
        await stop_gateway(gw)


async def test_one_tenants_dead_receivers_do_not_delay_another_tenant(
    database_url: str, receiver: Receiver
) -> None:
    """Beta has 30 hooks whose receiver never answers within the timeout, and its events come
    first; alpha's event still reaches alpha's receiver well before beta's first timeout (before
    the per-tenant cap, beta's requests took every one of the 20 slots for a whole timeout)."""
    gw = await start_gateway(
        database_url,
        # a long timeout, so a loaded machine cannot blur "before" and "after" the per-tenant cap
        **{**FAST, "webhook_timeout": 8.0, "webhook_concurrency": 20},
        webhook_tenant_concurrency=5,
    )
    try:
        alpha, beta = await tenant_id(gw, "alpha"), await tenant_id(gw, "beta")
        receiver.delay = lambda path: 20.0 if path.startswith("/black") else 0.0
        for i in range(30):
            await create_hook(gw, "beta", f"{receiver.base}/black{i}", meetingID="room")
        await create_hook(gw, "alpha", f"{receiver.base}/alpha", meetingID="room")
        start = time.monotonic()
        await send_events(gw, 0, [joined(f"bf{beta}-room", f"b{i}") for i in range(3)])
        await send_events(gw, 0, [joined(f"bf{alpha}-room", "a0")])
        [got] = await receiver.wait_for("/alpha", 1, timeout=10)
        assert got.at - start < 4.0  # half of webhook_timeout
        in_flight = sum(1 for path in receiver.attempts if path.startswith("/black"))
        assert in_flight <= 5
    finally:
        await stop_gateway(gw)


# --- robustness of the ingress: one bad event never blocks the stream ---------------------------


async def post_raw_event(gw: Gateway, event_json_text: str, server_index: int = 0) -> int:
    """POST an ``event`` field written by hand (v3.3 checksum), as bbb-webhooks would."""
    assert gw.app is not None
    server = sorted(await gw.store.servers.list(), key=lambda s: s.name)[server_index]
    url = gw.app.state.hooks.ingress_url(server)
    try:
        parsed = json.loads(event_json_text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        await mark_hosted(gw, server.id, [parsed])
    checksum = hashlib.sha1(f"{url}{{}}{server.secret}".encode()).hexdigest()
    stamp = int(time.time() * 1000)
    event = quote("[" + event_json_text + "]", safe="")
    body = f"domain=bbb1&event={event}&timestamp={stamp}"
    response = await gw.http.post(
        f"{url}?checksum={checksum}",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "Traceback" not in response.text
    return response.status_code


@pytest.mark.parametrize("personal", ["keep", "hash", "remove"])
async def test_bad_events_are_dropped_and_the_stream_continues(
    database_url: str, receiver: Receiver, personal: str
) -> None:
    gw = await start_gateway(
        database_url, **FAST, webhook_personal_data=personal, webhook_hash_key="k"
    )
    try:
        alpha = await tenant_id(gw, "alpha")
        await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
        hooks_service = gw.app.state.hooks  # type: ignore[union-attr]
        odd = [
            '{"data":[1,2]}',
            '{"data":{"id":"user-joined","attributes":[]}}',
            '{"data":{"id":"user-joined","attributes":{"meeting":[]}}}',
            '{"data":{"id":"user-joined","attributes":{"meeting":{"external-meeting-id":7}}}}',
            '"a string"',
            "null",
        ]
        for text in odd:
            assert await post_raw_event(gw, text) == 200, text
        # a lone surrogate in a user name (JSON escape from the backend) still goes through
        event = joined(f"bf{alpha}-room", "u1", name="Jane \ud800")
        assert await post_raw_event(gw, json.dumps(event)) == 200
        assert (await send_events(gw, 0, [joined(f"bf{alpha}-room", "u2")])).status_code == 200
        got = await receiver.wait_for("/h", 2)
        users = [json.loads(r.form["event"])[0]["data"]["attributes"]["user"] for r in got]
        assert [u["internal-user-id"] for u in users] == ["w_u1", "w_u2"]
        if personal == "keep":
            assert users[0]["name"] == "Jane \ud800"
        assert hooks_service.dropped >= len(odd)
    finally:
        await stop_gateway(gw)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_relay_answers_per_kind_end_to_end(database_url: str, receiver: Receiver) -> None:
    """A recording-ready relay answered 401 is retried (BBB's script treats only 404 and 410 as
    final); an end callback answered 404 is done (BBB ignores the answer of its GET)."""
    import jwt

    from tests.gateway.test_callback_relays import create

    gw = await start_gateway(database_url, **FAST)
    try:
        answers = {"/ready": [401, 200], "/end": [404]}
        receiver.status = lambda path, n: answers.get(path, [200])[min(n, 2) - 1]
        meta = await create(gw, receiver)
        sim = gw.fleet.servers[int(meta["_server"])]
        token = jwt.encode({"meeting_id": meta["_backend_id"], "record_id": "r-1"}, sim.secret)
        await gw.http.post(meta["bbb-recording-ready-url"], data={"signed_parameters": token})
        deadline = time.monotonic() + 5
        while receiver.attempts.get("/ready", 0) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert receiver.attempts["/ready"] == 2  # the 401 was retried, the 200 ended it
        assert "SUCCESS" in (await gw.get(gw.alpha("end", q(meetingID="room-1")))).text
        deadline = time.monotonic() + 5
        while receiver.attempts.get("/end", 0) < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)  # well past the retry intervals (50, 100, 200 ms)
        assert receiver.attempts["/end"] == 1
        assert await gw.store.hooks.pending() == 0
    finally:
        await stop_gateway(gw)


async def test_fuzzed_events_with_a_valid_checksum_never_5xx(
    gw: Gateway, receiver: Receiver
) -> None:
    import random

    alpha = await tenant_id(gw, "alpha")
    await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
    rng = random.Random(7)
    base = joined(f"bf{alpha}-room")

    def mutate(value: Any, depth: int = 0) -> Any:
        choice = rng.randrange(8)
        if choice == 0:
            return rng.choice([None, 1, -1.5, True, [], {}, "", "\ud800", "\x00", "é" * 3])
        if isinstance(value, dict) and depth < 6:
            return {k: mutate(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list) and depth < 6:
            return [mutate(v, depth + 1) for v in value]
        if isinstance(value, str) and choice == 1:
            return value + "".join(chr(rng.randrange(1, 0x10FFFF)) for _ in range(3))
        return value

    for _ in range(60):
        status = await post_raw_event(gw, json.dumps(mutate(base)))
        assert status == 200
    await send_events(gw, 0, [joined(f"bf{alpha}-room", "last")])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        got = receiver.on("/h")
        if got and "w_last" in got[-1].form["event"]:
            break
        await asyncio.sleep(0.05)
    assert "w_last" in receiver.on("/h")[-1].form["event"]


async def test_storage_outage_answers_503_so_bbb_webhooks_retries(
    gw: Gateway, receiver: Receiver
) -> None:
    """PostgreSQL stops answering (a real refused connection): the event is not lost but
    answered 503; once the database is back the retry is delivered."""
    if not gw.store.db.is_postgres:
        pytest.skip("a refused database connection is a PostgreSQL situation")
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    alpha = await tenant_id(gw, "alpha")
    await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
    assert gw.app is not None
    server = sorted(await gw.store.servers.list(), key=lambda s: s.name)[0]
    await gw.app.state.hooks.directory.get()  # cached: only the event routing needs the db
    request = build_callback_request(
        gw.app.state.hooks.ingress_url(server),
        joined(f"bf{alpha}-room"),
        domain="bbb1",
        timestamp=int(time.time() * 1000),
        secret=server.secret,
    )
    db = gw.app.state.hooks.store.db
    working = db._postgres
    port = free_port()
    url = make_url(db.url).set(drivername="postgresql+asyncpg", host="127.0.0.1", port=port)
    db._postgres = create_async_engine(url)
    try:
        response = await gw.http.post(
            request.url, content=request.body, headers={"Content-Type": request.content_type}
        )
        assert response.status_code == 503
    finally:
        await db._postgres.dispose()
        db._postgres = working
    assert (await send_events(gw, 0, [joined(f"bf{alpha}-room")])).status_code == 200
    await receiver.wait_for("/h", 1)


async def test_ingress_auth_body_refuses_the_fixed_v33_checksum(
    database_url: str, receiver: Receiver
) -> None:
    gw = await start_gateway(database_url, **FAST, webhook_ingress_auth="body")
    try:
        alpha = await tenant_id(gw, "alpha")
        await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
        v33 = await send_events(gw, 0, [joined(f"bf{alpha}-room", "u1")], version="3.3")
        assert v33.status_code == 401
        v34 = await send_events(gw, 0, [joined(f"bf{alpha}-room", "u2")], version="3.4")
        assert v34.status_code == 200
        [got] = await receiver.wait_for("/h", 1)
        assert "w_u2" in got.form["event"]
    finally:
        await stop_gateway(gw)


@pytest.mark.parametrize("max_age", [600.0, 0.0])
async def test_replayed_old_events_are_dropped(
    database_url: str, receiver: Receiver, max_age: float
) -> None:
    gw = await start_gateway(database_url, **FAST, webhook_ingress_max_age=max_age)
    try:
        assert gw.app is not None
        alpha = await tenant_id(gw, "alpha")
        await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
        server = sorted(await gw.store.servers.list(), key=lambda s: s.name)[0]
        now = int(time.time() * 1000)
        await mark_hosted(gw, server.id, [joined(f"bf{alpha}-room")])
        # a retry 5 minutes after the first attempt passes; a copy 11 minutes old does not
        for user, stamp in (("retried", now - 300_000), ("replayed", now - 660_000)):
            request = build_callback_request(
                gw.app.state.hooks.ingress_url(server),
                joined(f"bf{alpha}-room", user),
                domain="bbb1",
                timestamp=stamp,
                secret=server.secret,
                version="3.4",
            )
            response = await gw.http.post(
                request.url, content=request.body, headers={"Content-Type": request.content_type}
            )
            assert response.status_code == 200  # dropped, yet 200: no retries of a replay
        await send_events(gw, 0, [joined(f"bf{alpha}-room", "last")])
        got = await receiver.wait_for("/h", 2 if max_age else 3)
        users = [json.loads(r.form["event"])[0]["data"]["attributes"]["user"] for r in got]
        expected = ["w_retried", "w_last"] if max_age else ["w_retried", "w_replayed", "w_last"]
        assert [u["internal-user-id"] for u in users] == expected
    finally:
        await stop_gateway(gw)


async def test_playback_links_in_events_match_get_recordings(
    gw: Gateway, receiver: Receiver
) -> None:
    """rap-publish-ended shows the playback link getRecordings shows: the backend's while the
    recording is on its server, the gateway's once the format is stored centrally."""
    import re

    from bbbfleet.protocol.webhooks import rap_playback, rap_publish_ended_event

    assert gw.app is not None
    await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="rec-1")
    create = await gw.get(gw.alpha("create", q(name="Room", meetingID="rec-1", record="true")))
    assert "SUCCESS" in create.text
    joined_page = await gw.http.get(
        gw.alpha("join", q(fullName="Ann", meetingID="rec-1", role="MODERATOR")),
        follow_redirects=True,
    )
    assert joined_page.status_code == 200
    alpha = await tenant_id(gw, "alpha")
    meeting = await gw.store.meetings.get(alpha, "rec-1")
    assert meeting is not None
    backend_id = meeting.backend_meeting_id
    assert "SUCCESS" in (await gw.get(gw.alpha("end", q(meetingID="rec-1")))).text
    servers = await gw.store.servers.list()
    listing = ""
    for _ in range(100):  # the simulator publishes at its next request or tick
        for sim in gw.fleet.servers:
            await gw.http.get(f"{sim.url}")
        for server in servers:
            await gw.app.state.recording_index.refresh_server(server)
        listing = (await gw.get(gw.alpha("getRecordings", q(meetingID="rec-1")))).text
        if "<recordID>" in listing:
            break
        await asyncio.sleep(0.05)
    record_id = re.search(r"<recordID>([^<]+)</recordID>", listing)
    assert record_id is not None
    record = record_id.group(1)
    indexed = await gw.store.recordings.get(record)
    assert indexed is not None
    index = sorted(servers, key=lambda s: s.name).index(
        next(s for s in servers if s.id == indexed.server_id)
    )
    presentation = next(f for f in indexed.snapshot.playback if f.type == "presentation")

    def shown_url(text: str) -> str:
        block = text.split("<type>presentation</type>", 1)[1]
        found = re.search(r"<url>([^<]+)</url>", block)
        assert found is not None
        return found.group(1)

    event = rap_publish_ended_event(
        "i-1",
        backend_id,
        record_id=record,
        success=True,
        step_time=1,
        workflow="presentation",
        start_time=1,
        end_time=2,
        raw_size=3,
        metadata={"meetingId": backend_id},
        playback=rap_playback("presentation", presentation.url, 1, 2, 3),
        ts=int(time.time() * 1000),
    )

    async def published(n: int) -> dict[str, Any]:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            events = [json.loads(r.form["event"])[0] for r in receiver.on("/h")]
            mine = [e for e in events if e["data"]["id"] == "rap-publish-ended"]
            mine = [
                e
                for e in mine
                if e["data"]["attributes"]["meeting"]["internal-meeting-id"] == "i-1"
            ]
            if len(mine) >= n:
                return dict(mine[n - 1]["data"]["attributes"]["recording"]["playback"])
            await asyncio.sleep(0.05)
        raise AssertionError("not delivered")

    await send_events(gw, index, [event])
    link = await published(1)
    assert link["link"] == shown_url(listing) == presentation.url  # on its server: backend URL

    # central, but its copy does not hold the presentation (no files): still the backend's
    await gw.store.recordings.set_location(record, "central")
    listing = (await gw.get(gw.alpha("getRecordings", q(meetingID="rec-1")))).text
    assert shown_url(listing) == presentation.url
    await send_events(gw, index, [event])
    assert (await published(2))["link"] == presentation.url
    # the central copy holds the presentation: getRecordings and the event show the gateway's
    hooks_service = gw.app.state.hooks

    async def stored(_record_id: str) -> frozenset[str]:
        return frozenset({"presentation"})

    hooks_service.central_formats = stored
    expected = presentation.url.replace(presentation.url.split("/playback")[0], gw.url)
    await send_events(gw, index, [event])
    assert (await published(3))["link"] == expected


async def test_hook_limit_holds_under_concurrent_creates(
    database_url: str, receiver: Receiver
) -> None:
    gw = await start_gateway(database_url, **FAST, webhook_max_hooks=3)
    try:
        await gw.store.tenants.configure("alpha", allow_tenant_hooks=True)
        urls = [
            hooks_url(gw, "alpha", "hooks/create", callbackURL=f"{receiver.base}/h{i}")
            for i in range(12)
        ]
        answers = await asyncio.gather(*(gw.http.get(url) for url in urls))
        created = [a for a in answers if "<returncode>SUCCESS</returncode>" in a.text]
        assert len(created) == 3
        refused = [a for a in answers if "<messageKey>tooManyHooks</messageKey>" in a.text]
        assert len(refused) == 9
        listing = await hooks(gw, "alpha", "hooks/list")
        assert listing.count("<hookID>") == 3
        # a URL that has a hook: the duplicate warning, not the limit
        first = answers.index(created[0])
        again = await hooks(gw, "alpha", "hooks/create", callbackURL=f"{receiver.base}/h{first}")
        assert "duplicateWarning" in again
    finally:
        await stop_gateway(gw)


async def test_breakout_room_events_go_to_the_parents_tenant(
    gw: Gateway, receiver: Receiver
) -> None:
    await gw.store.tenants.configure("alpha", allow_tenant_hooks=True)
    await gw.store.tenants.configure("beta", allow_tenant_hooks=True)
    await create_hook(gw, "alpha", f"{receiver.base}/alpha")
    await create_hook(gw, "beta", f"{receiver.base}/beta")
    assert "SUCCESS" in (await gw.get(gw.alpha("create", q(name="Room", meetingID="room")))).text
    alpha = await tenant_id(gw, "alpha")
    parent = await gw.store.meetings.get(alpha, "room")
    assert parent is not None and parent.internal_meeting_id and parent.server_id
    servers = sorted(await gw.store.servers.list(), key=lambda s: s.name)
    index = [s.id for s in servers].index(parent.server_id)
    stamp = str(int(time.time() * 1000))
    digest = hashlib.sha1(f"{parent.internal_meeting_id}-{stamp}-2".encode()).hexdigest()
    breakout = f"{digest}-{stamp}"
    hooks_service = gw.app.state.hooks  # type: ignore[union-attr]
    dropped = hooks_service.dropped
    await send_events(gw, index, [joined(breakout, "b1")])
    # the same name from another server, and a breakout of no known meeting: dropped
    await send_events(gw, 1 - index, [joined(breakout, "b2")])
    await send_events(gw, index, [joined(f"{'0' * 40}-{stamp}", "b3")])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
        "w_b1" in r.form["event"] for r in receiver.on("/alpha")
    ):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    mine = [json.loads(r.form["event"])[0] for r in receiver.on("/alpha")]
    users = [e["data"]["attributes"].get("user", {}).get("internal-user-id") for e in mine]
    assert "w_b1" in users and "w_b2" not in users and "w_b3" not in users
    event = next(
        e for e in mine if e["data"]["attributes"].get("user", {}).get("internal-user-id") == "w_b1"
    )
    assert event["data"]["attributes"]["meeting"]["external-meeting-id"] == breakout
    assert not any("w_b" in r.form["event"] for r in receiver.on("/beta"))
    assert hooks_service.dropped == dropped + 2


async def test_unknown_meeting_trusted_only_from_the_server_that_hosted_it(
    gw: Gateway, receiver: Receiver
) -> None:
    """After a meeting ended (row gone), its events are delivered from the server that hosted
    it, and dropped from any other server (a compromised or misconfigured backend cannot speak
    for a tenant's meetings that it never ran)."""
    await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
    assert "SUCCESS" in (await gw.get(gw.alpha("create", q(name="Room", meetingID="room")))).text
    alpha = await tenant_id(gw, "alpha")
    meeting = await gw.store.meetings.get(alpha, "room")
    assert meeting is not None and meeting.server_id is not None
    servers = sorted(await gw.store.servers.list(), key=lambda s: s.name)
    host = [s.id for s in servers].index(meeting.server_id)
    assert "SUCCESS" in (await gw.get(gw.alpha("end", q(meetingID="room")))).text
    assert await gw.store.meetings.get(alpha, "room") is None
    await asyncio.sleep(0.3)
    before = len(receiver.on("/h"))
    hooks_service = gw.app.state.hooks  # type: ignore[union-attr]
    dropped = hooks_service.dropped
    other = await send_events(gw, 1 - host, [joined(meeting.backend_meeting_id, "x")], hosted=False)
    assert other.status_code == 200
    assert hooks_service.dropped == dropped + 1
    never = await send_events(gw, host, [joined(f"bf{alpha}-never-ran", "y")], hosted=False)
    assert never.status_code == 200 and hooks_service.dropped == dropped + 2
    await send_events(gw, host, [joined(meeting.backend_meeting_id, "late")], hosted=False)
    got = await receiver.wait_for("/h", before + 1)
    assert "w_late" in got[-1].form["event"]
    assert not any("w_x" in r.form["event"] for r in receiver.on("/h"))


async def test_extra_backend_origins_are_rewritten(database_url: str, receiver: Receiver) -> None:
    gw = await start_gateway(
        database_url, **FAST, webhook_backend_origins="https://play1.internal.example.net"
    )
    try:
        alpha = await tenant_id(gw, "alpha")
        await create_hook(gw, "alpha", f"{receiver.base}/h", meetingID="room")
        event = meeting_ended_event("0" * 40 + "-1", f"bf{alpha}-room", int(time.time() * 1000))
        event["data"]["attributes"]["meeting"]["metadata"] = {
            "logo": "https://play1.internal.example.net/logo.png",
            "host": "play1.internal.example.net",
        }
        await send_events(gw, 0, [event])
        [got] = await receiver.wait_for("/h", 1)
        metadata = json.loads(got.form["event"])[0]["data"]["attributes"]["meeting"]["metadata"]
        assert metadata == {"logo": f"{gw.url}/logo.png", "host": gw.url.split("//")[1]}
    finally:
        await stop_gateway(gw)
