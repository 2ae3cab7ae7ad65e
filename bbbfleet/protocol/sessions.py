"""The session-token calls: getJoinUrl, learningDashboard and stuns (REFERENCE.md §5.14-5.16).

They carry no checksum; a ``sessionToken`` from a join authorises them.  Their answers are Groovy
``JsonBuilder.toPrettyString()`` documents; signOut's XML lives with the meeting responses.
This module also builds the join URL that getJoinUrl hands out, quirks included.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote_plus

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.checksum import compute
from bbbfleet.protocol.errors import ApiError
from bbbfleet.protocol.params import USERDATA_NAME
from bbbfleet.protocol.xml import render_pretty_json

# bbb-web 3.0.x ``getJoinUrlUserdataBlocklist`` (REFERENCE.md §9): userdata a viewer may not pass on.
DEFAULT_USERDATA_BLOCKLIST: Final = frozenset(
    {
        "bbb_record_permission",
        "bbb_record_video",
        "bbb_fullaudio_bridge",
        "bbb_transparent_listen_only",
        "bbb_multi_user_pen_only",
        "bbb_presenter_tools",
        "bbb_multi_user_tools",
    }
)
USERDATA_PREFIX: Final = "userdata-"


def java_url_encode(text: str) -> str:
    """``java.net.URLEncoder.encode(text, "UTF-8")``: form encoding, ``.-*_`` kept, ``~`` not."""
    return quote_plus(text, safe="*").replace("~", "%7E")


# --- getJoinUrl (§5.14) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinUrlRequest:
    """What goes into a getJoinUrl answer: the caller's user session and the optional parameters."""

    full_name: str
    meeting_id: str  # external
    moderator: bool
    internal_user_id: str
    session_token: str
    replace_session: bool = False
    session_name: str | None = None
    enforce_layout: str | None = None
    userdata: tuple[tuple[str, str], ...] = ()  # names without the ``userdata-`` prefix


def join_url_query(
    request: JoinUrlRequest, blocklist: Iterable[str] = DEFAULT_USERDATA_BLOCKLIST
) -> str:
    """The query bbb-web builds: it starts with ``&`` and encodes fullName and meetingID twice."""
    role = "MODERATOR" if request.moderator else "VIEWER"
    parts = [
        f"&fullName={java_url_encode(java_url_encode(request.full_name))}",
        f"&meetingID={java_url_encode(java_url_encode(request.meeting_id))}",
        f"&role={role}&redirect=true&existingUserID={request.internal_user_id}",
    ]
    if request.replace_session:
        parts.append(f"&replaceSessionToken={request.session_token}")
    if request.session_name:
        parts.append(f"&sessionName={java_url_encode(request.session_name)}")
    if request.enforce_layout:
        parts.append(f"&enforceLayout={java_url_encode(request.enforce_layout)}")
    blocked = frozenset(blocklist)
    for name, value in request.userdata:
        if request.moderator or name not in blocked:
            parts.append(f"&{USERDATA_PREFIX}{java_url_encode(name)}={java_url_encode(value)}")
    return "".join(parts)


def join_url(server_url: str, query: str, secret: str) -> str:
    """``<serverURL>/bigbluebutton/api/join?<query>&checksum=<sha1(join + query + secret)>``:
    always SHA-1, whatever algorithms the server accepts."""
    checksum = compute("join", query, secret, "sha1")
    return f"{server_url}/bigbluebutton/api/join?{query}&checksum={checksum}"


def userdata_of(params: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """``userdata-<key>`` request parameters in arrival order (exactly one ``-``, as join)."""
    return tuple(
        (name[len(USERDATA_PREFIX) :], value)
        for name, value in params.items()
        if USERDATA_NAME.fullmatch(name)
    )


def join_url_json(url: str) -> str:
    return render_pretty_json(
        {"response": {"returncode": "SUCCESS", "message": E.JOIN_URL_PROVIDED, "url": url}}
    )


def session_failure_json(message: str) -> str:
    """The failure of getJoinUrl and learningDashboard: a message, no messageKey."""
    return render_pretty_json({"response": {"returncode": "FAILED", "message": message}})


# --- learningDashboard (§5.15) ---------------------------------------------------------------


def learning_dashboard_json(data: str) -> str:
    """``data`` is the dashboard's JSON file as one string."""
    return render_pretty_json({"response": {"returncode": "SUCCESS", "data": data}})


def compact_json(data: object) -> str:
    """A dashboard data file: compact JSON, apostrophes and non-ASCII as written."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


# --- stuns (§5.16) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TurnServer:
    username: str
    password: str
    url: str
    ttl: int


def turn_credentials(secret: str, user_id: str, now_s: int, ttl: int) -> tuple[str, str]:
    """coturn's REST scheme: ``<expiry>:<user>`` and base64(HMAC-SHA1(secret, username))."""
    username = f"{now_s + ttl}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def stuns_json(
    stun_urls: Iterable[str], turn_servers: Iterable[TurnServer], remote_ips: Iterable[str]
) -> str:
    return render_pretty_json(
        {
            "stunServers": [{"url": url} for url in stun_urls],
            "turnServers": [
                {"username": t.username, "password": t.password, "url": t.url, "ttl": t.ttl}
                for t in turn_servers
            ],
            "remoteIceCandidates": [{"ip": ip} for ip in remote_ips],
        }
    )


def stuns_failure_json(logout_url: str) -> str:
    """Any stuns failure: no ``response`` wrapper, and the server's default logout URL."""
    return render_pretty_json(
        {"returncode": "FAILED", "message": E.STUNS_NO_CONFERENCE, "logoutURL": logout_url}
    )


def session_token_violations(session_token: str | None, known: bool) -> list[ApiError]:
    """UserSessionConstraint (§3.2): NotNull, then a user session must hold the token."""
    if session_token is None:
        return [E.SESSION_TOKEN_MISSING]
    return [] if known else [E.SESSION_TOKEN_INVALID]
