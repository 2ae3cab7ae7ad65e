from bbbfleet.placement import choose_server, rank_servers
from bbbfleet.storage.repository import Server


def server(id: int, capacity: int = 100, enabled: bool = True) -> Server:
    return Server(id, f"s{id}", f"https://s{id}/bigbluebutton/api/", "x", capacity, enabled)


def test_least_loaded_relative_to_capacity() -> None:
    servers = [server(1, 100), server(2, 200)]
    chosen = choose_server(servers, {1: 10, 2: 15})
    assert chosen is not None and chosen.id == 2


def test_disabled_and_zero_capacity_servers_are_never_chosen() -> None:
    servers = [server(1, enabled=False), server(2, capacity=0), server(3)]
    assert [s.id for s in rank_servers(servers, {3: 1000})] == [3]
    assert choose_server([server(1, enabled=False)], {}) is None


def test_ties_are_stable() -> None:
    assert [s.id for s in rank_servers([server(3), server(1), server(2)], {})] == [1, 2, 3]
