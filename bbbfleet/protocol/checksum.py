"""Checksums of BBB API calls: verification over the raw query string, and signing.

BBB hashes ``callName + queryStringWithoutChecksum + secret`` where the query string is exactly the
bytes the client sent (never decoded or re-encoded) with the checksum parameter cut out by three
literal replacements.  The algorithm is chosen by the checksum's length (REFERENCE.md §2).
Because clients encode differently (``+`` or ``%20``, a leading ``&``, raw UTF-8) the verifier
works on bytes and never rebuilds the query.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

ALGORITHM_BY_LENGTH: dict[int, str] = {40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}
ALL_ALGORITHMS: tuple[str, ...] = ("sha1", "sha256", "sha384", "sha512")


class ChecksumResult(enum.Enum):
    VALID = "valid"
    MISSING = "missing"
    MISMATCH = "mismatch"


def strip_control_and_trim(value: str) -> str:
    """BBB's parameter sanitiser: drop Unicode Cc characters, then trim outer whitespace.

    Java's ``String.trim()`` removes only characters up to U+0020; once the Cc characters are gone
    that leaves the plain space.  Python's ``str.strip()`` would also eat U+00A0, U+3000 …, which
    BBB keeps (and a meetingID starting with one is valid there).
    """
    return _CONTROL.sub("", value).strip(" ")


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _strip_control_bytes(raw: bytes) -> bytes:
    """``strip_control_and_trim`` over bytes: UTF-8 text is sanitised as text (so an encoded C1
    control such as U+0085 goes, as in bbb-web), any other byte is kept untouched."""
    text = raw.decode("utf-8", errors="surrogateescape")
    return strip_control_and_trim(text).encode("utf-8", errors="surrogateescape")


def checksum_parameter(raw_query: bytes) -> bytes | None:
    """The decoded value of the first ``checksum`` parameter, or None when absent."""
    for part in raw_query.split(b"&"):
        name, _sep, value = part.partition(b"=")
        if name == b"checksum":
            decoded = unquote_to_bytes(value.replace(b"+", b" "))
            return _strip_control_bytes(decoded)
    return None


def query_without_checksum(raw_query: bytes, checksum: bytes) -> bytes:
    """Remove the checksum parameter exactly as bbb-web does: three literal replacements."""
    query = _strip_control_bytes(raw_query)
    query = query.replace(b"&checksum=" + checksum, b"")
    query = query.replace(b"checksum=" + checksum + b"&", b"")
    return query.replace(b"checksum=" + checksum, b"")


def compute(call: str, query: bytes | str, secret: str, algorithm: str = "sha1") -> str:
    """Lowercase hex digest of ``call + query + secret``."""
    if isinstance(query, str):
        query = query.encode()
    return _HASHES[algorithm](call.encode() + query + secret.encode()).hexdigest()


_HASHES = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def verify(
    call: str,
    raw_query: bytes,
    secrets: Iterable[str],
    allowed_algorithms: str | Iterable[str] = ALL_ALGORITHMS,
    form_body: bytes | None = None,
) -> tuple[ChecksumResult, str | None]:
    """Check a request's checksum against one or more secrets.

    Returns the result and, when valid, the secret that matched (tenants may have several secrets
    during a rollover).  The comparison is case-insensitive and constant-time.

    bbb-web takes the checksum *value* from the merged parameters, so a POST whose URL has no
    ``checksum`` may carry it in its form body; the hashed string is still only the URL query
    (empty for an all-body POST: ``hash(call + secret)``, REFERENCE.md §2.1).
    """
    supplied = checksum_parameter(raw_query)
    if supplied is None and form_body:
        supplied = checksum_parameter(form_body)
    if not supplied:
        return ChecksumResult.MISSING, None
    algorithm = ALGORITHM_BY_LENGTH.get(len(supplied))
    # bbb-web's test is a substring test on its comma list; accept that list as one string too
    # (iterating a str would join its letters and silently disable every algorithm).
    allowed = (
        allowed_algorithms if isinstance(allowed_algorithms, str) else ",".join(allowed_algorithms)
    )
    if algorithm is None or algorithm not in allowed:
        return ChecksumResult.MISMATCH, None
    query = query_without_checksum(raw_query, supplied)
    supplied_lower = supplied.lower()
    for secret in secrets:
        expected = compute(call, query, secret, algorithm).encode()
        if hmac.compare_digest(expected, supplied_lower):
            return ChecksumResult.VALID, secret
    return ChecksumResult.MISMATCH, None


def sign_query(call: str, query: str, secret: str, algorithm: str = "sha1") -> str:
    """Append ``checksum=`` to an already encoded query string."""
    checksum = compute(call, query, secret, algorithm)
    separator = "&" if query else ""
    return f"{query}{separator}checksum={checksum}"
