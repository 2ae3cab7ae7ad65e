"""Building recording archives (CONTRACTS C1) for tests, including hostile ones."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterable
from pathlib import Path

RECORD_ID = "0123456789abcdef0123456789abcdef01234567-1700000000000"

METADATA = (
    "<?xml version='1.0' encoding='UTF-8'?><recording><id>{rid}</id><state>published</state>"
    "<published>true</published></recording>"
)


def presentation_files(record_id: str = RECORD_ID) -> dict[str, bytes]:
    """A plausible presentation + video recording, as BBB publishes it."""
    return {
        f"presentation/{record_id}/metadata.xml": METADATA.format(rid=record_id).encode(),
        f"presentation/{record_id}/shapes.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        f"presentation/{record_id}/video/webcams.webm": bytes(range(256)) * 40,
        f"presentation/{record_id}/presentation/p1/thumbnails/thumb-1.png": b"\x89PNG fake",
        f"video/{record_id}/metadata.xml": METADATA.format(rid=record_id).encode(),
        f"video/{record_id}/video-0.m4v": b"\x00\x00\x00\x18ftypmp42" + bytes(5000),
    }


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **extra: object
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    for key, value in extra.items():
        setattr(info, key, value)
    return info, data


def build(
    entries: Iterable[tuple[tarfile.TarInfo, bytes]],
    gzip: bool = False,
    format: int = tarfile.PAX_FORMAT,
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gzip else "w", format=format) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def archive(
    files: dict[str, bytes] | None = None,
    gzip: bool = False,
    with_dirs: bool = True,
    format: int = tarfile.PAX_FORMAT,
) -> bytes:
    files = presentation_files() if files is None else files
    entries = []
    dirs: set[str] = set()
    for name in files:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            d = "/".join(parts[:depth])
            if with_dirs and d not in dirs:
                dirs.add(d)
                entries.append(member(d + "/", kind=tarfile.DIRTYPE))
        entries.append(member(name, files[name]))
    return build(entries, gzip, format)


def write(path: Path, data: bytes) -> tuple[Path, int, str]:
    path.write_bytes(data)
    return path, len(data), hashlib.sha256(data).hexdigest()
