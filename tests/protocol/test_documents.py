"""Reading and editing backend response documents in place."""

from __future__ import annotations

import pytest

from bbbfleet.protocol.documents import (
    MalformedDocument,
    block_meeting_id,
    child_text,
    meeting_blocks,
    parse,
    replace_element_text,
    unescape,
)
from bbbfleet.protocol.responses import MeetingSnapshot, get_meetings_xml, meeting_block
from tests.conftest import example


def test_unescape_reverses_the_five_entities_once() -> None:
    assert unescape("Anton G&apos;s &lt;Room&gt; &amp; &quot;Co&quot;") == (
        'Anton G\'s <Room> & "Co"'
    )
    assert unescape("&amp;lt;") == "&lt;"
    assert unescape("&#39; &nbsp;") == "&#39; &nbsp;"


def test_parse_and_child_text() -> None:
    root = parse(example("getMeetingInfo-success.xml"))
    assert child_text(root, "returncode") == "SUCCESS"
    assert child_text(root, "meetingName") == "Anton G's Room"
    assert child_text(root, "absent") is None
    assert child_text(parse(example("create-success.xml")), "messageKey") == ""


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not xml",
        "<response><returncode>SUCCESS</returncode>",
        "<other><returncode>SUCCESS</returncode></other>",
        "<response><message>x</message></response>",
        "<html><body>502 Bad Gateway</body></html>",
    ],
)
def test_parse_rejects_what_is_not_a_bbb_response(body: str) -> None:
    with pytest.raises(MalformedDocument):
        parse(body)


def test_replace_element_text_edits_only_that_element() -> None:
    body = example("create-success.xml")
    edited = replace_element_text(body, "meetingID", "test01", "tenant-7/test01")
    assert edited == body.replace(
        "<meetingID>test01</meetingID>", "<meetingID>tenant-7/test01</meetingID>"
    )
    assert replace_element_text(body, "meetingID", "other", "x") == body


def test_replace_element_text_escapes_old_and_new() -> None:
    body = "<response>\n<meetingName>Anton G&apos;s Room</meetingName>\n</response>"
    assert replace_element_text(body, "meetingName", "Anton G's Room", "<New> & 'x'") == (
        "<response>\n<meetingName>&lt;New&gt; &amp; &apos;x&apos;</meetingName>\n</response>"
    )


def test_meeting_blocks_of_the_reference_get_meetings() -> None:
    blocks = meeting_blocks(example("getMeetings-success.xml"))
    assert len(blocks) == 2
    assert [block_meeting_id(b) for b in blocks] == ["moodle-course-7-room-3", "Demo Meeting"]
    # Blocks round-trip through the renderer that assembles a fleet-wide getMeetings.
    assert get_meetings_xml(blocks) == example("getMeetings-success.xml")


def test_meeting_blocks_of_no_meetings() -> None:
    assert meeting_blocks(example("getMeetings-noMeetings.xml")) == []


def test_meeting_blocks_rejects_failures_and_garbage() -> None:
    with pytest.raises(MalformedDocument):
        meeting_blocks(example("create-checksumError.xml"))
    with pytest.raises(MalformedDocument):
        meeting_blocks("<html>oops</html>")


def test_block_meeting_id_unescapes() -> None:
    block = meeting_block(MeetingSnapshot("n", "a&b 'c'", "internal-1", 1, "12345"))
    assert block_meeting_id(block) == "a&b 'c'"
    assert block_meeting_id("<meeting>\n</meeting>") is None
