"""Which callback URLs a tenant may register (pure).

A multi-tenant gateway must not let a tenant make it POST into the operator's own network, so by
default a callback URL must be an absolute ``http``/``https`` URL with a host name or a public IP
address, without user name or password.  Literal loopback, private, link-local, multicast,
reserved and unspecified addresses and ``localhost`` names are refused unless the platform allows
private targets.  Host names are not resolved here (a name pointing to a private address is the
operator's DNS, not the tenant's choice).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

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
