"""Tenant parameter policy and white-label chat texts, end to end through the gateway."""

from __future__ import annotations

from bbbfleet.policy import CallPolicy, TenantPolicy
from tests.gateway.conftest import Gateway, q, start_gateway, stop_gateway


def hosted(gw: Gateway, meeting_id: str):  # type: ignore[no-untyped-def]
    for sim in gw.fleet.servers:
        for meeting in sim.state.meetings.values():
            if meeting.meeting_id.endswith(f"-{meeting_id}"):
                return meeting
    raise AssertionError(f"{meeting_id} runs nowhere")


async def test_policy_and_default_texts_reach_bbb(database_url: str) -> None:
    gw = await start_gateway(database_url, banner_text="Hosted by bbbfleet")
    try:
        await gw.store.tenants.set_policy(
            "alpha",
            TenantPolicy(
                create=CallPolicy(
                    defaults={"maxParticipants": "25"},
                    force={"record": "false"},
                    block=frozenset({"logoutURL"}),
                ),
                join=CallPolicy(force={"userdata-bbb_auto_join_audio": "true"}),
                texts={"welcome": "Welcome to ACME"},
            ),
        )
        await gw.get(
            gw.alpha(
                "create",
                q(
                    name="Room",
                    meetingID="room",
                    record="true",
                    logoutURL="https://evil.example",
                    moderatorPW="mp",
                ),
            )
        )
        meeting = hosted(gw, "room")
        assert (meeting.record, meeting.max_participants) == (False, 25)
        assert meeting.logout_url != "https://evil.example"
        assert meeting.chat_texts == {
            "welcome": "Welcome to ACME",
            "bannerText": "Hosted by bbbfleet",
        }
        await gw.http.get(
            gw.alpha("join", q(fullName="A", meetingID="room", password="mp")),
            follow_redirects=True,
        )
        info = await gw.get(gw.alpha("getMeetingInfo", q(meetingID="room")))
        assert "<bbb_auto_join_audio>true</bbb_auto_join_audio>" in info.text
        # white-label: no default texts, and the switch itself never reaches BBB
        await gw.get(
            gw.alpha(
                "create",
                q(name="Plain", meetingID="plain", deactivateBbbserverDefaultChatTexts="true"),
            )
        )
        assert hosted(gw, "plain").chat_texts == {}
        # other tenants are not affected by alpha's policy
        await gw.get(gw.beta("create", q(name="Beta", meetingID="beta", record="true")))
        beta = hosted(gw, "beta")
        assert beta.record and beta.chat_texts == {"bannerText": "Hosted by bbbfleet"}
    finally:
        await stop_gateway(gw)
