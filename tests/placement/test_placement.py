"""Placement policy (bbbfleet.placement): table-driven cases, properties over random fleets, and a
simulation of meetings placed one after another."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbbfleet.placement import (
    Health,
    NoPlacement,
    NotPlaced,
    Placed,
    PlacementRequest,
    ServerLoad,
    ServerState,
    Strategy,
    TagRequest,
    candidates,
    fits_pool,
    meeting_load,
    place,
)

LL = Strategy.LEAST_LOADED
BF = Strategy.BEST_FIT


def srv(id: int, capacity: int = 100, **fields: object) -> ServerLoad:
    return ServerLoad(id, capacity, **fields)  # type: ignore[arg-type]


def req(
    seats: int = 10, tags: str | None = None, exclude: frozenset[int] = frozenset()
) -> PlacementRequest:
    return PlacementRequest(seats, TagRequest.parse(tags), exclude)


def tagged(*names: str) -> frozenset[str]:
    return frozenset(names)


# --- ServerLoad arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "load", "free"),
    [
        pytest.param(srv(1, 100), 0, 100, id="empty"),
        pytest.param(srv(1, 100, reserved=30), 30, 70, id="reserved-only"),
        pytest.param(srv(1, 100, live=45), 45, 55, id="live-only"),
        pytest.param(srv(1, 100, reserved=30, live=45), 45, 55, id="live-above-reserved"),
        pytest.param(srv(1, 100, reserved=60, live=45), 60, 40, id="reserved-above-live"),
        pytest.param(srv(1, 100, weight=2.0, reserved=50), 50, 150, id="weight-doubles"),
        pytest.param(srv(1, 100, weight=0.5, reserved=20), 20, 30, id="weight-halves"),
        pytest.param(srv(1, 100, reserved=130), 130, -30, id="overbooked"),
        pytest.param(srv(1, 0), 0, 0, id="zero-capacity"),
    ],
)
def test_load_is_max_of_reserved_and_live_and_free_is_weighted(
    server: ServerLoad, load: int, free: float
) -> None:
    assert server.load == load
    assert server.free == free


@pytest.mark.parametrize(
    ("state", "health", "usable"),
    [
        (state, health, state is ServerState.ENABLED and health is Health.AVAILABLE)
        for state in ServerState
        for health in Health
    ],
    ids=lambda v: str(v),
)
def test_only_enabled_and_available_servers_are_usable(
    state: ServerState, health: Health, usable: bool
) -> None:
    assert srv(1, state=state, health=health).usable is usable


# --- place: table -------------------------------------------------------------------------------

CORDONED = {"state": ServerState.CORDONED}
DISABLED = {"state": ServerState.DISABLED}
UNSTABLE = {"health": Health.UNSTABLE}
OFFLINE = {"health": Health.OFFLINE}

PLACE_CASES = [
    # strategy
    pytest.param(
        [srv(1, reserved=80), srv(2, reserved=20)],
        req(10),
        LL,
        Placed(2),
        id="least-loaded-takes-most-room",
    ),
    pytest.param(
        [srv(1, reserved=80), srv(2, reserved=20)],
        req(10),
        BF,
        Placed(1),
        id="best-fit-takes-least-room-that-fits",
    ),
    pytest.param(
        [srv(1, reserved=80), srv(2, reserved=20)],
        req(30),
        BF,
        Placed(2),
        id="best-fit-skips-server-that-does-not-fit",
    ),
    pytest.param(
        [srv(1, 100, reserved=10), srv(2, 1000, reserved=500)],
        req(10),
        LL,
        Placed(1),
        id="least-loaded-is-relative-to-size",
    ),
    pytest.param(
        [srv(1, 100, reserved=50), srv(2, 200, reserved=100)],
        req(10),
        LL,
        Placed(2),
        id="least-loaded-equal-share-prefers-more-absolute-room",
    ),
    pytest.param(
        [srv(1, 100, reserved=50), srv(2, 200, reserved=150)],
        req(10),
        BF,
        Placed(2),
        id="best-fit-equal-room-prefers-bigger-server",
    ),
    # ties
    pytest.param([srv(3), srv(1), srv(2)], req(10), LL, Placed(1), id="least-loaded-tie-lowest-id"),
    pytest.param([srv(3), srv(1), srv(2)], req(10), BF, Placed(1), id="best-fit-tie-lowest-id"),
    # weight
    pytest.param(
        [srv(1, 100, weight=2.0, reserved=100), srv(2, 100, reserved=40)],
        req(10),
        LL,
        Placed(2),
        id="weight-scales-share",
    ),
    pytest.param(
        [srv(1, 100, weight=2.0, reserved=100), srv(2, 100, reserved=40)],
        req(70),
        LL,
        Placed(1),
        id="weight-adds-room",
    ),
    pytest.param(
        [srv(1, 100, weight=0.5, reserved=40)],
        req(20),
        LL,
        NotPlaced(NoPlacement.NO_CAPACITY),
        id="weight-removes-room",
    ),
    pytest.param(
        [srv(1, 100, weight=0.0)],
        req(1),
        LL,
        NotPlaced(NoPlacement.NO_CAPACITY),
        id="weight-zero-takes-nothing",
    ),
    # reserved vs live
    pytest.param(
        [srv(1, reserved=10, live=90), srv(2, reserved=50)],
        req(10),
        LL,
        Placed(2),
        id="live-above-reserved-counts",
    ),
    pytest.param(
        [srv(1, reserved=90, live=10), srv(2, live=50)],
        req(10),
        LL,
        Placed(2),
        id="reserved-above-live-counts",
    ),
    pytest.param(
        [srv(1, reserved=10, live=90)],
        req(20),
        LL,
        NotPlaced(NoPlacement.NO_CAPACITY),
        id="live-load-blocks-fit",
    ),
    pytest.param(
        [srv(1, reserved=90, live=10)],
        req(20),
        BF,
        NotPlaced(NoPlacement.NO_CAPACITY),
        id="reserved-load-blocks-fit",
    ),
    # capacity edge
    pytest.param([srv(1, reserved=90)], req(10), BF, Placed(1), id="exact-fit"),
    pytest.param(
        [srv(1, reserved=91)], req(10), BF, NotPlaced(NoPlacement.NO_CAPACITY), id="one-seat-short"
    ),
    pytest.param([srv(1, 0), srv(2, 10)], req(5), LL, Placed(2), id="zero-capacity-skipped"),
    pytest.param(
        [srv(1, 0)],
        req(0),
        LL,
        NotPlaced(NoPlacement.NO_SERVERS),
        id="zero-capacity-is-no-server-even-for-zero-seats",
    ),
    # exclusion
    pytest.param(
        [srv(1), srv(2, reserved=50)],
        req(10, exclude=frozenset({1})),
        LL,
        Placed(2),
        id="excluded-best-server-skipped",
    ),
    pytest.param(
        [srv(1), srv(2)],
        req(10, exclude=frozenset({1, 2})),
        LL,
        NotPlaced(NoPlacement.NO_SERVERS),
        id="all-excluded",
    ),
    # states and health
    *[
        pytest.param(
            [srv(1, **fields), srv(2, reserved=90)],
            req(10),
            LL,
            Placed(2),
            id=f"{name}-never-chosen",
        )
        for name, fields in [
            ("cordoned", CORDONED),
            ("disabled", DISABLED),
            ("unstable", UNSTABLE),
            ("offline", OFFLINE),
        ]
    ],
    pytest.param(
        [srv(1, **CORDONED), srv(2, **DISABLED), srv(3, **UNSTABLE), srv(4, **OFFLINE)],
        req(10),
        LL,
        NotPlaced(NoPlacement.NO_SERVERS),
        id="no-usable-server",
    ),
    pytest.param([], req(10), LL, NotPlaced(NoPlacement.NO_SERVERS), id="empty-fleet"),
    # required tags
    pytest.param(
        [srv(1), srv(2, reserved=90, tags=tagged("gpu"))],
        req(10, "gpu!"),
        LL,
        Placed(2),
        id="required-tag-chosen-over-emptier-untagged",
    ),
    pytest.param(
        [srv(1), srv(2, tags=tagged("eu"))],
        req(10, "gpu!"),
        LL,
        NotPlaced(NoPlacement.NO_TAGGED_SERVER),
        id="required-tag-missing",
    ),
    pytest.param(
        [srv(1), srv(2, tags=tagged("gpu"), **CORDONED)],
        req(10, "gpu!"),
        LL,
        NotPlaced(NoPlacement.NO_TAGGED_SERVER),
        id="required-tag-only-on-cordoned",
    ),
    pytest.param(
        [srv(1), srv(2, tags=tagged("gpu"))],
        req(10, "gpu!", frozenset({2})),
        LL,
        NotPlaced(NoPlacement.NO_TAGGED_SERVER),
        id="required-tag-only-on-excluded",
    ),
    pytest.param(
        [srv(1), srv(2, reserved=95, tags=tagged("gpu"))],
        req(10, "gpu!"),
        LL,
        NotPlaced(NoPlacement.NO_CAPACITY),
        id="required-tag-full-no-fallback",
    ),
    pytest.param(
        [srv(1, tags=tagged("a")), srv(2, reserved=50, tags=tagged("b")), srv(3)],
        req(10, "b,c!"),
        LL,
        Placed(2),
        id="required-any-of-several-tags",
    ),
    pytest.param(
        [srv(1), srv(2, reserved=50, tags=tagged("gpu"))],
        req(10, "GPU !"),
        LL,
        Placed(2),
        id="required-tag-parsed-case-insensitively",
    ),
    # preferred tags
    pytest.param(
        [srv(1), srv(2, reserved=90, tags=tagged("gpu"))],
        req(10, "gpu"),
        LL,
        Placed(2),
        id="preferred-tag-chosen-over-emptier-untagged",
    ),
    pytest.param(
        [srv(1, reserved=50), srv(2, reserved=95, tags=tagged("gpu"))],
        req(10, "gpu"),
        LL,
        Placed(1),
        id="preferred-tag-full-falls-back",
    ),
    pytest.param(
        [srv(1, reserved=50), srv(2, tags=tagged("gpu"), **UNSTABLE)],
        req(10, "gpu"),
        LL,
        Placed(1),
        id="preferred-tag-unstable-falls-back",
    ),
    pytest.param(
        [srv(1, reserved=50), srv(2, tags=tagged("eu"))],
        req(10, "gpu"),
        LL,
        Placed(2),
        id="preferred-tag-missing-falls-back-to-any-server",
    ),
    pytest.param(
        [srv(1, reserved=50, tags=tagged("a")), srv(2, reserved=20, tags=tagged("b")), srv(3)],
        req(10, "a,b"),
        BF,
        Placed(1),
        id="preferred-tags-pool-ranked-by-strategy",
    ),
    pytest.param(
        [srv(1, reserved=95)],
        req(10, "gpu"),
        LL,
        NotPlaced(NoPlacement.NO_CAPACITY),
        id="preferred-tag-nothing-fits",
    ),
    pytest.param(
        [srv(1, reserved=50, tags=tagged("gpu")), srv(2)],
        req(10),
        LL,
        Placed(2),
        id="no-tag-request-any-server",
    ),
]


@pytest.mark.parametrize(("servers", "request_", "strategy", "expected"), PLACE_CASES)
def test_place(
    servers: list[ServerLoad],
    request_: PlacementRequest,
    strategy: Strategy,
    expected: Placed | NotPlaced,
) -> None:
    assert place(servers, request_, strategy) == expected


CANDIDATE_CASES = [
    pytest.param(
        [srv(1, reserved=50), srv(2, reserved=10), srv(3, reserved=30), srv(4, reserved=95)],
        req(10),
        LL,
        [2, 3, 1],
        id="least-loaded-order-without-misfits",
    ),
    pytest.param(
        [srv(1, reserved=50), srv(2, reserved=10), srv(3, reserved=30), srv(4, reserved=95)],
        req(10),
        BF,
        [1, 3, 2],
        id="best-fit-order-without-misfits",
    ),
    pytest.param(
        [
            srv(1),
            srv(2, reserved=60, tags=tagged("a")),
            srv(3, reserved=30, tags=tagged("b")),
            srv(4, reserved=20),
        ],
        req(10, "a,b"),
        LL,
        [3, 2, 1, 4],
        id="preferred-pool-first-then-the-rest",
    ),
    pytest.param(
        [srv(1), srv(2, reserved=60, tags=tagged("a")), srv(3, reserved=30, tags=tagged("b"))],
        req(10, "a!"),
        LL,
        [2],
        id="required-pool-only",
    ),
    pytest.param(
        [srv(2), srv(1), srv(3, reserved=1)],
        req(10),
        LL,
        [1, 2, 3],
        id="stable-by-id",
    ),
    pytest.param(
        [srv(1, **CORDONED), srv(2, **OFFLINE), srv(3, 0), srv(4)],
        req(10, exclude=frozenset({4})),
        LL,
        NoPlacement.NO_SERVERS,
        id="nothing-usable",
    ),
    pytest.param(
        [srv(1, reserved=100), srv(2, reserved=95)],
        req(10),
        BF,
        NoPlacement.NO_CAPACITY,
        id="nothing-fits",
    ),
]


@pytest.mark.parametrize(("servers", "request_", "strategy", "expected"), CANDIDATE_CASES)
def test_candidates(
    servers: list[ServerLoad],
    request_: PlacementRequest,
    strategy: Strategy,
    expected: list[int] | NoPlacement,
) -> None:
    ranked = candidates(servers, request_, strategy)
    if isinstance(expected, NoPlacement):
        assert ranked == expected
    else:
        assert not isinstance(ranked, NoPlacement)
        assert [s.id for s in ranked] == expected


def test_candidates_accepts_any_iterable() -> None:
    ranked = candidates(iter([srv(2), srv(1)]), req(10), LL)
    assert not isinstance(ranked, NoPlacement)
    assert [s.id for s in ranked] == [1, 2]


def test_required_flag_without_tags_finds_no_tagged_server() -> None:
    # parse() never builds this, but the dataclass allows it: it must not place anywhere
    request_ = PlacementRequest(10, TagRequest(frozenset(), required=True))
    assert place([srv(1)], request_, LL) == NotPlaced(NoPlacement.NO_TAGGED_SERVER)


@pytest.mark.parametrize(
    ("capacity", "weight", "seats"),
    [
        pytest.param(100, 0.57, 57, id="100x0.57"),  # 56.99999999999999 in binary floating point
        pytest.param(100, 0.29, 29, id="100x0.29"),  # 28.999999999999996
        pytest.param(10, 0.7, 7, id="10x0.7"),  # 7.000000000000001
    ],
)
def test_weighted_capacity_is_not_lost_to_float_rounding(
    capacity: int, weight: float, seats: int
) -> None:
    server = srv(1, capacity, weight=weight)
    assert place([server], req(seats), LL) == Placed(1)
    assert place([server], req(seats + 1), LL) == NotPlaced(NoPlacement.NO_CAPACITY)


# --- TagRequest.parse ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tags", "required"),
    [
        pytest.param(None, set(), False, id="none"),
        pytest.param("", set(), False, id="empty"),
        pytest.param("   ", set(), False, id="whitespace"),
        pytest.param("gpu", {"gpu"}, False, id="one"),
        pytest.param("GPU", {"gpu"}, False, id="lowercased"),
        pytest.param(" a , B ", {"a", "b"}, False, id="spaces-and-case"),
        pytest.param("a,,b,", {"a", "b"}, False, id="empty-items-dropped"),
        pytest.param("a,b!", {"a", "b"}, True, id="required"),
        pytest.param("a, b !", {"a", "b"}, True, id="required-with-spaces"),
        pytest.param(" gpu! ", {"gpu"}, True, id="required-surrounded-by-spaces"),
        pytest.param("!", set(), False, id="bang-alone"),
        pytest.param(" ! ", set(), False, id="bang-alone-with-spaces"),
        pytest.param(",,!", set(), False, id="bang-without-names"),
        pytest.param("a,a,A", {"a"}, False, id="duplicates"),
    ],
)
def test_tag_request_parse(text: str | None, tags: set[str], required: bool) -> None:
    parsed = TagRequest.parse(text)
    assert parsed.tags == frozenset(tags)
    assert parsed.required is required


def test_default_tag_request_is_empty_and_optional() -> None:
    assert TagRequest() == TagRequest.parse(None) == TagRequest(frozenset(), False)
    assert PlacementRequest(1).tags == TagRequest()


# --- pools and meeting load ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pool", "tenant_load", "seats", "fits"),
    [
        pytest.param(None, 10**9, 10**9, True, id="no-pool-is-unlimited"),
        pytest.param(100, 90, 10, True, id="exactly-full"),
        pytest.param(100, 91, 10, False, id="one-over"),
        pytest.param(100, 0, 101, False, id="request-bigger-than-pool"),
        pytest.param(0, 0, 1, False, id="zero-pool"),
        pytest.param(0, 0, 0, True, id="zero-pool-zero-seats"),
        pytest.param(50, 70, 0, False, id="already-over"),
    ],
)
def test_fits_pool(pool: int | None, tenant_load: int, seats: int, fits: bool) -> None:
    assert fits_pool(pool, tenant_load, seats) is fits


@pytest.mark.parametrize(
    ("reserved", "live", "load"),
    [
        pytest.param(0, 0, 0, id="empty"),
        pytest.param(25, 3, 25, id="reservation-dominates"),
        pytest.param(25, 40, 40, id="live-dominates"),
        pytest.param(25, 25, 25, id="equal"),
    ],
)
def test_meeting_load(reserved: int, live: int, load: int) -> None:
    assert meeting_load(reserved, live) == load


# --- properties ---------------------------------------------------------------------------------
#
# Generating data is the slow part of a Hypothesis run, so one generated scenario is checked against
# every property below rather than each property drawing its own.

TAGS = ("a", "b", "c")

servers_ = st.builds(
    ServerLoad,
    id=st.integers(1, 40),
    capacity=st.sampled_from([0, 1, 10, 37, 50, 100, 120]),
    weight=st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0]),
    state=st.sampled_from(ServerState),
    health=st.sampled_from(Health),
    tags=st.frozensets(st.sampled_from(TAGS)),
    reserved=st.integers(0, 130),
    live=st.integers(0, 130),
)
fleets = st.lists(servers_, max_size=7, unique_by=lambda s: s.id)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[ServerLoad], PlacementRequest, Strategy]:
    servers = draw(fleets)
    names = draw(st.frozensets(st.sampled_from(TAGS), max_size=2))
    required = bool(names) and draw(st.booleans())
    ids = [s.id for s in servers]
    exclude = draw(st.frozensets(st.sampled_from(ids), max_size=2)) if ids else frozenset()
    request_ = PlacementRequest(draw(st.integers(1, 60)), TagRequest(names, required), exclude)
    return servers, request_, draw(st.sampled_from(Strategy))


def eligible(servers: list[ServerLoad], request_: PlacementRequest) -> list[ServerLoad]:
    """Usable, not excluded, with room at all, and carrying a requested tag if one is required."""
    return [
        s
        for s in servers
        if s.usable
        and s.id not in request_.exclude
        and s.capacity > 0
        and (not request_.tags.required or s.tags & request_.tags.tags)
    ]


def fitting(servers: list[ServerLoad], request_: PlacementRequest) -> list[ServerLoad]:
    return [s for s in eligible(servers, request_) if s.free >= request_.seats]


def first_pool(servers: list[ServerLoad], request_: PlacementRequest) -> list[ServerLoad]:
    """The fitting servers placement must choose among: the tagged ones, if any of them fit."""
    fit = fitting(servers, request_)
    return [s for s in fit if s.tags & request_.tags.tags] or fit


def server_by_id(servers: list[ServerLoad], server_id: int) -> ServerLoad:
    (server,) = [s for s in servers if s.id == server_id]
    return server


def check_chosen_is_usable_not_excluded_and_fits(
    servers: list[ServerLoad], request_: PlacementRequest, result: Placed | NotPlaced
) -> None:
    if isinstance(result, Placed):
        chosen = server_by_id(servers, result.server_id)
        assert chosen.state is ServerState.ENABLED
        assert chosen.health is Health.AVAILABLE
        assert chosen.id not in request_.exclude
        assert chosen.free >= request_.seats  # never over capacity
        if request_.tags.required:
            assert chosen.tags & request_.tags.tags


def check_placed_whenever_a_fit_exists_else_the_right_reason(
    servers: list[ServerLoad], request_: PlacementRequest, result: Placed | NotPlaced
) -> None:
    if fitting(servers, request_):
        assert isinstance(result, Placed)
        return
    usable = [s for s in servers if s.usable and s.id not in request_.exclude and s.capacity > 0]
    if not usable:
        assert result == NotPlaced(NoPlacement.NO_SERVERS)
    elif not eligible(servers, request_):
        assert result == NotPlaced(NoPlacement.NO_TAGGED_SERVER)
    else:
        assert result == NotPlaced(NoPlacement.NO_CAPACITY)


def check_preferred_tags_win_whenever_a_tagged_server_fits(
    servers: list[ServerLoad], request_: PlacementRequest, result: Placed | NotPlaced
) -> None:
    wanted = request_.tags.tags
    if any(s.tags & wanted for s in fitting(servers, request_)):
        assert isinstance(result, Placed)
        assert server_by_id(servers, result.server_id).tags & wanted


def check_strategy_picks_the_extreme_of_the_first_pool(
    servers: list[ServerLoad],
    request_: PlacementRequest,
    strategy: Strategy,
    result: Placed | NotPlaced,
) -> None:
    pool = first_pool(servers, request_)
    if not pool:
        assert isinstance(result, NotPlaced)
        return
    assert isinstance(result, Placed)
    chosen = server_by_id(servers, result.server_id)
    assert chosen in pool
    if strategy is Strategy.LEAST_LOADED:
        # free + load is the server's weighted capacity (capacity × weight) as placement counts it
        share = {s.id: s.free / (s.free + s.load) for s in pool}
        assert share[chosen.id] == max(share.values())
    else:
        assert chosen.free == min(s.free for s in pool)


def check_deterministic_and_independent_of_server_order(
    servers: list[ServerLoad],
    request_: PlacementRequest,
    strategy: Strategy,
    result: Placed | NotPlaced,
) -> None:
    shuffled = list(servers)
    random.Random(len(servers)).shuffle(shuffled)
    for order in (servers, tuple(reversed(servers)), shuffled):
        assert place(order, request_, strategy) == result
    assert candidates(shuffled, request_, strategy) == candidates(servers, request_, strategy)


def check_place_is_the_head_of_candidates(
    servers: list[ServerLoad],
    request_: PlacementRequest,
    strategy: Strategy,
    result: Placed | NotPlaced,
) -> None:
    ranked = candidates(servers, request_, strategy)
    if isinstance(ranked, NoPlacement):
        assert result == NotPlaced(ranked)
        return
    assert ranked, "no candidates must be a reason, not an empty list"
    assert result == Placed(ranked[0].id)
    assert sorted(s.id for s in ranked) == sorted(s.id for s in fitting(servers, request_))


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_placement_properties(
    scenario: tuple[list[ServerLoad], PlacementRequest, Strategy],
) -> None:
    servers, request_, strategy = scenario
    result = place(servers, request_, strategy)
    check_chosen_is_usable_not_excluded_and_fits(servers, request_, result)
    check_placed_whenever_a_fit_exists_else_the_right_reason(servers, request_, result)
    check_preferred_tags_win_whenever_a_tagged_server_fits(servers, request_, result)
    check_strategy_picks_the_extreme_of_the_first_pool(servers, request_, strategy, result)
    check_deterministic_and_independent_of_server_order(servers, request_, strategy, result)
    check_place_is_the_head_of_candidates(servers, request_, strategy, result)


# --- simulation ---------------------------------------------------------------------------------

FOUR_EQUAL = [srv(i, 100) for i in (1, 2, 3, 4)]


def fill(servers: list[ServerLoad], seats: int, strategy: Strategy) -> list[int]:
    """Place equal meetings one by one, reserving each on its server, until none fits; the chosen
    server ids in order."""
    chosen: list[int] = []
    while isinstance(result := place(servers, PlacementRequest(seats), strategy), Placed):
        chosen.append(result.server_id)
        servers = [
            replace(s, reserved=s.reserved + seats) if s.id == result.server_id else s
            for s in servers
        ]
    assert result == NotPlaced(NoPlacement.NO_CAPACITY)
    assert all(s.load <= s.capacity for s in servers)
    return chosen


@pytest.mark.parametrize("seats", [1, 7, 10, 25, 33, 40, 100])
def test_least_loaded_spreads_evenly(seats: int) -> None:
    chosen = fill(FOUR_EQUAL, seats, LL)
    assert len(chosen) == 4 * (100 // seats)  # the fleet is used up before anything is refused
    for placed in range(1, len(chosen) + 1):  # after every meeting, not only at the end
        counts = [chosen[:placed].count(i) for i in (1, 2, 3, 4)]
        assert all(abs(count - placed / 4) <= 1 for count in counts), (placed, counts)


@pytest.mark.parametrize("seats", [1, 7, 10, 25, 33, 40, 100])
def test_best_fit_fills_servers_one_after_another(seats: int) -> None:
    chosen = fill(FOUR_EQUAL, seats, BF)
    per_server = 100 // seats
    assert chosen == [1 + i // per_server for i in range(4 * per_server)]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_full_fleet_refuses_the_next_meeting(strategy: Strategy) -> None:
    servers = [srv(i, 100, reserved=100) for i in (1, 2, 3, 4)]
    assert place(servers, req(1), strategy) == NotPlaced(NoPlacement.NO_CAPACITY)


def test_least_loaded_round_robins_in_id_order() -> None:
    assert fill(FOUR_EQUAL, 10, LL) == [1, 2, 3, 4] * 10
