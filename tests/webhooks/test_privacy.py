"""The privacy filter: nothing of the fleet reaches a tenant; personal data as configured."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given
from hypothesis import strategies as st

from bbbfleet.gateway.callbacks import RelayTarget, relay_url, restore_callback_urls
from bbbfleet.protocol.webhooks import (
    chat_group_message_sent_event,
    meeting_created_event,
    rap_playback,
    rap_publish_ended_event,
    user_attributes,
    user_joined_event,
)
from bbbfleet.webhooks.privacy import EventScope, PersonalData, filter_event, pseudonym

BACKEND_ID = "bf7-room-1"
PUBLIC = "https://bbb.example.org"
BACKEND = "https://bbb3.internal.example.net:8443"


def scope(personal: PersonalData = PersonalData.KEEP, key: bytes | None = b"k") -> EventScope:
    return EventScope(
        backend_meeting_id=BACKEND_ID,
        tenant_meeting_id="room-1",
        public_origin=PUBLIC,
        backend_origins=(BACKEND, "https://bbb4.internal.example.net"),
        personal=personal,
        hash_key=key,
        restore_url=lambda text: restore_callback_urls(text, PUBLIC),
    )


def joined() -> dict[str, object]:
    user = user_attributes(
        "w_1", "moodle-user-17", name="Jane Doe", role="MODERATOR", presenter=False, guest=False
    )
    user["ip-address"] = "203.0.113.9"
    user["user-agent"] = "Firefox"
    return user_joined_event("abc-1", BACKEND_ID, user, 1)


def test_backend_meeting_id_becomes_the_tenants() -> None:
    event = filter_event(joined(), scope())
    assert event["data"]["attributes"]["meeting"]["external-meeting-id"] == "room-1"
    assert BACKEND_ID not in json.dumps(event)


def test_keep_leaves_personal_data() -> None:
    user = filter_event(joined(), scope())["data"]["attributes"]["user"]
    assert user["name"] == "Jane Doe" and user["external-user-id"] == "moodle-user-17"


def test_remove_drops_personal_fields_only() -> None:
    user = filter_event(joined(), scope(PersonalData.REMOVE))["data"]["attributes"]["user"]
    assert "name" not in user and "external-user-id" not in user and "ip-address" not in user
    assert "user-agent" not in user
    assert user["internal-user-id"] == "w_1" and user["role"] == "MODERATOR"


def test_hash_is_stable_and_keyed() -> None:
    first = filter_event(joined(), scope(PersonalData.HASH))["data"]["attributes"]["user"]
    again = filter_event(joined(), scope(PersonalData.HASH))["data"]["attributes"]["user"]
    other = filter_event(joined(), scope(PersonalData.HASH, b"other"))["data"]["attributes"]["user"]
    assert (
        first["external-user-id"] == again["external-user-id"] == pseudonym("moodle-user-17", b"k")
    )
    assert first["external-user-id"] != other["external-user-id"]
    assert "Jane" not in json.dumps(first)


def test_hash_without_key_removes() -> None:
    user = filter_event(joined(), scope(PersonalData.HASH, None))["data"]["attributes"]["user"]
    assert "name" not in user and "external-user-id" not in user


def test_chat_text_and_sender() -> None:
    event = chat_group_message_sent_event(
        "abc-1",
        BACKEND_ID,
        message_id="m1",
        message="my phone is 555",
        sender_id="w_1",
        sender_name="Jane Doe",
        time=5,
        ts=6,
    )
    chat = filter_event(event, scope(PersonalData.REMOVE))["data"]["attributes"]["chat-message"]
    assert "message" not in chat and "name" not in chat["sender"]
    kept = filter_event(event, scope())["data"]["attributes"]["chat-message"]
    assert kept["message"] == "my phone is 555"


def test_backend_hosts_become_the_gateway() -> None:
    event = rap_publish_ended_event(
        "abc-1",
        BACKEND_ID,
        record_id="abc-1",
        success=True,
        step_time=1,
        workflow="presentation",
        start_time=1,
        end_time=2,
        raw_size=3,
        metadata={"meetingId": BACKEND_ID, "meetingName": "Room", "isBreakout": "false"},
        playback=rap_playback(
            "presentation", f"{BACKEND}/playback/presentation/2.3/abc-1", 1, 2, 3
        ),
        ts=9,
    )
    link = f"{BACKEND}/playback/presentation/2.3/abc-1"
    central = {link: f"{PUBLIC}/playback/presentation/2.3/abc-1"}  # stored centrally
    text = json.dumps(filter_event(event, dataclasses.replace(scope(), playback_links=central)))
    assert "internal.example.net" not in text and BACKEND_ID not in text
    assert f"{PUBLIC}/playback/presentation/2.3/abc-1" in text
    assert '"meetingId": "room-1"' in text


def test_relay_urls_in_metadata_become_the_tenants() -> None:
    target = RelayTarget("endcallbackurl", 3, 7, "room-1", "https://lms.example.com/end?x=1&y=2")
    relay = relay_url(PUBLIC, target, "server-secret")
    event = meeting_created_event(
        internal_meeting_id="abc-1",
        external_meeting_id=BACKEND_ID,
        name="Room",
        is_breakout=False,
        parent_id="bbb-none",
        duration=0,
        create_time=1,
        create_date="x",
        moderator_pass="mp",
        viewer_pass="ap",
        record=False,
        voice_conf="70000",
        dial_number="613-555-1234",
        max_users=0,
        metadata={"endcallbackurl": relay, "bbb-origin": "Moodle"},
        ts=2,
    )
    metadata = filter_event(event, scope())["data"]["attributes"]["meeting"]["metadata"]
    assert metadata == {
        "endcallbackurl": "https://lms.example.com/end?x=1&y=2",
        "bbb-origin": "Moodle",
    }


@given(
    name=st.text(max_size=30),
    ext=st.text(max_size=30),
    message=st.text(max_size=50),
    mode=st.sampled_from(list(PersonalData)),
)
def test_no_backend_fact_survives(name: str, ext: str, message: str, mode: PersonalData) -> None:
    """Whatever users type, the filtered event never names a backend host or backend ID
    (unless the user typed it themselves and personal data is kept)."""
    user = user_attributes("w_1", ext, name=name, role="VIEWER")
    event = user_joined_event("abc-1", BACKEND_ID, user, 1)
    extra = {"link": f"{BACKEND}/x/{BACKEND_ID}", "note": message}
    event["data"]["attributes"]["meeting"]["metadata"] = extra  # (unknown attributes are dropped)
    filtered = filter_event(event, scope(mode))
    extra = filtered["data"]["attributes"]["meeting"]["metadata"]
    assert extra["link"] == f"{PUBLIC}/x/room-1"
    assert filtered["data"]["attributes"]["meeting"]["external-meeting-id"] == "room-1"
    if mode is not PersonalData.KEEP:
        shown = json.dumps(filtered["data"]["attributes"]["user"])
        assert "internal.example.net" not in shown
        assert BACKEND_ID not in shown


def test_userdata_is_personal() -> None:
    event = joined()
    event["data"]["attributes"]["user"]["userdata"] = {"bbb_custom": "Jane's course 17"}
    kept = filter_event(event, scope())["data"]["attributes"]["user"]
    assert kept["userdata"] == {"bbb_custom": "Jane's course 17"}
    removed = filter_event(event, scope(PersonalData.REMOVE))["data"]["attributes"]["user"]
    assert "userdata" not in removed
    hashed = filter_event(event, scope(PersonalData.HASH))["data"]["attributes"]["user"]
    assert hashed["userdata"] == {"bbb_custom": pseudonym("Jane's course 17", b"k")}


def _v35_event(event_id: str, attributes: dict[str, object]) -> dict[str, object]:
    meeting = {"internal-meeting-id": "abc-1", "external-meeting-id": BACKEND_ID}
    return {
        "data": {
            "type": "event",
            "id": event_id,
            "attributes": {"meeting": meeting, **attributes},
            "event": {"ts": 1},
        }
    }


def test_transcripts_and_shared_notes_are_personal_content_polls_are_not() -> None:
    user = {"internal-user-id": "w_1", "external-user-id": "moodle-17"}
    transcript = _v35_event(
        "transcript-updated",
        {
            "user": user,
            "transcript": {"id": "t1", "transcript": "my phone is 555", "locale": "en", "final": 1},
        },
    )
    pad = _v35_event(
        "pad-content",
        {"pad": {"id": "p1", "external-pad-id": "notes", "rev": 3, "text": "secret notes"}},
    )
    poll = _v35_event(
        "poll-started",
        {"user": user, "poll": {"id": "q1", "question": "Tea?", "answers": [{"id": 0}]}},
    )
    for mode in (PersonalData.REMOVE, PersonalData.HASH):
        shown = json.dumps([filter_event(e, scope(mode)) for e in (transcript, pad, poll)])
        assert "555" not in shown and "secret notes" not in shown and "moodle-17" not in shown
        assert '"Tea?"' in shown and '"locale": "en"' in shown and '"rev": 3' in shown
    kept = json.dumps(filter_event(transcript, scope()))
    assert "my phone is 555" in kept


def test_unknown_attributes_are_dropped() -> None:
    event = joined()
    event["data"]["attributes"]["server-internal"] = {"host": "10.0.0.5"}
    event["data"]["attributes"]["user"]["new-field"] = "?"
    event["data"]["attributes"]["meeting"]["voice-bridge-secret"] = "x"
    event["data"]["extra"] = 1
    event["data"]["attributes"]["user"]["name"] = ["not", "a", "string"]  # a list passes scrubbed
    event["data"]["attributes"]["chat-message"] = "not an object"
    filtered = filter_event(event, scope())
    attributes = filtered["data"]["attributes"]
    assert set(filtered["data"]) == {"type", "id", "attributes", "event"}
    assert set(attributes) == {"meeting", "user"}
    assert "new-field" not in attributes["user"]
    assert "voice-bridge-secret" not in attributes["meeting"]


def test_analytics_personal_data() -> None:
    from bbbfleet.webhooks.privacy import filter_analytics_personal

    def payload() -> dict[str, object]:
        return {
            "data": {
                "attendees": [{"name": "Jane", "ext_user_id": "u1", "moderator": True}],
                "polls": [{"id": "p", "votes": {"u1": ["A"]}}],
            }
        }

    removed = payload()
    filter_analytics_personal(removed, scope(PersonalData.REMOVE))
    assert removed == {"data": {"attendees": [{"moderator": True}], "polls": [{"id": "p"}]}}
    hashed = payload()
    filter_analytics_personal(hashed, scope(PersonalData.HASH))
    pseudo = pseudonym("u1", b"k")
    assert hashed["data"] == {
        "attendees": [{"name": pseudonym("Jane", b"k"), "ext_user_id": pseudo, "moderator": True}],
        "polls": [{"id": "p", "votes": {pseudo: ["A"]}}],
    }
    kept = payload()
    filter_analytics_personal(kept, scope())
    assert kept == payload()


def test_playback_links_as_get_recordings_shows_them() -> None:
    """A recording not stored centrally: getRecordings shows the backend's playback URL, so the
    event does too; backend hosts elsewhere (metadata) still become the gateway's."""
    link = f"{BACKEND}/playback/presentation/2.3/abc-1"
    event = rap_publish_ended_event(
        "abc-1",
        BACKEND_ID,
        record_id="abc-1",
        success=True,
        step_time=1,
        workflow="presentation",
        start_time=1,
        end_time=2,
        raw_size=3,
        metadata={"meetingId": BACKEND_ID, "origin-url": f"{BACKEND}/x"},
        playback=rap_playback("presentation", link, 1, 2, 3),
        ts=9,
    )
    recording = filter_event(event, scope())["data"]["attributes"]["recording"]
    assert recording["playback"]["link"] == link
    assert recording["metadata"] == {"meetingId": "room-1", "origin-url": f"{PUBLIC}/x"}
    video = f"{BACKEND}/playback/video/abc-1/"
    event["data"]["attributes"]["recording"]["playback"] = rap_playback("video", video, 1, 2, 3)
    moved = {video: f"{PUBLIC}/playback/video/abc-1/"}
    shown = filter_event(event, dataclasses.replace(scope(), playback_links=moved))
    assert shown["data"]["attributes"]["recording"]["playback"]["link"] == moved[video]
