"""The post-publish push of a recording archive to the gateway (contract C2), sender side.

    POST {gateway}/bigbluebutton/fleet/recordings/push?server=…&recordID=…&size=…&sha256=…&checksum=…
    Content-Type: application/x-tar (or application/gzip)

The checksum is a BBB API checksum with the call name ``recordingsPush``: sha256 of
``"recordingsPush" + query without checksum + the server's secret``.  An empty body (size 0, no
``sha256``) asks for indexing only.  The answer is BBB-style XML with ``imported`` and the
``sha256`` the gateway verified.  The simulator's sender and the shipped Ruby script
(``contrib/bbb-server/bbbfleet-post-publish.rb``) build the same request.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from bbbfleet.protocol.checksum import sign_query

PUSH_CALL: Final = "recordingsPush"
PUSH_PATH: Final = "/bigbluebutton/fleet/recordings/push"
TAR_TYPE: Final = "application/x-tar"
GZIP_TYPE: Final = "application/gzip"


def push_query(server: str, record_id: str, archive: bytes, secret: str) -> str:
    """The signed query string for one archive (an empty one: index only)."""
    pairs = [("server", server), ("recordID", record_id), ("size", str(len(archive)))]
    if archive:
        pairs.append(("sha256", hashlib.sha256(archive).hexdigest()))
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in pairs)
    return sign_query(PUSH_CALL, query, secret, "sha256")


def push_url(base: str, query: str) -> str:
    """``base`` is the full push URL (gateway base + ``PUSH_PATH``), as configured."""
    return f"{base}{'&' if '?' in base else '?'}{query}"


@dataclass(frozen=True, slots=True)
class PushAnswer:
    """What the gateway said about one push."""

    success: bool
    imported: bool = False
    sha256: str | None = None
    message_key: str | None = None
    message: str | None = None

    def confirms(self, sha256: str) -> bool:
        """Imported, and the archive the gateway verified is the one sent: only then may the
        sender delete its copy."""
        return self.success and self.imported and self.sha256 == sha256


def parse_push_answer(body: bytes | str) -> PushAnswer | None:
    """The answer's fields, or None when it is not a BBB-style XML answer."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if root.tag != "response":
        return None

    def text(tag: str) -> str | None:
        element = root.find(tag)
        return None if element is None else (element.text or "")

    return PushAnswer(
        success=text("returncode") == "SUCCESS",
        imported=text("imported") == "true",
        sha256=text("sha256"),
        message_key=text("messageKey"),
        message=text("message"),
    )
