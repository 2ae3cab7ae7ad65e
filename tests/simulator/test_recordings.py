"""Recordings: a recorded meeting with attendees leaves a recording when it ends, which
getRecordings lists and publish/delete/updateRecordings change, byte for byte like the examples."""

from __future__ import annotations

import random
import re

import httpx
import pytest

from bbbfleet.protocol import recordings as rec
from bbbfleet.protocol.params import ApiParams
from bbbfleet.protocol.recordings import RecordingQuery
from bbbfleet.simulator import (
    BbbProperties,
    CreateSpec,
    JoinSpec,
    ManualClock,
    Meeting,
    SimulatedFleet,
    SimulatedServer,
)
from tests.conftest import example
from tests.simulator.conftest import Bbb, normalise

FREDS_ROOM = "c637ba21adcd0191f48f5c4bf23fab0f96ed5c18"
# The example's meeting lasted 29.8 minutes: ``<length>29</length>``.
EXAMPLE_DURATION_S = (1530720510456 - 1530718721124) / 1000

# What the recording pipeline makes up (times, sizes, processing times): shapes only.
RECORDING_VALUES = re.compile(r"<(startTime|endTime|rawSize|size|processingTime)>\d+</\1>")


def normalise_recording(text: str) -> str:
    return RECORDING_VALUES.sub(r"<\1>{number}</\1>", normalise(text))


def assert_xml(bbb: Bbb, response: httpx.Response, name: str) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml;charset=utf-8"
    assert normalise_recording(bbb.normalise(response.text)) == normalise_recording(example(name))


async def record_freds_room(bbb: Bbb, clock: ManualClock) -> None:
    """The meeting of getRecordings-success.xml: three attendees, 29.8 minutes, then ``end``."""
    await bbb.create(
        FREDS_ROOM, name="Fred's Room", record="true", **{"meta_bbb-origin": "Greenlight"}
    )
    for name in ("Fred", "Wilma", "Barney"):
        await bbb.enter(FREDS_ROOM, fullName=name, role="viewer")
    clock.advance(EXAMPLE_DURATION_S)
    ended = await bbb.call("end", meetingID=FREDS_ROOM)
    assert "<returncode>SUCCESS</returncode>" in ended.text


# --- over HTTP, against the examples -----------------------------------------------------------


async def test_get_recordings_success_example(bbb: Bbb, clock: ManualClock) -> None:
    await record_freds_room(bbb, clock)
    clock.advance(BbbProperties().recording_delay_seconds)
    response = await bbb.call("getRecordings", meetingID=FREDS_ROOM)
    assert_xml(bbb, response, "getRecordings-success.xml")


async def test_get_recordings_paginated_example(bbb: Bbb, clock: ManualClock) -> None:
    await record_freds_room(bbb, clock)
    clock.advance(60)
    await record_freds_room(bbb, clock)
    clock.advance(BbbProperties().recording_delay_seconds)
    response = await bbb.call("getRecordings", meetingID=FREDS_ROOM, limit="1")
    assert_xml(bbb, response, "getRecordings-paginated.xml")
    beyond = await bbb.call("getRecordings", meetingID=FREDS_ROOM, limit="1", offset="3")
    assert beyond.status_code == 500


async def test_no_recordings_while_processing_and_for_unknown_meetings(
    bbb: Bbb, clock: ManualClock
) -> None:
    await record_freds_room(bbb, clock)
    for params in ({"meetingID": FREDS_ROOM}, {"meetingID": "unknown"}, {"recordID": "x"}):
        response = await bbb.call("getRecordings", **params)
        assert_xml(bbb, response, "getRecordings-noRecordings.xml")
    processing = await bbb.call("getRecordings", meetingID=FREDS_ROOM, state="processing")
    assert "<state>processing</state>" in processing.text
    assert "<published>false</published>" in processing.text


async def test_get_recordings_checksum_errors(bbb: Bbb) -> None:
    missing = await bbb.http.get(f"{bbb.host.url}getRecordings?meetingID={FREDS_ROOM}")
    assert_xml(bbb, missing, "getRecordings-checksumError.xml")
    wrong = await bbb.http.get(f"{bbb.host.url}getRecordings?meetingID=x&checksum={'0' * 40}")
    assert_xml(bbb, wrong, "getRecordings-checksumError.xml")


async def test_get_recordings_by_post_form(bbb: Bbb, clock: ManualClock) -> None:
    await record_freds_room(bbb, clock)
    clock.advance(10)
    response = await bbb.http.post(
        bbb.url("getRecordings"),
        content=f"meetingID={FREDS_ROOM}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "<recordID>" in response.text


async def recorded_id(bbb: Bbb, clock: ManualClock) -> str:
    await record_freds_room(bbb, clock)
    clock.advance(10)
    response = await bbb.call("getRecordings", meetingID=FREDS_ROOM)
    found = re.search(r"<recordID>([^<]+)</recordID>", response.text)
    assert found is not None
    return found.group(1)


async def test_publish_unpublish_delete_update_examples(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    unpublish = await bbb.call("publishRecordings", recordID=record_id, publish="false")
    assert_xml(bbb, unpublish, "publishRecordings-unpublish-success.xml")
    listed = await bbb.call("getRecordings", meetingID=FREDS_ROOM)
    assert "<published>false</published><state>unpublished</state>" in listed.text
    publish = await bbb.call("publishRecordings", recordID=f"{record_id},unknown", publish="true")
    assert_xml(bbb, publish, "publishRecordings-success.xml")
    update = await bbb.call(
        "updateRecordings", ("meta_Course", "Maths"), ("meta_bbb-origin", ""), recordID=record_id
    )
    assert_xml(bbb, update, "updateRecordings-success.xml")
    listed = await bbb.call("getRecordings", ("meta_course", "Maths"), recordID=record_id)
    assert "<course>Maths</course>" in listed.text
    assert "bbb-origin" not in listed.text
    delete = await bbb.call("deleteRecordings", recordID=record_id)
    assert_xml(bbb, delete, "deleteRecordings-success.xml")
    hidden = await bbb.call("getRecordings", meetingID=FREDS_ROOM)
    assert_xml(bbb, hidden, "getRecordings-noRecordings.xml")
    deleted = await bbb.call("getRecordings", meetingID=FREDS_ROOM, state="any")
    assert "<published>false</published><state>deleted</state>" in deleted.text


@pytest.mark.parametrize("call", ["publishRecordings", "deleteRecordings", "updateRecordings"])
async def test_unknown_recordings_are_not_found(bbb: Bbb, call: str) -> None:
    response = await bbb.call(call, recordID="unknown", publish="true")
    assert_xml(bbb, response, f"{call}-notFound.xml")


async def test_publish_checks_in_bbb_order(bbb: Bbb) -> None:
    base = bbb.host.url
    no_checksum = await bbb.http.get(f"{base}publishRecordings")
    assert_xml(bbb, no_checksum, "publishRecordings-checksumError.xml")
    # Missing parameters are reported before the checksum is verified.
    wrong = "checksum=" + "0" * 40
    no_id = await bbb.http.get(f"{base}publishRecordings?{wrong}")
    assert_xml(bbb, no_id, "publishRecordings-missingParamRecordID.xml")
    no_publish = await bbb.http.get(f"{base}publishRecordings?recordID=x&{wrong}")
    assert_xml(bbb, no_publish, "publishRecordings-missingParamPublish.xml")
    bad = await bbb.http.get(f"{base}publishRecordings?recordID=x&publish=true&{wrong}")
    assert_xml(bbb, bad, "publishRecordings-checksumError.xml")
    not_found = await bbb.call("publishRecordings", recordID="x", publish="true")
    assert_xml(bbb, not_found, "publishRecordings-notFound.xml")


async def test_publish_and_delete_are_get_only(bbb: Bbb) -> None:
    for call in ("publishRecordings", "deleteRecordings"):
        response = await bbb.http.post(bbb.url(call, "recordID=x&publish=true"))
        assert response.status_code == 405


# --- the server, without HTTP ------------------------------------------------------------------


def make_server(clock: ManualClock, **properties: object) -> SimulatedServer:
    return SimulatedServer(
        "secret",
        server_url="https://bbb.example.com",
        clock=clock,
        rng=random.Random(1),
        properties=BbbProperties(**properties),  # type: ignore[arg-type]
    )


def create(server: SimulatedServer, meeting_id: str = "room", **params: str) -> Meeting:
    spec = CreateSpec.from_params(
        ApiParams({"meetingID": meeting_id, "name": "Room", **params}), server.properties
    )
    return server.create_meeting(spec).meeting


def attend(server: SimulatedServer, meeting: Meeting, user_id: str = "u1") -> None:
    spec = JoinSpec.from_params(ApiParams({"fullName": "Ada", "role": "viewer", "userID": user_id}))
    user = server.join(meeting, spec)
    assert server.attend(user.session_token) is not None


def find(server: SimulatedServer, **params: str) -> list[rec.RecordingSnapshot]:
    query = RecordingQuery.from_params(ApiParams(params))
    return [r.snapshot() for r in server.find_recordings(query)]


def test_a_recording_is_processing_then_published_after_the_delay() -> None:
    clock = ManualClock()
    server = make_server(clock, recording_delay_seconds=30)
    meeting = create(server, record="true", **{"meta_BBB-Origin": "Moodle"})
    attend(server, meeting, "u1")
    attend(server, meeting, "u2")
    attend(server, meeting, "u1")  # a re-join is the same participant
    clock.advance(600)
    server.end_meeting(meeting)
    assert find(server) == []
    (processing,) = find(server, state="processing")
    assert processing.playback == ()
    clock.advance(29.9)
    assert find(server) == []
    clock.advance(0.1)
    (published,) = find(server)
    assert published.state == rec.PUBLISHED and published.published
    assert published.record_id == meeting.internal_id
    assert published.meeting_id == "room"
    assert (published.start_time, published.end_time) == (
        meeting.create_time,
        meeting.create_time + 600_000,
    )
    assert published.participants == 2
    assert published.metadata == (
        ("isBreakout", "false"),
        ("meetingName", "Room"),
        ("bbb-origin", "Moodle"),
        ("meetingId", "room"),
    )
    presentation, video = published.playback
    assert (
        presentation.url
        == f"https://bbb.example.com/playback/presentation/2.3/{meeting.internal_id}"
    )
    assert presentation.length_minutes == video.length_minutes == 10
    assert [(i.width, i.height) for i in presentation.preview] == [(176, 136)] * 3
    assert video.type == "video"
    assert published.size == presentation.size + video.size
    assert published.raw_size > published.size


def test_expiry_after_the_last_user_left_also_records() -> None:
    clock = ManualClock()
    server = make_server(clock)
    meeting = create(server, record="true")
    attend(server, meeting)
    server.leave("room")
    clock.advance(24 * 3600)
    (recording,) = find(server)
    assert server.ended[-1].reason == "lastUserLeft"
    # Noticed a day later, but the meeting ended a minute after the last user left.
    assert recording.end_time == meeting.create_time + 60_000


@pytest.mark.parametrize(("record", "attendee"), [("false", True), ("true", False)])
def test_no_recording_without_record_or_without_attendees(record: str, attendee: bool) -> None:
    clock = ManualClock()
    server = make_server(clock)
    meeting = create(server, record=record)
    if attendee:
        attend(server, meeting)
    server.end_meeting(meeting)
    clock.advance(3600)
    assert find(server, state="any") == []


def recorded(server: SimulatedServer, clock: ManualClock, meeting_id: str, **params: str) -> str:
    meeting = create(server, meeting_id, record="true", **params)
    attend(server, meeting)
    server.end_meeting(meeting)
    clock.advance(server.properties.recording_delay_seconds)
    return meeting.internal_id


def test_publish_delete_and_update_change_state_and_metadata() -> None:
    clock = ManualClock()
    server = make_server(clock)
    record_id = recorded(server, clock, "room", meta_course="maths")
    assert not server.publish_recordings(["unknown"], False)
    assert not server.publish_recordings([record_id[:-1]], False)  # exact IDs only
    assert server.publish_recordings([record_id], False)
    assert [r.state for r in find(server)] == [rec.UNPUBLISHED]
    assert server.update_recordings([record_id], {"course": "physics", "meetingname": ""})
    assert find(server, meta_course="physics")
    assert server.delete_recordings([record_id])
    assert find(server) == []
    assert [r.state for r in find(server, state="deleted")] == [rec.DELETED]
    assert not server.publish_recordings([record_id], True)  # deleted ones are gone
    assert not server.delete_recordings([record_id])


def test_filters_by_meeting_record_id_and_metadata() -> None:
    clock = ManualClock()
    server = make_server(clock)
    maths = recorded(server, clock, "maths", **{"meta_bbb-origin": "Moodle"})
    clock.advance(1)
    physics = recorded(server, clock, "physics", **{"meta_bbb-origin": "Greenlight"})

    def ids(found: list[rec.RecordingSnapshot]) -> list[str]:
        return [r.record_id for r in found]

    assert ids(find(server)) == [maths, physics]
    assert ids(find(server, meetingID="physics")) == [physics]
    assert ids(find(server, meetingID="maths,physics")) == [maths, physics]
    assert ids(find(server, recordID=physics[:20])) == [physics]
    assert ids(find(server, **{"meta_bbb-origin": "Moodle"})) == [maths]
    assert ids(find(server, **{"meta_bbb-origin": "%light"})) == [physics]
    assert ids(find(server, **{"meta_bbb-origin": "moodle"})) == []


async def test_fetch_all_can_be_disabled(clock: ManualClock) -> None:
    fleet = SimulatedFleet(
        1, 0, clock=clock, seed=7, properties=BbbProperties(allow_fetch_all_recordings=False)
    )
    await fleet.start()
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            bbb = Bbb(fleet.servers[0], http)
            response = await bbb.get("getRecordings")
            assert response.text == example("getRecordings-fetchAllDisabled.xml")
            filtered = await bbb.call("getRecordings", meetingID="x")
            assert_xml(bbb, filtered, "getRecordings-noRecordings.xml")
    finally:
        await fleet.stop()
