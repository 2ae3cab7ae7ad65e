"""getRecordingTextTracks and putRecordingTextTrack over HTTP, byte for byte like the examples,
the uploaded tracks appearing after the caption inbox ran, and their files served once per
token."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from bbbfleet.protocol.text_tracks import MalformedLocale, gson, to_locale, to_webvtt
from bbbfleet.simulator import BbbProperties, ManualClock
from tests.conftest import example
from tests.simulator.conftest import Bbb, query
from tests.simulator.test_recordings import recorded_id

EXAMPLE_ID = "ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124"
VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nHello, world.\n"
SRT = b"1\r\n00:00:01,000 --> 00:00:04,000\r\nHello, world.\r\n"
DELAY = BbbProperties().text_track_delay_seconds


def as_example(text: str, record_id: str) -> str:
    return text.replace(record_id, EXAMPLE_ID)


async def put(
    bbb: Bbb,
    record_id: str,
    *,
    kind: str = "subtitles",
    lang: str = "en_US",
    content: bytes | None = VTT,
    **params: str,
) -> httpx.Response:
    pairs = {"recordID": record_id, "kind": kind, "lang": lang, **params}
    files = None if content is None else {"file": ("track.vtt", content, "text/vtt")}
    return await bbb.http.post(
        bbb.url("putRecordingTextTrack", query(**pairs)),
        files=files,
        data={"x": "1"} if files is None else None,
    )


async def tracks(bbb: Bbb, record_id: str) -> httpx.Response:
    return await bbb.call("getRecordingTextTracks", recordID=record_id)


# --- getRecordingTextTracks ---------------------------------------------------------------------


async def test_get_text_tracks_errors(bbb: Bbb, clock: ManualClock) -> None:
    base = bbb.host.url
    # invalid() renders api-error.ftlx: the same body as putRecordingTextTrack's checksum error
    missing = await bbb.http.get(f"{base}getRecordingTextTracks?recordID=x")
    assert missing.text == example("putRecordingTextTrack-checksumError.xml")
    no_id = await bbb.call("getRecordingTextTracks")
    assert no_id.text == example("getRecordingTextTracks-missingParamRecordID.xml")
    wrong = await bbb.http.get(f"{base}getRecordingTextTracks?recordID=x&checksum={'0' * 40}")
    assert wrong.text == example("putRecordingTextTrack-checksumError.xml")
    unknown = await tracks(bbb, EXAMPLE_ID)
    assert unknown.headers["content-type"] == "application/json;charset=utf-8"
    assert unknown.text == example("getRecordingTextTracks-noRecordings.json")
    for hostile in ("../../etc", f"{EXAMPLE_ID}/../x", "%2e%2e"):
        response = await tracks(bbb, hostile)
        assert json.loads(response.text)["response"]["messageKey"] == "noRecordings"


async def test_a_published_recording_has_no_tracks_yet(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    response = await tracks(bbb, record_id)
    assert response.text == '{"response":{"returncode":"SUCCESS","tracks":[]}}'


async def test_put_then_list_then_fetch_once(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    uploaded = await put(bbb, record_id)
    assert uploaded.headers["content-type"] == "application/json;charset=utf-8"
    assert as_example(uploaded.text, record_id) == example("putRecordingTextTrack-success.json")
    # the caption inbox has not run yet
    assert json.loads((await tracks(bbb, record_id)).text)["response"]["tracks"] == []
    clock.advance(DELAY)
    await put(bbb, record_id, kind="captions", lang="pt-BR", content=SRT, label="Portugu\u00eas")
    clock.advance(DELAY)
    listed = await tracks(bbb, record_id)
    hrefs = re.findall(r'"href":"([^"]+)"', listed.text)
    normalised = re.sub(r"textTrack/[0-9a-f]{40}/", "textTrack/{token}/", listed.text)
    assert normalised == (
        '{"response":{"returncode":"SUCCESS","tracks":['
        f'{{"href":"{bbb.host.base_url}/bigbluebutton/textTrack/{{token}}/{record_id}/'
        'subtitles_en-US.vtt","kind":"subtitles","label":"English","lang":"en-US",'
        '"source":"upload"},'
        f'{{"href":"{bbb.host.base_url}/bigbluebutton/textTrack/{{token}}/{record_id}/'
        'captions_pt-BR.vtt","kind":"captions","label":"Português","lang":"pt-BR",'
        '"source":"upload"}]}}'
    )
    first = await bbb.http.get(hrefs[0])
    assert first.status_code == 200 and first.content == VTT
    assert first.headers["content-type"].startswith("text/vtt")
    again = await bbb.http.get(hrefs[0])
    assert again.status_code == 401  # single-use token
    converted = await bbb.http.get(hrefs[1])
    assert converted.content == b"WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nHello, world.\n"
    # a token is for its own file only
    token = hrefs[1].split("/")[-3]
    other = hrefs[1].replace("captions_pt-BR.vtt", "subtitles_en-US.vtt")
    assert (await bbb.http.get(other)).status_code == 401
    assert token not in bbb.host.state.text_tracks.tokens


async def test_a_new_upload_replaces_the_same_kind_and_language(
    bbb: Bbb, clock: ManualClock
) -> None:
    record_id = await recorded_id(bbb, clock)
    await put(bbb, record_id, lang="en", label="First")
    await put(bbb, record_id, lang="en", label="Second")
    await put(bbb, record_id, lang="en", kind="captions", content=b"\xff\xfe not text")
    clock.advance(DELAY)
    found = json.loads((await tracks(bbb, record_id)).text)["response"]["tracks"]
    # the unreadable upload was dropped by the inbox, as ffmpeg would refuse it
    assert [(t["kind"], t["lang"], t["label"]) for t in found] == [("subtitles", "en", "Second")]


# --- putRecordingTextTrack errors ---------------------------------------------------------------


async def test_put_errors_in_bbb_order(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    url = f"{bbb.host.url}putRecordingTextTrack"
    files = {"file": ("t.vtt", VTT, "text/vtt")}
    no_checksum = await bbb.http.post(f"{url}?recordID={record_id}", files=files)
    assert no_checksum.text == example("putRecordingTextTrack-missing-checksum.json")
    no_id = await bbb.http.post(f"{url}?checksum={'0' * 40}", files=files)
    assert json.loads(no_id.text)["response"]["message"] == "Missing param recordID."
    bad = await bbb.http.post(f"{url}?recordID={record_id}&checksum={'0' * 40}", files=files)
    assert bad.text == example("putRecordingTextTrack-checksumError.xml")
    unknown = await put(bbb, EXAMPLE_ID)
    assert unknown.text == example("putRecordingTextTrack-noRecordings.json")
    kind = await put(bbb, record_id, kind="chapters")
    assert kind.text == example("putRecordingTextTrack-invalidKind.json")
    lang = await put(bbb, record_id, lang="en_US_x_")
    assert lang.text == example("putRecordingTextTrack-invalidLang.json")
    empty = await put(bbb, record_id, content=b"")
    assert empty.text == example("putRecordingTextTrack-empty.json")
    no_file = await put(bbb, record_id, content=None)
    assert no_file.text == example("putRecordingTextTrack-empty.json")
    for name, value in (("kind", ""), ("lang", "")):
        missing = await put(bbb, record_id, **{name: value})  # type: ignore[arg-type]
        assert json.loads(missing.text)["response"] == {
            "returncode": "FAILED",
            "messageKey": "paramError",
            "message": f"Missing param {name}.",
        }


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("kind", "../../captions", "invalidKind"),
        ("lang", "../../../etc/passwd", "invalidLang"),
        ("lang", "en/../../x", "invalidLang"),
        ("lang", "en_US/..", "invalidLang"),
        ("recordID", "../presentation", "noRecordings"),
        ("lang", "en__../../x", "upload_text_track_success"),  # Java drops that variant
    ],
)
async def test_traversal_is_refused(
    bbb: Bbb, clock: ManualClock, field: str, value: str, key: str
) -> None:
    record_id = await recorded_id(bbb, clock)
    params = {"recordID": record_id, "kind": "subtitles", "lang": "en", field: value}
    response = await bbb.http.post(
        bbb.url("putRecordingTextTrack", query(**params)),
        files={"file": ("t.vtt", VTT, "text/vtt")},
    )
    assert json.loads(response.text)["response"]["messageKey"] == key
    clock.advance(DELAY)
    bbb.host.state.expire()
    stored = bbb.host.state.text_tracks.captions.get(record_id, [])
    assert [t.filename for t in stored] == (
        ["subtitles_en.vtt"] if key.startswith("upload") else []
    )


async def test_unpublished_recordings_take_tracks_deleted_ones_do_not(
    bbb: Bbb, clock: ManualClock
) -> None:
    record_id = await recorded_id(bbb, clock)
    await bbb.call("publishRecordings", recordID=record_id, publish="false")
    assert "upload_text_track_success" in (await put(bbb, record_id)).text
    await bbb.call("deleteRecordings", recordID=record_id)
    assert "noRecordings" in (await put(bbb, record_id)).text


async def test_bad_multipart_and_oversized_uploads(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    url = bbb.url("putRecordingTextTrack", query(recordID=record_id, kind="captions", lang="en"))
    broken = await bbb.http.post(
        url,
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nno end',
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert broken.status_code == 200
    assert broken.text == example("putRecordingTextTrack-empty.json")
    no_boundary = await bbb.http.post(
        url, content=b"garbage", headers={"Content-Type": "multipart/form-data"}
    )
    assert no_boundary.status_code == 200 and "empty_uploaded_text_track" in no_boundary.text
    limit = bbb.host.state.properties.text_track_max_bytes
    huge = await bbb.http.post(url, files={"file": ("t.vtt", b"x" * (limit + 1), "text/vtt")})
    assert json.loads(huge.text)["response"]["messageKey"] == "requestTooLarge"
    assert (await bbb.http.get(url)).status_code == 405  # POST only


async def test_text_track_urls_need_a_token(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    base = f"{bbb.host.base_url}/bigbluebutton/textTrack"
    for path in (
        f"{'0' * 40}/{record_id}/subtitles_en.vtt",
        f"{'0' * 40}/{record_id}/..%2f..%2fmetadata.xml",
    ):
        response = await bbb.http.send(httpx.Request("GET", httpx.URL(f"{base}/{path}")))
        assert response.status_code in (401, 404)
        assert response.status_code == 401 or "vtt" not in path


# --- the pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag", "label"),
    [
        ("en", "en", "English"),
        ("en_US", "en-US", "English"),
        ("pt-BR", "pt-BR", "Portuguese"),
        ("de__POSIX", "de-POSIX", "German"),
        ("fil", "fil", "Filipino"),
        ("es_419", "es-419", "Spanish"),
        ("xx", "xx", "xx"),
        ("_GB", "und-GB", ""),
        ("EN_419", "en-419", "English"),
        ("en__../../x", "en", "English"),
        ("en_US_x", "en-US-x-lvariant-x", "English"),
        ("-GB-scouse", "und-GB-scouse", ""),
    ],
)
def test_locales_like_commons_lang3(text: str, tag: str, label: str) -> None:
    locale = to_locale(text)
    assert (locale.language_tag(), locale.display_language()) == (tag, label)


@pytest.mark.parametrize(
    "text", ["e", "EN", "en_us", "en_US_x_", "en-US_x", "en#x", "1234", "__POSIX", "_gb", "_GB-x"]
)
def test_malformed_locales(text: str) -> None:
    with pytest.raises(MalformedLocale):
        to_locale(text)


def test_gson_escapes_html_characters() -> None:
    assert (
        gson({"a": "<b> & 'c' = d"}) == '{"a":"\\u003cb\\u003e \\u0026 \\u0027c\\u0027 \\u003d d"}'
    )


def test_webvtt_conversion() -> None:
    assert to_webvtt(VTT) == VTT
    assert to_webvtt(b"no cues here") is None
    assert to_webvtt(b"\xff\xfe") is None


async def test_captions_directory_lifetime(bbb: Bbb, clock: ManualClock) -> None:
    """No captions directory while processing; it outlives deletion of the recording."""
    await bbb.create("captions-room", record="true")
    await bbb.enter("captions-room", role="viewer")
    await bbb.call("end", meetingID="captions-room")
    (recording,) = bbb.host.state.recordings.values()
    record_id = recording.record_id
    processing = await tracks(bbb, record_id)
    assert json.loads(processing.text)["response"]["messageKey"] == "noRecordings"
    clock.advance(BbbProperties().recording_delay_seconds)
    assert "upload_text_track_success" in (await put(bbb, record_id)).text
    await bbb.call("deleteRecordings", recordID=record_id)
    clock.advance(DELAY)
    listed = json.loads((await tracks(bbb, record_id)).text)["response"]
    assert [t["lang"] for t in listed["tracks"]] == ["en-US"]
