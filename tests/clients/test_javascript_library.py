"""The gateway driven by bigbluebutton-js 0.2.0 from npm (js/drive.mjs), run by the real Node.

bigbluebutton-js signs ``querystring.encode(params)``: space ``%20`` while ``'``, ``~``, ``(``,
``)``, ``*`` and ``!`` stay literal, a query shape none of the Python libraries sends.  Its XML
parser (fast-xml-parser 3) does not decode entities and turns numeric text into numbers, so what
it hands back is BBB's escaped text, exactly as a BBB server renders it.

The library signs ``'`` literally but Node's URL parser sends it as ``%27`` (WHATWG
special-query percent-encode set), so any value with an apostrophe fails the checksum on a real
BBB server.  The gateway must fail it the same way, and accept the library's URL when it is sent
byte for byte.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import (
    ALPHA_SECRET,
    FULL_NAME,
    META,
    NAME,
    Gateway,
    assert_checksum_error,
    assert_join_checksum_error,
    bbb_escape,
    flip_escape_case,
    meeting_info,
    stored_meeting,
    tamper,
)

CLIENTS = Path(__file__).resolve().parent
DRIVER = CLIENTS / "js" / "drive.mjs"
LIBRARY = CLIENTS / "node_modules" / "bigbluebutton-js"


def no_apostrophe(text: str) -> str:
    return text.replace("'", "")


SPEC = {
    "meetingID": "js-room ~ Zoë",
    "name": no_apostrophe(NAME),
    "attendeePW": "ap",
    "moderatorPW": "mp",
    "fullName": no_apostrophe(FULL_NAME),
    "userID": "js-user-1",
    "meta": {key: no_apostrophe(value) for key, value in META.items()},
}
APOSTROPHE_SPEC = {**SPEC, "meetingID": "js-room-apostrophe", "name": NAME, "meta": META}


async def run_driver(gateway: Gateway, spec: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not LIBRARY.is_dir():
        pytest.skip("tests/clients/node_modules is missing: run `make test` (npm install)")
    # Not subprocess.run: the gateway serves the driver from this very event loop.
    process = await asyncio.create_subprocess_exec(
        node,
        str(DRIVER),
        f"{gateway.url}/bigbluebutton/",
        ALPHA_SECRET,
        json.dumps(spec),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode()
    result: dict[str, Any] = json.loads(stdout)
    return result


async def test_bigbluebutton_js(gateway: Gateway) -> None:
    out = await run_driver(gateway, SPEC)
    urls = out["urls"]
    assert all(c in urls["create"] for c in ("%20", "~", "(", "*", "!"))

    assert out["create"]["returncode"] == "SUCCESS"
    assert out["create"]["meetingID"] == SPEC["meetingID"]
    assert out["create"]["messageKey"] == ""

    join = out["join"]
    assert join["status"] == 302
    assert join["clientStatus"] == 200
    assert "sessionToken=" in join["clientUrl"]

    assert out["isMeetingRunning"] == {"returncode": "SUCCESS", "running": True}

    info = out["getMeetingInfo"]
    assert info["returncode"] == "SUCCESS"
    assert info["meetingName"] == bbb_escape(SPEC["name"])
    assert info["meetingID"] == SPEC["meetingID"]
    assert info["metadata"] == {k.lower(): bbb_escape(v) for k, v in SPEC["meta"].items()}
    attendee = info["attendees"]["attendee"]
    assert (attendee["fullName"], attendee["userID"]) == (bbb_escape(SPEC["fullName"]), "js-user-1")

    listed = out["getMeetings"]
    assert listed["returncode"] == "SUCCESS"
    assert [(m["meetingID"], m["meetingName"]) for m in listed["meetings"]] == [
        (SPEC["meetingID"], bbb_escape(SPEC["name"]))
    ]

    assert out["end"]["returncode"] == "SUCCESS"
    assert out["end"]["messageKey"] == "sentEndMeetingRequest"
    assert out["getMeetingInfoAfterEnd"]["messageKey"] == "notFound"
    assert out["isMeetingRunningAfterEnd"]["running"] is False

    # The library's URLs, one character changed after signing.
    for call in ("create", "getMeetingInfo", "end"):
        for bad in (tamper(urls[call]), flip_escape_case(urls[call])):
            assert_checksum_error((await gateway.http.get(bad)).text)
    for bad in (tamper(urls["join"]), flip_escape_case(urls["join"])):
        refused = await gateway.http.get(bad)
        assert_join_checksum_error(refused.status_code, refused.headers.get("location"))


async def test_bigbluebutton_js_apostrophe_fails_like_bbb(gateway: Gateway) -> None:
    out = await run_driver(gateway, APOSTROPHE_SPEC)
    create_url = out["urls"]["create"]
    assert "'" in create_url
    # Node sent %27 where the library had signed "'": BBB's checksumError.
    assert out["create"]["messageKey"] == "checksumError"
    assert out["getMeetingInfo"]["messageKey"] == "notFound"
    # The same URL byte for byte (httpx keeps the "'") is correctly signed and accepted.
    created = await gateway.http.get(create_url)
    assert "<returncode>SUCCESS</returncode>" in created.text, created.text
    stored_meeting(await meeting_info(gateway, APOSTROPHE_SPEC["meetingID"]), NAME, META)
