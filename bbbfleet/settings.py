"""bbbfleet's settings: one typed object, read from ``BBBFLEET_*`` environment variables and an
optional TOML config file (``BBBFLEET_CONFIG`` or ``--config``).  docs/configuration.md documents
every option; keep the two in step.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bbbfleet.placement import Strategy
from bbbfleet.protocol.checksum import ALL_ALGORITHMS


class Settings(BaseSettings):
    """Gateway settings.  Environment variables win over the config file."""

    model_config = SettingsConfigDict(env_prefix="BBBFLEET_", extra="ignore")

    database_url: str = "sqlite:///bbbfleet.sqlite3"
    """SQLAlchemy URL of the database.  ``sqlite:///path`` (the embedded default, one process) or
    ``postgresql://user@host/db`` (several gateway processes may share it)."""

    public_url: str = "http://127.0.0.1:8000"
    """The URL clients use to reach the gateway, without ``/bigbluebutton``.  Used as the default
    target of join error redirects, as BBB uses its own server URL."""

    host: str = "127.0.0.1"
    """Address ``bbbfleet serve`` listens on."""

    port: int = 8000
    """Port ``bbbfleet serve`` listens on."""

    checksum_algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(ALL_ALGORITHMS)
    )
    """Checksum algorithms accepted from clients (BBB's ``supportedChecksumAlgorithms``)."""

    backend_checksum_algorithm: str = "sha256"
    """Algorithm the gateway signs its calls to BBB servers with."""

    backend_timeout: float = 5.0
    """Seconds to wait for a BBB server (connect and read) before treating it as unreachable."""

    backend_connections: int = 100
    """Pooled HTTP connections to BBB servers, over all servers."""

    max_body_bytes: int = 32 * 1024 * 1024
    """Largest accepted request body (create with embedded presentations); larger → FAILED."""

    max_text_track_bytes: Annotated[int, Field(ge=1)] = 8 * 1024 * 1024
    """Largest putRecordingTextTrack upload (the whole multipart body) the gateway passes on to
    the recording's server; larger → FAILED ``requestTooLarge``."""

    tenant_by_secret: bool = True
    """Recognise the tenant by the secret alone when neither path prefix nor Host header names
    one (fine for a handful of tenants; every tenant secret is tried)."""

    cache_seconds: float = 2.0
    """How long tenant and server lists are cached in each process.  Changes made with the CLI
    reach running gateways after at most this delay."""

    default_participants: Annotated[int, Field(ge=1)] = 5
    """Seats a create reserves when it gives no ``maxParticipants`` (a tenant may override)."""

    default_duration_minutes: Annotated[int, Field(ge=1)] = 60
    """Minutes a create reserves when it gives no ``duration`` (a tenant may override).
    ``duration`` is never passed on to BBB: it reserves, it does not end meetings."""

    predict_size: bool = True
    """A create without ``maxParticipants`` for a room that ran before (same tenant and
    meetingID) reserves that room's recent peak attendance instead of the default."""

    prediction_window_days: float = 30.0
    """How recent a room's last run must be for its peak to be used as the prediction."""

    placement_strategy: Strategy = Strategy.LEAST_LOADED
    """``least_loaded`` spreads meetings (most free capacity first); ``best_fit`` packs them
    (least free capacity that still fits), keeping other servers free for large meetings."""

    create_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    """Servers a create tries (each failure releases its reservation) before it fails."""

    poller: bool = True
    """Run the poller in this process (with PostgreSQL only one process polls at a time)."""

    poll_interval: Annotated[float, Field(gt=0)] = 10.0
    """Seconds between polls of every server's meetings and attendance."""

    poll_timeout: Annotated[float, Field(gt=0)] = 5.0
    """Seconds a poll of one server may take before it counts as failed."""

    poll_concurrency: Annotated[int, Field(ge=1)] = 200
    """Servers polled at the same time."""

    unstable_after: Annotated[int, Field(ge=1)] = 1
    """Consecutive failures after which a server takes no new meetings."""

    offline_after: Annotated[int, Field(ge=1)] = 3
    """Consecutive failures after which a server is offline: its meetings are re-created on
    another server at their next create or join."""

    available_after: Annotated[int, Field(ge=1)] = 2
    """Consecutive successful polls after which an unstable or offline server is available."""

    ended_grace_seconds: Annotated[float, Field(ge=0)] = 30.0
    """A meeting missing from its server's poll is forgotten only when it is older than this
    (so a create still in flight is never mistaken for an ended meeting)."""

    recordings_poll_interval: Annotated[float, Field(gt=0)] = 60.0
    """Seconds between two passes of the recording index over every server's getRecordings
    (runs where the poller runs; with PostgreSQL one process at a time)."""

    recordings_page_size: Annotated[int, Field(ge=0, le=100)] = 100
    """Recordings per getRecordings request of an index pass (BBB's maximum is 100).  bbb-web
    reads every metadata.xml of the server for each request, paged or not: with thousands of
    recordings per server, 0 (the whole list in one request) costs the server least."""

    allow_fetch_all_recordings: bool = True
    """BBB's ``allowFetchAllRecordings``: when false, a getRecordings without meetingID,
    recordID or limit answers ``noRecordings`` instead of listing all the tenant's recordings."""

    welcome_text: str | None = None
    """Platform default welcome message for creates that set none (a tenant's own text wins;
    ``deactivateBbbserverDefaultChatTexts=true`` on a create suppresses it).  BBB's keywords
    such as ``%%CONFNAME%%`` work."""

    moderator_only_text: str | None = None
    """Platform default ``moderatorOnlyMessage``, same rules as ``welcome_text``."""

    banner_text: str | None = None
    """Platform default ``bannerText``, same rules as ``welcome_text``."""

    webhooks: bool = True
    """Run the webhook delivery worker and the registration of the gateway's own hook on every
    backend in this process (with PostgreSQL one process at a time does each, by leadership)."""

    webhook_retry_intervals: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [100, 500, 1000, 2000, 4000, 8000, 10000, 30000] + [60000] * 4
    )
    """Milliseconds between the attempts of one callback (bbb-webhooks' shipped
    ``retryIntervals``).  After the last one the hook is removed, as bbb-webhooks does.
    Comma list in the environment."""

    webhook_timeout: Annotated[float, Field(gt=0)] = 5.0
    """Seconds a receiver may take to answer one callback (bbb-webhooks' ``requestTimeout``)."""

    webhook_concurrency: Annotated[int, Field(ge=1)] = 100
    """Callbacks in flight at the same time (over all hooks; one at a time per hook)."""

    webhook_tenant_concurrency: Annotated[int, Field(ge=1)] = 10
    """Callbacks in flight at the same time for one tenant, so that one tenant's slow receivers
    cannot take every slot of ``webhook_concurrency``; the queue is served round robin over
    tenants."""

    webhook_max_queue_per_hook: Annotated[int, Field(ge=1)] = 10_000
    """Queued events per hook at most; beyond it the hook's oldest events are dropped (with a
    warning), so a dead receiver cannot fill the database."""

    webhook_max_relays_per_tenant: Annotated[int, Field(ge=1)] = 10_000
    """Queued callback relays per tenant at most; beyond it the oldest are dropped (warning)."""

    webhook_poll_interval: Annotated[float, Field(gt=0)] = 0.5
    """Seconds between looks at the delivery queue (events received by this process wake the
    worker at once; this bounds the delay for events received by other processes)."""

    webhook_register_interval: Annotated[float, Field(gt=0)] = 60.0
    """Seconds between checks that every backend has the gateway's own hook (bbb-webhooks
    deletes a hook after its retries are exhausted; one ``hooks/list`` per backend)."""

    webhook_checksum_version: Literal["3.3", "3.4"] = "3.3"
    """Callback checksum of events sent to tenants: ``3.3`` = sha1(callbackURL + "{}" + secret)
    as bbb-webhooks v3.0–3.3 (BBB 3.0), ``3.4`` = sha1(callbackURL + body + secret).  A tenant
    may override it."""

    webhook_personal_data: Literal["keep", "hash", "remove"] = "keep"
    """What events sent to tenants carry of user names, external user IDs, IP addresses, user
    agents, session tokens and chat texts: ``keep`` (as BBB), ``hash`` (stable HMAC with
    ``webhook_hash_key``), ``remove``.  A tenant may override it."""

    webhook_hash_key: str | None = None
    """Platform key for ``hash``; keep it stable (hashes change with it).  Without it ``hash``
    removes the values."""

    webhook_allow_private_targets: bool = False
    """Allow tenants' callback URLs on loopback, private, link-local and other non-public
    addresses (refused by default: tenants must not reach the operator's internal network)."""

    webhook_max_hooks: Annotated[int, Field(ge=1)] = 1000
    """Hooks one tenant may have."""

    webhook_backend_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """More origins (``https://play1.example.net``) of the backends than their API URLs show,
    e.g. playback hosts: events and callbacks show the gateway's origin instead, like for the
    API hosts.  Comma list in the environment."""

    webhook_ingress_auth: Literal["any", "body"] = "any"
    """Which credentials the event ingress accepts from the backends' bbb-webhooks: ``any``
    (v3.0–3.3 checksum, v3.4+ body checksum, ``auth2_0`` Bearer) or ``body`` (v3.4+ body checksum
    or Bearer only: the v3.3 checksum does not cover the body, so it is a fixed string per
    server that lets whoever saw one request forge events)."""

    webhook_ingress_max_age: Annotated[float, Field(ge=0)] = 600.0
    """Seconds: events whose ``timestamp`` (bbb-webhooks' first attempt) is older are dropped
    (replays).  bbb-webhooks keeps the timestamp on retries (about 5 minutes in all), so keep
    it above that.  0 turns the check off."""
    recordings_dir: Path = Path("recordings")
    """Central recording storage: imported recordings live in ``<recordings_dir>/<recordID>/``,
    received archives wait in ``.incoming/`` and are unpacked in ``.tmp/`` (keep all on one
    filesystem).  Every gateway process of a scale-out setup must see the same directory."""

    recording_archive_max_bytes: Annotated[int, Field(ge=0)] = 4 * 1024**3
    """Largest recording archive a server may push (bytes); larger → FAILED archiveTooLarge.
    Also bounds the unpacked size of an archive (×4, for gzip'ed ones)."""

    recording_archive_max_members: Annotated[int, Field(ge=1)] = 100_000
    """Most entries a recording archive may have."""

    recording_import_attempts: Annotated[int, Field(ge=1, le=100)] = 8
    """Attempts to store a received archive before its import is marked failed."""

    recording_import_backoff_seconds: Annotated[float, Field(gt=0)] = 30.0
    """Delay before the first retry of a failed import; it doubles after each attempt (at most
    one hour)."""

    recording_worker: bool = True
    """Run the recording worker (import retries, retention) in this process; with PostgreSQL
    only one process runs it at a time."""

    recording_worker_interval: Annotated[float, Field(gt=0)] = 15.0
    """Seconds between the recording worker's rounds."""

    playback_player_dir: Path | None = None
    """Directory holding BBB's playback player (bbb-playback's build: ``index.html`` and
    ``static/``), served at ``/playback/presentation/2.3/``.  Unset: a minimal built-in page that
    lists the recording's media."""

    auto_migrate: bool = True
    """Upgrade the database schema when ``bbbfleet serve`` starts."""

    log_level: str = "info"
    """Python logging level."""

    @field_validator("checksum_algorithms", mode="before")
    @classmethod
    def _split_algorithms(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [a.strip().lower() for a in value.split(",") if a.strip()]
        return value

    @field_validator("webhook_backend_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip().rstrip("/") for v in value.split(",") if v.strip()]
        return value

    @field_validator("webhook_retry_intervals", mode="before")
    @classmethod
    def _split_intervals(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [int(v) for v in value.split(",") if v.strip()]
        return value

    @field_validator("webhook_retry_intervals")
    @classmethod
    def _intervals_not_negative(cls, value: list[int]) -> list[int]:
        if any(v < 0 for v in value):
            raise ValueError("intervals are milliseconds, 0 or more")
        return value

    @field_validator("checksum_algorithms")
    @classmethod
    def _known_algorithms(cls, value: list[str]) -> list[str]:
        unknown = [a for a in value if a not in ALL_ALGORITHMS]
        if unknown or not value:
            raise ValueError(f"choose from {', '.join(ALL_ALGORITHMS)}; got {value}")
        return value

    @field_validator("backend_checksum_algorithm")
    @classmethod
    def _known_backend_algorithm(cls, value: str) -> str:
        if value not in ALL_ALGORITHMS:
            raise ValueError(f"choose one of {', '.join(ALL_ALGORITHMS)}")
        return value

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from the config file (if any), then the environment, then ``overrides``."""
    path = config_file or os.environ.get("BBBFLEET_CONFIG")
    file_values: dict[str, Any] = {}
    if path:
        with open(path, "rb") as handle:
            file_values = tomllib.load(handle)
    in_environment = {key.upper() for key in os.environ}
    from_file = {
        key: value
        for key, value in file_values.items()
        if f"BBBFLEET_{key.upper()}" not in in_environment
    }
    return Settings(**from_file, **overrides)
