"""Tenant parameter policy and white-label chat texts: pure functions, no I/O.

A tenant's policy says, per call (``create`` and ``join``):

* ``defaults`` – parameters added when the client did not send them;
* ``force`` – parameters set whatever the client sent;
* ``block`` – parameters removed from what the client sent (silently, as BBB ignores unknown ones).

Default chat texts (``welcome``, ``moderatorOnlyMessage``, ``bannerText``) come from the tenant,
else from the platform settings, and are added to a create that does not set them itself — unless
the create says ``deactivateBbbserverDefaultChatTexts=true`` (white-label).  That parameter is a
gateway parameter and never reaches BBB.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bbbfleet.protocol.params import ApiParams, RawQuery

WHITE_LABEL_PARAM = "deactivateBbbserverDefaultChatTexts"
TEXT_PARAMS = ("welcome", "moderatorOnlyMessage", "bannerText")
CALLS = ("create", "join")
# parameters the gateway itself owns: a policy may not touch them
RESERVED = frozenset({"meetingID", "checksum", WHITE_LABEL_PARAM, "meetingEndedURL"})
PARAM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")


class PolicyError(ValueError):
    """A policy that cannot be applied; the message names the offending part."""


@dataclass(frozen=True)
class CallPolicy:
    defaults: dict[str, str] = field(default_factory=dict)
    force: dict[str, str] = field(default_factory=dict)
    block: frozenset[str] = frozenset()

    def apply(self, query: RawQuery, params: ApiParams) -> RawQuery:
        result = query.without(*self.block) if self.block else query
        for name, value in self.defaults.items():
            if name not in params or name in self.block:
                result = result.replace(name, value)
        for name, value in self.force.items():
            result = result.replace(name, value)
        return result

    def to_json(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "force": self.force, "block": sorted(self.block)}


@dataclass(frozen=True)
class TenantPolicy:
    create: CallPolicy = field(default_factory=CallPolicy)
    join: CallPolicy = field(default_factory=CallPolicy)
    texts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> TenantPolicy:
        """Parse and validate (raises PolicyError with a message an operator can act on)."""
        data = data or {}
        unknown = set(data) - {*CALLS, "texts"}
        if unknown:
            raise PolicyError(f"unknown policy section(s): {', '.join(sorted(unknown))}")
        calls = {name: _call_policy(name, data.get(name) or {}) for name in CALLS}
        texts = dict(data.get("texts") or {})
        bad_texts = set(texts) - set(TEXT_PARAMS)
        if bad_texts:
            raise PolicyError(
                f"texts: unknown text(s) {', '.join(sorted(bad_texts))}; use {', '.join(TEXT_PARAMS)}"
            )
        return cls(calls["create"], calls["join"], {k: str(v) for k, v in texts.items()})

    def to_json(self) -> dict[str, Any]:
        return {"create": self.create.to_json(), "join": self.join.to_json(), "texts": self.texts}


def _call_policy(call: str, data: Mapping[str, Any]) -> CallPolicy:
    unknown = set(data) - {"defaults", "force", "block"}
    if unknown:
        raise PolicyError(f"{call}: unknown key(s) {', '.join(sorted(unknown))}")
    defaults = {str(k): str(v) for k, v in (data.get("defaults") or {}).items()}
    force = {str(k): str(v) for k, v in (data.get("force") or {}).items()}
    block = frozenset(str(k) for k in (data.get("block") or []))
    for name in (*defaults, *force, *block):
        if not PARAM_NAME.match(name):
            raise PolicyError(f"{call}: {name!r} is not a BBB parameter name")
        if name in RESERVED:
            raise PolicyError(
                f"{call}: {name!r} is managed by bbbfleet and cannot be set by policy"
            )
    return CallPolicy(defaults, force, block)


def apply_to_create(
    query: RawQuery, params: ApiParams, policy: TenantPolicy, platform_texts: Mapping[str, str]
) -> RawQuery:
    """The create query as it goes to BBB: policy applied, default texts added unless
    white-labelled, and the white-label switch itself removed."""
    result = policy.create.apply(query, params)
    if not params.flag(WHITE_LABEL_PARAM):
        set_by_policy = {*policy.create.defaults, *policy.create.force}
        for name in TEXT_PARAMS:
            text = policy.texts.get(name) or platform_texts.get(name)
            if text and not params.get(name) and name not in set_by_policy:
                result = result.replace(name, text)
    return result.without(WHITE_LABEL_PARAM)


def apply_to_join(query: RawQuery, params: ApiParams, policy: TenantPolicy) -> RawQuery:
    return policy.join.apply(query, params)
