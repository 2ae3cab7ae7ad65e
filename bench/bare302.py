"""The baseline: a bare Starlette app on uvicorn that answers every API call with a 302.

It runs on the uvicorn configuration ``bbbfleet serve`` uses (``server_config``: one worker,
uvloop and httptools when installed, no access log), so the gap between it and the gateway's join
is the gateway's own work.

    python -m bench.bare302 --port 18081
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bbbfleet.gateway.http_server import server_config

# As long as a gateway join redirect, so both send about the same bytes.
LOCATION = (
    "http://127.0.0.1:9001/bigbluebutton/api/join?fullName=Bench%20User&meetingID=bf1-bench-0"
    "&role=VIEWER&errorRedirectUrl=http%3A%2F%2F127.0.0.1%3A8000"
    "&checksum=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)


async def redirect(_request: Request) -> Response:
    return Response(status_code=302, headers={"Location": LOCATION, "Cache-Control": "no-cache"})


def create_app() -> Starlette:
    return Starlette(routes=[Route("/bigbluebutton/api/{call:path}", redirect)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="Listen address.")
    parser.add_argument("--port", type=int, required=True, help="Listen port.")
    args = parser.parse_args()
    uvicorn.Server(server_config(create_app(), args.host, args.port)).run()


if __name__ == "__main__":
    main()
