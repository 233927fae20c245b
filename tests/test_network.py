"""Nothing reaches the network: the suite blocks sockets, and this proves the block works."""

from __future__ import annotations

import socket

import pytest

import conftest


def test_outbound_connections_are_blocked_and_recorded():
    before = len(conftest.NETWORK_ATTEMPTS)
    with pytest.raises(OSError):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    assert len(conftest.NETWORK_ATTEMPTS) == before + 1
    del conftest.NETWORK_ATTEMPTS[before:]  # this attempt was the test's own


def test_dns_lookups_are_blocked():
    before = len(conftest.NETWORK_ATTEMPTS)
    with pytest.raises(OSError):
        socket.getaddrinfo("huggingface.co", 443)
    del conftest.NETWORK_ATTEMPTS[before:]


def test_local_unix_sockets_still_work():
    left, right = socket.socketpair()
    left.sendall(b"ok")
    assert right.recv(2) == b"ok"
    left.close()
    right.close()
