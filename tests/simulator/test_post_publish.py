"""The simulator's post-publish push (contract C2) to a real loopback receiver: the request,
its checksum and archive, retries, and deleting the local copy only on a confirmed import."""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import pytest

from bbbfleet.protocol.checksum import ChecksumResult, verify
from bbbfleet.protocol.recording_push import PUSH_CALL, PUSH_PATH, parse_push_answer
from bbbfleet.simulator import ManualClock, SimulatedFleet
from bbbfleet.simulator.push import drain
from tests.conftest import example
from tests.simulator.conftest import Bbb
from tests.simulator.receiver import Received, Receiver, running_receiver
from tests.simulator.test_recordings import FREDS_ROOM, recorded_id


def imported(record_id: str, sha256: str, flag: str = "true") -> str:
    return (
        f"<response><returncode>SUCCESS</returncode><recordID>{record_id}</recordID>"
        f"<imported>{flag}</imported><sha256>{sha256}</sha256></response>"
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as receiver:
        yield receiver


async def configure(bbb: Bbb, receiver: Receiver, **extra: object) -> None:
    body = {"url": f"{receiver.base_url}{PUSH_PATH}", "serverName": "bbb-1", **extra}
    answer = await bbb.control("POST", "post-publish", body)
    assert answer.status_code == 200, answer.text
    bbb.host.state.delivery_backoff_seconds = 0.01


def params_of(request: Received) -> dict[str, str]:
    return dict(parse_qsl(request.raw_query.decode()))


async def test_a_published_recording_is_pushed(
    bbb: Bbb, clock: ManualClock, receiver: Receiver
) -> None:
    await configure(bbb, receiver)
    record_id = await recorded_id(bbb, clock)
    (request,) = await receiver.wait_for(1)
    assert request.method == "POST" and request.path == PUSH_PATH
    assert request.headers["content-type"] == "application/x-tar"
    params = params_of(request)
    digest = hashlib.sha256(request.body).hexdigest()
    assert params == {
        "server": "bbb-1",
        "recordID": record_id,
        "size": str(len(request.body)),
        "sha256": digest,
        "checksum": params["checksum"],
    }
    assert len(params["checksum"]) == 64  # sha256
    result, _secret = verify(PUSH_CALL, request.raw_query, [bbb.host.secret], "sha256")
    assert result is ChecksumResult.VALID
    assert request.body == bbb.host.state.recording_archive(record_id)
    with tarfile.open(fileobj=io.BytesIO(request.body)) as tar:
        assert f"presentation/{record_id}/metadata.xml" in tar.getnames()
        assert f"video/{record_id}/metadata.xml" in tar.getnames()
    # the receiver answered "ok", no XML: nothing is deleted, the push counts as failed
    await drain()
    assert bbb.host.state.recordings[record_id].push_status == "failed"
    assert (await bbb.call("getRecordings", recordID=record_id)).text.count("<recording>") == 1


async def test_delete_after_a_confirmed_import(
    bbb: Bbb, clock: ManualClock, receiver: Receiver
) -> None:
    await configure(bbb, receiver, deleteAfterImport=True)
    await bbb.create(FREDS_ROOM, record="true")
    await bbb.enter(FREDS_ROOM, role="viewer")
    await bbb.call("end", meetingID=FREDS_ROOM)
    (recording,) = bbb.host.state.recordings.values()
    record_id = recording.record_id
    clock.advance(10)
    archive = bbb.host.state.recording_archive(record_id)
    assert archive is not None
    receiver.answer((200, imported(record_id, hashlib.sha256(archive).hexdigest())))
    await bbb.call("getRecordings", recordID=record_id)  # the server notices it is published
    await receiver.wait_for(1)
    await drain()
    assert recording.push_status == "imported" and not recording.local_files
    # BBB lists a recording from its metadata.xml: with the files gone it is gone
    listing = await bbb.call("getRecordings", recordID=record_id, state="any")
    assert listing.text == example("getRecordings-noRecordings.xml")
    assert (
        await bbb.http.get(f"{bbb.host.base_url}/playback/video/{record_id}/")
    ).status_code == 404
    player = f"{bbb.host.base_url}/playback/presentation/2.3/{record_id}"
    assert (await bbb.http.get(player)).status_code == 404
    unpublish = await bbb.call("publishRecordings", recordID=record_id, publish="false")
    assert "<messageKey>notFound</messageKey>" in unpublish.text


@pytest.mark.parametrize(
    "answer",
    [
        "imported-other-sha",
        "not-imported",
        "failed",
    ],
)
async def test_no_delete_without_confirmation(
    bbb: Bbb, clock: ManualClock, receiver: Receiver, answer: str
) -> None:
    await configure(bbb, receiver, deleteAfterImport=True)
    record_id = "unknown"
    receiver.answer(
        (
            200,
            {
                "imported-other-sha": imported(record_id, "0" * 64),
                "not-imported": imported(record_id, "0" * 64, "false"),
                "failed": "<response><returncode>FAILED</returncode>"
                "<messageKey>archiveMismatch</messageKey><message>x</message></response>",
            }[answer],
        )
    )
    record_id = await recorded_id(bbb, clock)
    await receiver.wait_for(1)
    await drain()
    recording = bbb.host.state.recordings[record_id]
    assert recording.local_files
    assert (
        recording.push_status
        == {
            "imported-other-sha": "indexed",
            "not-imported": "indexed",
            "failed": "failed: archiveMismatch",
        }[answer]
    )
    assert len(receiver.requests) == 1  # an answer is final, even a FAILED one


async def test_server_errors_are_retried_with_a_bound(
    bbb: Bbb, clock: ManualClock, receiver: Receiver
) -> None:
    await configure(bbb, receiver)
    receiver.answer((503, "busy"), (500, "oops"), (200, imported("x", "y")))
    await recorded_id(bbb, clock)
    await receiver.wait_for(3)
    await drain()
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1
    receiver.requests.clear()
    receiver.answer((502, "down"))
    (recording,) = bbb.host.state.recordings.values()
    assert bbb.host.state.push_recording(recording.record_id)
    await bbb.control("GET", "state")  # any request sends what is due
    await drain()
    assert len(receiver.requests) == bbb.host.state.delivery_attempts
    assert recording.push_status == "failed"


async def test_connection_errors_are_retried(bbb: Bbb, clock: ManualClock) -> None:
    async with running_receiver() as gone:
        url = f"{gone.base_url}{PUSH_PATH}"
    await bbb.control("POST", "post-publish", {"url": url})
    bbb.host.state.delivery_backoff_seconds = 0.01
    record_id = await recorded_id(bbb, clock)
    await drain()
    attempts = [d for d in bbb.host.state.deliveries if d["kind"] == "push"]
    assert [d["status"] for d in attempts] == [None] * bbb.host.state.delivery_attempts
    assert bbb.host.state.recordings[record_id].push_status == "failed"


async def test_a_slow_gateway_never_blocks_the_api(
    bbb: Bbb, clock: ManualClock, receiver: Receiver
) -> None:
    await configure(bbb, receiver)
    receiver.answer((200, imported("x", "y"), 1.5))
    record_id = await recorded_id(bbb, clock)
    await receiver.wait_for(1)
    started = time.monotonic()
    response = await bbb.call("getRecordings", recordID=record_id)
    assert time.monotonic() - started < 0.5
    assert "<recording>" in response.text
    await drain()


async def test_index_only_push_and_control_errors(
    bbb: Bbb, clock: ManualClock, receiver: Receiver
) -> None:
    record_id = await recorded_id(bbb, clock)  # no push configured: nothing sent
    assert receiver.requests == []
    assert (await bbb.control("POST", f"recordings/{record_id}/push")).status_code == 400
    await configure(bbb, receiver)
    pushed = await bbb.control("POST", f"recordings/{record_id}/push", {"indexOnly": True})
    assert pushed.status_code == 200
    (request,) = await receiver.wait_for(1)
    assert request.body == b""
    assert params_of(request)["size"] == "0" and "sha256" not in params_of(request)
    assert (await bbb.control("POST", "recordings/nope/push")).status_code == 404
    for bad in ({"url": "ftp://x"}, {"serverName": ""}, {"deleteAfterImport": "yes"}):
        assert (await bbb.control("POST", "post-publish", bad)).status_code == 400
    settings = (await bbb.control("GET", "post-publish")).json()
    assert settings == {
        "url": f"{receiver.base_url}{PUSH_PATH}",
        "serverName": "bbb-1",
        "deleteAfterImport": False,
    }
    deleted = await bbb.control("DELETE", f"recordings/{record_id}/files")
    assert deleted.status_code == 200
    assert (await bbb.control("DELETE", f"recordings/{record_id}/files")).status_code == 404
    await drain()


async def test_fleet_kwargs_configure_every_server(receiver: Receiver) -> None:
    url = f"{receiver.base_url}{PUSH_PATH}"
    fleet = SimulatedFleet(
        2, 0, post_publish_url=url, server_names=["a", "b"], delete_after_import=True
    )
    states = [host.state for host in fleet.servers]
    assert [(s.post_publish_url, s.server_name, s.delete_after_import) for s in states] == [
        (url, "a", True),
        (url, "b", True),
    ]
    assert SimulatedFleet(1, 0).servers[0].state.server_name == "sim-0"
    with pytest.raises(ValueError, match="server names"):
        SimulatedFleet(2, 0, server_names=["a"])


def test_parse_push_answer() -> None:
    answer = parse_push_answer(imported("r", "abc"))
    assert answer is not None and answer.confirms("abc") and not answer.confirms("abd")
    assert parse_push_answer("not xml") is None
    assert parse_push_answer("<other/>") is None
