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
from bbbfleet.webhooks.targets import (
    PublicResolver,
    callback_url_problem,
    is_public,
    numeric_host,
)

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


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://2130706433/", True),  # 127.0.0.1 as one decimal number
        ("http://0x7f000001/", True),
        ("http://0x7F.1/", True),
        ("http://127.1/", True),
        ("http://0177.0.0.1/", True),  # octal
        ("http://0/", True),
        ("http://10.1/", True),
        ("http://3232235521/", True),  # 192.168.0.1
        ("http://[::127.0.0.1]/", True),  # IPv4-compatible
        ("http://[::ffff:10.0.0.1]/", True),  # IPv4-mapped
        ("http://[64:ff9b::7f00:1]/", True),  # NAT64 of 127.0.0.1
        ("http://[64:ff9b::a00:1]/", True),  # NAT64 of 10.0.0.1
        ("http://[64:ff9b:1::808:808]/", True),  # local-use NAT64
        ("http://[2002:7f00:1::]/", True),  # 6to4 of 127.0.0.1
        ("http://[2002:c0a8:1::]/", True),  # 6to4 of 192.168.0.1
        ("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", True),  # Teredo client 10.0.0.1
        ("http://240.0.0.1/", True),  # reserved
        ("http://255.255.255.255/", True),
        ("http://[::]/", True),
        ("http://[ff02::1]/", True),
        ("http://134744072/", False),  # 8.8.8.8
        ("http://0x08080808/", False),
        ("http://8.8.8.8/", False),
        ("http://[64:ff9b::808:808]/", False),  # NAT64 of 8.8.8.8
        ("http://[2606:4700:4700::1111]/", False),
        ("http://1.2.3.4.5/", False),  # not an address: a (bad) host name, resolved later
        ("http://08.1/", False),  # not octal: a host name for inet_aton too
        ("http://example.org/", False),
    ],
)
def test_numeric_hosts_normalised_like_inet_aton(url: str, refused: bool) -> None:
    assert (callback_url_problem(url) is not None) is refused, url
    host = url.split("//", 1)[1].split("/", 1)[0].strip("[]")
    if numeric_host(host) is not None:  # the resolver's check agrees with the create check
        assert is_public(host) is not refused, host
