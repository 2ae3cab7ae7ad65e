"""Tenants are isolated: their own secrets, their own meetings, nothing of anybody else's."""

from __future__ import annotations

from tests.gateway.conftest import ALPHA_SECRET, BETA_SECRET, Gateway, q, signed

ROOM = q(name="Shared name", meetingID="same-id", attendeePW="ap", moderatorPW="mp")


async def test_two_tenants_may_use_the_same_meeting_id(gateway: Gateway) -> None:
    alpha = await gateway.get(gateway.alpha("create", ROOM))
    beta = await gateway.get(gateway.beta("create", q(name="Beta's", meetingID="same-id")))
    assert "<messageKey></messageKey>" in alpha.text
    assert "<messageKey></messageKey>" in beta.text  # a new meeting, not a duplicateWarning
    internal = [t.split("<internalMeetingID>")[1].split("<")[0] for t in (alpha.text, beta.text)]
    assert internal[0] != internal[1]
    beta_info = await gateway.get(gateway.beta("getMeetingInfo", q(meetingID="same-id")))
    assert "<meetingName>Beta&apos;s</meetingName>" in beta_info.text


async def test_a_tenant_cannot_touch_another_tenants_meeting(gateway: Gateway) -> None:
    await gateway.get(gateway.alpha("create", ROOM))
    info = await gateway.get(gateway.beta("getMeetingInfo", q(meetingID="same-id")))
    assert "<messageKey>notFound</messageKey>" in info.text
    end = await gateway.get(gateway.beta("end", q(meetingID="same-id")))
    assert "<messageKey>notFound</messageKey>" in end.text
    running = await gateway.get(gateway.beta("isMeetingRunning", q(meetingID="same-id")))
    assert "<running>false</running>" in running.text
    join = await gateway.get(
        gateway.beta("join", q(fullName="Eve", meetingID="same-id", role="MODERATOR"))
    )
    assert join.status_code == 302 and "meetingForciblyEnded" in join.headers["location"]
    listing = await gateway.get(gateway.beta("getMeetings"))
    assert "<messageKey>noMeetings</messageKey>" in listing.text
    # by internal ID neither
    created = await gateway.get(gateway.alpha("create", ROOM))
    internal = created.text.split("<internalMeetingID>")[1].split("<")[0]
    by_internal = await gateway.get(gateway.beta("getMeetingInfo", q(meetingID=internal)))
    assert "<messageKey>notFound</messageKey>" in by_internal.text
    # alpha's meeting is untouched
    still = await gateway.get(gateway.alpha("getMeetingInfo", q(meetingID="same-id")))
    assert "<returncode>SUCCESS</returncode>" in still.text


async def test_path_prefix_names_the_tenant(gateway: Gateway) -> None:
    beta_api = f"{gateway.url}/t/beta/bigbluebutton/api/"
    ok = await gateway.get(signed(beta_api, "getMeetings", "", BETA_SECRET))
    assert "<returncode>SUCCESS</returncode>" in ok.text
    wrong = await gateway.get(signed(beta_api, "getMeetings", "", ALPHA_SECRET))
    assert "<messageKey>checksumError</messageKey>" in wrong.text
    unknown = await gateway.get(
        signed(f"{gateway.url}/t/nobody/bigbluebutton/api/", "getMeetings", "", ALPHA_SECRET)
    )
    assert "<messageKey>checksumError</messageKey>" in unknown.text
    assert "<message>Checksums do not match</message>" in unknown.text
    version = await gateway.get(f"{gateway.url}/t/beta/bigbluebutton/api")
    assert "<returncode>SUCCESS</returncode>" in version.text


async def test_host_header_names_the_tenant(gateway: Gateway) -> None:
    ok = await gateway.get(gateway.beta("getMeetings"), headers={"Host": "bbb.beta.example"})
    assert "<returncode>SUCCESS</returncode>" in ok.text
    wrong = await gateway.get(gateway.alpha("getMeetings"), headers={"Host": "bbb.beta.example"})
    assert "<messageKey>checksumError</messageKey>" in wrong.text


async def test_secret_rollover(gateway: Gateway) -> None:
    new_secret = "alpha-new-secret-0123456789"
    await gateway.store.tenants.add_secret("alpha", new_secret)
    created = await gateway.get(signed(gateway.api, "create", ROOM, new_secret))
    assert "<returncode>SUCCESS</returncode>" in created.text
    old = await gateway.get(gateway.alpha("getMeetingInfo", q(meetingID="same-id")))
    assert "<returncode>SUCCESS</returncode>" in old.text  # same tenant, either secret
    await gateway.store.tenants.remove_secret("alpha", ALPHA_SECRET)
    refused = await gateway.get(gateway.alpha("getMeetingInfo", q(meetingID="same-id")))
    assert "<messageKey>checksumError</messageKey>" in refused.text


async def test_secret_alone_can_be_switched_off(database_url: str) -> None:
    from tests.gateway.conftest import start_gateway

    gw = await start_gateway(database_url, tenant_by_secret=False)
    try:
        refused = await gw.get(gw.alpha("getMeetings"))
        assert "<messageKey>checksumError</messageKey>" in refused.text
        by_path = await gw.get(
            signed(f"{gw.url}/t/alpha/bigbluebutton/api/", "getMeetings", "", ALPHA_SECRET)
        )
        assert "<returncode>SUCCESS</returncode>" in by_path.text
    finally:
        await gw.stop()
        await gw.http.aclose()
        await gw.store.close()
        await gw.fleet.stop()
