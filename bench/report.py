"""The figures: a table per scenario, the gateway-versus-direct ratios, the two targets of the
performance issue with PASS or MISS, and the same as JSON (var/bench/last.json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.scenarios import Outcome

JOIN_VS_BARE_TARGET = 0.50  # gateway join throughput / bare 302 throughput, at least
JOIN_P99_OVERHEAD_TARGET_MS = 2.0  # gateway join p99 - direct join p99, at most


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None
    goal: str
    met: bool | None  # None: not measured

    @property
    def verdict(self) -> str:
        return "n/a" if self.met is None else "PASS" if self.met else "MISS"


def _by_key(outcomes: Sequence[Outcome]) -> dict[str, Outcome]:
    return {o.scenario.key: o for o in outcomes}


def targets(outcomes: Sequence[Outcome]) -> list[Target]:
    found = _by_key(outcomes)
    join, direct, bare = (
        found[k].result if k in found else None for k in ("gateway.join", "direct.join", "bare302")
    )
    ratio = (
        join.requests_per_second / bare.requests_per_second
        if join and bare and bare.requests_per_second
        else None
    )
    overhead = join.p99_ms - direct.p99_ms if join and direct else None
    return [
        Target(
            "gateway join / bare 302 throughput",
            ratio,
            f">= {JOIN_VS_BARE_TARGET:.2f}",
            None if ratio is None else ratio >= JOIN_VS_BARE_TARGET,
        ),
        Target(
            "gateway join p99 - direct join p99 (ms)",
            overhead,
            f"<= {JOIN_P99_OVERHEAD_TARGET_MS:.1f}",
            None if overhead is None else overhead <= JOIN_P99_OVERHEAD_TARGET_MS,
        ),
    ]


def comparisons(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Per call (and per latency probe): gateway against the simulator called directly."""
    found = _by_key(outcomes)
    rows = []
    for outcome in outcomes:
        scenario = outcome.scenario
        if scenario.target != "gateway":
            continue
        direct = found.get("direct" + scenario.key.removeprefix("gateway"))
        gateway_result = outcome.result
        direct_result = direct.result if direct else None
        if gateway_result is None or direct_result is None:
            continue
        rows.append(
            {
                "call": scenario.label.removeprefix("gateway "),
                "throughput_ratio": gateway_result.requests_per_second
                / direct_result.requests_per_second
                if direct_result.requests_per_second
                else None,
                "p50_overhead_ms": gateway_result.p50_ms - direct_result.p50_ms,
                "p99_overhead_ms": gateway_result.p99_ms - direct_result.p99_ms,
            }
        )
    return rows


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def render(outcomes: Sequence[Outcome]) -> str:
    lines = [
        f"{'scenario':<30}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>7}"
        f"{'cpu%':>6}{'sims%':>6}{'gen%':>6}{'other%':>7}{'steal%':>7}",
        "-" * 95,
    ]
    for outcome in outcomes:
        label = outcome.scenario.label
        result = outcome.result
        if result is None:
            lines.append(f"{label:<30}  NOT MEASURED: {outcome.problem}")
            continue
        cpu = outcome.cpu
        sims = (
            cpu.processes.get("sim-fleet") if cpu and outcome.scenario.target == "gateway" else None
        )
        lines.append(
            f"{label:<30}{result.requests_per_second:>8.0f}{result.p50_ms:>9.2f}"
            f"{result.p99_ms:>9.2f}{result.errors:>7d}{_percent(outcome.server_cpu):>6}"
            f"{_percent(sims):>6}{_percent(cpu.generator if cpu else None):>6}"
            f"{_percent(cpu.other if cpu else None):>7}"
            f"{_percent(cpu.stolen if cpu else None):>7}"
        )
        if result.errors:
            lines.append(
                f"{'':<4}{result.socket_errors} socket errors/timeouts, {result.unexpected} "
                f"unexpected answers; first: {result.first_unexpected[:160]!r}"
            )
        lines += [f"{'':<4}note: {note}" for note in outcome.notes]
    lines += [
        "",
        f"{'gateway vs direct':<34}{'req/s ratio':>12}{'p50 +ms':>10}{'p99 +ms':>10}",
        "-" * 66,
    ]
    for row in comparisons(outcomes):
        ratio = row["throughput_ratio"]
        lines.append(
            f"{row['call']:<34}{(f'{ratio:.2f}' if ratio is not None else '-'):>12}"
            f"{row['p50_overhead_ms']:>+10.2f}{row['p99_overhead_ms']:>+10.2f}"
        )
    lines += [
        "",
        "cpu% is the process under test, sims% the gateway's 3 simulated servers (one process),",
        "gen% the load generator, other% the rest of the machine, steal% CPU the hypervisor gave",
        "to other guests (both disturb the figures); all in % of one core.",
        "getMeetings: the direct call lists 200 meetings of one server; the gateway's lists",
        "3 servers' ~67 each, fetched concurrently, so the two are not the same work.",
        "",
        "targets:",
    ]
    for target in targets(outcomes):
        value = "-" if target.value is None else f"{target.value:.2f}"
        lines.append(f"  {target.name:<42}{value:>8}  (target {target.goal})  {target.verdict}")
    probes = [row for row in comparisons(outcomes) if row["call"].startswith("join @")]
    for row in probes:
        lines.append(
            f"  (at saturation p99 is mostly queueing; {row['call']}: p99 overhead "
            f"{row['p99_overhead_ms']:+.2f} ms, p50 {row['p50_overhead_ms']:+.2f} ms)"
        )
    return "\n".join(lines)


def write_json(path: Path, outcomes: Sequence[Outcome], context: dict[str, Any]) -> None:
    document = {
        **context,
        "scenarios": [
            {
                "key": o.scenario.key,
                "label": o.scenario.label,
                "target": o.scenario.target,
                "call": o.scenario.call,
                "connections": o.scenario.connections,
                "result": o.result.as_dict() if o.result else None,
                "problem": o.problem or None,
                "notes": o.notes,
                "cpu_percent_of_one_core": asdict(o.cpu) if o.cpu else None,
            }
            for o in outcomes
        ],
        "gateway_vs_direct": comparisons(outcomes),
        "targets": [
            {"name": t.name, "value": t.value, "goal": t.goal, "verdict": t.verdict}
            for t in targets(outcomes)
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
