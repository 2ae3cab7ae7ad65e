"""insertDocument on the simulator, byte for byte like the reference examples (§5.21)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest

from bbbfleet.protocol.checksum import sign_query
from bbbfleet.simulator import SimulatedFleet
from tests.conftest import example

SLIDES = (
    b'<modules><module name="presentation"><document url="https://x.example/a.pdf" '
    b'filename="a.pdf"/></module></modules>'
)


@pytest.fixture
async def sim() -> AsyncIterator[tuple[str, str, SimulatedFleet]]:
    async with SimulatedFleet(1, 0) as fleet:
        yield fleet.servers[0].url, fleet.servers[0].secret, fleet


def url(base: str, secret: str, call: str, query: str) -> str:
    return f"{base}{call}?{sign_query(call, query, secret)}"


async def test_insert_document_answers(sim: tuple[str, str, SimulatedFleet]) -> None:
    base, secret, fleet = sim
    async with httpx.AsyncClient() as client:
        await client.get(url(base, secret, "create", "name=Room&meetingID=room"))
        await client.get(
            url(
                base,
                secret,
                "create",
                "name=Plain&meetingID=plain&disabledFeatures=chat,presentation",
            )
        )
        xml_type = {"Content-Type": "application/xml"}
        ok = await client.post(
            url(base, secret, "insertDocument", "meetingID=room"), content=SLIDES, headers=xml_type
        )
        assert ok.text == example("insertDocument-success.xml")
        (meeting,) = [m for m in fleet.servers[0].state.meetings.values() if m.meeting_id == "room"]
        assert meeting.documents == [SLIDES]
        missing = await client.post(
            url(base, secret, "insertDocument", f"meetingID={quote('unknown-room')}"),
            content=SLIDES,
            headers=xml_type,
        )
        assert missing.text == example("insertDocument-meeting-not-found.xml")
        disabled = await client.post(
            url(base, secret, "insertDocument", "meetingID=plain"), content=SLIDES, headers=xml_type
        )
        assert disabled.text == example("insertDocument-presentation-disabled.xml")
        no_module = await client.post(
            url(base, secret, "insertDocument", "meetingID=room"),
            content=b"<modules/>",
            headers=xml_type,
        )
        assert no_module.status_code == 200 and no_module.text == ""
        form = await client.post(
            url(base, secret, "insertDocument", "meetingID=room"),
            content=b"a=b",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert "<messageKey>unsupportedContentType</messageKey>" in form.text
        get = await client.get(url(base, secret, "insertDocument", "meetingID=room"))
        assert get.status_code == 405
