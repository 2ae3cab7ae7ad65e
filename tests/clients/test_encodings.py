"""Every way clients encode and sign a BBB query, through the gateway.

BBB hashes the query string exactly as received, so a client may encode however it likes as long as
it hashes what it sends (REFERENCE.md §2.1).  Each variant below creates a meeting whose name,
meetingID and metadata are full of characters that encoders treat differently, then checks that

* the gateway accepts it and getMeetingInfo returns name and metadata exactly, XML-escaped as BBB
  escapes them;
* one character changed after signing (a letter of the meetingID, or only the case of one
  percent-escape, which decodes to the same parameters) is a checksumError and creates nothing.

Library variants come from PHP's and Ruby's own encoders (php/, ruby/, see encoders.py) when the
interpreters are installed, and from the Python emulation of the same library code otherwise.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import pytest

from tests.clients.conftest import (
    ALPHA_SECRET,
    META,
    NAME,
    Gateway,
    assert_checksum_error,
    bbb_escape,
    flip_escape_case,
    meeting_info,
    sign,
    stored_meeting,
    tamper,
)
from tests.clients.encoders import (
    PHP_FLAVOURS,
    RUBY_FLAVOURS,
    Signing,
    emulate,
    interpreter,
    run_real,
)

# The algorithms each library release range can sign with.
LIBRARY_ALGORITHMS = {
    "php-2.2": ("sha1", "sha256"),  # 2.0/2.1 sha1 only; 2.2 defaults to sha256
    "php-3.0": ("sha256", "sha384", "sha512"),  # sha256 is the default of 2.2 and later
    "ruby-1.6": ("sha1",),
    "ruby-1.9": ("sha1", "sha256"),  # sha256 with the constructor's sha256 flag
}


@dataclass(frozen=True)
class Variant:
    """A signed create query (everything after ``?``) as some client sends it, byte for byte."""

    label: str
    query: bytes
    meeting_id: str


def meeting_id_for(label: str) -> str:
    # Starts with "m" (the letter tamper() changes); '~', '+', spaces and UTF-8 in the ID too.
    return f"m {label} ~ Zoë+1"


def create_params(meeting_id: str) -> tuple[tuple[str, str], ...]:
    meta = tuple((f"meta_{key}", value) for key, value in META.items())
    return (("name", NAME), ("meetingID", meeting_id), ("attendeePW", "ap"), *meta)


def library_signings(flavours: tuple[str, ...]) -> list[Signing]:
    signings = []
    for flavour in flavours:
        for algorithm in LIBRARY_ALGORITHMS[flavour]:
            meeting_id = meeting_id_for(f"{flavour} {algorithm}")
            params = create_params(meeting_id)
            signings.append(Signing(flavour, "create", params, ALPHA_SECRET, algorithm))
    return signings


def hand_variants() -> list[Variant]:
    """Encodings no library above produces but real clients do."""
    variants = []

    def add(
        label: str,
        encode: Callable[[str], str],
        algorithm: str,
        *,
        prefix: str = "",
        upper: bool = False,
    ) -> None:
        meeting_id = meeting_id_for(label)
        pairs = [(k, encode(v)) for k, v in create_params(meeting_id)]
        query = (prefix + "&".join(f"{k}={v}" for k, v in pairs)).encode()
        checksum = sign("create", query, ALPHA_SECRET, algorithm)
        checksum = checksum.upper() if upper else checksum
        variants.append(Variant(label, query + b"&checksum=" + checksum.encode(), meeting_id))

    def lowercase_escapes(value: str) -> str:
        return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(value, safe=""))

    def raw_utf8(value: str) -> str:
        # Non-ASCII goes out as raw UTF-8 bytes; ASCII specials still percent-encoded.
        return "".join(ch if ord(ch) > 127 else quote(ch, safe="") for ch in value)

    add("lowercase-escapes", lowercase_escapes, "sha1")
    add("raw-utf8", raw_utf8, "sha256")
    add("leading-ampersand", lambda v: quote_plus(v, safe=""), "sha384", prefix="&")
    add("uppercase-checksum", lambda v: quote_plus(v, safe=""), "sha512", upper=True)
    add("uppercase-checksum-sha1", lambda v: quote(v, safe="~"), "sha1", upper=True)
    return variants


async def raw_get(gateway: Gateway, target: bytes) -> tuple[int, bytes]:
    """GET with the request target sent byte for byte (httpx would percent-encode raw UTF-8)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.settings.port)
    host = f"127.0.0.1:{gateway.settings.port}".encode()
    writer.write(
        b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = dict(line.lower().split(b":", 1) for line in lines[1:])
    if headers.get(b"transfer-encoding", b"").strip() == b"chunked":
        body = dechunk(body)
    return int(lines[0].split()[1]), body


def dechunk(body: bytes) -> bytes:
    out = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return out
        out, body = out + body[:size], body[size + 2 :]


async def check_variant(gateway: Gateway, variant: Variant) -> None:
    path = b"/bigbluebutton/api/create?"
    status, body = await raw_get(gateway, path + variant.query)
    text = body.decode()
    assert status == 200, (variant.label, text)
    assert "<returncode>SUCCESS</returncode>" in text, (variant.label, text)
    assert f"<meetingID>{bbb_escape(variant.meeting_id)}</meetingID>" in text, variant.label
    stored_meeting(await meeting_info(gateway, variant.meeting_id), NAME, META)

    query = "?" + variant.query.decode()
    changed_letter = tamper(query)[1:].encode()
    changed_case = flip_escape_case(query)[1:].encode()
    for bad in (changed_letter, changed_case):
        assert bad != variant.query and len(bad) == len(variant.query)
        status, body = await raw_get(gateway, path + bad)
        assert status == 200, variant.label
        assert_checksum_error(body.decode())
    never_created = await meeting_info(gateway, "x" + variant.meeting_id[1:])
    assert "<messageKey>notFound</messageKey>" in never_created, variant.label


async def check_get_meetings(gateway: Gateway, flavour: str, query: str, ids: list[str]) -> None:
    status, body = await raw_get(gateway, b"/bigbluebutton/api/getMeetings?" + query.encode())
    text = body.decode()
    assert status == 200 and "<returncode>SUCCESS</returncode>" in text, (flavour, text)
    for meeting_id in ids:
        assert f"<meetingID>{bbb_escape(meeting_id)}</meetingID>" in text, (flavour, meeting_id)


def library_queries(source: str) -> tuple[list[Signing], list[str]]:
    """Signed create and getMeetings queries of every flavour of one source."""
    flavours = {
        "php": PHP_FLAVOURS,
        "ruby": RUBY_FLAVOURS,
        "emulated": PHP_FLAVOURS + RUBY_FLAVOURS,
    }[source]
    signings = library_signings(flavours)
    signings += [Signing(f, "getMeetings", (), ALPHA_SECRET) for f in flavours]
    if source == "emulated":
        return signings, [emulate(s) for s in signings]
    if interpreter(flavours[0]) is None:
        pytest.skip(f"{source} is not installed (apt-get install php-cli ruby)")
    return signings, run_real(signings)


@pytest.mark.parametrize("source", ["php", "ruby", "emulated"])
async def test_library_encodings(gateway: Gateway, source: str) -> None:
    signings, queries = library_queries(source)
    created: list[str] = []
    for signing, query in zip(signings, queries, strict=True):
        if signing.call == "getMeetings":
            await check_get_meetings(gateway, signing.flavour, query, created)
            continue
        meeting_id = dict(signing.params)["meetingID"]
        label = f"{signing.flavour} {signing.algorithm}"
        await check_variant(gateway, Variant(label, query.encode(), meeting_id))
        created.append(meeting_id)
    assert_flavour_traits(signings, queries)


# What each flavour was picked for, as its own encoder wrote it: (present, absent) substrings.
FLAVOUR_TRAITS = {
    "php-2.2": (("%7E", "+"), ("~", "%20")),
    "php-3.0": (("~", "+", "%2A", "%27"), ("%7E", "%20")),
    "ruby-1.6": (("~", "+", "%2A"), ("%7E", "%20")),
    "ruby-1.9": (("%7E", "+", "*"), ("~", "%2A", "%20")),
}


def assert_flavour_traits(signings: list[Signing], queries: list[str]) -> None:
    for signing, query in zip(signings, queries, strict=True):
        if signing.call == "getMeetings":
            # PHP's buildQs puts '&checksum=' after the (empty) parameters; Ruby does not.
            assert query.startswith("&checksum=") == (signing.flavour in PHP_FLAVOURS)
            continue
        present, absent = FLAVOUR_TRAITS[signing.flavour]
        params = query.split("&checksum=")[0]
        assert all(p in params for p in present), (signing.flavour, params)
        assert not any(a in params for a in absent), (signing.flavour, params)


async def test_hand_made_encodings(gateway: Gateway) -> None:
    variants = [v for v in hand_variants() if v.label != "raw-utf8"]
    lower = next(v for v in variants if v.label == "lowercase-escapes")
    assert b"%c3%ab" in lower.query and b"%20" in lower.query
    for variant in variants:
        await check_variant(gateway, variant)
    # getMeetings signed over an empty query but sent with an empty leading parameter, as
    # bigbluebutton-api-php, bigbluebutton2 and bbb-client send it.
    await check_get_meetings(
        gateway,
        "leading &",
        f"&checksum={sign('getMeetings', '')}",
        [v.meeting_id for v in variants],
    )


async def test_raw_utf8_bytes_in_the_query_get_a_bbb_style_400(gateway: Gateway) -> None:
    """Raw non-ASCII bytes in a request line are refused by HTTP parsers (Tomcat in front of
    bbb-web too); the gateway refuses them with a BBB FAILED document, and creates nothing."""
    raw = next(v for v in hand_variants() if v.label == "raw-utf8")
    assert "Zoë".encode() in raw.query and b"%20" in raw.query
    status, body = await raw_get(gateway, b"/bigbluebutton/api/create?" + raw.query)
    assert status == 400
    assert body.decode() == (
        "<response>\n<returncode>FAILED</returncode>\n<messageKey>malformedRequest</messageKey>\n"
        "<message>The HTTP request could not be parsed; percent-encode non-ASCII characters in "
        "the URL</message>\n</response>"
    )
    never_created = await meeting_info(gateway, raw.meeting_id)
    assert "<messageKey>notFound</messageKey>" in never_created


@pytest.mark.parametrize("language", ["php", "ruby"])
def test_emulations_match_the_real_encoders(language: str) -> None:
    flavours = PHP_FLAVOURS if language == "php" else RUBY_FLAVOURS
    if interpreter(flavours[0]) is None:
        pytest.skip(f"{language} is not installed (apt-get install php-cli ruby)")
    tricky = "".join(chr(c) for c in range(0x20, 0x7F)) + "é日🎓"
    signings = library_signings(flavours)
    signings += [Signing(f, "getMeetings", (), ALPHA_SECRET) for f in flavours]
    signings += [
        Signing(f, "create", (("name", tricky), ("empty", ""), ("zero", "0")), ALPHA_SECRET)
        for f in flavours
    ]
    assert run_real(signings) == [emulate(s) for s in signings]
