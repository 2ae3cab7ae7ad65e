"""The 200 running meetings that join, isMeetingRunning and getMeetings are measured against.

Each is created through the API under test and made running the way a real user does it: one
moderator joins and follows the redirects to the (simulated) HTML5 client, which registers the
attendee.  Then getMeetings must list every one of them as running.
"""

from __future__ import annotations

import asyncio
from xml.etree import ElementTree

import httpx

from bench.deployment import Api
from bench.urls import create_params, get_meetings_paths, join_params, signed_path


class PopulationFailed(RuntimeError):
    pass


def meeting_ids(count: int) -> list[str]:
    return [f"bench-{i}" for i in range(count)]


async def populate(api: Api, ids: list[str], concurrency: int = 8) -> None:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30.0) as client:

        async def one(index: int, meeting_id: str) -> None:
            async with limit:
                created = await client.get(
                    signed_path("create", create_params(meeting_id), api.secret)
                )
                if "<returncode>SUCCESS</returncode>" not in created.text:
                    raise PopulationFailed(f"create {meeting_id} at {api.base_url}: {created.text}")
                join = signed_path("join", join_params(meeting_id, index, "MODERATOR"), api.secret)
                joined = await client.get(join, follow_redirects=True)
                if joined.status_code >= 400 or "sessionToken=" not in str(joined.url):
                    raise PopulationFailed(
                        f"join {meeting_id} at {api.base_url} ended at {joined.url} "
                        f"({joined.status_code}): {joined.text[:300]}"
                    )

        await asyncio.gather(*(one(i, m) for i, m in enumerate(ids)))
        listing = await client.get(get_meetings_paths(api.secret)[0])
    running = running_meeting_ids(listing.text)
    missing = sorted(set(ids) - running)
    if missing:
        raise PopulationFailed(
            f"getMeetings at {api.base_url} does not list {len(missing)} of the {len(ids)} "
            f"meetings as running (e.g. {missing[:3]}): {listing.text[:300]}"
        )


def running_meeting_ids(get_meetings_xml: str) -> set[str]:
    root = ElementTree.fromstring(get_meetings_xml)
    return {
        meeting.findtext("meetingID") or ""
        for meeting in root.iterfind("meetings/meeting")
        if meeting.findtext("running") == "true"
    }
