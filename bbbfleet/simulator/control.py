"""The control API of a simulated server, under ``/_sim/`` (JSON, no checksum).

It lets a test or an operator do what happens outside the BBB API: users leaving, a meeting
ended from the client, guests admitted, media switched on, faults injected.

    GET    /_sim/state                                  everything the server holds
    POST   /_sim/reset                                  forget all meetings, sessions, faults
    GET    /_sim/faults                                 {"slow": ms, "error": bool, "garbage": bool}
    POST   /_sim/faults                                 set some of them (same keys)
    DELETE /_sim/faults                                 clear them
    POST   /_sim/meetings/{meetingID}/leave             {"userID": "…"} or {"all": true}
    POST   /_sim/meetings/{meetingID}/end               end it as from the client
    POST   /_sim/meetings/{meetingID}/users/{userID}    {"isPresenter", "isListeningOnly",
                                                         "hasJoinedVoice", "hasVideo",
                                                         "isMuted": bool}
    POST   /_sim/meetings/{meetingID}/guests/{userID}   {"allow": bool}
    GET    /_sim/hooks                                  webhook settings, hooks and their queues
    POST   /_sim/hooks                                  change settings: {"checksumVersion":
                                                         "3.3"|"3.4", "retryIntervals": [ms],
                                                         "permanentIntervalReset", "requestTimeout",
                                                         "tickMs": ms, "domain": str,
                                                         "scopedHooks", "auth2_0": bool,
                                                         "permanentURLs":
                                                         [{"url", "getRaw"}], "includeEvents",
                                                         "excludeEvents": [event IDs]}
    DELETE /_sim/hooks                                  remove every hook (permanent ones return)
    GET    /_sim/post-publish                           the post-publish push settings
    POST   /_sim/post-publish                           {"url": str|null, "serverName": str,
                                                         "deleteAfterImport": bool} (any subset)
    POST   /_sim/recordings/{recordID}/push             push it now ({"indexOnly": true}: no body)
    DELETE /_sim/recordings/{recordID}/files            delete its published files

``meetingID`` may be the external or the internal ID, ``userID`` the external or internal one.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bbbfleet.protocol.webhooks import CHECKSUM_VERSIONS
from bbbfleet.simulator.callbacks import send_due_callbacks
from bbbfleet.simulator.hooks import PermanentHook, settings_with
from bbbfleet.simulator.model import User
from bbbfleet.simulator.server import SimulatedServer, UnknownMeeting, UnknownUser
from bbbfleet.simulator.webhooks import send_due_events

ServerResolver = Callable[[Request], SimulatedServer | None]
ControlHandler = Callable[[SimulatedServer, Request, dict[str, Any]], JSONResponse]
PREFIX = "/_sim"


class BadRequest(ValueError):
    pass


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _flag(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise BadRequest(f"{name} must be true or false")


def _users(users: list[User]) -> JSONResponse:
    return JSONResponse({"users": [user.to_json() for user in users]})


def state(server: SimulatedServer, _request: Request, _body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(server.to_json())


def reset(server: SimulatedServer, _request: Request, _body: dict[str, Any]) -> JSONResponse:
    server.reset()
    return JSONResponse(server.to_json())


def get_faults(server: SimulatedServer, _request: Request, _body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(server.faults.to_json())


def set_faults(server: SimulatedServer, _request: Request, body: dict[str, Any]) -> JSONResponse:
    slow = body.get("slow")
    if slow is not None and (isinstance(slow, bool) or not isinstance(slow, int) or slow < 0):
        raise BadRequest("slow must be a number of milliseconds")
    faults = server.set_faults(
        slow_ms=slow, error=_flag(body, "error"), garbage=_flag(body, "garbage")
    )
    return JSONResponse(faults.to_json())


def clear_faults(server: SimulatedServer, _request: Request, _body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(server.clear_faults().to_json())


def leave(server: SimulatedServer, request: Request, body: dict[str, Any]) -> JSONResponse:
    user_id = body.get("userID")
    if body.get("all") is True:
        user_id = None
    elif not isinstance(user_id, str):
        raise BadRequest('give {"userID": "…"} or {"all": true}')
    return _users(server.leave(request.path_params["meeting_id"], user_id))


def end(server: SimulatedServer, request: Request, _body: dict[str, Any]) -> JSONResponse:
    server.end_from_client(request.path_params["meeting_id"])
    return JSONResponse({"ended": True})


def set_media(server: SimulatedServer, request: Request, body: dict[str, Any]) -> JSONResponse:
    users = server.set_media(
        request.path_params["meeting_id"],
        request.path_params["user_id"],
        is_presenter=_flag(body, "isPresenter"),
        is_listening_only=_flag(body, "isListeningOnly"),
        has_joined_voice=_flag(body, "hasJoinedVoice"),
        has_video=_flag(body, "hasVideo"),
        is_muted=_flag(body, "isMuted"),
    )
    return _users(users)


def decide_guest(server: SimulatedServer, request: Request, body: dict[str, Any]) -> JSONResponse:
    allow = _flag(body, "allow")
    if allow is None:
        raise BadRequest('give {"allow": true} or {"allow": false}')
    users = server.decide_guest(
        request.path_params["meeting_id"], request.path_params["user_id"], allow
    )
    return _users(users)


def get_hooks(server: SimulatedServer, _request: Request, _body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(server.hooks.to_json())


def _millis(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest(f"{name} must be a number of milliseconds")
    return value


def _strings(body: dict[str, Any], name: str) -> tuple[str, ...] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{name} must be a list of strings")
    return tuple(value)


def _permanent_hooks(body: dict[str, Any]) -> tuple[PermanentHook, ...] | None:
    value = body.get("permanentURLs")
    if value is None:
        return None
    hooks = []
    for entry in value if isinstance(value, list) else [None]:
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise BadRequest('permanentURLs must be a list of {"url": "…", "getRaw": bool}')
        hooks.append(PermanentHook(entry["url"], _flag(entry, "getRaw") or False))
    return tuple(hooks)


def set_hooks(server: SimulatedServer, _request: Request, body: dict[str, Any]) -> JSONResponse:
    version = body.get("checksumVersion")
    if version is not None and version not in CHECKSUM_VERSIONS:
        raise BadRequest(f"checksumVersion must be one of {list(CHECKSUM_VERSIONS)}")
    intervals = body.get("retryIntervals")
    if intervals is not None and (
        not isinstance(intervals, list)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in intervals)
    ):
        raise BadRequest("retryIntervals must be a list of milliseconds")
    domain = body.get("domain")
    if domain is not None and not isinstance(domain, str):
        raise BadRequest("domain must be a string")
    changes = {
        "checksum_version": version,
        "retry_intervals_ms": None if intervals is None else tuple(intervals),
        "permanent_interval_reset_ms": _millis(body, "permanentIntervalReset"),
        "request_timeout_ms": _millis(body, "requestTimeout"),
        "tick_ms": _millis(body, "tickMs"),
        "domain": domain,
        "scoped_hooks": _flag(body, "scopedHooks"),
        "auth2_0": _flag(body, "auth2_0"),
        "permanent_hooks": _permanent_hooks(body),
        "include_events": _strings(body, "includeEvents"),
        "exclude_events": _strings(body, "excludeEvents"),
    }
    given = {name: value for name, value in changes.items() if value is not None}
    server.hooks.configure(settings_with(server.hooks.settings, given))
    return JSONResponse(server.hooks.to_json())


def clear_hooks(server: SimulatedServer, _request: Request, _body: dict[str, Any]) -> JSONResponse:
    server.hooks.reset()
    return JSONResponse(server.hooks.to_json())


def _post_publish_json(server: SimulatedServer) -> JSONResponse:
    return JSONResponse(
        {
            "url": server.post_publish_url,
            "serverName": server.server_name,
            "deleteAfterImport": server.delete_after_import,
        }
    )


def get_post_publish(
    server: SimulatedServer, _request: Request, _body: dict[str, Any]
) -> JSONResponse:
    return _post_publish_json(server)


def set_post_publish(
    server: SimulatedServer, _request: Request, body: dict[str, Any]
) -> JSONResponse:
    if "url" in body:
        url = body["url"]
        if url is not None and not (
            isinstance(url, str) and url.startswith(("http://", "https://"))
        ):
            raise BadRequest("url must be an http(s) URL or null")
        server.post_publish_url = url
    if "serverName" in body:
        name = body["serverName"]
        if not isinstance(name, str) or not name:
            raise BadRequest("serverName must be a non-empty string")
        server.server_name = name
    delete = _flag(body, "deleteAfterImport")
    if delete is not None:
        server.delete_after_import = delete
    return _post_publish_json(server)


def push_recording(server: SimulatedServer, request: Request, body: dict[str, Any]) -> JSONResponse:
    record_id = request.path_params["record_id"]
    if server.post_publish_url is None:
        raise BadRequest("no post-publish URL is set")
    if not server.push_recording(record_id, index_only=_flag(body, "indexOnly") is True):
        return _problem(404, f"no published recording {record_id!r} with files on this server")
    return JSONResponse({"queued": True})


def delete_files(server: SimulatedServer, request: Request, _body: dict[str, Any]) -> JSONResponse:
    record_id = request.path_params["record_id"]
    if not server.remove_local_files(record_id):
        return _problem(404, f"no recording {record_id!r} with files on this server")
    return JSONResponse({"deleted": True})


def _endpoint(
    handler: ControlHandler, resolve: ServerResolver
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        server = resolve(request)
        if server is None:
            return _problem(404, "no such server")
        try:
            return handler(server, request, await _json_body(request))
        except BadRequest as exc:
            return _problem(400, str(exc))
        except UnknownMeeting as exc:
            return _problem(404, f"no meeting {exc.args[0]!r} on this server")
        except UnknownUser as exc:
            return _problem(404, f"no user {exc.args[0]!r} in this meeting")
        finally:
            send_due_callbacks(server)
            send_due_events(server)

    return endpoint


def control_routes(resolve: ServerResolver) -> list[BaseRoute]:
    meeting = f"{PREFIX}/meetings/{{meeting_id:path}}"
    table: list[tuple[str, ControlHandler, list[str]]] = [
        (f"{PREFIX}/state", state, ["GET"]),
        (f"{PREFIX}/reset", reset, ["POST"]),
        (f"{PREFIX}/faults", get_faults, ["GET"]),
        (f"{PREFIX}/faults", set_faults, ["POST", "PUT"]),
        (f"{PREFIX}/faults", clear_faults, ["DELETE"]),
        (f"{meeting}/leave", leave, ["POST"]),
        (f"{meeting}/end", end, ["POST"]),
        (f"{meeting}/users/{{user_id}}", set_media, ["POST"]),
        (f"{meeting}/guests/{{user_id}}", decide_guest, ["POST"]),
        (f"{PREFIX}/hooks", get_hooks, ["GET"]),
        (f"{PREFIX}/hooks", set_hooks, ["POST", "PUT"]),
        (f"{PREFIX}/hooks", clear_hooks, ["DELETE"]),
        (f"{PREFIX}/post-publish", get_post_publish, ["GET"]),
        (f"{PREFIX}/post-publish", set_post_publish, ["POST", "PUT"]),
        (f"{PREFIX}/recordings/{{record_id}}/push", push_recording, ["POST"]),
        (f"{PREFIX}/recordings/{{record_id}}/files", delete_files, ["DELETE"]),
    ]
    return [Route(path, _endpoint(handler, resolve), methods=m) for path, handler, m in table]
