"""``python -m bench`` (``make bench``): measure the gateway against the simulator called directly
and a bare Starlette/uvicorn 302 app, and print the figures and the targets.

    make bench                          # about 2 minutes with the defaults
    make bench ARGS="--duration 30"     # longer, steadier runs
    make bench ARGS="--only gateway.join,bare302 --duration 20"   # a subset (e.g. to profile)
"""

from __future__ import annotations

import asyncio
import datetime
import os
import platform
import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import click

from bench import deployment, population, report
from bench.cpu import wait_until_quiet
from bench.load import LoadGenerator
from bench.processes import ChildFailed, Children
from bench.pyload import PythonLoad
from bench.scenarios import Outcome, Runner, Scenario, build
from bench.wrk import Wrk, WrkFailed, find_or_install_wrk

REPO = Path(__file__).resolve().parent.parent
RUNNING_MEETINGS = 200
TARGET_ORDER = ("gateway", "direct", "bare302")
QUIET = 25.0  # % of one core busy with other work that still counts as a quiet machine
CALL_ORDER = ("join", "create", "isMeetingRunning", "getMeetings", "302")


def say(message: str) -> None:
    click.echo(message)


def choose_generator(kind: str, install: bool, python_processes: int) -> LoadGenerator:
    if kind in ("auto", "wrk"):
        path = find_or_install_wrk(install, say)
        if path:
            return Wrk(path)
        if kind == "wrk":
            raise click.ClickException("wrk is not available (install the Debian package 'wrk')")
        say(
            "WARNING: wrk is not available; falling back to the Python load generator, which is "
            "slower than the servers it measures: the req/s figures are the generator's limit."
        )
    return PythonLoad(python_processes)


def display_order(outcome: Outcome) -> tuple[int, int, int]:
    scenario = outcome.scenario
    return (
        TARGET_ORDER.index(scenario.target),
        CALL_ORDER.index(scenario.call),
        -scenario.connections,
    )


def _stop_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through Children.__exit__, which stops the servers


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--duration",
    default=10,
    show_default=True,
    type=click.IntRange(1),
    help="Seconds each scenario is measured.",
)
@click.option(
    "--warmup",
    default=1,
    show_default=True,
    type=click.IntRange(0),
    help="Seconds of unmeasured load before each measurement (0: none).",
)
@click.option(
    "--connections",
    default=32,
    show_default=True,
    type=click.IntRange(1),
    help="Concurrent keep-alive connections of the load generator.",
)
@click.option(
    "--probe-connections",
    default=1,
    show_default=True,
    type=click.IntRange(0),
    help="Also measure join at this concurrency, where latency is service time rather "
    "than queueing (0: skip).",
)
@click.option(
    "--timeout",
    default=30,
    show_default=True,
    type=click.IntRange(1),
    help="Seconds after which the load generator counts a request as failed (its latency "
    "is then missing from the percentiles, so keep it above the slowest answer).",
)
@click.option(
    "--only",
    help="Comma-separated scenario keys or prefixes to run, e.g. "
    "'gateway.join,bare302' (default: all).",
)
@click.option(
    "--port-base",
    default=18080,
    show_default=True,
    type=click.IntRange(1024, 65000),
    help="First of the ports the servers listen on (base … base+31).",
)
@click.option(
    "--load-generator",
    "generator_kind",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "wrk", "python"]),
    help="wrk, or the slower Python fallback; auto uses wrk when it is (or can be) installed.",
)
@click.option(
    "--install/--no-install",
    default=True,
    show_default=True,
    help="apt-get install wrk when it is missing and we are root.",
)
@click.option(
    "--python-processes",
    default=max(1, (os.cpu_count() or 2) - 1),
    show_default=True,
    type=click.IntRange(1),
    help="Processes of the Python fallback generator.",
)
@click.option(
    "--wait-for-quiet",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Before starting, wait up to this many seconds for other processes to leave the CPU "
    "alone (the machine has 2 cores; other test runs skew the figures).",
)
@click.option(
    "--json",
    "json_path",
    default=str(REPO / "var" / "bench" / "last.json"),
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write results.",
)
def main(
    duration: int,
    warmup: int,
    connections: int,
    probe_connections: int,
    timeout: int,
    only: str | None,
    port_base: int,
    generator_kind: str,
    install: bool,
    python_processes: int,
    wait_for_quiet: int,
    json_path: str,
) -> None:
    """Benchmark the gateway (one worker) in front of 3 simulated BBB servers against the
    simulator called directly and a bare 302 app; print req/s, p50, p99 and the targets."""
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Ctrl-C must stop the servers even when started in the background, where SIGINT is ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    generator = choose_generator(generator_kind, install, python_processes)
    work_dir = REPO / "var" / "bench" / "run"
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    cores = os.cpu_count() or 0
    say(
        f"load generator: {generator.name}, {connections} connections, {duration} s per scenario "
        f"after {warmup} s of warm-up; {cores} CPU cores."
    )
    say(
        "Each server runs in its own process (one uvicorn worker); on 2 cores the server under "
        "test gets one and the generator the other (the simulators share them when the gateway "
        "calls them)."
    )
    busy = wait_until_quiet(QUIET, wait_for_quiet, say)
    if busy is not None and busy > QUIET:
        say(
            f"WARNING: before the start {busy:.0f}% of a core was busy with other work: "
            "the figures will be disturbed (see other% below; --wait-for-quiet 120 helps)."
        )
    started = time.monotonic()
    outcomes: list[Outcome] = []
    try:
        with Children(work_dir, REPO) as children:
            deployed = deployment.start(children, work_dir, deployment.Ports(port_base), REPO)
            say(
                "started: "
                + ", ".join(f"{c.name} (pid {c.process.pid})" for c in children.children)
            )
            ids = population.meeting_ids(RUNNING_MEETINGS)
            scenarios = _selected(build(deployed, ids, connections, probe_connections), only)
            needed = {s.target for s in scenarios}
            for target, api in (("gateway", deployed.gateway), ("direct", deployed.direct)):
                if target in needed:
                    asyncio.run(population.populate(api, ids))
                    say(f"{RUNNING_MEETINGS} running meetings created through {api.api_url}")
            say(f"setup took {time.monotonic() - started:.1f} s")
            runner = Runner(generator, children, work_dir, duration, warmup, timeout)
            for scenario in scenarios:
                outcome = runner.run(scenario)
                outcomes.append(outcome)
                say(_progress(outcome))
    except (ChildFailed, WrkFailed, population.PopulationFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    outcomes.sort(key=display_order)
    say("")
    say(report.render(outcomes))
    context = {
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "machine": {
            "cpus": cores,
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_generator": generator.name,
        "busy_before_start_percent_of_one_core": busy,
        "options": {
            "duration": duration,
            "warmup": warmup,
            "connections": connections,
            "probe_connections": probe_connections,
            "timeout": timeout,
            "only": only,
        },
    }
    report.write_json(Path(json_path), outcomes, context)
    say(f"\nresults written to {json_path} ({time.monotonic() - started:.0f} s in all)")
    if any(o.problem for o in outcomes):
        sys.exit(1)


def _selected(scenarios: list[Scenario], only: str | None) -> list[Scenario]:
    if not only:
        return scenarios
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    chosen = [s for s in scenarios if any(s.key.startswith(w) for w in wanted)]
    if not chosen:
        keys = ", ".join(s.key for s in scenarios)
        raise click.BadParameter(f"matches no scenario; choose from {keys}", param_hint="--only")
    return chosen


def _progress(outcome: Outcome) -> str:
    label = outcome.scenario.label
    if outcome.result is None:
        return f"  {label}: NOT MEASURED: {outcome.problem}"
    result = outcome.result
    return (
        f"  {label}: {result.requests_per_second:.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, {result.errors} errors"
    )


if __name__ == "__main__":
    main()
