"""Which callback URLs a tenant may register, and which addresses callbacks may reach.

A multi-tenant gateway must not let a tenant make it POST into the operator's own network, so by
default a callback URL must be an absolute ``http``/``https`` URL with a host name or a public IP
address, without user name or password.  Literal loopback, private, link-local, multicast,
reserved and unspecified addresses and ``localhost`` names are refused unless the platform allows
private targets.  Host names are not resolved at registration; when callbacks are sent,
``PublicResolver`` connects only to public addresses and every redirect target is checked again
with ``callback_url_problem``.
"""

from __future__ import annotations

import ipaddress
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
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a host name
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        return "is not a public address"
    return None


def is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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
