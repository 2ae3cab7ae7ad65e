"""What a gateway service hands back to the web layer, and how it becomes an HTTP response."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from bbbfleet.protocol.errors import ApiError
from bbbfleet.protocol.responses import error_wants_json
from bbbfleet.protocol.xml import JSON_MEDIA_TYPE as JSON_TYPE
from bbbfleet.protocol.xml import XML_MEDIA_TYPE as XML_TYPE
from bbbfleet.protocol.xml import render_error, render_error_json

NO_CACHE = {"Cache-Control": "no-cache"}


@dataclass(frozen=True, slots=True)
class Document:
    """A finished XML (or JSON) body."""

    body: str
    media_type: str = XML_TYPE
    status: int = 200


@dataclass(frozen=True, slots=True)
class Failure:
    """A BBB ``invalid()`` answer: returncode FAILED with a messageKey."""

    error: ApiError
    status: int = 200


@dataclass(frozen=True, slots=True)
class Redirect:
    location: str


Answer = Document | Failure | Redirect


def to_response(answer: Answer, request: Request) -> Response:
    if isinstance(answer, Redirect):
        return Response(status_code=302, headers={"Location": answer.location, **NO_CACHE})
    if isinstance(answer, Failure):
        if error_wants_json(request.headers.get("accept")):
            body = render_error_json(answer.error.key, answer.error.message)
            return Response(body, answer.status, NO_CACHE, media_type=JSON_TYPE)
        body = render_error(answer.error.key, answer.error.message)
        return Response(body, answer.status, NO_CACHE, media_type=XML_TYPE)
    return Response(answer.body, answer.status, NO_CACHE, media_type=answer.media_type)
