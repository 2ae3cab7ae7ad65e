"""The servers under test, each in its own process: start, wait until they listen, always stop.

Every child gets its own session (process group), so a Ctrl-C in the terminal reaches only the
benchmark, which then stops its children itself, by their process ids, and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType


class ChildFailed(RuntimeError):
    """A child exited, or never started listening; the message ends with its log's last lines."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A loopback port nobody listens on (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for_port(port: int, seconds: float = 60) -> None:
    """Wait until something accepts connections on a loopback port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def accepts_connections(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def run_command(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, what: str
) -> subprocess.CompletedProcess[str]:
    """Run a short command (the CLI's setup steps); fail with its output when it fails."""
    result = subprocess.run(
        list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ChildFailed(
            f"{what} failed (exit {result.returncode}): {' '.join(argv)}\n"
            f"{result.stdout}{result.stderr}"
        )
    return result


class Children:
    """The long-running children of one benchmark run; a context manager that stops them all."""

    def __init__(self, log_dir: Path, cwd: Path) -> None:
        self.log_dir = log_dir
        self.cwd = cwd
        self.children: list[Child] = []

    def __enter__(self) -> Children:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Child:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def wait_listening(self, child: Child, ports: Sequence[int], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(ports)
        while waiting:
            if child.process.poll() is not None:
                raise ChildFailed(
                    f"{child.name} exited with code {child.process.returncode} before listening "
                    f"on {waiting}; its log ({child.log_path}) ends with:\n{child.log_tail()}"
                )
            if accepts_connections(waiting[0]):
                waiting.pop(0)
                continue
            if time.monotonic() > deadline:
                raise ChildFailed(
                    f"{child.name} did not listen on port {waiting[0]} within {timeout:.0f} s; "
                    f"its log ({child.log_path}) ends with:\n{child.log_tail()}"
                )
            time.sleep(0.05)

    def check_alive(self) -> None:
        for child in self.children:
            if child.process.poll() is not None:
                raise ChildFailed(
                    f"{child.name} died (exit {child.process.returncode}); its log "
                    f"({child.log_path}) ends with:\n{child.log_tail()}"
                )

    def stop_all(self, grace: float = 5.0) -> None:
        """SIGTERM each child's process group, then SIGKILL what is still there after ``grace``."""
        running = [c for c in self.children if c.process.poll() is None]
        for child in running:
            _signal_group(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in running:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child.process.pid, signal.SIGKILL)
                child.process.wait()
        self.children.clear()


def _signal_group(pid: int, signum: signal.Signals) -> None:
    # The child leads its own session, so its group id is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
