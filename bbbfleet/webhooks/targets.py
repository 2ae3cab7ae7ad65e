"""Which callback URLs a tenant may register, and which addresses callbacks may reach.

A multi-tenant gateway must not let a tenant make it POST into the operator's own network, so by
default a callback URL must be an absolute ``http``/``https`` URL with a host name or a public IP
address, without user name or password.  Literal loopback, private, link-local, multicast,
reserved and unspecified addresses and ``localhost`` names are refused unless the platform allows
private targets; numeric hosts count in every form inet_aton accepts (``2130706433``, ``127.1``)
and IPv6 addresses that embed an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are
judged by it.  Host names are not resolved at registration; when callbacks are sent,
``PublicResolver`` connects only to public addresses and every redirect target is checked again
with ``callback_url_problem``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

MAX_CALLBACK_URL = 2048


def callback_url_problem(url: str, allow_private: bool = False) -> str | None:
    """Why ``url`` cannot be a tenant's callback URL, or None when it can."""
    if len(url) > MAX_CALLBACK_URL:
        return f"longer than {MAX_CALLBACK_URL} characters"
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return "contains white space or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https"):
        return "not an http or https URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "contains a user name or password"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "has no host"
    if port == 0:
        return "has port 0"
    if allow_private:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "names the local host"
    address = numeric_host(host)
    if address is None:
        return None  # a host name (resolved only when sending, by PublicResolver)
    if not _public(address):
        return "is not a public address"
    return None


_NUMERIC = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read as the C library's inet_aton reads it (what a resolver does with a numeric
    host name): 1 to 4 parts, each decimal, ``0x`` hex or ``0`` octal, the last filling the
    remaining bytes, so ``2130706433``, ``0x7f000001``, ``127.1`` and ``0177.0.0.1`` are all
    127.0.0.1.  None when it is not such a number."""
    if not _NUMERIC.fullmatch(host):
        return None
    values: list[int] = []
    for part in host.split("."):
        try:
            if part[:2].lower() == "0x":
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part))
        except ValueError:
            return None  # e.g. "08" (not octal)
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def numeric_host(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a URL's host stands for when it is numeric in any form, else None."""
    host = host.split("%", 1)[0]  # an IPv6 zone
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return _inet_aton(host)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries: IPv4-mapped ``::ffff:a.b.c.d``, the old
    IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``, 6to4 ``2002:aabb:ccdd::``, Teredo
    (the client's address)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if int(address) >> 32 == 0:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return _public(embedded) and not address.is_multicast
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
    )


def is_public(address: str) -> bool:
    ip = numeric_host(address)
    return ip is not None and _public(ip)


class PublicResolver(AbstractResolver):
    """A resolver for callbacks that only hands out public addresses, so a host name that
    resolves (now, or after a DNS change) to a private address is not reached either."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        public = [r for r in await self._inner.resolve(host, port, family) if is_public(r["host"])]
        if not public:
            raise OSError(f"{host} resolves to no public address")
        return public

    async def close(self) -> None:
        await self._inner.close()
