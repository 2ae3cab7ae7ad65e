"""Iteration order of a ``java.util.HashMap<String, …>``.

bbb-web keeps validation errors and meeting metadata in HashMaps, so which error wins and in which
order metadata is listed follow Java's hashing (REFERENCE.md §3.1, §4).  Reproducing it keeps the
simulator's answers identical to a real server's.
"""

from __future__ import annotations

from collections.abc import Iterable


def java_string_hash(value: str) -> int:
    """``String.hashCode`` over UTF-16 code units, as a signed 32-bit int."""
    h = 0
    encoded = value.encode("utf-16-be")
    for i in range(0, len(encoded), 2):
        h = (31 * h + ((encoded[i] << 8) | encoded[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def _spread(h: int) -> int:
    h &= 0xFFFFFFFF
    return h ^ (h >> 16)


def hashmap_order(keys: Iterable[str]) -> list[str]:
    """Keys (inserted in the given order, duplicates ignored) in HashMap iteration order."""
    unique: list[str] = list(dict.fromkeys(keys))
    capacity = 16
    while len(unique) > capacity * 3 // 4:
        capacity *= 2
    indexed = [(_spread(java_string_hash(k)) & (capacity - 1), i, k) for i, k in enumerate(unique)]
    return [k for _, _, k in sorted(indexed)]


def java_hashmap_first(keys: Iterable[str]) -> str | None:
    ordered = hashmap_order(keys)
    return ordered[0] if ordered else None
