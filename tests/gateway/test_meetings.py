"""The meeting calls through the gateway answer exactly as one BBB server answers them directly."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bbbfleet.simulator.model import Meeting
from tests.gateway.conftest import Gateway, q
from tests.gateway.normalise import normalise

ROOM = {"moderatorPW": "mp", "attendeePW": "ap"}
CREATE = q(
    name="Anton G's Room",
    meetingID="room-1",
    attendeePW="ap",
    moderatorPW="mp",
    record="true",
    meta_bbb_origin="x",
    **{"meta_bbb-origin": "Moodle", "meta_endCallbackUrl": "https://lms/x"},
)


async def test_version_root_like_bbb(gateway: Gateway) -> None:
    for path in ("bigbluebutton/api", "bigbluebutton/api/"):
        response = await gateway.get(f"{gateway.url}/{path}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/xml")
        direct = await gateway.get(gateway.fleet.servers[0].url)
        sim_base = gateway.fleet.servers[0].url.split("/bigbluebutton")[0]
        expected = direct.text.replace(
            sim_base.replace("http://", ""), gateway.url.replace("http://", "")
        )
        assert response.text == expected


async def test_create_answers_like_a_single_server(gateway: Gateway) -> None:
    via_gateway = await gateway.get(gateway.alpha("create", CREATE))
    direct = await gateway.get(gateway.direct(0, "create", CREATE))
    assert via_gateway.status_code == 200
    assert "<returncode>SUCCESS</returncode>" in via_gateway.text
    assert "<meetingID>room-1</meetingID>" in via_gateway.text
    assert "<meetingName>" not in via_gateway.text
    assert normalise(via_gateway.text) == normalise(direct.text)


async def test_repeated_create_is_duplicate_warning_then_id_not_unique(gateway: Gateway) -> None:
    first = await gateway.get(gateway.alpha("create", CREATE))
    again = await gateway.get(gateway.alpha("create", CREATE))
    assert "<messageKey>duplicateWarning</messageKey>" in again.text
    assert normalise(first.text).replace("<messageKey></messageKey>", "") != ""
    other = q(name="x room", meetingID="room-1", attendeePW="other", moderatorPW="mp")
    clash = await gateway.get(gateway.alpha("create", other))
    assert "<messageKey>idNotUnique</messageKey>" in clash.text
    # all three went to the same server: the meeting exists once in the fleet
    hosted = [len(s.state.meetings) for s in gateway.fleet.servers]
    assert sorted(hosted) == [0, 0, 1]


async def test_join_redirects_to_backend_and_user_becomes_attendee(gateway: Gateway) -> None:
    await gateway.get(gateway.alpha("create", CREATE))
    join = gateway.alpha(
        "join",
        q(
            fullName="Mary Sue",
            meetingID="room-1",
            password="ap",
            userID="u-42",
            **{"userdata-bbb_auto_join_audio": "true"},
        ),
    )
    first = await gateway.get(join)
    assert first.status_code == 302
    location = first.headers["location"]
    assert any(location.startswith(s.url + "join?") for s in gateway.fleet.servers)
    assert "meetingID=bf" in location  # the tenant-scoped ID goes to the backend
    final = await gateway.http.get(join, follow_redirects=True)
    assert final.status_code == 200
    assert "sessionToken" in str(final.url)
    running = await gateway.get(gateway.alpha("isMeetingRunning", q(meetingID="room-1")))
    assert "<running>true</running>" in running.text
    info = await gateway.get(gateway.alpha("getMeetingInfo", q(meetingID="room-1")))
    assert "<participantCount>1</participantCount>" in info.text
    assert "<userID>u-42</userID>" in info.text
    assert "<meetingID>room-1</meetingID>" in info.text
    assert "<bbb_auto_join_audio>true</bbb_auto_join_audio>" in info.text


async def test_get_meeting_info_matches_direct_answer(gateway: Gateway) -> None:
    await gateway.get(gateway.alpha("create", CREATE))
    await gateway.http.get(
        gateway.alpha("join", q(fullName="Anton G", meetingID="room-1", role="MODERATOR")),
        follow_redirects=True,
    )
    await gateway.get(gateway.direct(1, "create", CREATE))
    await gateway.http.get(
        gateway.direct(1, "join", q(fullName="Anton G", meetingID="room-1", role="MODERATOR")),
        follow_redirects=True,
    )
    via_gateway = await gateway.get(gateway.alpha("getMeetingInfo", q(meetingID="room-1")))
    direct = await gateway.get(gateway.direct(1, "getMeetingInfo", q(meetingID="room-1")))
    assert normalise(via_gateway.text) == normalise(direct.text)


async def test_join_without_redirect_returns_backend_xml(gateway: Gateway) -> None:
    await gateway.get(gateway.alpha("create", CREATE))
    response = await gateway.get(
        gateway.alpha(
            "join", q(fullName="Ann", meetingID="room-1", password="mp", redirect="false")
        )
    )
    assert response.status_code == 200
    assert "<messageKey>successfullyJoined</messageKey>" in response.text
    assert "<guestStatus>ALLOW</guestStatus>" in response.text


async def test_join_errors_like_bbb(gateway: Gateway) -> None:
    unknown = await gateway.get(gateway.alpha("join", q(fullName="A", meetingID="nope")))
    assert unknown.status_code == 302
    assert unknown.headers["location"] == (
        f"{gateway.url}?errors=[%7B%22message%22:%22You%20can%20not%20join%20a%20meeting%20that"
        "%20has%20already%20been%20forcibly%20ended%22,%22key%22:%22meetingForciblyEnded%22%7D]"
    )
    custom = await gateway.get(
        gateway.alpha(
            "join", q(fullName="A", meetingID="nope", errorRedirectUrl="https://lms.example.org/e")
        )
    )
    assert custom.headers["location"].startswith("https://lms.example.org/e?errors=[")
    await gateway.get(gateway.alpha("create", CREATE))
    wrong = await gateway.get(
        gateway.alpha("join", q(fullName="A", meetingID="room-1", password="zz"))
    )
    direct_wrong_create = await gateway.get(gateway.direct(2, "create", CREATE))
    assert direct_wrong_create.status_code == 200
    direct_wrong = await gateway.get(
        gateway.direct(2, "join", q(fullName="A", meetingID="room-1", password="zz"))
    )
    assert wrong.status_code == 200
    assert wrong.text == direct_wrong.text
    assert "<messageKey>Params required</messageKey>" in wrong.text
    mismatch = await gateway.get(
        gateway.alpha("join", q(fullName="A", meetingID="room-1", role="VIEWER", createTime="1"))
    )
    assert "mismatchCreateTimeParam" in mismatch.headers["location"]
    no_role = await gateway.get(gateway.alpha("join", q(fullName="A", meetingID="room-1")))
    assert "sould the meeting has one" in no_role.text


async def test_end_then_meeting_is_gone(gateway: Gateway) -> None:
    await gateway.get(gateway.alpha("create", CREATE))
    ended = await gateway.get(gateway.alpha("end", q(meetingID="room-1", password="mp")))
    direct_create = await gateway.get(gateway.direct(0, "create", q(name="zz", meetingID="zz")))
    assert direct_create.status_code == 200
    direct_end = await gateway.get(gateway.direct(0, "end", q(meetingID="zz")))
    assert ended.text == direct_end.text
    info = await gateway.get(gateway.alpha("getMeetingInfo", q(meetingID="room-1")))
    assert "<messageKey>notFound</messageKey>" in info.text
    running = await gateway.get(gateway.alpha("isMeetingRunning", q(meetingID="room-1")))
    assert "<running>false</running>" in running.text
    again = await gateway.get(gateway.alpha("end", q(meetingID="room-1")))
    direct_again = await gateway.get(gateway.direct(0, "end", q(meetingID="room-1")))
    assert again.text == direct_again.text


async def test_get_meetings_lists_the_tenants_meetings_from_all_servers(gateway: Gateway) -> None:
    empty = await gateway.get(gateway.alpha("getMeetings"))
    direct_empty = await gateway.get(gateway.direct(0, "getMeetings"))
    assert empty.text == direct_empty.text
    for index in range(6):
        await gateway.get(gateway.alpha("create", q(name=f"Room {index}", meetingID=f"r{index}")))
    await gateway.get(gateway.beta("create", q(name="Beta room", meetingID="beta-only")))
    assert all(len(s.state.meetings) >= 2 for s in gateway.fleet.servers)  # spread over the fleet
    listing = await gateway.get(gateway.alpha("getMeetings"))
    for index in range(6):
        assert f"<meetingID>r{index}</meetingID>" in listing.text
    assert "beta-only" not in listing.text and "Beta room" not in listing.text
    assert listing.text.count("<meeting>") == 6
    assert "<meetingID>bf" not in listing.text  # no backend IDs leak


async def test_post_create_with_form_body(gateway: Gateway) -> None:
    query = q(meetingID="posted")
    response = await gateway.http.post(
        gateway.alpha("create", query),
        content=b"name=Posted+Room&attendeePW=ap&moderatorPW=mp",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "<returncode>SUCCESS</returncode>" in response.text
    assert "<meetingID>posted</meetingID>" in response.text
    info = await gateway.get(gateway.alpha("getMeetingInfo", q(meetingID="posted")))
    assert "<meetingName>Posted Room</meetingName>" in info.text


MODULES = (
    '<?xml version="1.0" encoding="UTF-8"?><modules>'
    '<module name="presentation"><document url="https://x.example/a.pdf" filename="Übung 1.pdf"/>'
    '<document name="inline.pdf">JVBERi0xLjQK</document></module>'
    '<module name="clientSettingsOverride">{"public":{"app":{"appName":"Schule ✓"}}}</module>'
    "</modules>"
).encode()


def backend_meetings(gateway: Gateway, meeting_id: str) -> dict[int, Meeting]:
    """The simulated servers holding a copy of the tenant's meeting, by server index."""
    return {
        index: meeting
        for index, server in enumerate(gateway.fleet.servers)
        for meeting in server.state.meetings.values()
        if meeting.meeting_id.endswith(f"-{meeting_id}")
    }


async def test_post_create_forwards_the_modules_body_intact(gateway: Gateway) -> None:
    response = await gateway.http.post(
        gateway.alpha("create", q(name="With slides", meetingID="slides", **ROOM)),
        content=MODULES,
        headers={"Content-Type": "text/xml; charset=UTF-8"},
    )
    assert "<returncode>SUCCESS</returncode>" in response.text
    (copy,) = backend_meetings(gateway, "slides").values()
    assert copy.create_modules == MODULES  # byte for byte


async def test_a_recreated_meeting_gets_the_same_modules_body(gateway: Gateway) -> None:
    create = gateway.alpha("create", q(name="With slides", meetingID="slides", **ROOM))
    await gateway.http.post(create, content=MODULES, headers={"Content-Type": "application/xml"})
    (first,) = backend_meetings(gateway, "slides")
    await gateway.fleet.servers[first].go_down()
    again = await gateway.get(create)  # a plain GET: the stored body goes with the re-create
    assert "<returncode>SUCCESS</returncode>" in again.text
    copies = backend_meetings(gateway, "slides")
    (elsewhere,) = set(copies) - {first}
    assert copies[elsewhere].create_modules == MODULES


async def test_internal_meeting_id_is_accepted_like_bbb(gateway: Gateway) -> None:
    created = await gateway.get(gateway.alpha("create", CREATE))
    internal = created.text.split("<internalMeetingID>")[1].split("</internalMeetingID>")[0]
    info = await gateway.get(gateway.alpha("getMeetingInfo", q(meetingID=internal)))
    assert "<meetingID>room-1</meetingID>" in info.text


async def test_join_location_is_signed_for_the_backend(gateway: Gateway) -> None:
    await gateway.get(gateway.alpha("create", CREATE))
    response = await gateway.get(
        gateway.alpha("join", q(fullName="A", meetingID="room-1", role="VIEWER"))
    )
    parts = urlsplit(response.headers["location"])
    params = parse_qs(parts.query)
    assert len(params["checksum"][0]) == 64  # signed with the configured sha256


async def test_get_meetings_and_is_meeting_running_match_direct_answers(gateway: Gateway) -> None:
    join = q(fullName="Anton G", meetingID="room-1", role="MODERATOR", userID="u1")
    await gateway.get(gateway.alpha("create", CREATE))
    await gateway.http.get(gateway.alpha("join", join), follow_redirects=True)
    host = next(i for i, s in enumerate(gateway.fleet.servers) if s.state.meetings)
    other = (host + 1) % 3
    await gateway.get(gateway.direct(other, "create", CREATE))
    await gateway.http.get(gateway.direct(other, "join", join), follow_redirects=True)
    via_gateway = await gateway.get(gateway.alpha("getMeetings"))
    direct = await gateway.get(gateway.direct(other, "getMeetings"))
    assert via_gateway.text.count("<meeting>") == 1
    assert normalise(via_gateway.text) == normalise(direct.text)
    running = await gateway.get(gateway.alpha("isMeetingRunning", q(meetingID="room-1")))
    direct_running = await gateway.get(
        gateway.direct(other, "isMeetingRunning", q(meetingID="room-1"))
    )
    assert (
        running.text
        == direct_running.text
        == ("<response>\n<returncode>SUCCESS</returncode>\n<running>true</running>\n</response>")
    )


async def test_send_chat_message_is_routed_and_validated_like_bbb(gateway: Gateway) -> None:
    await gateway.get(gateway.alpha("create", CREATE))
    await gateway.http.get(
        gateway.alpha("join", q(fullName="Anton G", meetingID="room-1", password="mp")),
        follow_redirects=True,
    )
    sent = await gateway.get(
        gateway.alpha(
            "sendChatMessage", q(meetingID="room-1", message="Hello <all>", userName="Bot")
        )
    )
    assert sent.text == (
        "<response>\n<returncode>SUCCESS</returncode>\n<messageKey></messageKey>\n"
        "<message></message>\n</response>"
    )
    host = next(s for s in gateway.fleet.servers if s.state.meetings)
    (meeting,) = host.state.meetings.values()
    assert [(m.sender, m.text) for m in meeting.chat] == [("Bot", "Hello <all>")]
    for query in (
        q(meetingID="room-1"),
        q(meetingID="room-1", message="x" * 501),
        q(meetingID="nope", message="hi"),
    ):
        via_gateway = await gateway.get(gateway.alpha("sendChatMessage", query))
        direct = await gateway.get(gateway.direct(0, "sendChatMessage", query))
        assert via_gateway.text == direct.text, query
    other_tenant = await gateway.get(
        gateway.beta("sendChatMessage", q(meetingID="room-1", message="spam"))
    )
    assert "<messageKey>meetingNotFound</messageKey>" in other_tenant.text


async def test_get_sessions_lists_only_the_tenants_sessions(gateway: Gateway) -> None:
    empty = await gateway.get(gateway.alpha("getSessions"))
    direct_empty = await gateway.get(gateway.direct(0, "getSessions"))
    assert empty.text == direct_empty.text  # noSessions, typo included
    await gateway.get(gateway.alpha("create", CREATE))
    await gateway.http.get(
        gateway.alpha("join", q(fullName="Anton G", meetingID="room-1", password="mp")),
        follow_redirects=True,
    )
    await gateway.get(gateway.beta("create", q(name="Beta room", meetingID="beta-room")))
    await gateway.http.get(
        gateway.beta("join", q(fullName="Eve", meetingID="beta-room", role="VIEWER")),
        follow_redirects=True,
    )
    sessions = await gateway.get(gateway.alpha("getSessions"))
    assert sessions.text.count("<meeting>") == 1
    assert "<userName>Anton G</userName>" in sessions.text
    assert "Eve" not in sessions.text and "Beta room" not in sessions.text


SLIDES = (
    b'<modules><module name="presentation"><document url="https://x.example/a.pdf" '
    b'filename="a.pdf"/></module></modules>'
)


async def test_insert_document_is_routed_with_its_body(gateway: Gateway) -> None:
    await gateway.get(gateway.alpha("create", CREATE))
    xml_type = {"Content-Type": "application/xml"}
    ok = await gateway.http.post(
        gateway.alpha("insertDocument", q(meetingID="room-1")), content=SLIDES, headers=xml_type
    )
    assert ok.text == (
        "<response>\n<returncode>SUCCESS</returncode>\n"
        "<message>Presentation is being uploaded</message>\n</response>"
    )
    host = next(s for s in gateway.fleet.servers if s.state.meetings)
    (meeting,) = host.state.meetings.values()
    assert meeting.documents == [SLIDES]
    for send in (
        gateway.alpha("insertDocument", q(meetingID="nope")),
        gateway.beta("insertDocument", q(meetingID="room-1")),
    ):
        missing = await gateway.http.post(send, content=SLIDES, headers=xml_type)
        meeting_id = "nope" if "nope" in send else "room-1"
        assert f"<message>Meeting with id [{meeting_id}] not found.</message>" in missing.text
    wrong_type = await gateway.http.post(
        gateway.alpha("insertDocument", q(meetingID="room-1")),
        content=b"a=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "<messageKey>unsupportedContentType</messageKey>" in wrong_type.text
    assert (
        await gateway.get(gateway.alpha("insertDocument", q(meetingID="room-1")))
    ).status_code == 405


async def test_sign_out_reaches_the_server_that_holds_the_session(gateway: Gateway) -> None:
    await gateway.get(gateway.alpha("create", CREATE))
    joined = await gateway.http.get(
        gateway.alpha("join", q(fullName="Anton G", meetingID="room-1", password="mp")),
        follow_redirects=True,
    )
    token = str(joined.url).split("sessionToken=")[1]
    host = next(s for s in gateway.fleet.servers if s.state.meetings)
    assert token in host.state.sessions
    signed_out = await gateway.get(f"{gateway.api}signOut?sessionToken={token}")
    assert signed_out.text == "<response><returncode>SUCCESS</returncode></response>"
    assert token not in host.state.sessions
    unknown = await gateway.get(f"{gateway.api}signOut?sessionToken=nope")
    assert unknown.text == "<response><returncode>SUCCESS</returncode></response>"  # as BBB


async def test_session_token_calls_find_the_server_that_issued_the_token(gateway: Gateway) -> None:
    await gateway.get(
        gateway.alpha(
            "create",
            q(
                name="Sessions",
                meetingID="s-room",
                moderatorPW="mp",
                attendeePW="ap",
                allowRequestsWithoutSession="true",
            ),
        )
    )
    joined = await gateway.http.get(
        gateway.alpha("join", q(fullName="Ada", meetingID="s-room", password="mp")),
        follow_redirects=True,
    )
    token = str(joined.url).split("sessionToken=")[1]
    host = next(s for s in gateway.fleet.servers if s.state.meetings)
    join_url = await gateway.get(f"{gateway.api}getJoinUrl?sessionToken={token}")
    assert join_url.headers["content-type"].startswith("application/json")
    data = join_url.json()["response"]
    assert data["returncode"] == "SUCCESS" and data["url"].startswith(host.url + "join?&fullName=")
    stuns = await gateway.get(f"{gateway.api}stuns?sessionToken={token}")
    assert "stunServers" in stuns.json()
    dashboard = await gateway.get(f"{gateway.api}learningDashboard?sessionToken={token}")
    assert dashboard.json()["response"]["returncode"] == "SUCCESS"
    direct_invalid = await gateway.get(f"{host.url}getJoinUrl?sessionToken=nope")
    invalid = await gateway.get(f"{gateway.api}getJoinUrl?sessionToken=nope")
    assert invalid.text == direct_invalid.text  # BBB's own JSON failure
    missing = await gateway.get(f"{gateway.api}getJoinUrl")
    assert missing.json()["response"]["message"] == "You must provide a session token"
