"""Many simulated BBB servers in one process (server ``n`` under ``/<n>/``), each pre-filled with
running meetings, for the poller benchmark.  Prints ``ready`` when it serves.

    python -m bench.manysims --servers 1000 --meetings 2 --attendees 3 --port 18900
"""

from __future__ import annotations

import argparse
import random

import uvicorn

from bbbfleet.simulator import CreateSpec, JoinSpec, SimulatedServer, create_multi_app

TENANT_ID = 1


def backend_id(server: int, meeting: int) -> str:
    """The tenant-scoped ID the gateway would have given this meeting (tenant 1)."""
    return f"bf{TENANT_ID}-r{server}-{meeting}"


def build(count: int, meetings: int, attendees: int, base_url: str) -> list[SimulatedServer]:
    servers = []
    for index in range(count):
        server = SimulatedServer(
            f"many-secret-{index}",
            name=f"many-{index}",
            server_url=f"{base_url}/{index}",
            rng=random.Random(index),
        )
        for number in range(meetings):
            meeting = server.create_meeting(
                CreateSpec(meeting_id=backend_id(index, number), name=f"Room {number}")
            ).meeting
            for person in range(attendees):
                user = server.join(
                    meeting, JoinSpec(full_name=f"U{person}", password=meeting.moderator_pw)
                )
                server.attend(user.session_token)
        servers.append(server)
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--meetings", type=int, default=2)
    parser.add_argument("--attendees", type=int, default=3)
    parser.add_argument("--port", type=int, default=18900)
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    app = create_multi_app(build(args.servers, args.meetings, args.attendees, base))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    print("ready", flush=True)
    server.run()


if __name__ == "__main__":
    main()
