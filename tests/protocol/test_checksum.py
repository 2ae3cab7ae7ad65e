"""Checksum verification over the raw query bytes (REFERENCE.md §2).

Every expected checksum is built here with hashlib, never with the module under test, and the
client encodings are the literal output of the real libraries (node's encodeURIComponent and
Java's URLEncoder were run to produce them; PHP's and Ruby's follow their documented alphabets).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbbfleet.protocol.checksum import (
    ChecksumResult,
    checksum_parameter,
    compute,
    query_without_checksum,
    sign_query,
    strip_control_and_trim,
    verify,
)
from bbbfleet.protocol.params import ApiParams

SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
OLD_SECRET = "0d5b2f6e-old-secret-being-rolled-over"
VALID, MISSING, MISMATCH = ChecksumResult.VALID, ChecksumResult.MISSING, ChecksumResult.MISMATCH

NAME = "Anton G's Room ~ *!() ü 😀 a+b&c=d/e?f"

# ``NAME`` as each client library writes it.
ENCODED_NAME: dict[str, bytes] = {
    # PHP urlencode / http_build_query (RFC 1738): `+` for space, `~` as %7E, `*` encoded.
    "php": b"Anton+G%27s+Room+%7E+%2A%21%28%29+%C3%BC+%F0%9F%98%80+a%2Bb%26c%3Dd%2Fe%3Ff",
    # JavaScript encodeURIComponent: %20, and ~ ' ( ) ! * literal.
    "javascript": b"Anton%20G's%20Room%20~%20*!()%20%C3%BC%20%F0%9F%98%80%20a%2Bb%26c%3Dd%2Fe%3Ff",
    # Python urllib.parse.urlencode (quote_plus): `+`, `~` literal, `*` encoded.
    "python": b"Anton+G%27s+Room+~+%2A%21%28%29+%C3%BC+%F0%9F%98%80+a%2Bb%26c%3Dd%2Fe%3Ff",
    # Ruby CGI.escape (2.5+): `+`, `~` literal, `*` encoded.
    "ruby": b"Anton+G%27s+Room+~+%2A%21%28%29+%C3%BC+%F0%9F%98%80+a%2Bb%26c%3Dd%2Fe%3Ff",
    # Java URLEncoder.encode(s, "UTF-8"): `+`, `*` literal, `~` as %7E.
    "java": b"Anton+G%27s+Room+%7E+*%21%28%29+%C3%BC+%F0%9F%98%80+a%2Bb%26c%3Dd%2Fe%3Ff",
    # Lowercase hex escapes (e.g. hand-rolled clients).
    "lowercase-hex": b"Anton%20G's%20Room%20~%20*!()%20%c3%bc%20%f0%9f%98%80%20a%2bb%26c%3dd%2fe%3ff",
    # Raw UTF-8 bytes, only the characters that would break the query escaped.
    "raw-utf8": "Anton G's Room ~ *!() ü 😀 a%2Bb%26c%3Dd/e?f".encode(),
}


def digest(call: str, query: bytes, secret: str = SECRET, algorithm: str = "sha1") -> bytes:
    return hashlib.new(algorithm, call.encode() + query + secret.encode()).hexdigest().encode()


def with_checksum(query: bytes, checksum: bytes, position: str = "last") -> bytes:
    parts = query.split(b"&")
    item = b"checksum=" + checksum
    if position == "first":
        parts.insert(0, item)
    elif position == "middle":
        parts.insert(len(parts) // 2, item)
    else:
        parts.append(item)
    return b"&".join(parts)


# --- client encodings ------------------------------------------------------------------------


def test_python_encoding_literal_matches_urlencode() -> None:
    assert urlencode([("name", NAME)]).encode() == b"name=" + ENCODED_NAME["python"]


def test_javascript_encoding_literal_matches_quote_with_js_safe_set() -> None:
    assert quote(NAME, safe="-_.!~*'()").encode() == ENCODED_NAME["javascript"]


@pytest.mark.parametrize("client", sorted(ENCODED_NAME))
def test_every_client_encoding_verifies_over_its_raw_bytes(client: str) -> None:
    query = b"name=" + ENCODED_NAME[client] + b"&meetingID=room-1&meta_bbb-origin=Moodle"
    raw = with_checksum(query, digest("create", query))

    assert verify("create", raw, [SECRET]) == (VALID, SECRET)
    # Same parameters, so the same meeting name whatever the encoding.
    assert ApiParams.parse(raw)["name"] == NAME


@pytest.mark.parametrize("client", sorted(ENCODED_NAME))
def test_checksum_over_another_clients_encoding_fails(client: str) -> None:
    """The bytes are hashed as sent: re-encoding the same values changes the checksum."""
    other = "javascript" if client != "javascript" else "php"
    sent = b"name=" + ENCODED_NAME[client]
    hashed = b"name=" + ENCODED_NAME[other]
    assert sent != hashed
    raw = with_checksum(sent, digest("create", hashed))
    assert verify("create", raw, [SECRET]) == (MISMATCH, None)


def test_lowercase_and_uppercase_hex_escapes_are_different_bytes() -> None:
    upper = b"name=" + ENCODED_NAME["javascript"]
    lower = re.sub(rb"%[0-9A-F]{2}", lambda m: m.group().lower(), upper)
    assert lower == b"name=" + ENCODED_NAME["lowercase-hex"]
    raw = with_checksum(lower, digest("create", upper))
    assert verify("create", raw, [SECRET]) == (MISMATCH, None)


def test_leading_empty_ampersand_of_get_join_url_is_hashed() -> None:
    query = (
        b"&fullName=Anton%2520G&meetingID=moodle-course-7-room-3&role=VIEWER"
        b"&redirect=true&existingUserID=w_euxnssffnsbs"
    )
    raw = query + b"&checksum=" + digest("join", query)
    assert verify("join", raw, [SECRET]) == (VALID, SECRET)
    # Without the leading `&` the hashed string differs.
    assert digest("join", query) != digest("join", query[1:])


def test_unicode_name_and_metadata_values() -> None:
    query = (
        "name=Zoë%E2%80%99s Räum 日本語&meetingID=über-raum&meta_bbb-context=Kurs Ä"
        "&meta_bbb-origin-server-name=ünï.example"
    ).encode()
    raw = query + b"&checksum=" + digest("create", query)
    assert verify("create", raw, [SECRET]) == (VALID, SECRET)
    assert ApiParams.parse(raw).metadata() == {
        "bbb-context": "Kurs Ä",
        "bbb-origin-server-name": "ünï.example",
    }


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_checksum_position_does_not_matter(position: str) -> None:
    query = b"name=Room&meetingID=room-1&record=true&attendeePW=ap"
    raw = with_checksum(query, digest("create", query), position)
    assert verify("create", raw, [SECRET]) == (VALID, SECRET)


def test_checksum_as_the_only_parameter_hashes_the_call_name_alone() -> None:
    raw = b"checksum=" + digest("getMeetings", b"")
    assert verify("getMeetings", raw, [SECRET]) == (VALID, SECRET)


def test_uppercase_checksum_hex_is_accepted() -> None:
    query = b"meetingID=room-1"
    raw = query + b"&checksum=" + digest("isMeetingRunning", query).upper()
    assert verify("isMeetingRunning", raw, [SECRET]) == (VALID, SECRET)


def test_call_name_is_part_of_the_hash() -> None:
    query = b"meetingID=room-1"
    raw = query + b"&checksum=" + digest("getMeetingInfo", query)
    assert verify("getMeetingInfo", raw, [SECRET]) == (VALID, SECRET)
    assert verify("end", raw, [SECRET]) == (MISMATCH, None)


def test_wrong_secret_and_tampered_query_fail() -> None:
    query = b"meetingID=room-1&password=mp"
    good = digest("end", query)
    assert verify("end", query + b"&checksum=" + digest("end", query, "nope"), [SECRET]) == (
        MISMATCH,
        None,
    )
    assert verify("end", b"meetingID=room-2&password=mp&checksum=" + good, [SECRET]) == (
        MISMATCH,
        None,
    )


# --- algorithms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "length"), [("sha1", 40), ("sha256", 64), ("sha384", 96), ("sha512", 128)]
)
def test_algorithm_is_selected_by_checksum_length(algorithm: str, length: int) -> None:
    query = b"meetingID=room-1&fullName=Mary+Sue&role=VIEWER"
    checksum = digest("join", query, algorithm=algorithm)
    assert len(checksum) == length
    assert verify("join", query + b"&checksum=" + checksum, [SECRET]) == (VALID, SECRET)


def test_sha1_of_the_right_length_but_computed_with_sha256_prefix_fails() -> None:
    query = b"meetingID=room-1"
    truncated = digest("end", query, algorithm="sha256")[:40]
    assert verify("end", query + b"&checksum=" + truncated, [SECRET]) == (MISMATCH, None)


def test_algorithm_allow_list_rejects_a_valid_sha1_checksum() -> None:
    query = b"meetingID=room-1"
    sha1 = query + b"&checksum=" + digest("end", query)
    sha256 = query + b"&checksum=" + digest("end", query, algorithm="sha256")
    assert verify("end", sha1, [SECRET], allowed_algorithms=["sha256"]) == (MISMATCH, None)
    assert verify("end", sha256, [SECRET], allowed_algorithms=["sha256"]) == (VALID, SECRET)


def test_allow_list_given_as_bbb_web_property_string() -> None:
    query = b"meetingID=room-1"
    sha1 = query + b"&checksum=" + digest("end", query)
    sha512 = query + b"&checksum=" + digest("end", query, algorithm="sha512")
    assert verify("end", sha1, [SECRET], allowed_algorithms="sha1,sha256") == (VALID, SECRET)
    assert verify("end", sha512, [SECRET], allowed_algorithms="sha1,sha256") == (MISMATCH, None)


def test_empty_allow_list_rejects_everything() -> None:
    query = b"meetingID=room-1"
    raw = query + b"&checksum=" + digest("end", query)
    assert verify("end", raw, [SECRET], allowed_algorithms=[]) == (MISMATCH, None)


@pytest.mark.parametrize("length", [1, 32, 39, 41, 63, 65, 95, 127, 129])
def test_checksum_of_unsupported_length_fails(length: int) -> None:
    query = b"meetingID=room-1"
    checksum = (digest("end", query, algorithm="sha512") * 2)[:length]
    assert verify("end", query + b"&checksum=" + checksum, [SECRET]) == (MISMATCH, None)


def test_non_hex_checksum_of_valid_length_fails() -> None:
    assert verify("end", b"meetingID=x&checksum=" + b"z" * 40, [SECRET]) == (MISMATCH, None)


# --- missing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"meetingID=room-1",
        b"meetingID=room-1&checksum=",
        b"meetingID=room-1&checksum",
        b"checksum=&meetingID=room-1",
        b"meetingID=room-1&checksum=%00%0A",
        b"meetingID=room-1&checksum=+",
        b"meetingID=room-1&xchecksum=abc",
    ],
)
def test_missing_or_empty_checksum(raw: bytes) -> None:
    assert verify("end", raw, [SECRET]) == (MISSING, None)


# --- secrets -----------------------------------------------------------------------------------


def test_rollover_returns_the_secret_that_matched() -> None:
    query = b"meetingID=room-1"
    by_old = query + b"&checksum=" + digest("end", query, OLD_SECRET)
    by_new = query + b"&checksum=" + digest("end", query, SECRET)
    assert verify("end", by_old, [SECRET, OLD_SECRET]) == (VALID, OLD_SECRET)
    assert verify("end", by_new, [SECRET, OLD_SECRET]) == (VALID, SECRET)
    assert verify("end", by_old, iter([SECRET, OLD_SECRET])) == (VALID, OLD_SECRET)


def test_no_secret_matches() -> None:
    query = b"meetingID=room-1"
    raw = query + b"&checksum=" + digest("end", query, "third")
    assert verify("end", raw, [SECRET, OLD_SECRET]) == (MISMATCH, None)
    assert verify("end", raw, []) == (MISMATCH, None)


def test_unicode_secret_is_hashed_as_utf8() -> None:
    secret = "geheimnis-ß-🔑"
    query = b"meetingID=room-1"
    raw = query + b"&checksum=" + digest("end", query, secret)
    assert verify("end", raw, [secret]) == (VALID, secret)


# --- sanitising --------------------------------------------------------------------------------


def test_control_characters_in_the_query_are_not_hashed() -> None:
    """bbb-web strips Cc characters and trims the query before hashing it."""
    hashed = b"meetingID=room-1&name=Room"
    sent = b" meetingID=ro\x00om-1\t&name=R\x1foom\x7f"
    raw = sent + b"&checksum=" + digest("create", hashed) + b"\r\n "
    assert verify("create", raw, [SECRET]) == (VALID, SECRET)


def test_utf8_encoded_c1_control_is_stripped_like_in_java() -> None:
    hashed = "name=Räum".encode()
    sent = "name=R\u0085äum".encode()
    raw = sent + b"&checksum=" + digest("create", hashed)
    assert verify("create", raw, [SECRET]) == (VALID, SECRET)


def test_invalid_utf8_bytes_in_the_query_are_hashed_untouched() -> None:
    query = b"name=R\xe4um&meetingID=\x85x"  # Latin-1, not UTF-8: nothing to strip
    raw = query + b"&checksum=" + digest("create", query)
    assert verify("create", raw, [SECRET]) == (VALID, SECRET)


def test_percent_encoded_control_characters_stay_in_the_hashed_query() -> None:
    """Only literal control characters go; ``%0A`` is three ordinary characters."""
    query = b"name=Line%0ABreak&meetingID=room-1"
    raw = query + b"&checksum=" + digest("create", query)
    assert verify("create", raw, [SECRET]) == (VALID, SECRET)


def test_checksum_value_with_escaped_control_is_cut_by_its_sanitised_value() -> None:
    """The three literal replacements use the decoded, sanitised value, so ``%0A`` after the
    checksum stays behind in the hashed string (bbb-web's quirk, reproduced)."""
    checksum = digest("end", b"meetingID=room-1%0A")
    raw = b"meetingID=room-1&checksum=" + checksum + b"%0A"
    assert verify("end", raw, [SECRET]) == (VALID, SECRET)


# --- POST bodies (§2.1, §2.4) -------------------------------------------------------------------


def test_checksum_in_form_body_covers_only_the_empty_query() -> None:
    body = b"name=Room&meetingID=room-1&checksum=" + digest("create", b"")
    assert verify("create", b"", [SECRET], form_body=body) == (VALID, SECRET)
    assert verify("create", b"", [SECRET], form_body=b"name=Room") == (MISSING, None)


def test_checksum_in_form_body_with_a_url_query() -> None:
    query = b"meetingID=room-1"
    body = b"name=Room&checksum=" + digest("create", query)
    assert verify("create", query, [SECRET], form_body=body) == (VALID, SECRET)
    # Body parameters are not covered: hashing them too does not help.
    wrong = b"name=Room&checksum=" + digest("create", query + b"&name=Room")
    assert verify("create", query, [SECRET], form_body=wrong) == (MISMATCH, None)


def test_query_checksum_wins_over_body_checksum() -> None:
    query = b"meetingID=room-1"
    raw = query + b"&checksum=" + b"0" * 40
    body = b"checksum=" + digest("create", query)
    assert verify("create", raw, [SECRET], form_body=body) == (MISMATCH, None)


# --- helpers -----------------------------------------------------------------------------------


def test_checksum_parameter_decodes_and_takes_the_first() -> None:
    assert checksum_parameter(b"a=1&checksum=AB%43d+&checksum=zz") == b"ABCd"
    assert checksum_parameter(b"a=1") is None
    assert checksum_parameter(b"checksum") == b""


def test_query_without_checksum_three_literal_replacements() -> None:
    assert query_without_checksum(b"a=1&checksum=abc&b=2", b"abc") == b"a=1&b=2"
    assert query_without_checksum(b"checksum=abc&a=1", b"abc") == b"a=1"
    assert query_without_checksum(b"checksum=abc", b"abc") == b""
    assert query_without_checksum(b"a=1&checksum=abc", b"abc") == b"a=1"
    # Every occurrence goes, as with Java's String.replace.
    assert query_without_checksum(b"checksum=abc&a=1&checksum=abc", b"abc") == b"a=1"


def test_compute_matches_hashlib_for_str_and_bytes() -> None:
    expected = hashlib.sha256(b"createname=R%C3%A4um" + SECRET.encode()).hexdigest()
    assert compute("create", "name=R%C3%A4um", SECRET, "sha256") == expected
    assert compute("create", b"name=R%C3%A4um", SECRET, "sha256") == expected
    assert compute("create", "name=Räum", SECRET) == digest("create", "name=Räum".encode()).decode()


def test_strip_control_and_trim() -> None:
    assert strip_control_and_trim("\x00 ro\x1fom\x7f-1\x85 \t") == "room-1"
    assert strip_control_and_trim("   ") == ""
    # Java's trim() stops at U+0020: a no-break or ideographic space is content.
    assert strip_control_and_trim("\u00a0room\u3000") == "\u00a0room\u3000"


# --- signing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
@pytest.mark.parametrize(
    "query",
    [
        "",
        "meetingID=room-1",
        "&fullName=Anton%2520G&meetingID=room-1",
        "name=R%C3%A4um+1&meta_bbb-origin=Moodle",
    ],
)
def test_sign_query_round_trips_with_verify(query: str, algorithm: str) -> None:
    signed = sign_query("create", query, SECRET, algorithm)
    expected = digest("create", query.encode(), algorithm=algorithm).decode()
    assert signed == (f"{query}&checksum={expected}" if query else f"checksum={expected}")
    assert verify("create", signed.encode(), [SECRET]) == (VALID, SECRET)


_VALUES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=40, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.from_regex(r"[a-zA-Z][a-zA-Z0-9_-]{0,8}", fullmatch=True), _VALUES)
    ),
    position=st.integers(min_value=0, max_value=39),
)
def test_signed_queries_verify_and_any_flipped_hex_digit_fails(
    pairs: list[tuple[str, str]], position: int
) -> None:
    pairs = [(name, value) for name, value in pairs if name != "checksum"]
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in pairs)
    signed = sign_query("join", query, SECRET)
    assert verify("join", signed.encode(), [SECRET]) == (VALID, SECRET)

    checksum = signed[-40:]
    flipped = (
        checksum[:position] + ("0" if checksum[position] != "0" else "1") + checksum[position + 1 :]
    )
    tampered = signed[:-40] + flipped
    assert verify("join", tampered.encode(), [SECRET]) == (MISMATCH, None)
