"""Central recording storage: where imported recordings live once they leave their BBB server.

``RecordingStorage`` is the small interface the importer, the playback server and retention use;
``DirectoryStorage`` implements it on a local (or network-mounted) directory::

    <root>/<recordID>/<format>/…              the files, exactly as BBB published them
    <root>/<recordID>/.manifest.json          path, size, sha256 of every file
    <root>/.tmp/                              unpacking area (same filesystem: renames are atomic)
    <root>/.incoming/                         archives received and waiting for (re)import

A recording appears only complete: it is unpacked and verified under ``.tmp`` and then renamed
into place; replacing an existing recording swaps directories with two renames, so readers see
the old or the new copy, never a mixture.  docs/recording-storage.md describes what an
S3-compatible implementation would need.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bbbfleet.recordings.archive import (
    Manifest,
    invalid,
    remove_tree,
    valid_record_id,
    verify_tree,
)

MANIFEST = ".manifest.json"


class StorageFailure(Exception):
    """The storage could not do what was asked (full, unwritable, unreachable): retry later."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: Path  # a local path the web server can send (with Range support)
    size: int
    mtime: float


class RecordingStorage(Protocol):
    def scratch(self) -> Path:
        """A fresh, not yet existing directory path to unpack an archive into."""

    def incoming(self) -> Path:
        """The directory where received archives wait for their import."""

    async def put(self, record_id: str, staged: Path, manifest: Manifest) -> None:
        """Move an unpacked, verified recording (``staged``: ``<format>/…``) into place, replacing
        any earlier copy atomically.  Raises StorageFailure."""

    async def exists(self, record_id: str) -> bool: ...

    async def manifest(self, record_id: str) -> Manifest | None: ...

    async def verify(self, record_id: str) -> Manifest:
        """Check the stored files against the manifest; ArchiveError when they differ."""

    async def file(self, record_id: str, path: str) -> StoredFile | None:
        """One file of a recording (``<format>/<path>``), or None; never anything outside it."""

    async def delete(self, record_id: str) -> bool:
        """Remove a recording; True when there was one."""


class DirectoryStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _area(self, name: str) -> Path:
        area = self.root / name
        try:
            area.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageFailure(f"cannot create {area}: {exc}") from exc
        return area

    def scratch(self) -> Path:
        return self._area(".tmp") / secrets.token_hex(8)

    def incoming(self) -> Path:
        return self._area(".incoming")

    def _dir(self, record_id: str) -> Path:
        if not valid_record_id(record_id):
            raise ValueError(f"invalid record ID {record_id!r}")
        return self.root / record_id

    async def put(self, record_id: str, staged: Path, manifest: Manifest) -> None:
        await asyncio.to_thread(self._put, record_id, staged, manifest)

    def _put(self, record_id: str, staged: Path, manifest: Manifest) -> None:
        final = self._dir(record_id)
        try:
            (staged / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
            old: Path | None = None
            if final.exists():
                old = self._area(".tmp") / f"old-{secrets.token_hex(8)}"
                os.rename(final, old)
            try:
                os.rename(staged, final)
            except OSError:
                if old is not None:  # put the good copy back
                    os.rename(old, final)
                raise
        except OSError as exc:
            raise StorageFailure(f"cannot store {record_id}: {exc}") from exc
        if old is not None:
            remove_tree(old)

    async def exists(self, record_id: str) -> bool:
        return (self._dir(record_id) / MANIFEST).is_file()

    async def manifest(self, record_id: str) -> Manifest | None:
        try:
            text = (self._dir(record_id) / MANIFEST).read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None
        return Manifest.from_json(text)

    async def file(self, record_id: str, path: str) -> StoredFile | None:
        if not valid_record_id(record_id) or "\x00" in path:
            return None
        base = self._dir(record_id)
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2 or any(p in (".", "..") for p in parts) or parts[0].startswith("."):
            return None  # the first level is a format name: never the manifest, never ".."
        try:
            resolved = base.joinpath(*parts).resolve(strict=True)
            fmt = (base / parts[0]).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        # containment after resolving: no symlink or other trick leaves the format's directory
        if not resolved.is_relative_to(fmt) or not fmt.is_relative_to(self.root):
            return None
        if not resolved.is_file():
            return None
        stat = resolved.stat()
        return StoredFile(resolved, stat.st_size, stat.st_mtime)

    async def verify(self, record_id: str) -> Manifest:
        """Re-hash a stored recording against its manifest (ArchiveError when it differs)."""
        manifest = await self.manifest(record_id)
        if manifest is None:
            raise invalid(f"{record_id} is not stored here")
        root = self._dir(record_id)
        await asyncio.to_thread(verify_tree, root, manifest, frozenset({MANIFEST}))
        return manifest

    async def delete(self, record_id: str) -> bool:
        final = self._dir(record_id)
        if not final.exists():
            return False
        trash = self._area(".tmp") / f"deleted-{secrets.token_hex(8)}"
        try:
            os.rename(final, trash)  # gone for readers at once, removed at leisure
        except OSError as exc:
            raise StorageFailure(f"cannot delete {record_id}: {exc}") from exc
        await asyncio.to_thread(remove_tree, trash)
        return True

    def cleanup_scratch(self, max_age_seconds: float, now: float) -> None:
        """Remove unpacking leftovers of a crashed process."""
        area = self.root / ".tmp"
        if not area.is_dir():
            return
        for entry in area.iterdir():
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > max_age_seconds:
                    remove_tree(entry)
