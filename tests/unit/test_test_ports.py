"""The ports tests start servers on (tests/support.py): each lane's own block, below the
range the OS hands out to outgoing connections, so no client can take one between the
pick and the server's bind."""
import socket

import support


def ephemeral_range():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low, high = (int(x) for x in f.read().split())
    return low, high


def test_a_lanes_ports_come_from_its_own_block_below_the_ephemeral_range(monkeypatch):
    monkeypatch.setenv("TEST_PORT_BLOCK", "3")
    monkeypatch.setattr(support, "_ports", support._port_block())
    ports = [support.free_port() for _ in range(20)]
    assert len(set(ports)) == 20
    assert all(13000 <= p < 14000 for p in ports)
    low, _ = ephemeral_range()
    assert max(ports) + 10000 < low  # SeaweedFS's gRPC port too


def test_a_port_something_is_bound_to_is_passed_over(monkeypatch):
    monkeypatch.setenv("TEST_PORT_BLOCK", "4")
    monkeypatch.setattr(support, "_ports", support._port_block())
    first = support.free_port()
    monkeypatch.setattr(support, "_ports", support._port_block())
    with socket.socket() as held:
        held.bind(("127.0.0.1", first))
        assert support.free_port() != first
