"""The recording API through the gateway, end to end with simulated servers: recordings appear
after an index poll, getRecordings is answered from the index exactly like BBB, publish / delete
/ update go to the recording's server, tenants never see each other's recordings."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator

import pytest

from bbbfleet.protocol.recordings_read import parse_get_recordings
from bbbfleet.recordings.index import RecordingIndex
from tests.conftest import example
from tests.gateway.conftest import Gateway, q, start_gateway, stop_gateway

RECORD_IDS = re.compile(r"<recordID>([^<]*)</recordID>")


@pytest.fixture
async def gateway(database_url: str) -> AsyncIterator[Gateway]:
    gw = await start_gateway(database_url)
    for sim in gw.fleet.servers:  # recordings are published as soon as the meeting ended
        sim.state.properties = dataclasses.replace(
            sim.state.properties, recording_delay_seconds=0, text_track_delay_seconds=0
        )
    try:
        yield gw
    finally:
        await stop_gateway(gw)


def index(gw: Gateway) -> RecordingIndex:
    assert gw.app is not None
    index: RecordingIndex = gw.app.state.recording_index
    return index


async def record(gw: Gateway, meeting_id: str, tenant: str = "alpha", **meta: str) -> None:
    """A recorded meeting with one attendee, ended."""
    sign = gw.alpha if tenant == "alpha" else gw.beta
    params = {"meetingID": meeting_id, "name": f"Room {meeting_id[:40]}", "record": "true"}
    params.update({f"meta_{k}": v for k, v in meta.items()})
    created = await gw.get(sign("create", q(**params)))
    assert "<returncode>SUCCESS</returncode>" in created.text, created.text
    joined = await gw.http.get(
        sign("join", q(fullName="Ann", meetingID=meeting_id, role="MODERATOR")),
        follow_redirects=True,
    )
    assert joined.status_code == 200
    ended = await gw.get(sign("end", q(meetingID=meeting_id)))
    assert "<returncode>SUCCESS</returncode>" in ended.text


async def ids(gw: Gateway, query: str, tenant: str = "alpha") -> list[str]:
    sign = gw.alpha if tenant == "alpha" else gw.beta
    response = await gw.get(sign("getRecordings", query))
    assert response.status_code == 200
    return RECORD_IDS.findall(response.text)


def direct_any(gw: Gateway, call: str, query: str) -> str:
    """The server that holds recordings (the only one with any)."""
    holder = next(i for i, s in enumerate(gw.fleet.servers) if s.state.recordings)
    return gw.direct(holder, call, query)


def failure(key: str, message: str) -> str:
    return (
        f"<response>\n<returncode>FAILED</returncode>\n<messageKey>{key}</messageKey>\n"
        f"<message>{message}</message>\n</response>"
    )


async def test_recordings_appear_after_a_poll_exactly_as_bbb_shows_them(gateway: Gateway) -> None:
    gw = gateway
    await record(gw, "room-1", **{"bbb-origin": "Greenlight"})
    assert await ids(gw, q(meetingID="room-1")) == []  # not indexed yet
    report = await index(gw).poll_once()
    assert report.listed == 1 and not report.failed
    via_gateway = await gw.get(gw.alpha("getRecordings", q(meetingID="room-1")))
    assert via_gateway.headers["content-type"] == "text/xml;charset=utf-8"
    # the backend's own answer with the tenant's meetingID in place of bf1-room-1
    direct = await gw.get(direct_any(gw, "getRecordings", q(meetingID="bf1-room-1")))
    assert via_gateway.text == direct.text.replace("bf1-room-1", "room-1")
    recording = parse_get_recordings(via_gateway.text).recordings[0]
    assert recording.meeting_id == "room-1"
    assert dict(recording.metadata or ())["meetingId"] == "room-1"
    assert dict(recording.metadata or ())["bbb-origin"] == "Greenlight"
    # the internal meeting ID works as a recordID, like on BBB
    assert await ids(gw, q(recordID=recording.record_id[:12])) == [recording.record_id]


async def test_filters_pagination_and_no_recordings(gateway: Gateway) -> None:
    gw = gateway
    for n in range(4):
        await record(gw, f"room-{n % 2}", **{"bbb-context": f"course-{n}"})
    await index(gw).poll_once()
    everything = await ids(gw, "")
    assert len(everything) == 4
    assert len(await ids(gw, q(meetingID="room-0"))) == 2
    assert len(await ids(gw, q(meetingID="room-0,room-1"))) == 4
    assert len(await ids(gw, q(**{"meta_bbb-context": "course-3"}))) == 1
    assert len(await ids(gw, q(**{"meta_bbb-context": "course-%"}))) == 4
    assert len(await ids(gw, q(**{"meta_bbb-context": "%-2"}))) == 1
    assert len(await ids(gw, q(**{"meta_BBB-CONTEXT": "%urse%"}))) == 4  # names are lowercased
    assert await ids(gw, q(**{"meta_bbb-context": "Course-3"})) == []
    assert await ids(gw, q(state="deleted")) == []
    assert len(await ids(gw, q(state="any"))) == 4
    page = await gw.get(gw.alpha("getRecordings", q(limit="3", offset="2")))
    assert RECORD_IDS.findall(page.text) == everything[2:]
    assert page.text.endswith(
        "<pagination><pageable><offset>2</offset><limit>3</limit><paged>true</paged>"
        "<unpaged>false</unpaged></pageable><totalElements>4</totalElements>"
        "<empty>false</empty></pagination></response>"
    )
    assert "<data/>" in page.text  # re-serialised like bbb-web's paginated answer
    # past the end: bbb-web throws (HTTP 500); the gateway answers noRecordings
    beyond = await gw.get(gw.alpha("getRecordings", q(limit="3", offset="40")))
    assert beyond.status_code == 200
    assert beyond.text == example("getRecordings-noRecordings.xml")
    none = await gw.get(gw.alpha("getRecordings", q(meetingID="nothing-here")))
    assert none.text == example("getRecordings-noRecordings.xml")


async def test_fetch_all_can_be_refused_like_bbb(database_url: str) -> None:
    gw = await start_gateway(database_url, allow_fetch_all_recordings=False)
    try:
        answer = await gw.get(gw.alpha("getRecordings"))
        assert answer.text == example("getRecordings-fetchAllDisabled.xml")
        limited = await gw.get(gw.alpha("getRecordings", q(limit="5")))
        assert limited.text == example("getRecordings-noRecordings.xml")
    finally:
        await stop_gateway(gw)


async def test_publish_unpublish_update_delete(gateway: Gateway) -> None:
    gw = gateway
    await record(gw, "room-1", **{"bbb-origin": "Greenlight"})
    await index(gw).poll_once()
    (record_id,) = await ids(gw, q(meetingID="room-1"))
    answer = await gw.get(gw.alpha("publishRecordings", q(recordID=record_id, publish="false")))
    assert answer.text == example("publishRecordings-unpublish-success.xml")
    assert await ids(gw, q(state="published")) == []
    assert await ids(gw, q(state="unpublished")) == [record_id]
    direct = await gw.get(direct_any(gw, "getRecordings", q(recordID=record_id)))
    assert "<state>unpublished</state>" in direct.text  # the server did it
    answer = await gw.get(gw.alpha("publishRecordings", q(recordID=record_id, publish="true")))
    assert answer.text == example("publishRecordings-success.xml")
    answer = await gw.get(
        gw.alpha(
            "updateRecordings",
            q(recordID=record_id, **{"meta_bbb-origin": "", "meta_Course": "Maths"}),
        )
    )
    assert answer.text == example("updateRecordings-success.xml")
    assert await ids(gw, q(meta_course="Maths")) == [record_id]
    assert await ids(gw, q(**{"meta_bbb-origin": "%"})) == []
    # the tenant cannot take over another meeting's recording through metadata
    await gw.get(gw.alpha("updateRecordings", q(recordID=record_id, meta_meetingId="other")))
    assert await ids(gw, q(meetingID="room-1")) == [record_id]
    answer = await gw.get(gw.alpha("deleteRecordings", q(recordID=record_id)))
    assert answer.text == example("deleteRecordings-success.xml")
    assert await ids(gw, "") == []
    assert await ids(gw, q(state="deleted")) == [record_id]
    # a deleted recording is no longer there for publish (BBB: notFound)
    answer = await gw.get(gw.alpha("publishRecordings", q(recordID=record_id, publish="true")))
    assert answer.text == example("publishRecordings-notFound.xml")
    # the next full poll agrees with what the index already says
    await index(gw).poll_once()
    assert await ids(gw, q(state="deleted")) == [record_id]


async def test_tenants_never_see_each_others_recordings(gateway: Gateway) -> None:
    gw = gateway
    await record(gw, "shared-name", tenant="alpha")
    await record(gw, "shared-name", tenant="beta")
    await index(gw).poll_once()
    (alpha_id,) = await ids(gw, q(meetingID="shared-name"))
    (beta_id,) = await ids(gw, q(meetingID="shared-name"), tenant="beta")
    assert alpha_id != beta_id
    assert await ids(gw, "", tenant="beta") == [beta_id]
    assert await ids(gw, q(recordID=alpha_id), tenant="beta") == []
    for call, extra in (
        ("publishRecordings", {"publish": "false"}),
        ("deleteRecordings", {}),
        ("updateRecordings", {"meta_x": "y"}),
    ):
        answer = await gw.get(gw.beta(call, q(recordID=alpha_id, **extra)))
        unknown = await gw.get(gw.beta(call, q(recordID="f" * 40 + "-1", **extra)))
        assert answer.text == unknown.text == failure("notFound", "We could not find recordings")
    tracks = await gw.get(gw.beta("getRecordingTextTracks", q(recordID=alpha_id)))
    assert tracks.text == (
        '{"response":{"returncode":"FAILED","messageKey":"noRecordings",'
        f'"message":"No recording found for {alpha_id}"}}}}'
    )
    put = await gw.http.post(
        gw.beta("putRecordingTextTrack", q(recordID=alpha_id, kind="subtitles", lang="en-US")),
        files={"file": ("a.vtt", b"WEBVTT\n", "text/vtt")},
    )
    assert put.text == (
        '{\n    "response": {\n        "returncode": "FAILED",\n'
        '        "messageKey": "noRecordings",\n'
        f'        "message": "No recording was found for {alpha_id}"\n    }}\n}}'
    )
    # alpha's recording is untouched
    assert await ids(gw, q(state="published")) == [alpha_id]


async def test_bad_input_gets_bbbs_answers(gateway: Gateway) -> None:
    gw = gateway
    api = gw.api
    for call in ("getRecordings", "publishRecordings", "deleteRecordings", "updateRecordings"):
        wrong = await gw.get(f"{api}{call}?recordID=x&publish=true&checksum=0000")
        assert wrong.text == failure(
            "checksumError", "You did not pass the checksum security check"
        )
        missing = await gw.get(f"{api}{call}?recordID=x&publish=true")
        assert missing.text == wrong.text
    # BBB checks recordID and publish before the checksum
    for call in ("publishRecordings", "deleteRecordings", "updateRecordings"):
        answer = await gw.get(f"{api}{call}?publish=true&checksum=0000")
        assert answer.text == example("publishRecordings-missingParamRecordID.xml")
        answer = await gw.get(gw.alpha(call, q(publish="true")))
        assert answer.text == example("publishRecordings-missingParamRecordID.xml")
    answer = await gw.get(f"{api}publishRecordings?recordID=x&checksum=0000")
    assert answer.text == example("publishRecordings-missingParamPublish.xml")
    answer = await gw.get(gw.alpha("deleteRecordings", q(recordID="nope")))
    assert answer.text == example("deleteRecordings-notFound.xml")
    answer = await gw.get(gw.alpha("updateRecordings", q(recordID="nope")))
    assert answer.text == example("updateRecordings-notFound.xml")
    # text tracks
    answer = await gw.get(f"{api}getRecordingTextTracks?checksum=0000")
    assert answer.text == example("getRecordingTextTracks-missingParamRecordID.xml")
    answer = await gw.get(f"{api}getRecordingTextTracks?recordID=x")
    assert answer.text == failure("checksumError", "You did not pass the checksum security check")
    answer = await gw.get(gw.alpha("getRecordingTextTracks", q(recordID="nope")))
    assert answer.json() == {
        "response": {
            "returncode": "FAILED",
            "messageKey": "noRecordings",
            "message": "No recording found for nope",
        }
    }
    answer = await gw.http.post(f"{api}putRecordingTextTrack?recordID=x")
    assert answer.text == example("putRecordingTextTrack-missing-checksum.json")
    answer = await gw.http.post(f"{api}putRecordingTextTrack?checksum=00")
    assert answer.json()["response"]["message"] == "Missing param recordID."
    answer = await gw.http.post(f"{api}putRecordingTextTrack?recordID=x&checksum=00")
    assert answer.text == example("putRecordingTextTrack-checksumError.xml")
    answer = await gw.get(gw.alpha("putRecordingTextTrack", q(recordID="x")))
    assert answer.status_code == 405  # POST only


async def test_recordings_outlive_their_server(gateway: Gateway) -> None:
    gw = gateway
    await record(gw, "room-1")
    await index(gw).poll_once()
    (record_id,) = await ids(gw, "")
    holder = next(
        i
        for i, sim in enumerate(gw.fleet.servers)
        if record_id in sim.state.recordings  # the simulated server that holds it
    )
    # a server that is down changes nothing
    await gw.fleet.servers[holder].go_down()
    report = await index(gw).poll_once()
    assert report.failed == [f"sim-{holder}"]
    assert await ids(gw, "") == [record_id]
    answer = await gw.get(gw.alpha("deleteRecordings", q(recordID=record_id)))
    assert "<messageKey>serverUnavailable</messageKey>" in answer.text
    await gw.fleet.servers[holder].come_up()
    # removed from bbbfleet: still listed, and changed in the index alone
    await gw.store.servers.remove(f"sim-{holder}", force=True)
    await index(gw).poll_once()
    assert await ids(gw, "") == [record_id]
    stored = await gw.store.recordings.get(record_id)
    assert stored is not None and stored.server_id is None
    answer = await gw.get(gw.alpha("publishRecordings", q(recordID=record_id, publish="false")))
    assert answer.text == example("publishRecordings-unpublish-success.xml")
    assert await ids(gw, q(state="unpublished")) == [record_id]


async def test_recordings_that_vanish_from_a_live_server_are_gone(gateway: Gateway) -> None:
    gw = gateway
    await record(gw, "room-1")
    await record(gw, "room-2")
    await index(gw).poll_once()
    assert len(await ids(gw, "")) == 2
    for sim in gw.fleet.servers:
        for record_id in list(sim.state.recordings):
            if sim.state.recordings[record_id].meeting_id == "bf1-room-1":
                del sim.state.recordings[record_id]  # e.g. removed by hand on the server
    await index(gw).poll_once()
    remaining = await ids(gw, q(state="any"))
    assert len(remaining) == 1
    assert await ids(gw, q(meetingID="room-1")) == []


async def test_central_recordings_play_from_the_gateway(gateway: Gateway) -> None:
    gw = gateway
    await record(gw, "room-1")
    await index(gw).poll_once()
    (record_id,) = await ids(gw, "")
    before = (await gw.get(gw.alpha("getRecordings"))).text
    backend = next(s.base_url for s in gw.fleet.servers if s.base_url in before)
    assert await gw.store.recordings.set_location(record_id, "central")
    after = (await gw.get(gw.alpha("getRecordings"))).text
    assert backend not in after
    assert after == before.replace(backend, gw.url)
    assert f"{gw.url}/playback/presentation/2.3/{record_id}" in after


async def test_long_meeting_ids_map_back_after_the_meeting_is_gone(gateway: Gateway) -> None:
    gw = gateway
    long_id = "L" * 254  # bf1-L… would exceed 256 characters: hashed, bf1-h-<sha256>
    await record(gw, long_id)
    assert await gw.store.meetings.get(1, long_id) is None  # ended: the meeting row is gone
    await index(gw).poll_once()
    (record_id,) = await ids(gw, q(meetingID=long_id))
    body = (await gw.get(gw.alpha("getRecordings", q(recordID=record_id)))).text
    assert f"<meetingID>{long_id}</meetingID>" in body
    assert f"<meetingId>{long_id}</meetingId>" in body
    assert "bf1-h-" not in body


async def test_text_tracks_go_to_the_recordings_server(gateway: Gateway) -> None:
    gw = gateway
    await record(gw, "room-1")
    await index(gw).poll_once()
    (record_id,) = await ids(gw, "")
    none = await gw.get(gw.alpha("getRecordingTextTracks", q(recordID=record_id)))
    direct = await gw.get(direct_any(gw, "getRecordingTextTracks", q(recordID=record_id)))
    assert none.text == direct.text  # the server's own answer, passed through
    put = await gw.http.post(
        gw.alpha("putRecordingTextTrack", q(recordID=record_id, kind="subtitles", lang="en_US")),
        files={"file": ("en.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n", "text/vtt")},
    )
    assert put.headers["content-type"].startswith("application/json")
    assert put.json()["response"]["messageKey"] == "upload_text_track_success", put.text
    assert put.json()["response"]["recordId"] == record_id
    tracks = await gw.get(gw.alpha("getRecordingTextTracks", q(recordID=record_id)))
    (track,) = tracks.json()["response"]["tracks"]
    assert (track["kind"], track["lang"], track["label"]) == ("subtitles", "en-US", "English")
    vtt = await gw.http.get(track["href"])  # served by the recording's server
    assert vtt.status_code == 200 and b"Hello" in vtt.content
    # bad input is the server's own answer, after the gateway's ownership check
    bad = await gw.http.post(
        gw.alpha("putRecordingTextTrack", q(recordID=record_id, kind="chapters", lang="en")),
        files={"file": ("en.vtt", b"WEBVTT\n", "text/vtt")},
    )
    assert bad.text == example("putRecordingTextTrack-invalidKind.json")
    # an upload larger than max_text_track_bytes never reaches the server
    gw.settings.max_text_track_bytes = 200_000  # the gateway's own settings object
    large = await gw.http.post(
        gw.alpha("putRecordingTextTrack", q(recordID=record_id, kind="captions", lang="de")),
        files={"file": ("big.vtt", b"x" * (gw.settings.max_text_track_bytes + 1), "text/vtt")},
    )
    assert "<messageKey>requestTooLarge</messageKey>" in large.text
    # streamed without a length (chunked): cut off while passing it on
    boundary = "bbbfleetboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.vtt"\r\n'
        "Content-Type: text/vtt\r\n\r\nWEBVTT\n\n"
    ).encode()

    async def chunks(total: int) -> AsyncIterator[bytes]:
        yield head
        for _ in range(total // 65536 + 1):
            yield b"x" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    chunked = await gw.http.post(
        gw.alpha("putRecordingTextTrack", q(recordID=record_id, kind="captions", lang="de")),
        content=chunks(gw.settings.max_text_track_bytes),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert "<messageKey>requestTooLarge</messageKey>" in chunked.text
    small = await gw.http.post(
        gw.alpha("putRecordingTextTrack", q(recordID=record_id, kind="captions", lang="de")),
        content=chunks(10),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert small.json()["response"]["messageKey"] == "upload_text_track_success", small.text


async def test_the_gateway_indexes_by_itself(database_url: str) -> None:
    """With the poller on, the recording index runs in the gateway's lifespan (here: whole
    lists in one request, ``recordings_page_size=0``)."""
    gw = await start_gateway(
        database_url, poller=True, recordings_poll_interval=0.05, recordings_page_size=0
    )
    try:
        for sim in gw.fleet.servers:
            sim.state.properties = dataclasses.replace(
                sim.state.properties, recording_delay_seconds=0
            )
        await record(gw, "room-1")
        for _ in range(100):
            if await ids(gw, ""):
                break
            await asyncio.sleep(0.05)
        assert len(await ids(gw, "")) == 1
    finally:
        await stop_gateway(gw)


async def test_paged_passes_mark_vanished_recordings(database_url: str) -> None:
    """One recording per getRecordings page: the pass reads them all, and one that vanished
    between two passes is marked gone."""
    gw = await start_gateway(database_url, servers=1, recordings_page_size=1)
    try:
        sim = gw.fleet.servers[0]
        sim.state.properties = dataclasses.replace(sim.state.properties, recording_delay_seconds=0)
        for n in range(3):
            await record(gw, f"room-{n}")
        report = await index(gw).poll_once()
        assert report.listed == 3
        assert len(await ids(gw, "")) == 3
        victim = next(r for r, v in sim.state.recordings.items() if v.meeting_id == "bf1-room-1")
        del sim.state.recordings[victim]
        await index(gw).poll_once()
        remaining = await ids(gw, q(state="any"))
        assert len(remaining) == 2 and victim not in remaining
    finally:
        await stop_gateway(gw)


async def test_central_recordings_change_while_their_server_is_down(gateway: Gateway) -> None:
    gw = gateway
    await record(gw, "room-1")
    await index(gw).poll_once()
    (record_id,) = await ids(gw, "")
    holder = next(i for i, s in enumerate(gw.fleet.servers) if record_id in s.state.recordings)
    assert await gw.store.recordings.set_location(record_id, "central")
    await gw.fleet.servers[holder].go_down()
    answer = await gw.get(gw.alpha("deleteRecordings", q(recordID=record_id)))
    assert answer.text == example("deleteRecordings-success.xml")
    assert await ids(gw, "") == []
    await gw.fleet.servers[holder].come_up()
    await index(gw).poll_once()  # the server still lists it as published: the index keeps its say
    assert await ids(gw, "") == []
    assert await ids(gw, q(state="deleted")) == [record_id]
