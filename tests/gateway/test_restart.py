"""The gateway keeps no state of its own: after a restart every meeting is still routed."""

from __future__ import annotations

from tests.gateway.conftest import Gateway, q


async def test_meetings_are_still_routed_after_a_restart(gateway: Gateway) -> None:
    for index in range(4):
        await gateway.get(
            gateway.alpha(
                "create", q(name=f"Room {index}", meetingID=f"m{index}", moderatorPW="mp")
            )
        )
    before = {m.meeting_id: m.server_id for m in await gateway.store.meetings.all()}
    await gateway.stop()
    await gateway.start()
    assert {m.meeting_id: m.server_id for m in await gateway.store.meetings.all()} == before
    for index in range(4):
        info = await gateway.get(gateway.alpha("getMeetingInfo", q(meetingID=f"m{index}")))
        assert "<returncode>SUCCESS</returncode>" in info.text
        assert f"<meetingName>Room {index}</meetingName>" in info.text
        join = await gateway.get(
            gateway.alpha("join", q(fullName="A", meetingID=f"m{index}", password="mp"))
        )
        assert join.status_code == 302
        server_url = next(
            s.url
            for s in gateway.fleet.servers
            if any(m.meeting_id.endswith(f"-m{index}") for m in s.state.meetings.values())
        )
        assert join.headers["location"].startswith(server_url)
    # only moderatorPW given, attendeePW generated: BBB answers a repeat with idNotUnique
    again = await gateway.get(
        gateway.alpha("create", q(name="Room 0", meetingID="m0", moderatorPW="mp"))
    )
    assert "<messageKey>idNotUnique</messageKey>" in again.text
    plain = await gateway.get(gateway.alpha("create", q(name="Room 0", meetingID="m0")))
    assert "<messageKey>duplicateWarning</messageKey>" in plain.text
