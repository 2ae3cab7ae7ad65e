"""The operator CLI: every command has help, works on a fresh database, and errors say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bbbfleet.cli import main


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BBBFLEET_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


COMMANDS = [
    [],
    ["serve"],
    ["sim"],
    ["demo"],
    ["db"],
    ["db", "upgrade"],
    ["server"],
    ["server", "add"],
    ["server", "list"],
    ["server", "remove"],
    ["server", "enable"],
    ["server", "disable"],
    ["server", "register-hooks"],
    ["tenant", "set"],
    ["tenant"],
    ["tenant", "add"],
    ["tenant", "list"],
    ["tenant", "remove"],
    ["tenant", "add-secret"],
    ["tenant", "remove-secret"],
    ["recording", "imports"],
    ["recording", "import"],
    ["recording", "delete"],
    ["recording", "verify"],
    ["recording"],
    ["recording", "list"],
    ["recording", "show"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "main")
def test_every_command_has_help(run, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) >= 3  # usage, a description, options


def test_db_upgrade_is_repeatable(run) -> None:  # type: ignore[no-untyped-def]
    assert "revision 0007" in run("db", "upgrade").output
    assert "revision 0007" in run("db", "upgrade").output


def test_tenant_lifecycle(run) -> None:  # type: ignore[no-untyped-def]
    added = run("tenant", "add", "school", "--hostname", "BBB.School.example")
    assert added.exit_code == 0
    secret = next(
        line.split(": ")[1] for line in added.output.splitlines() if line.startswith("secret:")
    )
    assert len(secret) == 48
    listing = run("tenant", "list")
    assert "school" in listing.output and "bbb.school.example" in listing.output
    assert secret not in listing.output  # abbreviated unless asked
    assert secret in run("tenant", "list", "--show-secrets").output
    second = run("tenant", "add-secret", "school", "--secret", "another-secret-0123456789")
    assert second.exit_code == 0
    assert run("tenant", "remove-secret", "school", secret).exit_code == 0
    last = run("tenant", "remove-secret", "school", "another-secret-0123456789")
    assert last.exit_code == 1 and "add the new one first" in last.output
    duplicate = run("tenant", "add", "school")
    assert duplicate.exit_code == 1 and "exists already" in duplicate.output
    assert run("tenant", "remove", "school", "--yes").exit_code == 0
    gone = run("tenant", "remove", "school", "--yes")
    assert gone.exit_code == 1 and "bbbfleet tenant list" in gone.output


def test_tenant_input_is_checked(run) -> None:  # type: ignore[no-untyped-def]
    bad_name = run("tenant", "add", "Not A Name")
    assert bad_name.exit_code == 2 and "lowercase" in bad_name.output
    short = run("tenant", "add", "ok", "--secret", "short")
    assert short.exit_code == 2 and "16 characters" in short.output


def test_server_lifecycle(run) -> None:  # type: ignore[no-untyped-def]
    added = run("server", "add", "bbb1", "https://bbb1.example.org", "s3cret", "--capacity", "250")
    assert added.exit_code == 0
    assert "https://bbb1.example.org/bigbluebutton/api/" in added.output  # path completed
    listing = run("server", "list")
    assert "bbb1" in listing.output and "250" in listing.output and "enabled" in listing.output
    assert run("server", "disable", "bbb1").exit_code == 0
    assert "disabled" in run("server", "list").output
    assert run("server", "enable", "bbb1").exit_code == 0
    unknown = run("server", "disable", "nope")
    assert unknown.exit_code == 1 and "bbbfleet server list" in unknown.output
    bad_url = run("server", "add", "bbb2", "ftp://x", "s")
    assert bad_url.exit_code == 2 and "http://" in bad_url.output
    assert run("server", "remove", "bbb1").exit_code == 0
    assert "bbb1" not in run("server", "list").output


def test_bad_configuration_is_reported(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BBBFLEET_CHECKSUM_ALGORITHMS", "md5")
    result = run("server", "list")
    assert result.exit_code == 1 and "checksum_algorithms" in result.output
    monkeypatch.delenv("BBBFLEET_CHECKSUM_ALGORITHMS")
    monkeypatch.setenv("BBBFLEET_DATABASE_URL", "mysql://x/y")
    result = run("server", "list")
    assert result.exit_code == 1 and "sqlite:///" in result.output


def test_server_lifecycle_commands(run) -> None:  # type: ignore[no-untyped-def]
    run("server", "add", "bbb1", "https://bbb1.example.org", "s3cret", "--capacity", "100")
    cordoned = run("server", "cordon", "bbb1")
    assert cordoned.exit_code == 0
    assert "disabled" in cordoned.output  # empty: disabled at once
    assert run("server", "enable", "bbb1").exit_code == 0
    drained = run("server", "drain", "bbb1", "--wait", "--timeout", "1")
    assert drained.exit_code == 0 and "disabled" in drained.output
    assert "weight 0.5" in run("server", "set-weight", "bbb1", "0.5").output
    assert "capacity 250" in run("server", "set-capacity", "bbb1", "250").output
    assert "eu, gpu" in run("server", "tag", "bbb1", "GPU", "eu").output
    status = run("status")
    assert status.exit_code == 0
    header, row = status.output.splitlines()[:2]
    assert header.split()[:4] == ["NAME", "STATE", "HEALTH", "CAPACITY"]
    assert row.split()[:4] == ["bbb1", "disabled", "available", "250x0.5"]
    assert "eu,gpu" in row
    panicked = run("server", "panic", "bbb1", "--yes")
    assert panicked.exit_code == 0 and "0 meeting(s) detached" in panicked.output


def test_tenant_settings(run) -> None:  # type: ignore[no-untyped-def]
    run("tenant", "add", "school")
    updated = run(
        "tenant",
        "set",
        "school",
        "--default-participants",
        "25",
        "--pool",
        "200",
        "--tags",
        "eu!",
        "--no-predict",
    )
    assert updated.exit_code == 0
    row = run("tenant", "list").output.splitlines()[1].split()
    assert row[0] == "school" and row[3:8] == ["25", "default", "0/200", "eu!", "off"]
    assert run("tenant", "set", "school").exit_code == 2  # nothing to set
    assert run("tenant", "set", "school", "--pool", "5", "--no-pool").exit_code == 2
    run("tenant", "set", "school", "--no-pool", "--platform-defaults")
    row = run("tenant", "list").output.splitlines()[1].split()
    assert row[3:8] == ["default", "default", "0/-", "eu!", "default"]


def test_tenant_webhook_settings(run) -> None:  # type: ignore[no-untyped-def]
    run("tenant", "add", "school")
    assert run("tenant", "list").output.splitlines()[1].split()[-1] == "meeting/default/default"
    result = run(
        "tenant",
        "set",
        "school",
        "--allow-tenant-hooks",
        "--hook-checksum-version",
        "3.4",
        "--hook-personal-data",
        "hash",
    )
    assert result.exit_code == 0
    assert run("tenant", "list").output.splitlines()[1].split()[-1] == "tenant/3.4/hash"
    run("tenant", "set", "school", "--no-allow-tenant-hooks", "--hook-personal-data", "default")
    assert run("tenant", "list").output.splitlines()[1].split()[-1] == "meeting/3.4/default"
    assert run("tenant", "set", "school", "--hook-personal-data", "leak").exit_code == 2


def test_register_hooks_reports_failures(run) -> None:  # type: ignore[no-untyped-def]
    run("server", "add", "bbb1", "http://127.0.0.1:9/bigbluebutton/api/", "secret-0123456789")
    result = run("server", "register-hooks")
    assert result.exit_code == 1
    assert "bbb1: FAILED" in result.output and "bbb-webhooks installed" in result.output
    assert run("server", "register-hooks", "nope").exit_code == 1


def test_tenant_policy(run) -> None:  # type: ignore[no-untyped-def]
    run("tenant", "add", "school")
    shown = run(
        "tenant",
        "policy",
        "school",
        "--create-force",
        "record=false",
        "--create-block",
        "logoutURL",
        "--join-default",
        "userdata-x=1",
        "--welcome",
        "Hello %%CONFNAME%%",
    )
    assert shown.exit_code == 0
    assert '"record": "false"' in shown.output and '"logoutURL"' in shown.output
    assert '"welcome": "Hello %%CONFNAME%%"' in run("tenant", "policy", "school").output
    refused = run("tenant", "policy", "school", "--create-force", "meetingID=x")
    assert refused.exit_code == 2 and "managed by bbbfleet" in refused.output
    malformed = run("tenant", "policy", "school", "--create-default", "novalue")
    assert malformed.exit_code == 2 and "NAME=VALUE" in malformed.output
    cleared = run("tenant", "policy", "school", "--clear")
    assert '"record"' not in cleared.output and '"welcome"' not in cleared.output
