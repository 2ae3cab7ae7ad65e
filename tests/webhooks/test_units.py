"""Pure parts of the gateway's webhooks: meeting ID mapping, callback URL rules, relay URLs."""

from __future__ import annotations

import pytest

from bbbfleet.gateway.callbacks import (
    RelayTarget,
    decode_relay_payload,
    original_callback_url,
    relay_query,
    relay_url,
    restore_callback_urls,
)
from bbbfleet.protocol.params import ApiParams, RawQuery
from bbbfleet.protocol.xml import escape
from bbbfleet.storage.repository import Server
from bbbfleet.webhooks.mapping import ParsedMeetingId, parse_backend_meeting_id
from bbbfleet.webhooks.targets import PublicResolver, callback_url_problem, is_public

PUBLIC = "https://gw.example.org"


@pytest.mark.parametrize(
    ("backend_id", "parsed"),
    [
        ("bf1-room", ParsedMeetingId(1, "room")),
        ("bf12-bf3-x", ParsedMeetingId(12, "bf3-x")),
        ("bf1-", ParsedMeetingId(1, "")),
        ("bf1-h-" + "a" * 64, ParsedMeetingId(1, None)),
        ("bf1-h-" + "a" * 63, ParsedMeetingId(1, "h-" + "a" * 63)),
        ("random-123", None),
        ("bf-x", None),
        ("bf01-x", None),
        ("xbf1-room", None),
    ],
)
def test_parse_backend_meeting_id(backend_id: str, parsed: ParsedMeetingId | None) -> None:
    assert parse_backend_meeting_id(backend_id) == parsed


@pytest.mark.parametrize(
    "url",
    [
        "https://lms.example.com/hook",
        "http://lms.example.com:8080/hook?x=1",
        "https://8.8.8.8/x",
        "https://[2001:4860:4860::8888]/x",
    ],
)
def test_good_callback_urls(url: str) -> None:
    assert callback_url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "",
        "lms.example.com/hook",
        "ftp://lms.example.com/x",
        "javascript:alert(1)",
        "https://user:pw@lms.example.com/x",
        "https://user@lms.example.com/x",
        "http://localhost/x",
        "http://app.localhost/x",
        "http://127.0.0.1:8000/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        "https://lms.example.com/a b",
        "https://lms.example.com:99999/x",
        "https://" + "a" * 3000 + ".com/",
    ],
)
def test_bad_callback_urls(url: str) -> None:
    assert callback_url_problem(url) is not None


def test_private_targets_when_allowed() -> None:
    assert callback_url_problem("http://127.0.0.1:8000/x", allow_private=True) is None
    assert callback_url_problem("ftp://127.0.0.1/x", allow_private=True) is not None
    assert callback_url_problem("http://u:p@127.0.0.1/x", allow_private=True) is not None


def test_relay_url_round_trip() -> None:
    target = RelayTarget("bbb-recording-ready-url", 4, 9, "räum 1", "https://lms/x?a=1&b=ü")
    url = relay_url(PUBLIC, target, "secret")
    assert url.startswith(f"{PUBLIC}/bigbluebutton/fleet/callback/") and url.isascii()
    payload = url.split("/")[-2]
    assert decode_relay_payload(payload) == target
    assert original_callback_url(url, PUBLIC) == "https://lms/x?a=1&b=ü"
    assert original_callback_url(url, "https://other.example.org") is None
    assert original_callback_url("https://lms/x", PUBLIC) is None
    assert decode_relay_payload("not-base64!") is None
    assert decode_relay_payload("") is None


def test_restore_in_xml() -> None:
    target = RelayTarget("endcallbackurl", 1, 2, "m", "https://lms/end?a=1&b=2")
    url = relay_url(PUBLIC, target, "s")
    xml = f"<metadata><endcallbackurl>{escape(url)}</endcallbackurl></metadata>"
    assert restore_callback_urls(xml, PUBLIC, xml=True) == (
        "<metadata><endcallbackurl>https://lms/end?a=1&amp;b=2</endcallbackurl></metadata>"
    )
    assert restore_callback_urls("nothing", PUBLIC, xml=True) == "nothing"


def test_relay_query_replaces_every_spelling_once() -> None:
    server = Server(3, "s", "https://b/bigbluebutton/api/", "sec", 10)
    query = RawQuery.parse(
        b"name=x&meta_endCallbackUrl=https%3A%2F%2Flms%2Fend&meta_ENDCALLBACKURL=https%3A%2F%2Fother"
        b"&meta_bbb-recording-ready-url=https%3A%2F%2Flms%2Frec&meta_analytics-callback-url="
        b"https%3A%2F%2Flms%2Fa&meta_other=https%3A%2F%2Fkeep"
    )
    out = relay_query(query, PUBLIC, 2, "m1", server)
    params = ApiParams.parse(out.encode().encode())
    meta = params.metadata()
    assert original_callback_url(meta["endcallbackurl"], PUBLIC) == "https://lms/end"
    assert original_callback_url(meta["bbb-recording-ready-url"], PUBLIC) == "https://lms/rec"
    assert original_callback_url(meta["analytics-callback-url"], PUBLIC) == "https://lms/a"
    assert meta["other"] == "https://keep"
    assert "other" not in out.encode().split("meta_other")[0]  # the duplicate is gone
    assert out.names().count("meta_ENDCALLBACKURL") == 0


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("::1", False),
        ("::ffff:10.0.0.1", False),
        ("fe80::1%eth0", False),
        ("224.0.0.1", False),
        ("nonsense", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(address) is public


async def test_public_resolver_refuses_local_names() -> None:
    resolver = PublicResolver()
    try:
        with pytest.raises(OSError, match="no public address"):
            await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()
