"""Bad input and failing backends always get a BBB-style FAILED answer: never a 500, never a
traceback, nothing half-done left behind."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from tests.gateway.conftest import ALPHA_SECRET, Gateway, q, signed, start_gateway
from tests.gateway.normalise import normalise

CHECKSUM_ERROR = (
    "<response>\n<returncode>FAILED</returncode>\n<messageKey>checksumError</messageKey>\n"
    "<message>Checksums do not match</message>\n</response>"
)


def key_of(body: str) -> str:
    return body.split("<messageKey>")[1].split("</messageKey>")[0]


async def test_missing_and_wrong_checksums(gateway: Gateway) -> None:
    missing = await gateway.get(f"{gateway.api}getMeetings")
    assert missing.text == CHECKSUM_ERROR
    wrong = await gateway.get(gateway.alpha("getMeetings").replace("checksum=", "checksum=0"))
    assert wrong.text == CHECKSUM_ERROR
    tampered = gateway.alpha("create", q(name="Room", meetingID="m1")).replace("m1", "m2")
    assert (await gateway.get(tampered)).text == CHECKSUM_ERROR
    assert await gateway.store.meetings.all() == []


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
async def test_every_algorithm_and_uppercase_checksums(gateway: Gateway, algorithm: str) -> None:
    url = signed(gateway.api, "getMeetings", "", ALPHA_SECRET, algorithm)
    assert "<returncode>SUCCESS</returncode>" in (await gateway.get(url)).text
    prefix, checksum = url.split("checksum=")
    upper = await gateway.get(prefix + "checksum=" + checksum.upper())
    assert "<returncode>SUCCESS</returncode>" in upper.text


async def test_disallowed_algorithm_is_a_checksum_error(database_url: str) -> None:
    gw = await start_gateway(database_url, checksum_algorithms=["sha256"])
    try:
        sha1 = await gw.get(signed(gw.api, "getMeetings", "", ALPHA_SECRET, "sha1"))
        assert sha1.text == CHECKSUM_ERROR
        sha256 = await gw.get(signed(gw.api, "getMeetings", "", ALPHA_SECRET, "sha256"))
        assert "<returncode>SUCCESS</returncode>" in sha256.text
    finally:
        await stop(gw)


async def test_unknown_calls_and_methods(gateway: Gateway) -> None:
    unknown = await gateway.get(gateway.alpha("noSuchCall"))
    assert unknown.status_code == 404 and key_of(unknown.text) == "unknownCall"
    post_join = await gateway.http.post(gateway.alpha("join", q(fullName="a", meetingID="x")))
    assert post_join.status_code == 405 and key_of(post_join.text) == "methodNotAllowed"


@pytest.mark.parametrize(
    "query",
    [
        q(meetingID="m1"),  # no name
        q(name="a", meetingID="m1"),  # name too short
        q(name="Room", meetingID="a,b"),  # comma
        q(name="Room", meetingID=""),  # empty meetingID
        q(name="Room"),  # no meetingID
        q(name="Room", meetingID=" m1"),  # untrimmed
        q(name="Room", meetingID="m1", attendeePW="x" * 65),
        q(name="Room", meetingID="m1", voiceBridge="12a"),
        q(name="Room", meetingID="m1", record="maybe"),
        q(name="Room", meetingID="x" * 257),
        q(name="R" * 257, meetingID="m1"),
    ],
)
async def test_create_validation_errors_match_bbb(gateway: Gateway, query: str) -> None:
    via_gateway = await gateway.get(gateway.alpha("create", query))
    direct = await gateway.get(gateway.direct(0, "create", query))
    assert "<returncode>FAILED</returncode>" in via_gateway.text
    assert via_gateway.text == direct.text
    assert await gateway.store.meetings.all() == []


async def test_other_calls_validate_like_bbb(gateway: Gateway) -> None:
    for call, query in [
        ("end", q(meetingID="m1", password="x" * 65)),
        ("end", q(meetingID="")),
        ("getMeetingInfo", q(meetingID="a,b")),
        ("getMeetingInfo", q(meetingID="unknown")),
        ("isMeetingRunning", q(meetingID="x" * 300)),
    ]:
        via_gateway = await gateway.get(gateway.alpha(call, query))
        direct = await gateway.get(gateway.direct(0, call, query))
        assert via_gateway.text == direct.text, (call, query)
    no_id = await gateway.get(gateway.alpha("isMeetingRunning"))
    assert key_of(no_id.text) == "missingParamMeetingID"  # BBB itself answers a 500 here


async def test_bytes_that_are_not_utf8(gateway: Gateway) -> None:
    response = await gateway.get(gateway.alpha("create", "name=Caf%E9&meetingID=m1"))
    assert key_of(response.text) == "validationError"
    assert "UTF-8" in response.text
    assert await gateway.store.meetings.all() == []


async def test_body_over_the_limit(database_url: str) -> None:
    gw = await start_gateway(database_url, max_body_bytes=1000)
    try:
        response = await gw.http.post(
            gw.alpha("create", q(name="Room", meetingID="big")),
            content=b"<modules>" + b" " * 2000 + b"</modules>",
            headers={"Content-Type": "application/xml"},
        )
        assert response.status_code == 200 and key_of(response.text) == "requestTooLarge"
        assert await gw.store.meetings.all() == []
    finally:
        await stop(gw)


async def test_unsupported_content_type_like_bbb(gateway: Gateway) -> None:
    query = q(name="Room", meetingID="m1")
    kwargs = {"content": b"hello", "headers": {"Content-Type": "text/plain"}}
    via_gateway = await gateway.http.post(gateway.alpha("create", query), **kwargs)  # type: ignore[arg-type]
    direct = await gateway.http.post(gateway.direct(0, "create", query), **kwargs)  # type: ignore[arg-type]
    assert via_gateway.text == direct.text
    assert key_of(via_gateway.text) == "unsupportedContentType"


async def test_xml_special_characters_and_unicode_are_escaped_like_bbb(gateway: Gateway) -> None:
    name = '<b>Tom & Jerry\'s "Room"</b> Zoë 日本 🎓'
    query = q(name=name, meetingID="spécial&<id>", **{"meta_bbb-context": "A&B <c> 'd' ü"})
    await gateway.get(gateway.alpha("create", query))
    await gateway.get(gateway.direct(0, "create", query))
    via_gateway = await gateway.get(gateway.alpha("getMeetingInfo", q(meetingID="spécial&<id>")))
    direct = await gateway.get(gateway.direct(0, "getMeetingInfo", q(meetingID="spécial&<id>")))
    assert "<meetingID>spécial&amp;&lt;id&gt;</meetingID>" in via_gateway.text
    assert "Tom &amp; Jerry&apos;s &quot;Room&quot;" in via_gateway.text
    assert normalise(via_gateway.text) == normalise(direct.text)


async def test_json_errors_when_the_client_prefers_json(gateway: Gateway) -> None:
    response = await gateway.get(
        f"{gateway.api}getMeetings?checksum=00", headers={"Accept": "application/json"}
    )
    assert json.loads(response.text) == {
        "response": {
            "returncode": "FAILED",
            "messageKey": "checksumError",
            "message": "Checksums do not match",
        }
    }


# --- failing backends ------------------------------------------------------------------------


@pytest.fixture
async def fast_timeout_gateway(database_url: str) -> AsyncIterator[Gateway]:
    gw = await start_gateway(database_url, backend_timeout=0.3)
    try:
        yield gw
    finally:
        await stop(gw)


async def stop(gw: Gateway) -> None:
    await gw.stop()
    await gw.http.aclose()
    await gw.store.close()
    await gw.fleet.stop()


async def test_create_on_a_down_fleet_fails_cleanly_and_recovers(gateway: Gateway) -> None:
    for sim in gateway.fleet.servers:
        await sim.go_down()
    response = await gateway.get(gateway.alpha("create", q(name="Room", meetingID="m1")))
    assert response.status_code == 200 and key_of(response.text) == "serverUnavailable"
    assert await gateway.store.meetings.all() == []  # nothing half-done
    for sim in gateway.fleet.servers:
        await sim.come_up()
    still_unstable = await gateway.get(gateway.alpha("create", q(name="Room", meetingID="m1")))
    assert key_of(still_unstable.text) == "noServerAvailable"  # until polls succeed again
    await gateway.poll(times=2)
    again = await gateway.get(gateway.alpha("create", q(name="Room", meetingID="m1")))
    assert "<returncode>SUCCESS</returncode>" in again.text


@pytest.mark.parametrize(
    ("fault", "expected_key"),
    [
        ({"error": True}, "serverError"),
        ({"garbage": True}, "serverError"),
        ({"slow": 1000}, "serverUnavailable"),
    ],
)
async def test_create_on_a_faulty_fleet(
    fast_timeout_gateway: Gateway, fault: dict[str, object], expected_key: str
) -> None:
    gw = fast_timeout_gateway
    for sim in gw.fleet.servers:
        sim.set_fault(**fault)  # type: ignore[arg-type]
    response = await gw.get(gw.alpha("create", q(name="Room", meetingID="m1")))
    assert response.status_code == 200 and key_of(response.text) == expected_key
    assert await gw.store.meetings.all() == []


async def test_routed_calls_when_the_hosting_server_fails(fast_timeout_gateway: Gateway) -> None:
    gw = fast_timeout_gateway
    await gw.get(gw.alpha("create", q(name="Room", meetingID="m1")))
    (meeting,) = await gw.store.meetings.all()
    host = next(s for s in gw.fleet.servers if s.state.meetings)
    host.set_fault(error=True)
    # the meeting cannot be reached: BBB's truthful answers are "not found" / "not running"
    info = await gw.get(gw.alpha("getMeetingInfo", q(meetingID="m1")))
    assert key_of(info.text) == "notFound"
    running = await gw.get(gw.alpha("isMeetingRunning", q(meetingID="m1")))
    assert "<running>false</running>" in running.text
    end = await gw.get(gw.alpha("end", q(meetingID="m1")))
    assert key_of(end.text) == "serverError"  # it could not be ended: say so
    (server,) = [s for s in await gw.store.servers.list() if s.id == meeting.server_id]
    assert server.health.value == "unstable"  # no new meetings go there now
    assert await gw.store.meetings.all() == [meeting]  # kept: it may come back, or move
    host.clear_faults()
    await gw.poll(times=2)
    info = await gw.get(gw.alpha("getMeetingInfo", q(meetingID="m1")))
    assert "<returncode>SUCCESS</returncode>" in info.text


async def test_get_meetings_survives_a_dead_or_slow_server(fast_timeout_gateway: Gateway) -> None:
    gw = fast_timeout_gateway
    for index in range(3):
        await gw.get(gw.alpha("create", q(name=f"Room {index}", meetingID=f"m{index}")))
    await gw.fleet.servers[0].go_down()
    gw.fleet.servers[1].set_fault(slow=1000)
    listing = await gw.get(gw.alpha("getMeetings"))
    assert listing.status_code == 200
    assert "<returncode>SUCCESS</returncode>" in listing.text
    assert listing.text.count("<meeting>") == 1


async def test_random_garbage_never_gets_a_500(gateway: Gateway) -> None:
    rng = random.Random(7)
    alphabet = "abc=&%+;,'\"<>{}[]~ \t\\/?#é日" + "".join(chr(c) for c in range(0x20))
    calls = ["create", "join", "end", "getMeetingInfo", "isMeetingRunning", "getMeetings", "x"]
    for _ in range(120):
        junk = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        call = rng.choice(calls)
        query = q(name="Room", meetingID=junk, fullName=junk, password=junk, role=junk)
        raw = quote(junk, safe="=&+;,'~/?%[]")  # malformed escapes (a lone %) stay in
        for url in (gateway.alpha(call, query), f"{gateway.api}{call}?{raw}"):
            response = await gateway.http.get(url)
            assert response.status_code in {200, 302, 400, 404, 405}, (url, response.text)
            if response.status_code != 302:
                assert response.text.startswith("<response>"), (url, response.text)
                assert "Traceback" not in response.text
