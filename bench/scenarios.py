"""The measured scenarios and how one is run: check, warm up, measure.

Every scenario replays pre-signed paths (bench/urls.py) against one API.  Before the clock
starts a few of its requests are sent and checked, so a misconfiguration shows up as a clear
problem instead of a fast stream of errors; then a short warm-up; then the measurement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.cpu import CpuMeter, CpuUsage
from bench.deployment import Api, Deployment
from bench.load import Expectation, LoadGenerator, LoadResult, LoadSpec
from bench.processes import Children
from bench.urls import (
    create_paths,
    get_meetings_paths,
    is_meeting_running_paths,
    join_paths,
    write_paths,
)

JOIN_VARIANTS = 2000  # distinct join URLs (10 users per meeting), cycled
FASTEST_GUESS = 15_000  # req/s: sizes the create list when there is no warm-up to go by
CHECKED_REQUESTS = 3

PathMaker = Callable[[str, int], list[str]]
"""(phase, how many requests the phase may send) → the paths to cycle through."""

SUCCESS = "<returncode>SUCCESS</returncode>"
PROCESS_UNDER_TEST = {"gateway": "gateway", "direct": "sim-direct", "bare302": "bare302"}
BUSY_MACHINE = 25.0  # % of a core used by others during a measurement: worth a warning


@dataclass(frozen=True)
class Scenario:
    key: str  # e.g. "gateway.join", the name in last.json
    label: str  # e.g. "gateway join"
    target: str  # "gateway", "direct" or "bare302"
    call: str
    api: Api
    expect: Expectation
    make_paths: PathMaker
    connections: int


@dataclass
class Outcome:
    scenario: Scenario
    result: LoadResult | None = None
    problem: str = ""
    notes: list[str] = field(default_factory=list)
    cpu: CpuUsage | None = None

    @property
    def server_cpu(self) -> float | None:
        """% of one core used by the process under test during the measurement."""
        if self.cpu is None:
            return None
        return self.cpu.processes.get(PROCESS_UNDER_TEST[self.scenario.target])


def _fixed(paths: list[str]) -> PathMaker:
    return lambda _phase, _count: paths


def _creates(api: Api, prefix: str) -> PathMaker:
    # Each phase gets its own meetingIDs, so the measured creates are all of new meetings.
    return lambda phase, count: create_paths(api.secret, f"{prefix}-{phase}", count)


def build(
    deployment: Deployment,
    meeting_ids: Sequence[str],
    connections: int,
    probe_connections: int | None,
) -> list[Scenario]:
    """All scenarios in the order they run: per API, getMeetings before create (create adds
    meetings to the lists getMeetings returns), the bare 302 app last."""
    bare_paths = join_paths(deployment.gateway.secret, meeting_ids, JOIN_VARIANTS)
    return [
        *_api_scenarios(
            "gateway",
            deployment.gateway,
            "/bigbluebutton/api/join?",
            meeting_ids,
            connections,
            probe_connections,
        ),
        *_api_scenarios(
            "direct",
            deployment.direct,
            "sessionToken=",
            meeting_ids,
            connections,
            probe_connections,
        ),
        Scenario(
            key="bare302",
            label="bare 302 app",
            target="bare302",
            call="302",
            api=deployment.bare302,
            expect=Expectation(302, "location", "/bigbluebutton/api/join?"),
            make_paths=_fixed(bare_paths),
            connections=connections,
        ),
    ]


def _api_scenarios(
    target: str,
    api: Api,
    join_redirect_needle: str,
    meeting_ids: Sequence[str],
    connections: int,
    probe_connections: int | None,
) -> list[Scenario]:
    """The four calls against one BBB API (the gateway, or a simulated server directly)."""
    scenarios: list[Scenario] = []

    def add(
        call: str,
        expect: Expectation,
        paths: PathMaker,
        clients: int = connections,
        key: str = "",
        label: str = "",
    ) -> None:
        scenarios.append(
            Scenario(
                key=f"{target}.{key or call}",
                label=f"{target} {label or call}",
                target=target,
                call=call,
                api=api,
                expect=expect,
                make_paths=paths,
                connections=clients,
            )
        )

    joins = _fixed(join_paths(api.secret, meeting_ids, JOIN_VARIANTS))
    join_expect = Expectation(302, "location", join_redirect_needle)
    add("join", join_expect, joins)
    if probe_connections:
        add(
            "join",
            join_expect,
            joins,
            probe_connections,
            key=f"join.c{probe_connections}",
            label=f"join @{probe_connections} conn",
        )
    add(
        "isMeetingRunning",
        Expectation(200, "body", "<running>true</running>"),
        _fixed(is_meeting_running_paths(api.secret, meeting_ids)),
    )
    add(
        "getMeetings",
        Expectation(200, "body", SUCCESS),
        _fixed(get_meetings_paths(api.secret)),
        label=f"getMeetings ({len(meeting_ids)})",
    )
    add("create", Expectation(200, "body", SUCCESS), _creates(api, f"load-{target}"))
    return scenarios


class Runner:
    """Runs scenarios one after the other with one load generator."""

    def __init__(
        self,
        generator: LoadGenerator,
        children: Children,
        work_dir: Path,
        duration: float,
        warmup: float,
        timeout: float = 30.0,
    ) -> None:
        self.generator = generator
        self.children = children
        self.work_dir = work_dir
        self.duration = duration
        self.warmup = warmup
        self.timeout = timeout

    def run(self, scenario: Scenario) -> Outcome:
        outcome = Outcome(scenario)
        outcome.problem = self._check(scenario)
        if outcome.problem:
            return outcome
        expected_rate = FASTEST_GUESS
        if self.warmup > 0:
            warm = self._load(scenario, "warmup", self.warmup, int(FASTEST_GUESS * self.warmup))
            expected_rate = max(1000, int(warm.requests_per_second * 1.5))
        needed = int(expected_rate * self.duration) + 2000
        meter = CpuMeter({c.name: c.process.pid for c in self.children.children})
        meter.start()
        outcome.result = self._load(scenario, "measure", self.duration, needed)
        outcome.cpu = meter.stop()
        self.children.check_alive()
        if outcome.result.wrapped and scenario.call == "create":
            outcome.notes.append("create IDs reused: the path list was shorter than the run")
        other, stolen = outcome.cpu.other or 0.0, outcome.cpu.stolen or 0.0
        if other + stolen > BUSY_MACHINE:
            outcome.notes.append(
                f"other work took {other:.0f}% and the hypervisor {stolen:.0f}% of a core "
                "meanwhile: figures disturbed"
            )
        return outcome

    def _load(self, scenario: Scenario, phase: str, seconds: float, needed: int) -> LoadResult:
        paths_file = write_paths(
            self.work_dir / f"{scenario.key}.{phase}.paths", scenario.make_paths(phase, needed)
        )
        return self.generator.run(
            LoadSpec(
                scenario.api.base_url,
                paths_file,
                scenario.expect,
                seconds,
                scenario.connections,
                self.timeout,
            )
        )

    def _check(self, scenario: Scenario) -> str:
        """Send a few of the scenario's requests; describe the first wrong answer, if any."""
        with httpx.Client(base_url=scenario.api.base_url, timeout=10.0) as client:
            for path in scenario.make_paths("check", CHECKED_REQUESTS)[:CHECKED_REQUESTS]:
                try:
                    response = client.get(path)
                except httpx.HTTPError as exc:
                    return f"GET {path}: {exc!r}"
                location = response.headers.get("location", "")
                if not scenario.expect.met_by(response.status_code, location, response.text):
                    return (
                        f"GET {path} answered {response.status_code} "
                        f"{location or response.text[:300]!r}; expected {scenario.expect}"
                    )
        return ""
