"""Reading and minimally editing BBB response documents received from a backend server.

The gateway passes backend answers through unchanged except for the identifiers it must translate,
so these helpers edit the text in place instead of re-rendering it: whatever a newer BBB adds to
its answers reaches the client untouched.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

from bbbfleet.protocol.xml import escape


class MalformedDocument(ValueError):
    """The backend's answer is not a BBB ``<response>`` document."""


_ENTITY = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}
_ENTITY_RE = re.compile(r"&(?:amp|lt|gt|quot|apos);")
_MEETING_BLOCK = re.compile(r"<meeting>\n.*?\n</meeting>", re.DOTALL)


def unescape(text: str) -> str:
    return _ENTITY_RE.sub(lambda m: _ENTITY[m.group(0)], text)


def parse(body: str) -> ElementTree.Element:
    """Parse and check that this is a ``<response>`` with a ``<returncode>``."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise MalformedDocument(f"not XML: {exc}") from exc
    if root.tag != "response" or root.find("returncode") is None:
        raise MalformedDocument("no <response><returncode> document")
    return root


def child_text(root: ElementTree.Element, tag: str) -> str | None:
    element = root.find(tag)
    return None if element is None else (element.text or "")


def replace_element_text(body: str, tag: str, old: str, new: str) -> str:
    """Replace ``<tag>old</tag>`` by ``<tag>new</tag>`` (values given unescaped)."""
    return body.replace(f"<{tag}>{escape(old)}</{tag}>", f"<{tag}>{escape(new)}</{tag}>")


def meeting_blocks(body: str) -> list[str]:
    """The ``<meeting>…</meeting>`` blocks of a getMeetings answer, as rendered."""
    if not body.startswith("<response>") or not body.rstrip().endswith("</response>"):
        raise MalformedDocument("not a getMeetings document")
    if "<returncode>SUCCESS</returncode>" not in body:
        raise MalformedDocument("getMeetings did not succeed")
    return _MEETING_BLOCK.findall(body)


_BLOCK_MEETING_ID = re.compile(r"^<meetingID>(.*?)</meetingID>$", re.MULTILINE)


def block_meeting_id(block: str) -> str | None:
    """The external meetingID of one getMeetings block (first ``<meetingID>`` line)."""
    match = _BLOCK_MEETING_ID.search(block)
    return None if match is None else unescape(match.group(1))


_BLOCK_PARTICIPANTS = re.compile(r"^<participantCount>(\d+)</participantCount>$", re.MULTILINE)


def block_participant_count(block: str) -> int:
    """Online users of one getMeetings block (0 when the element is missing)."""
    match = _BLOCK_PARTICIPANTS.search(block)
    return int(match.group(1)) if match else 0
