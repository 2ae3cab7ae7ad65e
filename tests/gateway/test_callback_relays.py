"""BBB's own callbacks relayed by the gateway: meta_endCallbackUrl, meta_bbb-recording-ready-url
and meta_analytics-callback-url reach the tenant from the gateway, with the tenant's meetingID and
re-signed with the tenant's secret; metadata keeps showing the tenant's URLs.  The simulator
calls the end callbacks; the recording-ready and analytics callbacks are sent here exactly as
BBB 3.0's post_publish and post_events scripts send them."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from html import unescape

import jwt
import pytest

from bbbfleet.gateway.callbacks import RelayTarget, original_callback_url, relay_url
from tests.gateway.conftest import ALPHA_SECRET, Gateway, q
from tests.gateway.hooks_helpers import FAST_WEBHOOKS
from tests.gateway.receiver import Receiver

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

FAST = FAST_WEBHOOKS  # the `gw` fixture (conftest) starts gateways with these


async def create(gw: Gateway, receiver: Receiver, meeting_id: str = "room-1") -> dict[str, str]:
    """Create with the three relayed callbacks (mixed-case names, as LMSs send them); returns
    the metadata the backend got."""
    query = q(
        name="Room",
        meetingID=meeting_id,
        meetingEndedURL=f"{receiver.base}/ended",
        **{
            "meta_endCallbackUrl": f"{receiver.base}/end?course=7&x=a b",
            "meta_bbb-recording-ready-url": f"{receiver.base}/ready",
            "meta_analytics-callback-url": f"{receiver.base}/analytics",
            "meta_bbb-origin": "Moodle",
        },
    )
    response = await gw.get(gw.alpha("create", query))
    assert "<returncode>SUCCESS</returncode>" in response.text, response.text
    meeting = await gw.store.meetings.get((await gw.store.tenants.get("alpha")).id, meeting_id)
    assert meeting is not None and meeting.server_id is not None
    servers = {
        s.id: i for i, s in enumerate(sorted(await gw.store.servers.list(), key=lambda s: s.name))
    }
    index = servers[meeting.server_id]
    direct = await gw.get(
        gw.direct(index, "getMeetingInfo", q(meetingID=meeting.backend_meeting_id))
    )
    return {
        name: unescape(value)
        for name, value in re.findall(
            r"<([a-z-]+)>([^<]*)</\1>", direct.text.split("<metadata>")[1].split("</metadata>")[0]
        )
    } | {"_server": str(index), "_backend_id": meeting.backend_meeting_id}


async def test_backend_gets_relay_urls_tenant_sees_its_own(gw: Gateway, receiver: Receiver) -> None:
    meta = await create(gw, receiver)
    for name, path in (
        ("endcallbackurl", "/end?course=7&x=a b"),
        ("bbb-recording-ready-url", "/ready"),
        ("analytics-callback-url", "/analytics"),
    ):
        assert meta[name].startswith(f"{gw.url}/bigbluebutton/fleet/callback/")
        assert original_callback_url(meta[name], gw.url) == f"{receiver.base}{path}"
        assert receiver.base not in meta[name].split("/callback/")[0]
    assert meta["bbb-origin"] == "Moodle"
    info = (await gw.get(gw.alpha("getMeetingInfo", q(meetingID="room-1")))).text
    assert f"<endcallbackurl>{receiver.base}/end?course=7&amp;x=a b</endcallbackurl>" in info
    assert f"<bbb-recording-ready-url>{receiver.base}/ready</bbb-recording-ready-url>" in info
    assert "/bigbluebutton/fleet/callback/" not in info
    meetings = (await gw.get(gw.alpha("getMeetings"))).text
    assert f"<analytics-callback-url>{receiver.base}/analytics</analytics-callback-url>" in meetings
    assert "/bigbluebutton/fleet/callback/" not in meetings


async def test_end_callbacks_relayed(gw: Gateway, receiver: Receiver) -> None:
    await create(gw, receiver)
    assert "SUCCESS" in (await gw.get(gw.alpha("end", q(meetingID="room-1")))).text
    [end] = await receiver.wait_for("/end", 1)
    assert end.method == "GET"
    assert end.query == "course=7&x=a%20b&recordingmarks=false" or end.query.endswith(
        "recordingmarks=false"
    )
    [ended] = await receiver.wait_for("/ended", 1)
    assert ended.query == "recordingmarks=false"


async def test_recording_ready_resigned_for_the_tenant(gw: Gateway, receiver: Receiver) -> None:
    meta = await create(gw, receiver)
    sim = gw.fleet.servers[int(meta["_server"])]
    record_id = "a" * 40 + "-1700000000000"
    token = jwt.encode({"meeting_id": meta["_backend_id"], "record_id": record_id}, sim.secret)
    url = meta["bbb-recording-ready-url"]
    response = await gw.http.post(url, data={"signed_parameters": token})
    assert response.status_code == 200
    [got] = await receiver.wait_for("/ready", 1)
    assert got.method == "POST"
    claims = jwt.decode(got.form["signed_parameters"], ALPHA_SECRET, algorithms=["HS256"])
    assert claims == {"meeting_id": "room-1", "record_id": record_id}
    assert jwt.get_unverified_header(got.form["signed_parameters"]) == {"alg": "HS256"}
    # a token not signed by the hosting server is refused and not relayed
    forged = jwt.encode({"meeting_id": "x", "record_id": "y"}, "wrong-secret")
    assert (await gw.http.post(url, data={"signed_parameters": forged})).status_code == 401
    bad_token = url[:-4] + "0000"
    assert (await gw.http.post(bad_token, data={"signed_parameters": token})).status_code == 404
    time.sleep(0.2)
    assert len(receiver.on("/ready")) == 1


async def test_recording_ready_retried(gw: Gateway, receiver: Receiver) -> None:
    receiver.status = lambda path, n: 502 if n <= 2 else 200
    meta = await create(gw, receiver)
    sim = gw.fleet.servers[int(meta["_server"])]
    token = jwt.encode({"meeting_id": meta["_backend_id"], "record_id": "r-1"}, sim.secret)
    await gw.http.post(meta["bbb-recording-ready-url"], data={"signed_parameters": token})
    await receiver.wait_for("/ready", 1)
    assert receiver.attempts["/ready"] == 3


async def test_analytics_relayed(gw: Gateway, receiver: Receiver) -> None:
    meta = await create(gw, receiver)
    sim = gw.fleet.servers[int(meta["_server"])]
    backend_token = jwt.encode(
        {"exp": int(time.time()) + 86400}, sim.secret, algorithm="HS512", headers={"typ": "JWT"}
    )
    payload = {
        "version": "1.0",
        "meeting_id": meta["_backend_id"],
        "internal_meeting_id": "b" * 40 + "-1",
        "data": {
            "metadata": {
                "analytics_callback_url": meta["analytics-callback-url"],
                "meeting_name": "Room",
            },
            "attendees": [{"name": "Jane", "ext_user_id": "u1"}],
            "files": [f"{sim.url.split('/bigbluebutton')[0]}/x.pdf"],
        },
    }
    response = await gw.http.post(
        meta["analytics-callback-url"],
        content=json.dumps(payload),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {backend_token}",
            "User-Agent": "BigBlueButton Analytics Callback",
        },
    )
    assert response.status_code == 200
    [got] = await receiver.wait_for("/analytics", 1)
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"] == "BigBlueButton Analytics Callback"
    token = got.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, ALPHA_SECRET, algorithms=["HS512"])
    assert claims["exp"] > time.time() + 86000
    assert jwt.get_unverified_header(token) == {"alg": "HS512", "typ": "JWT"}
    body = json.loads(got.body)
    assert body["meeting_id"] == "room-1" and body["version"] == "1.0"
    assert body["data"]["metadata"]["analytics_callback_url"] == f"{receiver.base}/analytics"
    assert body["data"]["attendees"] == [{"name": "Jane", "ext_user_id": "u1"}]
    assert meta["_backend_id"] not in got.body.decode()
    assert sim.url.split("/bigbluebutton")[0] not in got.body.decode()
    unsigned = await gw.http.post(meta["analytics-callback-url"], content=json.dumps(payload))
    assert unsigned.status_code == 401


async def test_canvas_recording_ready_url_relayed(gw: Gateway, receiver: Receiver) -> None:
    """BBB falls back to meta_bn-recording-ready-url and meta_canvas-recording-ready-url (Canvas
    LMS sends the latter); both are relayed like bbb-recording-ready-url."""
    query = q(
        name="Room",
        meetingID="canvas-1",
        **{"meta_canvas-recording-ready-url": f"{receiver.base}/canvas"},
    )
    assert "SUCCESS" in (await gw.get(gw.alpha("create", query))).text
    meeting = await gw.store.meetings.get((await gw.store.tenants.get("alpha")).id, "canvas-1")
    assert meeting is not None
    sim_index = sorted(s.id for s in await gw.store.servers.list()).index(meeting.server_id)
    sim = gw.fleet.servers[sim_index]
    direct = await gw.get(
        gw.direct(sim_index, "getMeetingInfo", q(meetingID=meeting.backend_meeting_id))
    )
    relay = unescape(direct.text.split("<canvas-recording-ready-url>")[1].split("<")[0])
    assert original_callback_url(relay, gw.url) == f"{receiver.base}/canvas"
    token = jwt.encode({"meeting_id": meeting.backend_meeting_id, "record_id": "r-9"}, sim.secret)
    assert (await gw.http.post(relay, data={"signed_parameters": token})).status_code == 200
    [got] = await receiver.wait_for("/canvas", 1)
    claims = jwt.decode(got.form["signed_parameters"], ALPHA_SECRET, algorithms=["HS256"])
    assert claims == {"meeting_id": "canvas-1", "record_id": "r-9"}


async def test_stale_copy_end_callback_not_relayed(gw: Gateway, receiver: Receiver) -> None:
    """An end callback from a copy of the meeting on a server it was moved away from does not
    tell the tenant that its (running) meeting ended."""
    await create(gw, receiver)
    alpha = (await gw.store.tenants.get("alpha")).id
    meeting = await gw.store.meetings.get(alpha, "room-1")
    assert meeting is not None
    other = next(s for s in await gw.store.servers.list() if s.id != meeting.server_id)
    stale = relay_url(
        gw.url,
        RelayTarget("endcallbackurl", other.id, alpha, "room-1", f"{receiver.base}/end"),
        other.secret,
    )
    response = await gw.http.get(stale + "?recordingmarks=false")
    assert response.status_code == 200
    await asyncio.sleep(0.3)
    assert receiver.on("/end") == []
    # the current server's callback is relayed
    current = next(s for s in await gw.store.servers.list() if s.id == meeting.server_id)
    fresh = relay_url(
        gw.url,
        RelayTarget("endcallbackurl", current.id, alpha, "room-1", f"{receiver.base}/end"),
        current.secret,
    )
    assert (await gw.http.get(fresh + "?recordingmarks=true")).status_code == 200
    [got] = await receiver.wait_for("/end", 1)
    assert got.query == "recordingmarks=true"


async def test_recording_callbacks_from_the_simulator(gw: Gateway, receiver: Receiver) -> None:
    """A recorded meeting on a simulated server: its recording-ready and analytics callbacks
    (sent by the simulator as BBB's scripts send them) reach the tenant re-signed, and
    getRecordings shows the tenant's own URLs in the recording's metadata."""
    for sim in gw.fleet.servers:  # recordings are published as soon as the meeting ended
        sim.state.properties = dataclasses.replace(
            sim.state.properties, recording_delay_seconds=0, text_track_delay_seconds=0
        )
    ready, analytics = f"{receiver.base}/ready", f"{receiver.base}/analytics"
    query = q(
        name="Room",
        meetingID="rec-1",
        record="true",
        **{"meta_bbb-recording-ready-url": ready, "meta_analytics-callback-url": analytics},
    )
    assert "SUCCESS" in (await gw.get(gw.alpha("create", query))).text
    joined = await gw.http.get(
        gw.alpha("join", q(fullName="Ann", meetingID="rec-1", role="MODERATOR")),
        follow_redirects=True,
    )
    assert joined.status_code == 200
    assert "SUCCESS" in (await gw.get(gw.alpha("end", q(meetingID="rec-1")))).text
    for _ in range(100):  # the simulator publishes at its next request or tick
        for sim in gw.fleet.servers:
            await gw.http.get(f"{sim.url}")
        if receiver.on("/ready") and receiver.on("/analytics"):
            break
        await asyncio.sleep(0.05)
    [got] = await receiver.wait_for("/ready", 1)
    claims = jwt.decode(got.form["signed_parameters"], ALPHA_SECRET, algorithms=["HS256"])
    assert claims["meeting_id"] == "rec-1"
    [posted] = await receiver.wait_for("/analytics", 1)
    assert json.loads(posted.body)["meeting_id"] == "rec-1"
    jwt.decode(
        posted.headers["Authorization"].removeprefix("Bearer "), ALPHA_SECRET, algorithms=["HS512"]
    )
    assert gw.app is not None
    for server in await gw.store.servers.list():
        await gw.app.state.recording_index.refresh_server(server)
    listing = (await gw.get(gw.alpha("getRecordings", q(meetingID="rec-1")))).text
    assert claims["record_id"] in listing
    assert f"<bbb-recording-ready-url>{ready}</bbb-recording-ready-url>" in listing
    assert f"<analytics-callback-url>{analytics}</analytics-callback-url>" in listing
    assert "/bigbluebutton/fleet/callback/" not in listing


async def test_analytics_relay_applies_the_tenants_personal_data_setting(
    gw: Gateway, receiver: Receiver
) -> None:
    await gw.store.tenants.configure("alpha", hook_personal_data="remove")
    meta = await create(gw, receiver)
    sim = gw.fleet.servers[int(meta["_server"])]
    backend_token = jwt.encode(
        {"exp": int(time.time()) + 86400}, sim.secret, algorithm="HS512", headers={"typ": "JWT"}
    )
    payload = {
        "version": "1.0",
        "meeting_id": meta["_backend_id"],
        "data": {
            "attendees": [{"name": "Jane", "ext_user_id": "u1", "moderator": True}],
            "polls": [{"id": "p1", "votes": {"u1": ["A"]}}],
        },
    }
    response = await gw.http.post(
        meta["analytics-callback-url"],
        content=json.dumps(payload),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {backend_token}"},
    )
    assert response.status_code == 200
    [got] = await receiver.wait_for("/analytics", 1)
    body = json.loads(got.body)
    assert body["data"] == {"attendees": [{"moderator": True}], "polls": [{"id": "p1"}]}
