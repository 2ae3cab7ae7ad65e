"""Parameter parsing (REFERENCE.md §1.4, §4) and byte-faithful query editing."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbbfleet.protocol.params import (
    ApiParams,
    ParamsNotUtf8,
    RawQuery,
    encode_component,
    parse_pairs,
)

# --- decoding ----------------------------------------------------------------------------------


def test_parse_pairs_keeps_order_blanks_and_repeats() -> None:
    assert parse_pairs(b"b=2&a=&c&a=3") == [("b", "2"), ("a", ""), ("c", ""), ("a", "3")]


def test_parse_pairs_skips_empty_components() -> None:
    assert parse_pairs(b"&&a=1&&b=2&") == [("a", "1"), ("b", "2")]
    assert parse_pairs(b"") == []


def test_plus_is_a_space_and_percent_2b_a_plus() -> None:
    params = ApiParams.parse(b"fullName=Mary+Sue&expr=a%2Bb&sp=a%20b")
    assert params["fullName"] == "Mary Sue"
    assert params["expr"] == "a+b"
    assert params["sp"] == "a b"


def test_value_may_contain_equals_signs() -> None:
    assert ApiParams.parse(b"logoutURL=https://x.org/?a=1%26b=2")["logoutURL"] == (
        "https://x.org/?a=1&b=2"
    )


def test_names_are_decoded_too() -> None:
    assert dict(ApiParams.parse(b"meta%5Fbbb-origin=Moodle&user+name=x")) == {
        "meta_bbb-origin": "Moodle",
        "user name": "x",
    }


@pytest.mark.parametrize(
    "raw",
    [
        b"fullName=Zo%C3%AB+%F0%9F%98%80",  # PHP / Python / Ruby / Java style
        b"fullName=Zo%C3%AB%20%F0%9F%98%80",  # encodeURIComponent
        b"fullName=Zo%c3%ab%20%f0%9f%98%80",  # lowercase hex
        "fullName=Zoë 😀".encode(),  # raw UTF-8
    ],
)
def test_every_client_encoding_decodes_to_the_same_text(raw: bytes) -> None:
    assert ApiParams.parse(raw)["fullName"] == "Zoë 😀"


def test_first_value_wins() -> None:
    params = ApiParams.parse(b"meetingID=first&meetingID=second&name=&name=late")
    assert params["meetingID"] == "first"
    assert params["name"] == ""


def test_query_values_win_over_body_values() -> None:
    params = ApiParams.parse(b"meetingID=from-url", b"meetingID=from-body&name=Body+Room")
    assert params["meetingID"] == "from-url"
    assert params["name"] == "Body Room"
    assert dict(ApiParams.parse(b"", b"name=Only+Body")) == {"name": "Only Body"}


def test_blank_values_are_kept() -> None:
    params = ApiParams.parse(b"attendeePW=&moderatorPW")
    assert dict(params) == {"attendeePW": "", "moderatorPW": ""}
    assert "attendeePW" in params
    assert "name" not in params


@pytest.mark.parametrize(
    "raw",
    [
        b"name=%FF",
        b"name=R%E4um",  # Latin-1 escape
        b"name=R\xe4um",  # raw Latin-1 byte
        b"na%FFme=x",  # in the name
        b"name=%C3",  # truncated sequence
        b"meetingID=x&name=%ED%A0%80",  # encoded surrogate
    ],
)
def test_non_utf8_raises(raw: bytes) -> None:
    with pytest.raises(ParamsNotUtf8):
        ApiParams.parse(raw)


def test_non_utf8_in_the_body_raises() -> None:
    with pytest.raises(ParamsNotUtf8):
        ApiParams.parse(b"meetingID=ok", b"name=%FF")


def test_params_is_a_read_only_mapping() -> None:
    params = ApiParams.parse(b"a=1&b=2&a=3")
    assert len(params) == 2
    assert list(params) == ["a", "b"]
    assert dict(params.items()) == {"a": "1", "b": "2"}
    assert params.get("c") is None
    with pytest.raises(KeyError):
        params["c"]


# --- sanitised ---------------------------------------------------------------------------------


def test_sanitised_removes_control_characters_then_trims() -> None:
    params = ApiParams.parse(b"meetingID=%00+room%1F-1%7F+%0A&name=%C2%85Raum%C2%9F")
    assert params.sanitised("meetingID") == "room-1"
    assert params.sanitised("name") == "Raum"  # C1 controls are Cc too
    assert params["meetingID"] == "\x00 room\x1f-1\x7f \n"  # the raw value is untouched


def test_sanitised_absent_and_blank() -> None:
    params = ApiParams.parse(b"name=+++")
    assert params.sanitised("name") == ""
    assert params.sanitised("meetingID") is None


def test_sanitised_keeps_non_ascii_spaces_like_java_trim() -> None:
    params = ApiParams.parse("meetingID=\u00a0room\u2003".encode())
    assert params.sanitised("meetingID") == "\u00a0room\u2003"


def test_sanitised_keeps_inner_spaces() -> None:
    assert ApiParams.parse(b"name=+Anton+G%27s++Room+").sanitised("name") == "Anton G's  Room"


# --- metadata / userdata -----------------------------------------------------------------------


def test_metadata_lowercases_names_and_drops_invalid_ones() -> None:
    params = ApiParams.parse(
        b"name=Room&meta_bbb-origin=Moodle&meta_endCallbackUrl=https%3A%2F%2Flms%2Fend"
        b"&meta_BBB-Origin-Version=4.1&meta_a_b=dropped&meta_1abc=dropped&meta_=dropped"
        b"&meta_x%20y=dropped&meta_x%0A=dropped&meta_%C3%BC=dropped&metadata_x=dropped"
        b"&Meta_upper=dropped&meta_context=+spaces+kept+"
    )
    assert params.metadata() == {
        "bbb-origin": "Moodle",
        "endcallbackurl": "https://lms/end",
        "bbb-origin-version": "4.1",
        "context": " spaces kept ",
    }


def test_metadata_is_empty_without_meta_parameters() -> None:
    assert ApiParams.parse(b"name=Room&meetingID=x").metadata() == {}


def test_metadata_keeps_the_first_value_of_a_repeated_name() -> None:
    assert ApiParams.parse(b"meta_a=1&meta_a=2").metadata() == {"a": "1"}


def test_userdata_keeps_case_and_needs_exactly_one_dash() -> None:
    params = ApiParams.parse(
        b"fullName=Mary&userdata-bbb_auto_join_audio=true&userdata-CustomKey=V"
        b"&userdata-a-b=dropped&userdata-=dropped&userdata=dropped&xuserdata-k=dropped"
    )
    assert params.userdata() == {"bbb_auto_join_audio": "true", "CustomKey": "V"}


def test_userdata_empty() -> None:
    assert ApiParams.parse(b"fullName=Mary").userdata() == {}


# --- flag / integer ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("tRuE", True),
        ("false", False),
        ("1", False),  # parseBoolean: only "true" is true
        ("0", False),
        ("yes", False),
        ("on", False),
        (" true", False),  # not trimmed by bbb-web either
        ("true ", False),
        ("truee", False),
    ],
)
def test_flag_has_java_parse_boolean_semantics(value: str, expected: bool) -> None:
    params = ApiParams({"record": value})
    assert params.flag("record") is expected
    assert params.flag("record", default=True) is expected


def test_flag_default_for_absent_or_empty() -> None:
    params = ApiParams({"record": ""})
    assert params.flag("record") is False
    assert params.flag("record", default=True) is True
    assert params.flag("absent", default=True) is True
    assert params.flag("absent") is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        ("0", 0),
        ("-3", -3),
        ("+7", 7),
        ("007", 7),
        ("2147483647", 2147483647),
        ("-2147483648", -2147483648),
        ("٣", 3),  # Java's Character.digit accepts other Nd digits too
        ("2147483648", -1),  # outside int: Integer.parseInt fails
        ("-2147483649", -1),
        ("9" * 5000, -1),
        ("", -1),
        ("abc", -1),
        ("12abc", -1),
        ("1.5", -1),
        ("1e3", -1),
        ("1_000", -1),
        (" 5", -1),
        ("5 ", -1),
        ("+", -1),
        ("--5", -1),
        ("0x10", -1),
    ],
)
def test_integer_is_lenient_like_integer_parse_int(value: str, expected: int) -> None:
    assert ApiParams({"duration": value}).integer("duration", -1) == expected


def test_integer_absent_gives_default() -> None:
    assert ApiParams().integer("duration", 60) == 60


# --- RawQuery ------------------------------------------------------------------------------------

RAW = (
    b"name=Anton+G%27s+Room&meetingID=room%2c1&meta_bbb-origin=Moodle"
    b"&checksum=abc&welcome=Hallo%20Welt&fullName=" + "Zoë".encode() + b"&&redirect=true"
)


def test_raw_query_parse_and_names() -> None:
    query = RawQuery.parse(RAW)
    assert query.names() == [
        "name",
        "meetingID",
        "meta_bbb-origin",
        "checksum",
        "welcome",
        "fullName",
        "redirect",
    ]


def test_without_keeps_every_other_component_byte_identical() -> None:
    query = RawQuery.parse(RAW).without("checksum", "redirect", "absent")
    assert b"&".join(query.parts) == (
        b"name=Anton+G%27s+Room&meetingID=room%2c1&meta_bbb-origin=Moodle"
        b"&welcome=Hallo%20Welt&fullName=" + "Zoë".encode()
    )


def test_without_drops_every_occurrence() -> None:
    query = RawQuery.parse(b"a=1&checksum=x&b=2&checksum=y&checksum")
    assert query.without("checksum").parts == [b"a=1", b"b=2"]


def test_replace_keeps_position_and_untouched_components() -> None:
    query = RawQuery.parse(RAW).replace("meetingID", "tenant-7/room 1,ü")
    assert query.parts[1] == b"meetingID=tenant-7%2Froom%201%2C%C3%BC"
    original = RawQuery.parse(RAW).parts
    assert query.parts[:1] + query.parts[2:] == original[:1] + original[2:]


def test_replace_collapses_repeats_into_the_first_position() -> None:
    query = RawQuery.parse(b"a=1&meetingID=x&b=2&meetingID=y")
    assert query.replace("meetingID", "z").parts == [b"a=1", b"meetingID=z", b"b=2"]


def test_replace_appends_when_absent() -> None:
    query = RawQuery.parse(b"a=1").replace("meetingID", "r 1")
    assert query.parts == [b"a=1", b"meetingID=r%201"]
    assert RawQuery.parse(b"").replace("a", "").parts == [b"a="]


def test_replace_does_not_mutate_the_original() -> None:
    query = RawQuery.parse(b"a=1&b=2")
    query.replace("a", "9")
    query.without("b")
    assert query.parts == [b"a=1", b"b=2"]


def test_encode_is_ascii_and_escapes_raw_bytes_and_spaces_only() -> None:
    query = RawQuery.parse("name=Zoë Räum&x=%c3%bc+%2B&y=a~b*c!(d)'e;f:g@h/i?j$k,l".encode())
    encoded = query.encode()
    assert encoded.isascii()
    assert encoded == ("name=Zo%C3%AB%20R%C3%A4um&x=%c3%bc+%2B&y=a~b*c!(d)'e;f:g@h/i?j$k,l")


def test_encode_escapes_characters_a_url_may_not_carry() -> None:
    query = RawQuery([b'a="<>{}|\\^`[]#'])
    assert query.encode() == "a=%22%3C%3E%7B%7D%7C%5C%5E%60%5B%5D%23"


def test_encode_of_an_empty_query() -> None:
    assert RawQuery.parse(b"").encode() == ""


def test_encode_component_matches_encode_uri_component() -> None:
    # node -e 'console.log(encodeURIComponent("Anton G\'s Room ~ *!() ü 😀 a+b&c=d/e?f"))'
    assert encode_component("Anton G's Room ~ *!() ü 😀 a+b&c=d/e?f") == (
        "Anton%20G's%20Room%20~%20*!()%20%C3%BC%20%F0%9F%98%80%20a%2Bb%26c%3Dd%2Fe%3Ff"
    )


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


def _raw_component(text: str) -> bytes:
    """Write ``text`` the way a sloppy client might: raw UTF-8, only delimiters escaped."""
    escaped = text.replace("%", "%25").replace("&", "%26").replace("=", "%3D")
    return escaped.replace("+", "%2B").replace("#", "%23").encode()


@settings(max_examples=50, deadline=None)
@given(pairs=st.lists(st.tuples(_TEXT.filter(bool), _TEXT), max_size=6))
def test_encode_preserves_the_decoded_parameters(pairs: list[tuple[str, str]]) -> None:
    raw = b"&".join(_raw_component(name) + b"=" + _raw_component(value) for name, value in pairs)
    encoded = RawQuery.parse(raw).encode()
    assert encoded.isascii()
    assert parse_pairs(encoded.encode()) == parse_pairs(raw)
    # Re-encoding is stable: nothing already safe is escaped twice.
    assert RawQuery.parse(encoded.encode()).encode() == encoded
    assert unquote_to_bytes(encoded) == unquote_to_bytes(raw.replace(b" ", b"%20"))
