"""Fixtures for driving the gateway with real BBB client libraries.

The ``gateway`` fixture (real gateway, tenants alpha/beta, three simulated BBB servers, SQLite and
PostgreSQL) is the end-to-end one from tests/gateway.  The helpers here sign and read back on their
own (plain hashlib, no bbbfleet code), so a bug in the project's checksum code cannot hide itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote

from tests.gateway.conftest import ALPHA_SECRET, Gateway, gateway

__all__ = [
    "ALPHA_SECRET",
    "FULL_NAME",
    "META",
    "NAME",
    "Gateway",
    "assert_checksum_error",
    "assert_join_checksum_error",
    "bbb_escape",
    "flip_escape_case",
    "gateway",
    "get_xml",
    "meeting_info",
    "sign",
    "stored_meeting",
    "tamper",
    "wait_until_ended",
]

# Everything that encoders disagree about: an apostrophe (%27 or raw), '&', '+', '~' (%7E or raw),
# spaces ('+' or %20), '*', parentheses, '!', quotes and angle brackets (XML escaping on the way
# back), Latin-1, CJK and a 4-byte emoji (UTF-8 and UTF-16 surrogates).
NAME = 'Zoë\'s Café & Co + ~tilde~ (1*2)! "quoted" <b>日本語</b> 🎓'
FULL_NAME = "Jürgen O'Brien & Söhne ~ 1+1"
# Keys as an LMS sends them (mixed case is lowercased by BBB); values with the same trouble makers.
META = {
    "bbb-origin": "Moodle",
    "bbb-context": "Kurs: Café & Chemie ~ 1+1 'quoted' <i>x</i>",
    "Presenter": "Zoë Ünal",
    "lms-url": "https://lms.example/course/view.php?id=7&section=2#~top",
}


def bbb_escape(text: str) -> str:
    """XML text as bbb-web's FreeMarker templates render it: all five entities."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def sign(call: str, query: str | bytes, secret: str = ALPHA_SECRET, algorithm: str = "sha1") -> str:
    """``hash(call + query + secret)`` in lowercase hex, the BBB checksum."""
    raw = query.encode() if isinstance(query, str) else query
    return hashlib.new(algorithm, call.encode() + raw + secret.encode()).hexdigest()


async def get_xml(gateway: Gateway, call: str, **params: str) -> str:
    """Call the gateway with a plainly encoded, independently signed query; the body as text."""
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    checksum = sign(call, query)
    joiner = "&" if query else ""
    response = await gateway.http.get(f"{gateway.api}{call}?{query}{joiner}checksum={checksum}")
    assert response.status_code == 200, response.text
    return response.text


async def meeting_info(gateway: Gateway, meeting_id: str) -> str:
    return await get_xml(gateway, "getMeetingInfo", meetingID=meeting_id)


def stored_meeting(xml_text: str, name: str, meta: dict[str, str]) -> None:
    """Assert a getMeetingInfo body holds exactly this name and metadata, escaped as BBB does."""
    assert "<returncode>SUCCESS</returncode>" in xml_text, xml_text
    assert f"<meetingName>{bbb_escape(name)}</meetingName>" in xml_text
    for key, value in meta.items():
        element = key.lower()
        assert f"<{element}>{bbb_escape(value)}</{element}>" in xml_text, (key, xml_text)
    root = ET.fromstring(xml_text)
    assert root.findtext("meetingName") == name
    metadata = root.find("metadata")
    assert metadata is not None
    stored = {child.tag: child.text or "" for child in metadata}
    assert {k.lower(): v for k, v in meta.items()}.items() <= stored.items()


async def wait_until_ended(gateway: Gateway, meeting_id: str, seconds: float = 3.0) -> str:
    """BBB ends a meeting asynchronously; poll getMeetingInfo until it answers notFound."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        body = await meeting_info(gateway, meeting_id)
        if "<messageKey>notFound</messageKey>" in body:
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.05)


def tamper(url: str, param: str = "meetingID") -> str:
    """``url`` with one character of ``param``'s value changed, after signing."""
    match = re.search(rf"[?&]{param}=([^&%])", url)
    assert match is not None, (param, url)
    old = match.group(1)
    new = str((int(old) + 1) % 10) if old.isdigit() else ("x" if old != "x" else "y")
    return url[: match.start(1)] + new + url[match.end(1) :]


def flip_escape_case(url: str) -> str:
    """``url`` with the case of one percent-escape's hex letter flipped (``%2B`` → ``%2b``).

    The decoded parameters stay identical, so only a checksum over the raw query notices.
    """
    match = re.search(r"%[0-9A-Fa-f]*[A-Fa-f]", url.split("checksum=")[0])
    assert match is not None, url
    return url[: match.end() - 1] + url[match.end() - 1].swapcase() + url[match.end() :]


def assert_checksum_error(body: str) -> None:
    assert "<returncode>FAILED</returncode>" in body, body
    assert "<messageKey>checksumError</messageKey>" in body, body


def assert_join_checksum_error(status: int, location: str | None) -> None:
    """BBB 3.0 answers every join validation error, checksum included, with a redirect."""
    assert status == 302, (status, location)
    assert location is not None and "%22key%22:%22checksumError%22" in location, location
