"""A faithful BigBlueButton 3.0 server simulator, for tests, benchmarks and demos.

* ``server.SimulatedServer`` – one server's state and behaviour (meetings, users, sessions), no I/O.
* ``api`` / ``control`` / ``app`` – its BBB API, ``/_sim/`` control API and Starlette apps.
* ``host.SimulatorHost`` – one server on its own loopback port, which can go down and come back.
* ``fleet.SimulatedFleet`` / ``run_simulated_fleet`` – several servers, in-process or blocking.
* ``hooks`` / ``webhooks`` / ``hooks_api`` – bbb-webhooks on each server (``HookSettings``).

Everything BBB-specific about the wire (checksums, validation, rendering) comes from
``bbbfleet.protocol``; this package adds what a server does with a valid request.
"""

from bbbfleet.simulator.app import create_app, create_multi_app
from bbbfleet.simulator.clock import Clock, ManualClock, system_clock
from bbbfleet.simulator.fleet import SimulatedFleet, create_fleet_control_app, run_simulated_fleet
from bbbfleet.simulator.hooks import HookSettings, PermanentHook
from bbbfleet.simulator.host import SimulatorHost
from bbbfleet.simulator.listener import LoopbackListener
from bbbfleet.simulator.model import (
    BbbProperties,
    Faults,
    GuestPolicy,
    GuestStatus,
    Meeting,
    Presence,
    Role,
    User,
)
from bbbfleet.simulator.server import (
    Refused,
    SimulatedServer,
    UnknownMeeting,
    UnknownUser,
)
from bbbfleet.simulator.specs import CreateSpec, JoinSpec

__all__ = [
    "BbbProperties",
    "Clock",
    "CreateSpec",
    "Faults",
    "GuestPolicy",
    "GuestStatus",
    "HookSettings",
    "JoinSpec",
    "LoopbackListener",
    "ManualClock",
    "Meeting",
    "PermanentHook",
    "Presence",
    "Refused",
    "Role",
    "SimulatedFleet",
    "SimulatedServer",
    "SimulatorHost",
    "UnknownMeeting",
    "UnknownUser",
    "User",
    "create_app",
    "create_fleet_control_app",
    "create_multi_app",
    "run_simulated_fleet",
    "system_clock",
]
