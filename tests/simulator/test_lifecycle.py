"""Meetings over time: users become attendees by opening the client, leave through the control
API, and meetings end by themselves as REFERENCE.md §8 says — all on a manual clock."""

from __future__ import annotations

from xml.etree import ElementTree

from bbbfleet.simulator import ManualClock
from tests.simulator.conftest import Bbb


async def info(bbb: Bbb, meeting_id: str = "test01") -> ElementTree.Element:
    response = await bbb.call("getMeetingInfo", meetingID=meeting_id)
    return ElementTree.fromstring(response.text)


async def running(bbb: Bbb, meeting_id: str = "test01") -> bool:
    response = await bbb.call("isMeetingRunning", meetingID=meeting_id)
    return "<running>true</running>" in response.text


async def exists(bbb: Bbb, meeting_id: str = "test01") -> bool:
    return (await info(bbb, meeting_id)).findtext("returncode") == "SUCCESS"


async def test_a_user_is_only_registered_until_the_client_opens(bbb: Bbb) -> None:
    await bbb.create()
    response = await bbb.join(role="moderator", fullName="Ada")
    before = await info(bbb)
    assert before.findtext("running") == "false"
    assert before.findtext("hasUserJoined") == "false"
    assert before.findtext("participantCount") == "0"
    client = await bbb.http.get(response.headers["location"])
    assert client.status_code == 200
    assert "text/html" in client.headers["content-type"]
    after = await info(bbb)
    assert after.findtext("running") == "true"
    assert after.findtext("hasUserJoined") == "true"
    assert after.findtext("participantCount") == "1"
    assert after.findtext("moderatorCount") == "1"
    assert after.findtext("attendees/attendee/fullName") == "Ada"
    assert after.findtext("attendees/attendee/isPresenter") == "true"
    # Opening the client twice does not make two attendees.
    await bbb.http.get(response.headers["location"])
    assert (await info(bbb)).findtext("participantCount") == "1"


async def test_unknown_session_token_in_the_client(bbb: Bbb) -> None:
    response = await bbb.http.get(f"{bbb.host.base_url}/html5client/join?sessionToken=nope")
    assert response.status_code == 404


async def test_leave_through_the_control_api(bbb: Bbb, clock: ManualClock) -> None:
    await bbb.create()
    await bbb.enter(role="moderator", userID="ada", fullName="Ada")
    await bbb.enter(role="viewer", userID="bob", fullName="Bob")
    left = await bbb.control("POST", "meetings/test01/leave", {"userID": "ada"})
    assert [u["userID"] for u in left.json()["users"]] == ["ada"]
    state = await info(bbb)
    assert state.findtext("participantCount") == "1"
    assert [a.findtext("userID") for a in state.iter("attendee")] == ["bob"]
    # getMeetings still lists who left until bbb-web purges them (usersTimeout, 60 s).
    meetings = ElementTree.fromstring((await bbb.get("getMeetings")).text)
    assert [a.findtext("userID") for a in meetings.iter("attendee")] == ["ada", "bob"]
    assert meetings.findtext("meetings/meeting/participantCount") == "1"
    clock.advance(61)
    meetings = ElementTree.fromstring((await bbb.get("getMeetings")).text)
    assert [a.findtext("userID") for a in meetings.iter("attendee")] == ["bob"]
    everyone = await bbb.control("POST", "meetings/test01/leave", {"all": True})
    assert [u["userID"] for u in everyone.json()["users"]] == ["bob"]
    assert await running(bbb)  # Bob is in the user list for another minute ...
    clock.advance(59)
    assert await running(bbb)
    clock.advance(1)  # ... and one minute after the last user left the meeting ends.
    assert not await running(bbb)
    assert not await exists(bbb)
    assert bbb.host.state.ended[-1].reason == "lastUserLeft"


async def test_leave_errors(bbb: Bbb) -> None:
    await bbb.create()
    assert (await bbb.control("POST", "meetings/nope/leave", {"all": True})).status_code == 404
    assert (await bbb.control("POST", "meetings/test01/leave", {"userID": "x"})).status_code == 404
    assert (await bbb.control("POST", "meetings/test01/leave", {})).status_code == 400
    assert (await bbb.control("POST", "meetings/test01/leave", [1])).status_code == 400


async def test_a_meeting_nobody_joins_ends_after_five_minutes(bbb: Bbb, clock: ManualClock) -> None:
    await bbb.create()
    first_create_time = (await info(bbb)).findtext("createTime")
    await bbb.join(role="moderator")  # registered, never opened the client
    clock.advance(299)
    assert await exists(bbb)
    clock.advance(1)
    assert not await exists(bbb)
    assert bbb.host.state.ended[-1].reason == "noUserJoined"
    assert "<sessions/>" in (await bbb.get("getSessions")).text
    await bbb.create()  # the same meetingID is a brand-new meeting now
    assert (await info(bbb)).findtext("createTime") != first_create_time


async def test_expiry_minutes_and_duration_from_create(bbb: Bbb, clock: ManualClock) -> None:
    await bbb.create("quick", meetingExpireIfNoUserJoinedInMinutes="1")
    await bbb.create("short", duration="10", meetingExpireWhenLastUserLeftInMinutes="3")
    await bbb.enter("short", role="moderator")
    clock.advance(60)
    assert not await exists(bbb, "quick")
    await bbb.control("POST", "meetings/short/leave", {"all": True})
    clock.advance(120)
    assert await exists(bbb, "short")  # 3 minutes after the last user left, not 1
    await bbb.enter("short", role="moderator")
    clock.advance(420)
    assert not await exists(bbb, "short")
    assert bbb.host.state.ended[-1].reason == "duration"


async def test_end_from_the_client(bbb: Bbb) -> None:
    await bbb.create()
    token = await bbb.enter(role="moderator")
    response = await bbb.control("POST", "meetings/test01/end")
    assert response.json() == {"ended": True}
    assert not await exists(bbb)
    assert bbb.host.state.ended[-1].reason == "client"
    stale = await bbb.http.get(f"{bbb.host.base_url}/html5client/join?sessionToken={token}")
    assert stale.status_code == 404


async def test_guests_wait_in_the_lobby_until_admitted(bbb: Bbb) -> None:
    await bbb.create(guestPolicy="ASK_MODERATOR")
    await bbb.enter(role="moderator", userID="mod")
    response = await bbb.join(role="viewer", userID="guest", fullName="Guest")
    lobby = await bbb.http.get(response.headers["location"])
    assert "wait" in lobby.text
    assert (await info(bbb)).findtext("participantCount") == "1"
    admitted = await bbb.control("POST", "meetings/test01/guests/guest", {"allow": True})
    assert admitted.json()["users"][0]["guestStatus"] == "ALLOW"
    assert (await info(bbb)).findtext("participantCount") == "2"


async def test_denied_guests_lose_their_session(bbb: Bbb) -> None:
    await bbb.create(guestPolicy="ASK_MODERATOR")
    await bbb.join(role="viewer", userID="guest")
    denied = await bbb.control("POST", "meetings/test01/guests/guest", {"allow": False})
    assert denied.json()["users"][0]["guestStatus"] == "DENY"
    assert "<sessions/>" in (await bbb.get("getSessions")).text


async def test_always_accept_auth_makes_only_guests_wait(bbb: Bbb) -> None:
    await bbb.create(guestPolicy="ALWAYS_ACCEPT_AUTH")
    member = await bbb.join(role="viewer", redirect="false")
    guest = await bbb.join(role="viewer", guest="true", redirect="false")
    assert "<guestStatus>ALLOW</guestStatus>" in member.text
    assert "<guestStatus>WAIT</guestStatus>" in guest.text


async def test_customdata_and_media_state(bbb: Bbb) -> None:
    await bbb.create()
    await bbb.enter(
        "test01",
        ("userdata-bbb_skip_check_audio", "true"),
        ("userdata-x-y", "no"),
        role="viewer",
        userID="u1",
    )
    media = await bbb.control(
        "POST", "meetings/test01/users/u1", {"hasVideo": True, "isPresenter": True}
    )
    assert media.json()["users"][0]["hasVideo"] is True
    state = await info(bbb)
    assert state.findtext("videoCount") == "1"
    assert state.findtext("attendees/attendee/isPresenter") == "true"
    customdata = state.find("attendees/attendee/customdata")
    assert customdata is not None
    assert [(c.tag, c.text) for c in customdata] == [("bbb_skip_check_audio", "true")]
    bad = await bbb.control("POST", "meetings/test01/users/u1", {"hasVideo": "yes"})
    assert bad.status_code == 400


async def test_state_and_reset(bbb: Bbb) -> None:
    await bbb.create()
    token = await bbb.enter(role="moderator", userID="ada")
    state = (await bbb.control("GET", "state")).json()
    assert state["secret"] == bbb.host.secret
    assert state["meetings"][0]["meetingID"] == "test01"
    assert state["meetings"][0]["users"][0]["presence"] == "online"
    assert state["sessions"][0]["sessionToken"] == token
    assert (await bbb.control("POST", "reset")).json()["meetings"] == []
    assert not await exists(bbb)
