"""The HTTP server the gateway runs on: uvicorn, with BBB-style answers to unparsable requests.

A request that HTTP itself cannot parse (e.g. raw non-ASCII bytes in the request line, which
Tomcat in front of bbb-web refuses too) never reaches the application; uvicorn would answer it in
plain text.  The gateway answers it with a BBB ``FAILED`` document instead, still with status 400.
"""

from __future__ import annotations

from typing import Any

import uvicorn
from starlette.types import ASGIApp

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.xml import XML_MEDIA_TYPE, render_error

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is part of uvicorn[standard]; without it use uvicorn's default
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


def _bbb_400(protocol: Any, _msg: str) -> None:
    body = render_error(E.MALFORMED_REQUEST.key, E.MALFORMED_REQUEST.message).encode()
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    for name, value in protocol.server_state.default_headers:
        head.append(name + b": " + value + b"\r\n")
    head.append(b"content-type: " + XML_MEDIA_TYPE.encode() + b"\r\n")
    head.append(b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n")
    protocol.transport.write(b"".join(head) + body)
    protocol.transport.close()


if HttpToolsProtocol is not None:

    class BbbHttpProtocol(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            _bbb_400(self, msg)

    HTTP_PROTOCOL: Any = BbbHttpProtocol
else:
    HTTP_PROTOCOL = "auto"


def server_config(app: ASGIApp, host: str, port: int, log_level: str = "warning") -> uvicorn.Config:
    """The uvicorn configuration every gateway process uses (serve, demo, tests, benchmark)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=HTTP_PROTOCOL,
        log_level=log_level.lower(),
        access_log=False,
        proxy_headers=True,
        server_header=False,
        lifespan="on",
    )
