"""The text-track renderers against the reference examples, byte for byte."""

from __future__ import annotations

from bbbfleet.protocol import text_tracks as tt
from tests.conftest import example

RECORD_ID = "ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124"
BASE = f"https://bbb.example.com/bigbluebutton/textTrack/{{}}/{RECORD_ID}/"


def test_success_example() -> None:
    tracks = [
        (
            BASE.format("0ab39e419c9bcb63233168daefe390f232c71343") + "subtitles_en-US.vtt",
            tt.TextTrack("subtitles", "English", "en-US", "upload"),
        ),
        (
            BASE.format("95b62d1b762700b9d5366a9e71d5fcc5086f2723") + "captions_pt-BR.vtt",
            tt.TextTrack("captions", "Portuguese", "pt-BR", "live"),
        ),
    ]
    assert tt.text_tracks_json(tracks) == example("getRecordingTextTracks-success.json")
    assert [t.filename for _href, t in tracks] == ["subtitles_en-US.vtt", "captions_pt-BR.vtt"]


def test_failure_examples() -> None:
    assert tt.text_tracks_failed_json("noRecordings", RECORD_ID) == example(
        "getRecordingTextTracks-noRecordings.json"
    )
    assert tt.text_tracks_failed_json("noCaptionsFound", RECORD_ID) == example(
        "getRecordingTextTracks-noCaptionsFound.json"
    )
    assert tt.put_result_json(RECORD_ID, True) == example("putRecordingTextTrack-success.json")
    assert tt.put_result_json(RECORD_ID, False) == example("putRecordingTextTrack-failed.json")
    assert tt.put_error_json(*tt.MISSING_CHECKSUM) == example(
        "putRecordingTextTrack-missing-checksum.json"
    )
    assert tt.put_error_json(*tt.no_recording(RECORD_ID)) == example(
        "putRecordingTextTrack-noRecordings.json"
    )
    assert tt.put_error_json(*tt.invalid_kind("chapters")) == example(
        "putRecordingTextTrack-invalidKind.json"
    )
    assert tt.put_error_json(*tt.invalid_lang("en_US_x_")) == example(
        "putRecordingTextTrack-invalidLang.json"
    )
    assert tt.put_error_json(*tt.EMPTY_TRACK) == example("putRecordingTextTrack-empty.json")
