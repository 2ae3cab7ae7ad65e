"""Verifying and unpacking a recording archive pushed by a BBB server (CONTRACTS C1/C2).

An archive is a tar (optionally gzip'ed) of BBB's published directories: every entry lies under
``<format>/<recordID>/`` and every format directory has its ``metadata.xml``.  Nothing in it is
trusted: it is read once, as a stream, and each header is checked *before* its data is written:

* only regular files and directories (no links, devices, FIFOs, sparse files);
* relative, normalised names: no absolute path, no ``..``, no backslash or control character;
* no duplicate names, no file that is also used as a directory;
* a bounded number of members and a bounded total unpacked size (a gzip bomb stops at the
  first header past the limit, long before its data would be written);
* every entry under ``<format>/<recordID>/`` of the pushed record ID.

Files are written with exclusive creation into a fresh directory, counted and hashed; a member
whose data is shorter than its header says (a truncated archive) fails.  The result is a
``Manifest`` (path, size, sha256 of every file).  On any failure the partial directory is removed
by the caller's staging area, so nothing half-unpacked ever becomes visible.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bbbfleet.protocol import errors as E

CHUNK = 1024 * 1024
METADATA = "metadata.xml"
# BBB's recordID is sha1(external id) + "-" + createTime; anything that is a safe single path
# component is accepted so other BBB versions' IDs work, but never "." / ".." or a hidden name.
_RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_FORMAT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


class ArchiveError(Exception):
    """The archive is refused; ``error`` is the BBB-style answer to give the sender."""

    def __init__(self, error: E.ApiError) -> None:
        super().__init__(error.message)
        self.error = error


class WriteFailure(Exception):
    """Writing the unpacked files failed (disk full, permissions …): the archive may be fine and
    the import is worth retrying."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_members: int = 100_000
    max_unpacked_bytes: int = 20 * 1024**3


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    path: str  # relative to the recording's directory: ``<format>/<file path>``
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    record_id: str
    archive_sha256: str
    formats: tuple[str, ...]
    files: tuple[ManifestEntry, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> str:
        return json.dumps(
            {
                "recordID": self.record_id,
                "archiveSha256": self.archive_sha256,
                "formats": list(self.formats),
                "files": [[f.path, f.size, f.sha256] for f in self.files],
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(
            data["recordID"],
            data["archiveSha256"],
            tuple(data["formats"]),
            tuple(ManifestEntry(p, int(s), h) for p, s, h in data["files"]),
        )


def valid_record_id(record_id: str) -> bool:
    return bool(_RECORD_ID.match(record_id)) and ".." not in record_id


def invalid(reason: str) -> ArchiveError:
    return ArchiveError(E.INVALID_ARCHIVE.with_message(f"Invalid recording archive: {reason}"))


def check_digest(size: int, sha256: str, expected_size: int, expected_sha256: str) -> None:
    """The archive received must be exactly the one the sender announced."""
    if size != expected_size:
        raise ArchiveError(
            E.ARCHIVE_MISMATCH.with_message(
                f"The archive has {size} bytes, the push announced {expected_size}"
            )
        )
    if sha256.lower() != expected_sha256.lower():
        raise ArchiveError(
            E.ARCHIVE_MISMATCH.with_message(
                "The archive's sha256 differs from the one the push announced"
            )
        )


def file_digest(path: Path) -> tuple[int, str]:
    """Size and sha256 hex of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def member_parts(name: str) -> tuple[str, ...]:
    """The safe components of a member name, or ArchiveError."""
    if not name or _BAD_CHARS.search(name):
        raise invalid(f"unsafe entry name {name!r}")
    if name.startswith("/"):
        raise invalid(f"absolute path {name!r}")
    trimmed = name.removeprefix("./").rstrip("/")
    parts = tuple(p for p in trimmed.split("/") if p not in ("", "."))
    if not parts and name.rstrip("/") in ("", "."):
        return ()  # the archive's own root entry "./"
    if any(p == ".." for p in parts):
        raise invalid(f"path traversal in {name!r}")
    if "/".join(parts) != trimmed:
        raise invalid(f"entry name {name!r} is not normalised")
    return parts


def check_layout(parts: tuple[str, ...], is_dir: bool, record_id: str) -> None:
    """Every entry lies under ``<format>/<recordID>/``."""
    if not _FORMAT.match(parts[0]):
        raise invalid(f"{parts[0]!r} is not a playback format directory")
    if len(parts) >= 2 and parts[1] != record_id:
        raise invalid(f"entry {'/'.join(parts)!r} is not under {parts[0]}/{record_id}/")
    if len(parts) <= 2 and not is_dir:
        raise invalid(f"{'/'.join(parts)!r} must be a directory")


def _members(tar: tarfile.TarFile, limits: Limits) -> Iterator[tarfile.TarInfo]:
    count = 0
    total = 0
    while True:
        try:
            member = tar.next()
        except tarfile.TarError as exc:
            raise invalid(f"not a readable tar ({exc})") from exc
        if member is None:
            return
        count += 1
        if count > limits.max_members:
            raise invalid(f"more than {limits.max_members} entries")
        total += member.size if member.isreg() else 0
        if total > limits.max_unpacked_bytes:
            raise ArchiveError(
                E.ARCHIVE_TOO_LARGE.with_message(
                    f"The archive unpacks to more than {limits.max_unpacked_bytes} bytes"
                )
            )
        yield member


def unpack(archive: Path, record_id: str, target: Path, limits: Limits, sha256: str) -> Manifest:
    """Check and unpack ``archive`` into the empty directory ``target`` (created here).

    ``target`` then holds ``<format>/<files>`` (the record ID level is dropped).  Raises
    ArchiveError; the caller removes ``target`` then.
    """
    if not valid_record_id(record_id):
        raise invalid(f"{record_id!r} is not a valid record ID")
    try:
        target.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise WriteFailure(f"cannot create {target}: {exc}") from exc
    seen = _Seen()
    try:
        handle = archive.open("rb")
    except OSError as exc:
        raise invalid(f"cannot read the archive ({exc})") from exc
    with handle:
        try:
            tar = tarfile.open(fileobj=handle, mode="r|*")  # noqa: SIM115 (closed below)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise invalid(f"not a tar or gzip'ed tar ({exc})") from exc
        try:
            for member in _members(tar, limits):
                _unpack_member(tar, member, record_id, target, seen)
        except WriteFailure:
            raise
        except (OSError, EOFError, tarfile.TarError, ValueError) as exc:
            # zlib/gzip errors of a corrupt stream surface as OSError/EOFError/zlib.error
            raise invalid(f"the archive is damaged ({exc})") from exc
        finally:
            tar.close()
    if not seen.formats:
        raise invalid(f"no format directory for {record_id}")
    for fmt in sorted(seen.formats):
        if f"{fmt}/{METADATA}" not in seen.files:
            raise invalid(f"{fmt}/{record_id}/ has no {METADATA}")
    files = tuple(seen.files[k] for k in sorted(seen.files))
    return Manifest(record_id, sha256, tuple(sorted(seen.formats)), files)


def _unpack_member(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    record_id: str,
    target: Path,
    seen: _Seen,
) -> None:
    if not (member.isreg() or member.isdir()) or member.issparse():
        raise invalid(f"{member.name!r} is not a regular file or directory")
    parts = member_parts(member.name)
    if not parts:
        return
    check_layout(parts, member.isdir(), record_id)
    seen.formats.add(parts[0])
    if len(parts) <= 2:
        return
    relative = "/".join((parts[0], *parts[2:]))
    if relative in seen.entries:
        raise invalid(f"duplicate entry {member.name!r}")
    seen.entries.add(relative)
    if member.isreg() and relative in seen.dirs:
        raise invalid(f"{member.name!r} is both a file and a directory")
    for depth in range(3, len(parts)):  # every parent must be (or become) a directory
        parent = "/".join((parts[0], *parts[2:depth]))
        if parent in seen.files:
            raise invalid(f"{member.name!r} lies inside the file {parent!r}")
        seen.dirs.add(parent)
    destination = target.joinpath(parts[0], *parts[2:])
    if member.isdir():
        if relative in seen.files:
            raise invalid(f"{member.name!r} is both a file and a directory")
        seen.dirs.add(relative)
        _mkdir(destination)
        return
    _mkdir(destination.parent)
    source = tar.extractfile(member)
    if source is None:
        raise invalid(f"{member.name!r} has no data")
    size, digest = _copy(source, destination)
    if size != member.size:
        raise invalid(f"{member.name!r} is truncated ({size} of {member.size} bytes)")
    seen.files[relative] = ManifestEntry(relative, size, digest)


@dataclass
class _Seen:
    files: dict[str, ManifestEntry] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    entries: set[str] = field(default_factory=set)
    formats: set[str] = field(default_factory=set)


def _mkdir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteFailure(f"cannot create {path}: {exc}") from exc


def _copy(source: IO[bytes], destination: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    try:
        # O_EXCL: never write through something that is already there (there should be nothing)
        descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        raise WriteFailure(f"cannot create {destination}: {exc}") from exc
    with os.fdopen(descriptor, "wb") as out:
        while chunk := source.read(CHUNK):  # read errors: a damaged archive
            digest.update(chunk)
            size += len(chunk)
            try:
                out.write(chunk)
            except OSError as exc:
                raise WriteFailure(f"cannot write {destination}: {exc}") from exc
    return size, digest.hexdigest()


def verify_tree(root: Path, manifest: Manifest, ignore: frozenset[str] = frozenset()) -> None:
    """Check that ``root`` holds exactly the manifest's files with their sizes and hashes."""
    found = {
        str(p.relative_to(root)).replace(os.sep, "/")
        for p in root.rglob("*")
        if p.is_file() or p.is_symlink()
    } - ignore
    expected = {f.path for f in manifest.files}
    if found != expected:
        raise invalid(f"unpacked files differ from the manifest: {sorted(found ^ expected)[:5]}")
    for entry in manifest.files:
        size, digest = file_digest(root / entry.path)
        if size != entry.size or digest != entry.sha256:
            raise invalid(f"{entry.path} changed after unpacking")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
