"""``bbbfleet recording list`` and ``show`` on an index filled through the store."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner

from bbbfleet.cli import main
from bbbfleet.protocol import recordings as rec
from bbbfleet.storage.repository import Store
from tests.recordings.test_store import entry


async def fill(url: str) -> list[str]:
    store = Store.open(url)
    await store.db.upgrade()
    alpha = await store.tenants.add("alpha", "alpha-secret-000000")
    beta = await store.tenants.add("beta", "beta-secret-0000000")
    await store.servers.add("bbb1", "http://one/bigbluebutton/api/", "s1", capacity=10)
    entries = [
        entry(alpha.id, "maths", 1, metadata=(("bbb-origin", "Moodle"),)),
        entry(alpha.id, "physics", 2, state=rec.DELETED),
        entry(beta.id, "maths", 3, metadata=None, server_id=None),
    ]
    await store.recordings.upsert(entries, 1)
    await store.close()
    return [e.snapshot.record_id for e in entries]


def test_list_and_show(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    ids = asyncio.run(fill(url))
    runner = CliRunner(env={"BBBFLEET_DATABASE_URL": url})

    listed = runner.invoke(main, ["recording", "list"])
    assert listed.exit_code == 0, listed.output
    header, *rows = listed.output.splitlines()
    assert header.split()[:3] == ["RECORD", "ID", "TENANT"]
    assert [row.split()[0] for row in rows] == [ids[0], ids[2]]  # deleted one hidden
    assert "bbb1" in rows[0] and rows[1].split()[4] == "-"  # no server
    alpha_any = runner.invoke(main, ["recording", "list", "--tenant", "alpha", "--state", "any"])
    assert [r.split()[0] for r in alpha_any.output.splitlines()[1:]] == ids[:2]
    deleted = runner.invoke(main, ["recording", "list", "--state", "deleted"])
    assert [r.split()[0] for r in deleted.output.splitlines()[1:]] == [ids[1]]
    by_meeting = runner.invoke(main, ["recording", "list", "--meeting", "maths", "--limit", "1"])
    assert by_meeting.output.splitlines()[1].split()[0] == ids[0]
    assert "1 more" in by_meeting.output
    unknown = runner.invoke(main, ["recording", "list", "--tenant", "nope"])
    assert unknown.exit_code == 1

    shown = runner.invoke(main, ["recording", "show", ids[0]])
    assert shown.exit_code == 0, shown.output
    assert "tenant:             alpha" in shown.output
    assert "meetingID:          maths" in shown.output
    assert "bbb-origin = Moodle" in shown.output
    missing = runner.invoke(main, ["recording", "show", "nope"])
    assert missing.exit_code == 1 and "bbbfleet recording list" in missing.output
