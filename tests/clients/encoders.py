"""How the PHP and Ruby BBB libraries build signed query strings, with the languages' own encoders.

bigbluebutton-api-php (Packagist) and bigbluebutton-api-ruby (RubyGems) cannot be installed here, so
``php/build_query.php`` and ``ruby/build_query.rb`` repeat the few lines of those libraries that
turn parameters into a signed query string, using PHP's and Ruby's real encoders.  The Python
functions below emulate the same lines for machines without the interpreters; a test checks that
they agree with the real encoders wherever the interpreters exist.

A flavour names a library release range whose encoding differs:

* ``php-2.2``: bigbluebutton-api-php up to 2.2 (``BaseParameters::buildHTTPQuery``):
  ``http_build_query(array_filter($array))``, i.e. PHP_QUERY_RFC1738 / ``urlencode``: space is
  ``+``, ``~`` is ``%7E``, empty values are dropped.
* ``php-3.0``: bigbluebutton-api-php 2.3 to 3.0: ``http_build_query(..., PHP_QUERY_RFC3986)``
  (``rawurlencode``: ``~`` stays literal, space ``%20``) and then ``str_replace`` of ``%20`` by
  ``+`` (and of ``!'()*`` by their escapes, which rawurlencode already produced).
* Both PHP flavours sign in ``UrlBuilder::buildQs``: ``$params . '&checksum=' .
  hash($algorithm, $method . $params . $secret)``, so a call without parameters (getMeetings)
  goes out as ``getMeetings?&checksum=…`` with an empty leading parameter.
* ``ruby-1.6``: bigbluebutton-api-ruby up to 1.6 (``BigBlueButtonApi#get_url``): nil values
  dropped, keys sorted, ``"#{k}=" + CGI::escape(v.to_s)`` joined by ``&`` (space ``+``, ``~``
  literal, ``*`` is ``%2A``); SHA-1 only.
* ``ruby-1.9``: bigbluebutton-api-ruby 1.7 and later: the same with
  ``URI.encode_www_form_component`` (``~`` is ``%7E``, ``*`` stays literal); SHA-1, or SHA-256
  with the ``sha256`` flag of 1.9.
* Both Ruby flavours sign ``method + params_string + secret`` and append
  ``checksum=`` after ``params_string&`` (no leading ``&`` when there are no parameters).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

HERE = Path(__file__).resolve().parent
PHP_SCRIPT = HERE / "php" / "build_query.php"
RUBY_SCRIPT = HERE / "ruby" / "build_query.rb"

PHP_FLAVOURS = ("php-2.2", "php-3.0")
RUBY_FLAVOURS = ("ruby-1.6", "ruby-1.9")


@dataclass(frozen=True)
class Signing:
    """One signed call: ``params`` in the order the caller hands them to the library."""

    flavour: str
    call: str
    params: tuple[tuple[str, str], ...]
    secret: str
    algorithm: str = "sha1"

    def as_json(self) -> dict[str, object]:
        return {
            "flavour": self.flavour,
            "call": self.call,
            "params": [list(pair) for pair in self.params],
            "secret": self.secret,
            "algorithm": self.algorithm,
        }


def php_urlencode(value: str) -> str:
    """PHP ``urlencode``: like quote_plus, but ``~`` is not unreserved there."""
    return quote_plus(value, safe="").replace("~", "%7E")


def php_rfc3986_plus(value: str) -> str:
    """PHP ``rawurlencode`` (the RFC 3986 unreserved set, as Python's quote) then ``%20`` → ``+``."""
    return quote(value, safe="").replace("%20", "+")


def ruby_cgi_escape(value: str) -> str:
    """Ruby ``CGI.escape`` (Ruby 2.5+): unreserved ``a-zA-Z0-9_.-~``, space ``+``."""
    return quote_plus(value, safe="")


def ruby_www_form_component(value: str) -> str:
    """Ruby ``URI.encode_www_form_component``: unreserved ``*-.0-9A-Z_a-z``, space ``+``."""
    return quote_plus(value, safe="*").replace("~", "%7E")


def emulate(signing: Signing) -> str:
    """The query string (after ``?``) the library would send, computed in Python."""
    params = list(signing.params)
    if signing.flavour in PHP_FLAVOURS:
        if signing.flavour == "php-2.2":
            # array_filter drops every falsy value: '' and '0'.
            encoded = "&".join(
                f"{php_urlencode(k)}={php_urlencode(v)}" for k, v in params if v not in ("", "0")
            )
        else:
            encoded = "&".join(f"{php_rfc3986_plus(k)}={php_rfc3986_plus(v)}" for k, v in params)
        digest = hashlib.new(signing.algorithm)
        digest.update((signing.call + encoded + signing.secret).encode())
        return f"{encoded}&checksum={digest.hexdigest()}"
    if signing.flavour in RUBY_FLAVOURS:
        escape = ruby_cgi_escape if signing.flavour == "ruby-1.6" else ruby_www_form_component
        encoded = "&".join(f"{k}={escape(v)}" for k, v in sorted(params))
        digest = hashlib.new(signing.algorithm)
        digest.update((signing.call + encoded + signing.secret).encode())
        prefix = f"{encoded}&" if encoded else ""
        return f"{prefix}checksum={digest.hexdigest()}"
    raise ValueError(f"unknown flavour {signing.flavour}")


def interpreter(flavour: str) -> str | None:
    """Path of the real interpreter for a flavour, or None when it is not installed."""
    return shutil.which("php" if flavour in PHP_FLAVOURS else "ruby")


def run_real(signings: list[Signing]) -> list[str]:
    """The same query strings, built by the real PHP or Ruby encoders (one process per language)."""
    if not signings:
        return []
    flavour = signings[0].flavour
    assert all((s.flavour in PHP_FLAVOURS) == (flavour in PHP_FLAVOURS) for s in signings)
    binary = interpreter(flavour)
    assert binary is not None
    script = PHP_SCRIPT if flavour in PHP_FLAVOURS else RUBY_SCRIPT
    completed = subprocess.run(
        [binary, str(script)],
        input=json.dumps([s.as_json() for s in signings]),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    queries = json.loads(completed.stdout)
    assert isinstance(queries, list) and len(queries) == len(signings)
    return [str(q) for q in queries]
