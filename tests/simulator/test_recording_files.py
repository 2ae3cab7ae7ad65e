"""Published recordings have real files: every path getRecordings and the archive name is served
over HTTP, sizes are the bytes served, and only published recordings are served at all."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
from xml.etree import ElementTree

import httpx

from bbbfleet.protocol.params import ApiParams
from bbbfleet.protocol.recordings import RecordingQuery
from bbbfleet.simulator import (
    CreateSpec,
    JoinSpec,
    LoopbackListener,
    ManualClock,
    SimulatedServer,
    create_multi_app,
)
from tests.simulator.conftest import Bbb
from tests.simulator.test_recordings import FREDS_ROOM, recorded_id

FORMAT_URL = {"presentation": "{base}/presentation/{id}/", "video": "{base}/playback/video/{id}/"}


def sizes_of(xml: str) -> dict[str, int]:
    """format type -> <size> of that format, from a getRecordings answer."""
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"<format><type>(\w+)</type>.*?<size>(\d+)</size>", xml)
    }


def archive_members(bbb: Bbb, record_id: str) -> dict[str, bytes]:
    archive = bbb.host.state.recording_archive(record_id)
    assert archive is not None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = tar.getmembers()
        assert all(m.isfile() or m.isdir() for m in members)
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in members
            if m.isfile()
        }


async def test_every_file_is_served_and_sizes_are_the_bytes_served(
    bbb: Bbb, clock: ManualClock
) -> None:
    record_id = await recorded_id(bbb, clock)
    listing = await bbb.call("getRecordings", recordID=record_id)
    sizes = sizes_of(listing.text)
    assert set(sizes) == {"presentation", "video"}
    served: dict[str, int] = {"presentation": 0, "video": 0}
    members = archive_members(bbb, record_id)
    for name, data in members.items():
        fmt, rid, relative = name.split("/", 2)
        assert rid == record_id
        url = FORMAT_URL[fmt].format(base=bbb.host.base_url, id=record_id) + relative
        response = await bbb.http.get(url)
        assert response.status_code == 200, url
        assert response.content == data, url
        served[fmt] += len(response.content)
    assert served == sizes
    total = re.search(r"</breakoutRooms>|</metadata><size>(\d+)</size>", listing.text)
    assert total is not None and int(total.group(1)) == sum(sizes.values())
    # what BBB's playback needs is there
    for needed in ("metadata.xml", "shapes.svg", "panzooms.xml", "cursor.xml", "captions.json"):
        assert f"presentation/{record_id}/{needed}" in members
    assert f"presentation/{record_id}/video/webcams.webm" in members
    for needed in ("index.html", "video-0.m4v", "metadata.xml", "video.xml"):
        assert f"video/{record_id}/{needed}" in members


async def test_urls_in_get_recordings_answer(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    listing = (await bbb.call("getRecordings", recordID=record_id)).text
    urls = re.findall(r"<url>([^<]+)</url>", listing) + re.findall(r">(http[^<]+\.png)<", listing)
    assert len(urls) == 5  # player, video directory, three thumbnails
    for url in urls:
        response = await bbb.http.get(url)
        assert response.status_code == 200, url
    thumb = await bbb.http.get(urls[-1])
    assert thumb.headers["content-type"] == "image/png"
    assert thumb.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert thumb.content[16:24] == (176).to_bytes(4, "big") + (136).to_bytes(4, "big")
    video = await bbb.http.get(f"{bbb.host.base_url}/playback/video/{record_id}/")
    assert "video-0.m4v" in video.text and video.headers["content-type"].startswith("text/html")
    metadata = await bbb.http.get(f"{bbb.host.base_url}/presentation/{record_id}/metadata.xml")
    assert f"<link>{bbb.host.base_url}/playback/presentation/2.3/{record_id}</link>" in (
        metadata.text
    )
    assert "<state>published</state>" in metadata.text


async def served(bbb: Bbb, record_id: str) -> list[int]:
    base = bbb.host.base_url
    paths = [
        f"/playback/presentation/2.3/{record_id}",
        f"/presentation/{record_id}/metadata.xml",
        f"/playback/video/{record_id}/",
        f"/playback/video/{record_id}/video-0.m4v",
    ]
    return [(await bbb.http.get(base + path)).status_code for path in paths]


async def test_only_published_recordings_are_served(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    assert await served(bbb, record_id) == [200] * 4
    await bbb.call("publishRecordings", recordID=record_id, publish="false")
    assert await served(bbb, record_id) == [404] * 4
    await bbb.call("publishRecordings", recordID=record_id, publish="true")
    assert await served(bbb, record_id) == [200] * 4
    await bbb.call("deleteRecordings", recordID=record_id)
    assert await served(bbb, record_id) == [404] * 4
    assert await served(bbb, "unknown-1234") == [404] * 4


async def test_processing_recordings_are_not_served(bbb: Bbb, clock: ManualClock) -> None:
    await bbb.create(FREDS_ROOM, record="true")
    await bbb.enter(FREDS_ROOM, role="viewer")
    await bbb.call("end", meetingID=FREDS_ROOM)
    (recording,) = bbb.host.state.recordings.values()
    assert await served(bbb, recording.record_id) == [404] * 4
    assert bbb.host.state.recording_archive(recording.record_id) is None


async def test_paths_outside_the_tree_are_not_found(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    base = bbb.host.base_url
    for path in (
        f"/presentation/{record_id}/%2e%2e/{record_id}/metadata.xml",
        f"/presentation/{record_id}/presentation/..%2f..%2fmetadata.xml",
        f"/presentation/{record_id}//metadata.xml",
        f"/presentation/{record_id}/nothing.xml",
        f"/presentation/..%2f{record_id}/metadata.xml",
        f"/playback/video/{record_id}/%2e%2e%2f%2e%2e%2fetc/passwd",
    ):
        response = await bbb.http.send(httpx.Request("GET", httpx.URL(base + path)))
        assert response.status_code == 404, path


async def test_sizes_follow_metadata_updates(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    before = sizes_of((await bbb.call("getRecordings", recordID=record_id)).text)
    await bbb.call("updateRecordings", ("meta_course", "A long course name"), recordID=record_id)
    after = sizes_of((await bbb.call("getRecordings", recordID=record_id)).text)
    assert after["presentation"] > before["presentation"]
    metadata = await bbb.http.get(f"{bbb.host.base_url}/presentation/{record_id}/metadata.xml")
    assert "<course>A long course name</course>" in metadata.text
    members = archive_members(bbb, record_id)
    presentation = sum(len(d) for n, d in members.items() if n.startswith("presentation/"))
    assert presentation == after["presentation"]


async def test_the_archive_is_deterministic_and_complete(bbb: Bbb, clock: ManualClock) -> None:
    record_id = await recorded_id(bbb, clock)
    state = bbb.host.state
    first, second = state.recording_archive(record_id), state.recording_archive(record_id)
    assert first is not None and first == second
    compressed = state.recording_archive(record_id, compress=True)
    assert compressed is not None and gzip.decompress(compressed) == first
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        names = tar.getnames()
        assert all(m.uid == 0 and m.gid == 0 for m in tar.getmembers())
    assert names[:2] == [f"presentation/{record_id}", f"presentation/{record_id}/captions.json"]
    assert all(n.startswith((f"presentation/{record_id}", f"video/{record_id}")) for n in names)
    assert {f"presentation/{record_id}/metadata.xml", f"video/{record_id}/metadata.xml"} <= set(
        names
    )
    assert not any(".." in n.split("/") or n.startswith("/") for n in names)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second or b"").hexdigest()


async def test_metadata_xml_is_well_formed_and_complete(bbb: Bbb, clock: ManualClock) -> None:
    name = 'A & B\'s <room> "x"'
    await bbb.create("odd-room", name=name, record="true", **{"meta_bbb-context": "<&>"})
    await bbb.enter("odd-room", role="viewer")
    clock.advance(125)
    await bbb.call("end", meetingID="odd-room")
    clock.advance(10)
    (recording,) = bbb.host.state.recordings.values()
    record_id = recording.record_id
    base = bbb.host.base_url
    for url in (
        f"{base}/presentation/{record_id}/metadata.xml",
        f"{base}/playback/video/{record_id}/metadata.xml",
    ):
        root = ElementTree.fromstring((await bbb.http.get(url)).content)
        assert root.findtext("id") == record_id
        assert root.findtext("state") == "published" and root.findtext("published") == "true"
        meeting = root.find("meeting")
        assert meeting is not None and meeting.get("name") == name
        assert meeting.get("externalId") == "odd-room"
        assert root.findtext("meta/bbb-context") == "<&>"
        assert root.findtext("meta/meetingName") == name
        assert root.findtext("playback/duration") == "125000"
        assert int(root.findtext("raw_size") or 0) > int(root.findtext("playback/size") or 0)
    presentation = ElementTree.fromstring(
        (await bbb.http.get(f"{base}/presentation/{record_id}/metadata.xml")).content
    )
    images = presentation.findall("playback/extensions/preview/images/image")
    assert [(i.get("width"), i.get("height")) for i in images] == [("176", "136")] * 3
    assert presentation.findtext("playback/format") == "presentation"
    listing = await bbb.call("getRecordings", recordID=record_id)
    assert "<name>A &amp; B's &lt;room&gt; &quot;x&quot;</name>" in listing.text


async def test_playback_under_a_multi_server_app(http: httpx.AsyncClient) -> None:
    clock = ManualClock()
    servers = [SimulatedServer(f"s{i}", name=f"sim-{i}", clock=clock) for i in range(2)]
    listener = LoopbackListener(create_multi_app(servers))
    await listener.start()
    try:
        for index, server in enumerate(servers):
            server.server_url = f"{listener.base_url}/{index}"
        server = servers[1]
        meeting = server.create_meeting(
            CreateSpec.from_params(
                ApiParams({"meetingID": "m", "name": "M", "record": "true"}), server.properties
            )
        ).meeting
        user = server.join(
            meeting, JoinSpec.from_params(ApiParams({"fullName": "A", "role": "viewer"}))
        )
        server.attend(user.session_token)
        server.end_meeting(meeting)
        clock.advance(10)
        (recording,) = server.find_recordings(RecordingQuery())
        (presentation, video) = recording.snapshot().playback
        assert presentation.url.startswith(f"{listener.base_url}/1/playback/presentation/2.3/")
        for url in (presentation.url, video.url, presentation.preview[0].url):
            assert (await http.get(url)).status_code == 200, url
        elsewhere = presentation.url.replace(f"{listener.base_url}/1/", f"{listener.base_url}/0/")
        assert (await http.get(elsewhere)).status_code == 404
    finally:
        await listener.stop()
