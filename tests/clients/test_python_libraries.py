"""The gateway driven by BBB client libraries from PyPI, as an LMS or portal would use them.

Each library builds and signs its own URLs and parses the answers itself; the assertions are on what
the library hands back.  The libraries block (urllib, requests), and the gateway runs on this
test's event loop, so every library call goes through a thread (``in_thread``).

* bigbluebutton-api-python 0.0.11: ``quote_plus`` (space ``+``, ``'`` ``%27``, ``~`` literal),
  parameters in the caller's order, urllib + jxmlease.
* bigbluebutton2 0.1a10 (AlekSIS, InfraBlue): ``urlencode`` of every meeting attribute (so create
  also carries ``createTime=0``, ``running=false`` …), ``getMeetings?&checksum=…`` with an empty
  leading parameter, ``createTime`` on join; requests + xmltodict.
* bbb-client 0.3.1: ``urlencode``, ``getMeetings?&checksum=…``, join by ``role`` without a
  password, ``disabledFeatures``; requests + untangle, and insists on a ``text/xml`` answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest
from bbb_client.domain.meeting_management.model import Bbb, Features, MeetingDoesNotExist
from bigbluebutton.api import Attendee, BigBlueButtonGroup, Role
from bigbluebutton_api_python import BigBlueButton
from bigbluebutton_api_python.exception import BBBException

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
    wait_until_ended,
)

STORED_META = {key.lower(): value for key, value in META.items()}
T = TypeVar("T")


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A blocking library call, off the loop that serves the gateway, bounded in time.

    Some of these libraries set no timeout; a gateway that never answers fails the test instead of
    hanging it (the thread is released when the fixture stops the gateway).
    """
    return await asyncio.wait_for(asyncio.to_thread(function, *args, **kwargs), timeout=30)


async def follow_join(gateway: Gateway, url: str) -> httpx.Response:
    """Follow a join URL as a browser would: one 302 from the gateway, then the client page."""
    response = await gateway.http.get(url, follow_redirects=True)
    assert [hop.status_code for hop in response.history][:1] == [302]
    assert response.status_code == 200
    assert "sessionToken=" in str(response.url)
    return response


async def assert_tampered_join_refused(gateway: Gateway, join_url: str) -> None:
    for bad in (tamper(join_url), flip_escape_case(join_url)):
        refused = await gateway.http.get(bad)
        assert_join_checksum_error(refused.status_code, refused.headers.get("location"))


async def test_bigbluebutton_api_python(gateway: Gateway) -> None:
    bbb = BigBlueButton(gateway.api, ALPHA_SECRET)
    params = {"name": NAME, "attendeePW": "ap", "moderatorPW": "mp", "record": "true"}
    created = await in_thread(bbb.create_meeting, "py-api-1", params, dict(META))
    assert created.get_return_code() == "SUCCESS"
    assert created.get_meetingid() == "py-api-1"
    assert (created.get_attendee_pw(), created.get_moderator_pw()) == ("ap", "mp")
    assert not created.has_been_forcibly_ended()
    # A second meeting: the library's getMeetings parser only copes with a list of meetings.
    await in_thread(bbb.create_meeting, "py-api-2", {"name": "Second room"}, {})

    join_url = bbb.get_join_meeting_url(FULL_NAME, "py-api-1", "ap", {"userID": "u-1"})
    assert "%27" in join_url and "+" in join_url  # the quote_plus flavour this test covers
    await assert_tampered_join_refused(gateway, join_url)
    await follow_join(gateway, join_url)

    running = await in_thread(bbb.is_meeting_running, "py-api-1")
    assert running.is_meeting_running() is True

    response = await in_thread(bbb.get_meeting_info, "py-api-1")
    info = response.get_meetinginfo()
    assert info.get_meetingname() == NAME
    assert info.get_meetingid() == "py-api-1"
    assert info.is_recording() is True
    assert info.get_participantcount() == 1
    assert dict(response.get_field("metadata")) == STORED_META
    attendees = response.get_attendees()
    assert [(a.get_fullname(), a.get_userid(), a.get_role()) for a in attendees] == [
        (FULL_NAME, "u-1", "VIEWER")
    ]

    listed = (await in_thread(bbb.get_meetings)).get_meetings()
    assert {m.get_meetingid(): m.get_meetingname() for m in listed} == {
        "py-api-1": NAME,
        "py-api-2": "Second room",
    }

    ended = await in_thread(bbb.end_meeting, "py-api-1", "mp")
    assert ended.get_message_key() == "sentEndMeetingRequest"
    await wait_until_ended(gateway, "py-api-1")
    with pytest.raises(BBBException) as gone:
        await in_thread(bbb.get_meeting_info, "py-api-1")
    assert gone.value.key == "notFound"
    running = await in_thread(bbb.is_meeting_running, "py-api-1")
    assert running.is_meeting_running() is False


async def test_bigbluebutton2(gateway: Gateway) -> None:
    group = BigBlueButtonGroup("fleet", origin="bbbfleet-tests", origin_server_name="lms.example")
    server = group.new("gateway", url=gateway.api, salt=ALPHA_SECRET)
    meeting = await in_thread(
        group.create_meeting,
        meeting_id="bbb2-1",
        meeting_name=NAME,
        attendee_pw="ap",
        moderator_pw="mp",
        meta=dict(META),
    )
    # create_meeting re-read the meeting with getMeetingInfo and kept what the server said
    assert meeting.meeting_name == NAME
    assert meeting.meta == {**STORED_META, "bbb-origin-server-name": "lms.example"}
    assert meeting.create_time > 0
    assert (meeting.attendee_pw, meeting.moderator_pw) == ("ap", "mp")
    stored_meeting(await meeting_info(gateway, "bbb2-1"), NAME, META)

    attendee = Attendee(meeting, FULL_NAME, user_id="u-2", role=Role.VIEWER)
    join_url = await in_thread(attendee.join, do_join=False)
    assert f"createTime={meeting.create_time}" in join_url
    await assert_tampered_join_refused(gateway, join_url)
    # One digit of createTime changed after signing: a checksum error, not a createTime mismatch.
    refused = await gateway.http.get(tamper(join_url, "createTime"))
    assert_join_checksum_error(refused.status_code, refused.headers.get("location"))
    await follow_join(gateway, join_url)

    assert await in_thread(group.is_meeting_running, "bbb2-1") is True
    assert meeting.running is True

    meetings = await in_thread(group.get_meetings)
    assert list(meetings) == ["bbb2-1"]
    assert meetings["bbb2-1"].meeting_name == NAME
    assert meetings["bbb2-1"].participant_count == 1
    assert [a.user_id for a in meetings["bbb2-1"].attendees.values()] == ["u-2"]

    # The library's create URL (its own builder), altered after signing.
    create_url = server._build_url("create", meeting._get_url_args(meeting_name="name"))
    for bad in (tamper(create_url), flip_escape_case(create_url)):
        assert_checksum_error((await gateway.http.get(bad)).text)

    await in_thread(group.end_meeting, "bbb2-1", "mp")
    await wait_until_ended(gateway, "bbb2-1")
    assert await in_thread(group.is_meeting_running, "bbb2-1") is False
    assert await in_thread(group.get_meetings) == {}


async def test_bbb_client(gateway: Gateway) -> None:
    bbb = Bbb(gateway.api.rstrip("/"), ALPHA_SECRET)
    created = await in_thread(
        bbb.create_meeting,
        "bbb-client-1",
        name=NAME,
        moderator_password="mp",
        attendee_password="ap",
        max_participants=5,
        features=[Features.CHAT, Features.POLLS],
    )
    assert created is True  # False on any error, including a duplicateWarning

    join_url = bbb.generate_join_url("bbb-client-1", FULL_NAME)
    await assert_tampered_join_refused(gateway, join_url)
    await follow_join(gateway, join_url)

    info = await in_thread(bbb.get_meeting_info, "bbb-client-1")
    assert info.meetingName == NAME
    assert info.meetingID == "bbb-client-1"
    assert (info.attendeePW, info.moderatorPW) == ("ap", "mp")
    assert info.participants == [FULL_NAME]
    assert (info.participantCount, info.maxUsers) == ("1", "5")
    # userID=fullName as this library sends it comes back as the attendee's external ID
    assert f"<userID>{bbb_escape(FULL_NAME)}</userID>" in await meeting_info(
        gateway, "bbb-client-1"
    )

    meetings = await in_thread(bbb.get_meetings)
    assert [(m.meetingID, m.meetingName, m.participants) for m in meetings] == [
        ("bbb-client-1", NAME, [FULL_NAME])
    ]

    assert await in_thread(bbb.end_meeting, "bbb-client-1") is True
    await wait_until_ended(gateway, "bbb-client-1")
    with pytest.raises(MeetingDoesNotExist):
        await in_thread(bbb.get_meeting_info, "bbb-client-1")
    assert await in_thread(bbb.get_meetings) == []
