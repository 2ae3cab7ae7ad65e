"""The three ways bbb-web writes XML (REFERENCE.md §1.3), reproduced byte for byte.

* ``render_template`` – FreeMarker ``<#compress>`` output: one element per line, ``\\n`` between
  lines, no declaration, no trailing newline, all five XML entities escaped.
* ``render_compact`` – hand-built strings: one line, no whitespace.
* Scala XML (getRecordings) belongs to the recordings module.

A document is described by ``Node``s: ``(tag, text)`` for a leaf, ``(tag, [children])`` for a
container.  An empty container renders as ``<tag>\\n</tag>`` like FreeMarker's loops, except
where a template uses ``<tag/>`` – pass ``EMPTY`` for that.
"""

from __future__ import annotations

import json
import re
from typing import Final, Union

Node = tuple[str, Union[str, int, bool, "list[Node]", "_SelfClosing", None]]


class _SelfClosing:
    """Marker for an element a template writes as ``<tag/>``."""


EMPTY: Final = _SelfClosing()

# What Grails sends (§1.2): the media type with ``;charset=utf-8`` appended without a space.
XML_MEDIA_TYPE: Final = "text/xml;charset=utf-8"
JSON_MEDIA_TYPE: Final = "application/json;charset=utf-8"


def escape(text: str) -> str:
    """FreeMarker's XML auto-escaping: all five entities.  (Chained ``replace`` is several times
    faster than ``translate`` with a mapping, and this runs for every value of every answer.)"""
    if not _NEEDS_ESCAPE.search(text):
        return text
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


_NEEDS_ESCAPE = re.compile("[&<>\"']")


def text_of(value: str | int | bool | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lines(node: Node, out: list[str]) -> None:
    tag, value = node
    if isinstance(value, _SelfClosing):
        out.append(f"<{tag}/>")
    elif isinstance(value, list):
        out.append(f"<{tag}>")
        for child in value:
            _lines(child, out)
        out.append(f"</{tag}>")
    else:
        out.append(f"<{tag}>{escape(text_of(value))}</{tag}>")


def render_template(children: list[Node], root: str = "response") -> str:
    """A FreeMarker-rendered document: ``<response>`` with one element per line."""
    out: list[str] = []
    _lines((root, children), out)
    return "\n".join(out)


def render_compact(children: list[Node], root: str = "response") -> str:
    """A hand-built single-line document (publishRecordings, signOut, hooks …)."""
    out: list[str] = []
    _lines((root, children), out)
    return "".join(out)


def render_error(key: str, message: str) -> str:
    """``api-error.ftlx``: the body of every ``invalid()`` answer."""
    return render_template([("returncode", "FAILED"), ("messageKey", key), ("message", message)])


def render_multi_error(errors: list[tuple[str, str]]) -> str:
    """``api-errors.ftlx`` (e.g. nonUniqueVoiceBridge)."""
    items: list[Node] = [("error", [("key", k), ("message", m)]) for k, m in errors]
    return render_template([("returncode", "FAILED"), ("errors", items)])


def render_pretty_json(data: object) -> str:
    """Groovy ``JsonBuilder.toPrettyString()``: 4-space indent, ``"key": value``, ASCII only."""
    return json.dumps(data, indent=4, ensure_ascii=True)


def render_error_json(key: str, message: str) -> str:
    """The JSON form of ``invalid()`` chosen when the client asks for JSON (§1.2)."""
    return render_pretty_json(
        {"response": {"returncode": "FAILED", "messageKey": key, "message": message}}
    )
