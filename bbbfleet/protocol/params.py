"""Parsing and editing of BBB API parameters.

``ApiParams`` is what a handler reads: the first value of each parameter (BBB uses only the first),
decoded from the query string and, for POST, from a form body.  ``RawQuery`` edits a query string
component by component so that everything the gateway does not touch is forwarded byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from bbbfleet.protocol.checksum import strip_control_and_trim

# Matched with ``fullmatch`` like Java's ``Matcher.matches()``: with ``re.match`` a ``$`` would also
# accept a trailing newline (``meta_x\n`` is not metadata in bbb-web).
META_NAME = re.compile(r"meta_[a-zA-Z][a-zA-Z0-9-]*")
USERDATA_NAME = re.compile(r"userdata-[^-]+")
TRUE_VALUES = frozenset({"true"})
JAVA_INT_TEXT = re.compile(r"[+-]?\d+")
JAVA_INT_MIN, JAVA_INT_MAX = -(2**31), 2**31 - 1


class ParamsNotUtf8(ValueError):
    """The query string or body holds bytes that are not UTF-8 once percent-decoded."""


def _decode_component(raw: bytes) -> str:
    try:
        if b"%" not in raw and b"+" not in raw:  # most names and many values: nothing to decode
            return raw.decode("utf-8")
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsNotUtf8(str(exc)) from exc


def ascii_digits(text: str) -> bool:
    """Only the ASCII digits 0-9 (``str.isdigit`` also accepts ``"²"``, which int() refuses)."""
    return text.isascii() and text.isdigit()


def parse_pairs(raw: bytes) -> list[tuple[str, str]]:
    """Decode ``a=1&b=2`` into pairs, keeping blanks and order; skip empty components."""
    pairs: list[tuple[str, str]] = []
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        pairs.append((_decode_component(name), _decode_component(value)))
    return pairs


@dataclass
class ApiParams(Mapping[str, str]):
    """First value of each parameter, raw (unsanitised) as handlers read them in bbb-web."""

    _values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, str]]) -> ApiParams:
        values: dict[str, str] = {}
        for name, value in pairs:
            values.setdefault(name, value)
        return cls(values)

    @classmethod
    def parse(cls, raw_query: bytes, form_body: bytes | None = None) -> ApiParams:
        pairs = parse_pairs(raw_query)
        if form_body:
            pairs.extend(parse_pairs(form_body))
        return cls.from_pairs(pairs)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def get(self, key: str, default: Any = None) -> Any:  # the Mapping mixin is 5x slower
        return self._values.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def sanitised(self, name: str) -> str | None:
        """The value as BBB's validators see it: control characters removed, trimmed."""
        value = self._values.get(name)
        return None if value is None else strip_control_and_trim(value)

    def flag(self, name: str, default: bool = False) -> bool:
        """Java ``Boolean.parseBoolean`` semantics: only case-insensitive ``true`` is true.

        bbb-web parses the raw value without trimming, so ``" true"`` is false there too.
        """
        value = self._values.get(name)
        if value is None or value == "":
            return default
        return value.lower() in TRUE_VALUES

    def integer(self, name: str, default: int) -> int:
        """Lenient integer like bbb-web's create: what ``Integer.parseInt`` rejects (blanks,
        ``1_000``, ``1.5``, values outside 32 bits) falls back to the default."""
        value = self._values.get(name)
        if value is None or not JAVA_INT_TEXT.fullmatch(value):
            return default
        try:
            number = int(value)
        except ValueError:  # more digits than Python converts: far outside 32 bits anyway
            return default
        return number if JAVA_INT_MIN <= number <= JAVA_INT_MAX else default

    def metadata(self) -> dict[str, str]:
        """``meta_*`` parameters, names lowercased and prefix removed, in arrival order."""
        return {
            name[5:].lower(): value
            for name, value in self._values.items()
            if META_NAME.fullmatch(name)
        }

    def userdata(self) -> dict[str, str]:
        return {
            name[9:]: value for name, value in self._values.items() if USERDATA_NAME.fullmatch(name)
        }


def encode_component(value: str) -> str:
    """Percent-encode like ``encodeURIComponent`` (the most common client encoding)."""
    return quote(value, safe="-_.!~*'()")


@dataclass
class RawQuery:
    """A query string kept as its original components, for byte-faithful forwarding."""

    parts: list[bytes]

    @classmethod
    def parse(cls, raw: bytes) -> RawQuery:
        return cls([part for part in raw.split(b"&") if part])

    def names(self) -> list[str]:
        return [part.partition(b"=")[0].decode("latin-1") for part in self.parts]

    def without(self, *names: str) -> RawQuery:
        drop = {name.encode() for name in names}
        return RawQuery([p for p in self.parts if p.partition(b"=")[0] not in drop])

    def replace(self, name: str, value: str) -> RawQuery:
        """Set ``name`` to ``value`` (encoded); replaces every occurrence or appends one."""
        key = name.encode()
        encoded = key + b"=" + encode_component(value).encode()
        result: list[bytes] = []
        replaced = False
        for part in self.parts:
            if part.partition(b"=")[0] == key:
                if not replaced:
                    result.append(encoded)
                    replaced = True
                continue
            result.append(part)
        if not replaced:
            result.append(encoded)
        return RawQuery(result)

    def with_part(self, part: bytes) -> RawQuery:
        """Append an already encoded ``name=value`` component."""
        return RawQuery([*self.parts, part])

    def encode(self) -> str:
        """ASCII query string; bytes a URL may not carry raw are percent-encoded."""
        return _ascii_safe(b"&".join(self.parts))


_URL_SAFE_BYTES = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%"
)


_UNSAFE = re.compile(b"[^" + re.escape(bytes(sorted(_URL_SAFE_BYTES))) + b"]")


def _ascii_safe(raw: bytes) -> str:
    return _UNSAFE.sub(lambda m: b"%%%02X" % m.group(0)[0], raw).decode("ascii")
