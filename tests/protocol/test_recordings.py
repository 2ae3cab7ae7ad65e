"""getRecordings' Scala XML, the hand-built recording answers and getRecordings' filters."""

from __future__ import annotations

import hashlib

import pytest

from bbbfleet.protocol import errors as E
from bbbfleet.protocol import recordings as rec
from bbbfleet.protocol.params import ApiParams
from bbbfleet.protocol.recordings import (
    Pagination,
    PlaybackFormat,
    PreviewImage,
    RecordingQuery,
    RecordingSnapshot,
)
from bbbfleet.protocol.xml import render_error
from tests.conftest import example

RECORD_ID = "ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124"
SERVER = "https://bbb.example.com"
SLIDES = f"{SERVER}/presentation/{RECORD_ID}/presentation/d2d9a672040fbde2a47a10bf6c37b6a4b5ae187f-1530718721134/thumbnails"
BLANK = "(this slide left blank for use as a whiteboard)"


def freds_room(**changes: object) -> RecordingSnapshot:
    """The recording of getRecordings-success.xml."""
    values: dict[str, object] = {
        "record_id": RECORD_ID,
        "meeting_id": "c637ba21adcd0191f48f5c4bf23fab0f96ed5c18",
        "name": "Fred's Room",
        "state": rec.PUBLISHED,
        "start_time": 1530718721124,
        "end_time": 1530720510456,
        "participants": 3,
        "raw_size": 42851740,
        "metadata": (
            ("isBreakout", "false"),
            ("meetingName", "Fred's Room"),
            ("bbb-origin", "Greenlight"),
            ("meetingId", "c637ba21adcd0191f48f5c4bf23fab0f96ed5c18"),
        ),
        "playback": (
            PlaybackFormat(
                "presentation",
                f"{SERVER}/playback/presentation/2.3/{RECORD_ID}",
                7177,
                1789332,
                1251342,
                (
                    PreviewImage("Welcome to", f"{SLIDES}/thumb-1.png"),
                    PreviewImage(BLANK, f"{SLIDES}/thumb-2.png"),
                    PreviewImage(BLANK, f"{SLIDES}/thumb-3.png"),
                ),
            ),
            PlaybackFormat(
                "video", f"{SERVER}/playback/video/{RECORD_ID}/", 128311, 1789332, 20097635
            ),
        ),
    }
    values.update(changes)
    return RecordingSnapshot(**values)  # type: ignore[arg-type]


def test_get_recordings_success_example() -> None:
    body = rec.get_recordings_xml([rec.recording_block(freds_room())])
    assert body == example("getRecordings-success.xml")


def test_get_recordings_paginated_example() -> None:
    block = rec.recording_block(freds_room(), paginated=True)
    body = rec.get_recordings_xml([block], Pagination(offset=0, limit=1, total=2, empty=False))
    assert body == example("getRecordings-paginated.xml")


def test_no_recordings_and_fetch_all_disabled_examples() -> None:
    assert rec.get_recordings_xml([]) == example("getRecordings-noRecordings.xml")
    assert rec.fetch_all_disabled_xml() == example("getRecordings-fetchAllDisabled.xml")


def test_scala_escaping_keeps_apostrophes_and_empty_metadata_is_self_closing() -> None:
    block = rec.recording_block(
        freds_room(name='A & B\'s <"x">', metadata=(("empty", ""),), playback=())
    )
    assert "<name>A &amp; B's &lt;&quot;x&quot;&gt;</name>" in block
    assert "<metadata><empty/></metadata><size>0</size><playback></playback><data></data>" in block
    assert "<playback/><data/>" in rec.recording_block(freds_room(playback=()), paginated=True)


def test_breakout_elements_follow_the_metadata() -> None:
    block = rec.recording_block(
        freds_room(
            is_breakout=True,
            breakout=rec.BreakoutOf("parent-1", 2, False),
            breakout_rooms=("room-a",),
        )
    )
    assert (
        "</metadata><breakout><parentId>parent-1</parentId><sequence>2</sequence>"
        "<freeJoin>false</freeJoin></breakout><breakoutRooms><breakoutRoom>room-a</breakoutRoom>"
        "</breakoutRooms><size>" in block
    )


def test_hand_built_answers_match_the_examples() -> None:
    assert rec.publish_recordings_xml("true") == example("publishRecordings-success.xml")
    assert rec.publish_recordings_xml("false") == example("publishRecordings-unpublish-success.xml")
    assert rec.delete_recordings_xml() == example("deleteRecordings-success.xml")
    assert rec.update_recordings_xml() == example("updateRecordings-success.xml")


@pytest.mark.parametrize(
    ("error", "name"),
    [
        (E.RECORDINGS_NOT_FOUND, "publishRecordings-notFound.xml"),
        (E.RECORDINGS_NOT_FOUND, "deleteRecordings-notFound.xml"),
        (E.RECORDINGS_NOT_FOUND, "updateRecordings-notFound.xml"),
        (E.MISSING_PARAM_RECORD_ID, "publishRecordings-missingParamRecordID.xml"),
        (E.MISSING_PARAM_PUBLISH, "publishRecordings-missingParamPublish.xml"),
        (E.RECORDING_CHECKSUM, "publishRecordings-checksumError.xml"),
        (E.RECORDING_CHECKSUM, "getRecordings-checksumError.xml"),
    ],
)
def test_recording_errors_match_the_examples(error: E.ApiError, name: str) -> None:
    assert render_error(error.key, error.message) == example(name)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"recordID": "r"}, E.RECORDING_CHECKSUM),
        ({"checksum": "", "recordID": "r"}, E.RECORDING_CHECKSUM),
        ({"checksum": "x"}, E.MISSING_PARAM_RECORD_ID),
        ({"checksum": "x", "recordID": "r"}, E.MISSING_PARAM_PUBLISH),
        ({"checksum": "x", "recordID": "r", "publish": "false"}, None),
    ],
)
def test_order_of_the_publish_checks(params: dict[str, str], error: E.ApiError | None) -> None:
    assert rec.recording_action_error(params, needs_publish=True) is error


@pytest.mark.parametrize(
    ("value", "truthy"),
    [("true", True), ("TRUE", True), (" y ", True), ("1", True), ("false", False), ("yes", False)],
)
def test_publish_values_follow_groovy_to_boolean(value: str, truthy: bool) -> None:
    assert rec.groovy_to_boolean(value) is truthy


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def test_query_defaults_to_published_and_unpublished_without_pagination() -> None:
    query = RecordingQuery.from_params(ApiParams({}))
    assert query.states == rec.DEFAULT_STATES
    assert query.fetches_all
    assert query.limit is None
    assert query.matches("any-id", rec.UNPUBLISHED, None)
    assert not query.matches("any-id", rec.DELETED, None)
    assert not query.matches("any-id", rec.PROCESSING, None)


def test_query_state_any_and_lists() -> None:
    assert RecordingQuery.from_params(ApiParams({"state": "any"})).states == rec.ALL_STATES
    listed = RecordingQuery.from_params(ApiParams({"state": "deleted,processing"}))
    assert listed.states == {rec.DELETED, rec.PROCESSING}


def test_query_meeting_ids_are_decoded_once_more_and_hashed() -> None:
    query = RecordingQuery.from_params(ApiParams({"meetingID": "a%20b,other"}))
    assert query.meeting_ids == ("a b", "other")
    assert query.matches(f"{sha1('a b')}-1", rec.PUBLISHED, None)
    assert query.matches(f"{sha1('other')}-1", rec.PUBLISHED, None)
    assert not query.matches(f"{sha1('third')}-1", rec.PUBLISHED, None)
    assert not query.fetches_all


def test_query_record_ids_are_prefixes_and_win_over_meeting_ids() -> None:
    query = RecordingQuery.from_params(ApiParams({"recordID": "abc,def", "meetingID": "x"}))
    assert query.matches("abc-123", rec.PUBLISHED, None)
    assert query.matches("def", rec.PUBLISHED, None)
    assert not query.matches(f"{sha1('x')}-1", rec.PUBLISHED, None)


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("Moodle", True),
        ("moodle", False),
        ("Moo%", True),
        ("%dle", True),
        ("%ood%", True),
        ("%x%", False),
        ("Mood", False),
    ],
)
def test_query_meta_filters(pattern: str, matches: bool) -> None:
    query = RecordingQuery.from_params(ApiParams({"meta_BBB-Origin": pattern}))
    assert query.metadata == (("bbb-origin", pattern),)
    assert query.matches("r", rec.PUBLISHED, {"bbb-origin": "Moodle"}) is matches
    assert not query.matches("r", rec.PUBLISHED, {})


@pytest.mark.parametrize(
    ("params", "offset", "limit"),
    [
        ({"limit": "5"}, 0, 5),
        ({"limit": "0"}, 0, 1),
        ({"limit": "500", "offset": "-3"}, 0, 100),
        ({"limit": "x", "offset": "2"}, 2, None),
    ],
)
def test_query_pagination_parameters(
    params: dict[str, str], offset: int, limit: int | None
) -> None:
    query = RecordingQuery.from_params(ApiParams(params))
    assert (query.offset, query.limit) == (offset, limit)


def test_query_pages_items_and_refuses_an_offset_beyond_them() -> None:
    query = RecordingQuery.from_params(ApiParams({"limit": "2", "offset": "1"}))
    assert query.page([1, 2, 3, 4]) == ([2, 3], Pagination(1, 2, 4, False))
    assert query.page([1]) == ([], Pagination(1, 2, 1, True))
    with pytest.raises(rec.OffsetBeyondResults):
        query.page([])
