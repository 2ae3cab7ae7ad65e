"""Tenant parameter policy and white-label texts (pure functions)."""

from __future__ import annotations

import pytest

from bbbfleet.policy import (
    CallPolicy,
    PolicyError,
    TenantPolicy,
    apply_to_create,
    apply_to_join,
)
from bbbfleet.protocol.params import ApiParams, RawQuery, parse_pairs


def run_create(
    query: str, policy: TenantPolicy, platform: dict[str, str] | None = None
) -> dict[str, str]:
    raw = query.encode()
    params = ApiParams.parse(raw)
    result = apply_to_create(RawQuery.parse(raw), params, policy, platform or {})
    return dict(parse_pairs(result.encode().encode()))


def test_defaults_force_and_block() -> None:
    policy = TenantPolicy(
        create=CallPolicy(
            defaults={"record": "true", "maxParticipants": "30"},
            force={"muteOnStart": "true", "logoutURL": "https://lms.example/logout"},
            block=frozenset({"allowStartStopRecording", "maxParticipants"}),
        )
    )
    sent = run_create(
        "name=Room&meetingID=m1&record=false&muteOnStart=false&allowStartStopRecording=true"
        "&maxParticipants=500",
        policy,
    )
    assert sent == {
        "name": "Room",
        "meetingID": "m1",
        "record": "false",  # the client's own value stays
        "muteOnStart": "true",
        "logoutURL": "https://lms.example/logout",
        "maxParticipants": "30",  # blocked from the client, the default applies
    }


def test_default_texts_and_white_label() -> None:
    tenant = TenantPolicy(texts={"welcome": "Welcome to %%CONFNAME%% at ACME"})
    platform = {"welcome": "platform welcome", "bannerText": "Hosted by bbbserver"}
    sent = run_create("name=Room&meetingID=m1", tenant, platform)
    assert sent["welcome"] == "Welcome to %%CONFNAME%% at ACME"  # the tenant's text wins
    assert sent["bannerText"] == "Hosted by bbbserver"
    own = run_create("name=Room&meetingID=m1&welcome=Mine", tenant, platform)
    assert own["welcome"] == "Mine"
    white = run_create(
        "name=Room&meetingID=m1&deactivateBbbserverDefaultChatTexts=true", tenant, platform
    )
    assert white == {"name": "Room", "meetingID": "m1"}  # no texts, and the switch is gone
    off = run_create(
        "name=Room&meetingID=m1&deactivateBbbserverDefaultChatTexts=false", tenant, platform
    )
    assert "welcome" in off and "deactivateBbbserverDefaultChatTexts" not in off
    forced = TenantPolicy(create=CallPolicy(force={"welcome": "Forced"}), texts={"welcome": "T"})
    assert run_create("name=Room&meetingID=m1", forced)["welcome"] == "Forced"


def test_join_policy() -> None:
    policy = TenantPolicy(
        join=CallPolicy(
            force={"userdata-bbb_skip_check_audio": "true"}, block=frozenset({"avatarURL"})
        )
    )
    raw = b"fullName=A&meetingID=m1&avatarURL=https%3A%2F%2Fx"
    result = apply_to_join(RawQuery.parse(raw), ApiParams.parse(raw), policy)
    assert dict(parse_pairs(result.encode().encode())) == {
        "fullName": "A",
        "meetingID": "m1",
        "userdata-bbb_skip_check_audio": "true",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"recordings": {}}, "unknown policy section"),
        ({"create": {"defaults": {"meetingID": "x"}}}, "managed by bbbfleet"),
        ({"join": {"block": ["checksum"]}}, "managed by bbbfleet"),
        ({"create": {"force": {"bad name": "x"}}}, "not a BBB parameter name"),
        ({"create": {"always": {}}}, "unknown key"),
        ({"texts": {"footer": "x"}}, "unknown text"),
    ],
)
def test_invalid_policies_are_refused_with_a_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        TenantPolicy.from_json(data)


def test_json_round_trip() -> None:
    policy = TenantPolicy(
        create=CallPolicy({"a": "1"}, {"b": "2"}, frozenset({"c"})), texts={"bannerText": "x"}
    )
    assert TenantPolicy.from_json(policy.to_json()) == policy
