"""The getRecordings parser is the inverse of the renderer: parse → render gives the backend's
bytes back, for the reference examples and for every shape of recording."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bbbfleet.protocol import recordings as rec
from bbbfleet.protocol.recordings import (
    BreakoutOf,
    Pagination,
    PlaybackFormat,
    PreviewImage,
    RecordingSnapshot,
)
from bbbfleet.protocol.recordings_read import (
    UnreadableRecordings,
    paginated_block,
    parse_get_recordings,
)
from bbbfleet.recordings.index import to_tenant
from bbbfleet.storage.recordings import snapshot_from_json, snapshot_to_json
from tests.conftest import example

BLOCKS = re.compile(r"<recording>.*?</recording>", re.DOTALL)


def breakout_recording() -> RecordingSnapshot:
    return RecordingSnapshot(
        record_id="a" * 40 + "-1700000000000",
        meeting_id="bf1-room \"<&>' 1",
        name="Room & <1>",
        state=rec.UNPUBLISHED,
        start_time=1700000000000,
        end_time=1700000600000,
        participants=4,
        raw_size=123,
        is_breakout=True,
        metadata=(("isBreakout", "true"), ("empty", ""), ("meetingId", "bf1-room")),
        breakout=BreakoutOf("b" * 40 + "-1", 2, True),
        breakout_rooms=("c" * 40 + "-2",),
        playback=(
            PlaybackFormat(
                "presentation",
                "https://h/playback/presentation/2.3/x",
                10,
                180_000,
                99,
                (PreviewImage('alt "1" & more', "https://h/t1.png"),),
            ),
        ),
        data=(("notes", "https://h/notes/x"),),
    )


def no_metadata_recording() -> RecordingSnapshot:
    return RecordingSnapshot(
        record_id="d" * 40 + "-1700000000001",
        meeting_id="bf2-x",
        name="x",
        state=rec.PROCESSING,
        start_time=1,
        end_time=2,
        participants=0,
        raw_size=0,
        metadata=None,
    )


@pytest.mark.parametrize("name", ["getRecordings-success.xml", "getRecordings-paginated.xml"])
def test_examples_render_back_byte_for_byte(name: str) -> None:
    body = example(name)
    page = parse_get_recordings(body)
    paginated = "<pagination>" in body
    assert [rec.recording_block(r, paginated=paginated) for r in page.recordings] == (
        BLOCKS.findall(body)
    )
    assert page.total == (2 if paginated else None)


@pytest.mark.parametrize("paginated", [False, True])
def test_round_trip_of_every_shape(paginated: bool) -> None:
    snapshots = [breakout_recording(), no_metadata_recording()]
    blocks = [rec.recording_block(s, paginated=paginated) for s in snapshots]
    pagination = Pagination(0, 10, 2, False) if paginated else None
    page = parse_get_recordings(rec.get_recordings_xml(blocks, pagination))
    assert page.recordings == snapshots
    assert [rec.recording_block(s, paginated=paginated) for s in page.recordings] == blocks


def test_no_recordings_is_an_empty_page() -> None:
    page = parse_get_recordings(example("getRecordings-noRecordings.xml"))
    assert page.recordings == [] and page.total is None


@pytest.mark.parametrize(
    "body",
    [
        "<html>500</html>",
        "not xml",
        "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey></response>",
    ],
)
def test_anything_else_is_unreadable(body: str) -> None:
    with pytest.raises(UnreadableRecordings):
        parse_get_recordings(body)


def test_stored_json_round_trip() -> None:
    for snapshot in (breakout_recording(), no_metadata_recording()):
        text = snapshot_to_json(snapshot)
        assert snapshot_from_json(text, snapshot.state, snapshot.metadata) == snapshot


def test_metadata_translation_for_the_tenant() -> None:
    snapshot = breakout_recording()
    shown = to_tenant(
        snapshot,
        "bf1-room",
        "room",
        lambda key, value: "tenant-url" if key == "isBreakout" else value,
    )
    assert shown.meeting_id == "room"
    assert shown.metadata == (("isBreakout", "tenant-url"), ("empty", ""), ("meetingId", "room"))


def test_paginated_block_is_the_paginated_rendering() -> None:
    empty = dataclasses.replace(
        breakout_recording(),
        name="",
        playback=(
            PlaybackFormat("presentation", "", 0, 0, 0, (PreviewImage("", ""),)),
            PlaybackFormat("video", "https://h/v", 1, 2, 3),
        ),
        metadata=(("a", ""), ("b", "x")),
    )
    for snapshot in (breakout_recording(), no_metadata_recording(), empty):
        assert paginated_block(rec.recording_block(snapshot)) == rec.recording_block(
            snapshot, paginated=True
        )
