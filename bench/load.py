"""What a load generator is asked to do and what it reports, independent of which one runs.

``wrk`` (bench/wrk.py) is the generator; bench/pyload.py is the slower fallback for machines
without it.  Both cycle through a file of pre-signed request paths on keep-alive connections for
a fixed time at a fixed concurrency, check every answer, and report latency percentiles.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

Where = Literal["location", "body"]


@dataclass(frozen=True)
class Expectation:
    """The answer every request of a scenario must get: a status, and text in a place."""

    status: int
    where: Where = "body"
    needle: str = ""

    def met_by(self, status: int, location: str, body: str) -> bool:
        text = location if self.where == "location" else body
        return status == self.status and (not self.needle or self.needle in text)


@dataclass(frozen=True)
class LoadSpec:
    base_url: str  # scheme://host:port, the paths carry the rest
    paths_file: Path
    expect: Expectation
    duration: float
    connections: int
    timeout: float = 30.0


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int  # connect, read, write errors and timeouts
    unexpected: int  # answers other than the expected one (wrong status or content)
    first_unexpected: str
    wrapped: bool  # the path list was used more than once (matters for create: IDs reused)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.unexpected

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "requests_per_second": self.requests_per_second}


class LoadGenerator(Protocol):
    name: str
    """Shown in the report, e.g. ``wrk 4.1.0``."""

    def run(self, spec: LoadSpec) -> LoadResult: ...
