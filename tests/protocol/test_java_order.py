from bbbfleet.protocol.java_order import _spread, hashmap_order, java_string_hash


def bucket(key: str) -> int:
    return _spread(java_string_hash(key)) & 15


def test_string_hash_matches_java() -> None:
    assert java_string_hash("") == 0
    assert java_string_hash("a") == 97
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("polygenelubricants") == -(2**31)


def test_buckets_of_bbb_message_keys_match_reference() -> None:
    expected = {
        "unsupportedContentType": 1,
        "checksumError": 1,
        "guestDeny": 3,
        "missingParamRecordID": 3,
        "emptyError": 4,
        "missingParamFullName": 6,
        "meetingForciblyEnded": 7,
        "invalidPassword": 8,
        "invalidMeetingIdentifier": 10,
        "notFound": 10,
        "sizeError": 11,
        "nullError": 14,
        "validationError": 14,
        "missingParamMeetingID": 15,
        "missingSession": 15,
        "missingToken": 15,
        "paramError": 15,
    }
    assert {k: bucket(k) for k in expected} == expected


def test_metadata_order_matches_reference_docs_example() -> None:
    inserted = [
        "bbb-origin",
        "bbb-origin-version",
        "bbb-origin-server-name",
        "bbb-recording-ready-url",
        "endcallbackurl",
    ]
    assert hashmap_order(inserted) == [
        "bbb-origin-version",
        "bbb-origin-server-name",
        "bbb-recording-ready-url",
        "bbb-origin",
        "endcallbackurl",
    ]
