"""Archive verification: only well-formed recording archives of the pushed record ID unpack."""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bbbfleet.recordings.archive import (
    ArchiveError,
    Limits,
    Manifest,
    check_digest,
    unpack,
    verify_tree,
)
from tests.recordings.archives import RECORD_ID, archive, build, member, presentation_files

LIMITS = Limits(max_members=1000, max_unpacked_bytes=10 * 1024 * 1024)


def run(
    tmp_path: Path, data: bytes, record_id: str = RECORD_ID, limits: Limits = LIMITS
) -> Manifest:
    source = tmp_path / "in.tar"
    source.write_bytes(data)
    return unpack(source, record_id, tmp_path / "out", limits, hashlib.sha256(data).hexdigest())


def refused(tmp_path: Path, data: bytes, key: str = "invalidArchive", **kwargs: object) -> str:
    with pytest.raises(ArchiveError) as caught:
        run(tmp_path, data, **kwargs)  # type: ignore[arg-type]
    assert caught.value.error.key == key
    return caught.value.error.message


@pytest.mark.parametrize("compressed", [False, True])
def test_a_good_archive_unpacks_with_its_manifest(tmp_path: Path, compressed: bool) -> None:
    files = presentation_files()
    data = archive(files, gzip=compressed)
    manifest = run(tmp_path, data)
    assert manifest.record_id == RECORD_ID
    assert manifest.archive_sha256 == hashlib.sha256(data).hexdigest()
    assert manifest.formats == ("presentation", "video")
    expected = {name.replace(f"/{RECORD_ID}/", "/", 1): content for name, content in files.items()}
    assert {f.path: f.size for f in manifest.files} == {k: len(v) for k, v in expected.items()}
    for entry in manifest.files:
        assert entry.sha256 == hashlib.sha256(expected[entry.path]).hexdigest()
        assert (tmp_path / "out" / entry.path).read_bytes() == expected[entry.path]
    verify_tree(tmp_path / "out", manifest)
    assert Manifest.from_json(manifest.to_json()) == manifest


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_tar_formats_and_long_names(tmp_path: Path, fmt: int) -> None:
    """GNU tar (what a shell script on a BBB server makes) writes long names in extra headers."""
    long_dir = "presentation/" + "d" * 40 + "-1700000000000/thumbnails"
    files = presentation_files() | {f"presentation/{RECORD_ID}/{long_dir}/thumb-1.png": b"png"}
    if fmt == tarfile.USTAR_FORMAT:  # ustar splits at most 155+100 characters: still fine here
        files = {k: v for k, v in files.items() if len(k) < 150}
    manifest = run(tmp_path, archive(files, format=fmt))
    assert len(manifest.files) == len(files)


def test_names_with_dot_slash_and_without_directory_entries(tmp_path: Path) -> None:
    files = {f"./{k}": v for k, v in presentation_files().items()}
    manifest = run(tmp_path, archive(files, with_dirs=False))
    assert len(manifest.files) == len(files)


def test_a_changed_file_after_unpacking_is_noticed(tmp_path: Path) -> None:
    manifest = run(tmp_path, archive())
    (tmp_path / "out" / "presentation" / "shapes.svg").write_bytes(b"evil")
    with pytest.raises(ArchiveError):
        verify_tree(tmp_path / "out", manifest)


META = f"presentation/{RECORD_ID}/metadata.xml"


def with_extra(*extra: tuple[tarfile.TarInfo, bytes]) -> bytes:
    return build([member(META, b"<recording/>"), *extra])


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (member(f"presentation/{RECORD_ID}/../../../etc/passwd", b"x"), "traversal"),
        (member(f"presentation/{RECORD_ID}/a/../../x", b"x"), "traversal"),
        (member(f"/presentation/{RECORD_ID}/x", b"x"), "absolute"),
        (member(f"presentation/{RECORD_ID}/a\\..\\x", b"x"), "unsafe"),
        (member(f"presentation/{RECORD_ID}/a//b", b"x"), "normalised"),
        (
            member(f"presentation/{RECORD_ID}/link", kind=tarfile.SYMTYPE, linkname="/etc/passwd"),
            "not a regular file",
        ),
        (
            member(f"presentation/{RECORD_ID}/hard", kind=tarfile.LNKTYPE, linkname=META),
            "not a regular file",
        ),
        (member(f"presentation/{RECORD_ID}/dev", kind=tarfile.CHRTYPE), "not a regular file"),
        (member(f"presentation/{RECORD_ID}/fifo", kind=tarfile.FIFOTYPE), "not a regular file"),
        (member(f"presentation/{RECORD_ID}/metadata.xml", b"again"), "duplicate"),
        (member(f"presentation/{RECORD_ID}/metadata.xml/x", b"x"), "inside the file"),
        (member(f"presentation/{RECORD_ID}/metadata.xml/", kind=tarfile.DIRTYPE), "duplicate"),
        (member("presentation/other-record/metadata.xml", b"x"), "not under"),
        (member(f"Presentation/{RECORD_ID}/metadata.xml", b"x"), "not a playback format"),
        (member(f".hidden/{RECORD_ID}/metadata.xml", b"x"), "not a playback format"),
        (member(f"presentation/{RECORD_ID}", b"x"), "must be a directory"),
        (member("presentation", b"x"), "must be a directory"),
        (member(f"video/{RECORD_ID}/video-0.m4v", b"x"), "has no metadata.xml"),
    ],
    ids=lambda v: v if isinstance(v, str) else v[0].name,
)
def test_hostile_entries_are_refused(
    tmp_path: Path, entry: tuple[tarfile.TarInfo, bytes], reason: str
) -> None:
    message = refused(tmp_path, with_extra(entry))
    assert reason in message
    assert not (tmp_path / "etc").exists()


def test_symlink_cannot_be_used_to_write_outside(tmp_path: Path) -> None:
    """Classic: a symlink to / followed by a file "through" it."""
    data = build(
        [
            member(META, b"<recording/>"),
            member(f"presentation/{RECORD_ID}/out", kind=tarfile.SYMTYPE, linkname=str(tmp_path)),
            member(f"presentation/{RECORD_ID}/out/pwned", b"x"),
        ]
    )
    refused(tmp_path, data)
    assert not (tmp_path / "pwned").exists()


def test_wrong_record_id_and_invalid_record_ids(tmp_path: Path) -> None:
    assert "not under" in refused(tmp_path, archive(), record_id="another-1")
    for bad in ("..", "../x", ".hidden", "a/b", ""):
        assert "not a valid record ID" in refused(tmp_path, archive(), record_id=bad)


def test_empty_archive_has_no_format(tmp_path: Path) -> None:
    assert "no format directory" in refused(tmp_path, build([]))


def test_too_many_members(tmp_path: Path) -> None:
    files = {f"presentation/{RECORD_ID}/f{i}": b"" for i in range(20)}
    files[META] = b"x"
    refused(tmp_path, archive(files), limits=Limits(max_members=10, max_unpacked_bytes=10**6))


def test_a_huge_member_is_refused_from_its_header(tmp_path: Path) -> None:
    info = tarfile.TarInfo(f"presentation/{RECORD_ID}/huge.webm")
    info.size = 10**12  # the data never comes: the header alone must be enough to refuse
    meta, content = member(META, b"x")
    data = meta.tobuf() + content.ljust(512, b"\0") + info.tobuf()
    message = refused(tmp_path, data, key="archiveTooLarge")
    assert "more than" in message
    assert not (tmp_path / "out" / "presentation" / "huge.webm").exists()


def test_gzip_bomb_stops_at_the_unpacked_limit(tmp_path: Path) -> None:
    files = {META: b"x", f"presentation/{RECORD_ID}/zeros": bytes(30 * 1024 * 1024)}
    data = archive(files, gzip=True)
    assert len(data) < 100_000  # small on the wire
    refused(tmp_path, data, key="archiveTooLarge")
    assert not (tmp_path / "out" / "presentation" / "zeros").exists()


def test_many_members_add_up_to_the_limit(tmp_path: Path) -> None:
    files = {META: b"x"} | {f"presentation/{RECORD_ID}/f{i}": bytes(1000) for i in range(20)}
    refused(tmp_path, archive(files), key="archiveTooLarge", limits=Limits(1000, 10_000))


@pytest.mark.parametrize("compressed", [False, True])
def test_truncated_archives_are_refused(tmp_path: Path, compressed: bool) -> None:
    data = archive(gzip=compressed)
    message = refused(tmp_path, data[: len(data) * 2 // 3])
    assert "truncated" in message or "damaged" in message or "readable" in message


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage" * 100, gzip.compress(b"not a tar at all" * 100), b"\x1f\x8b" + b"x" * 600],
    ids=["empty", "garbage", "gzip-of-garbage", "broken-gzip"],
)
def test_garbage_is_refused(tmp_path: Path, data: bytes) -> None:
    refused(tmp_path, data)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0), flip=st.integers(min_value=0), byte=st.integers(0, 255))
def test_corrupted_archives_fail_cleanly(tmp_path: Path, cut: int, flip: int, byte: int) -> None:
    """Any damage gives an ArchiveError (or, when harmless, a valid manifest): never a crash."""
    base = bytearray(archive(gzip=bool(byte % 2)))
    base[flip % len(base)] = byte
    data = bytes(base[: len(base) - cut % len(base)])
    target = Path(tempfile.mkdtemp(dir=tmp_path))
    try:
        run(target, data)
    except ArchiveError as exc:
        assert exc.error.key in ("invalidArchive", "archiveTooLarge")


def test_check_digest() -> None:
    check_digest(3, "AB" * 32, 3, "ab" * 32)
    with pytest.raises(ArchiveError) as caught:
        check_digest(3, "ab" * 32, 4, "ab" * 32)
    assert caught.value.error.key == "archiveMismatch"
    with pytest.raises(ArchiveError) as caught:
        check_digest(3, "ab" * 32, 3, "cd" * 32)
    assert caught.value.error.key == "archiveMismatch"
