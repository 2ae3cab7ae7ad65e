"""RecordIdGuard on multipart bodies split anywhere (the streamed putRecordingTextTrack)."""

from __future__ import annotations

import pytest

from bbbfleet.gateway.upload_guard import RecordIdGuard

BOUNDARY = "b0undary"
TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def body(*parts: tuple[str, bytes]) -> bytes:
    out = b""
    for name, value in parts:
        out += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    return out + f"--{BOUNDARY}--\r\n".encode()


def guarded(data: bytes, step: int, record_id: str = "rec-1") -> str | None:
    guard = RecordIdGuard(TYPE, record_id)
    for start in range(0, len(data), step):
        guard.feed(data[start : start + step])
    return guard.refused


@pytest.mark.parametrize("step", [1, 7, 10_000])
def test_a_differing_record_id_is_refused_wherever_the_body_is_split(step: int) -> None:
    track = ("file", b"WEBVTT\n\n" + b"x" * 500)
    assert guarded(body(track), step) is None
    assert guarded(body(("recordID", b" rec-1 "), track), step) is None
    refused = guarded(body(track, ("recordID", b"rec-2")), step)
    assert refused is not None and "differs" in refused
    assert guarded(body(("recordID", b"r" * 5000), track), step) is not None


def test_no_boundary_or_garbage_is_refused() -> None:
    assert RecordIdGuard("multipart/form-data", "rec-1").refused is not None
    assert guarded(b"--other\r\nnot multipart at all\r\n" * 3, 5) is not None
