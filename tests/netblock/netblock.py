"""The network block the tests run under: in the test process and in every child it starts.

Conductor promises that nothing goes to the network. The block refuses, at the socket calls
every Python network library ends in (``connect``, ``connect_ex``, ``sendto``, ``sendmsg``, name
lookups), any address that is not this machine's loopback, and reports each attempt, so a test
can fail on an attempt even when the code under test swallowed the error. Loopback stays open:
it is not the network, and a local server's tests must reach it. Unix sockets (Qt's) are untouched.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

NETWORK_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class NetworkBlockedError(OSError):
    """An attempt to reach the network while the block is on."""


def is_loopback(host: object) -> bool:
    """Whether a host (an address or a name) is this machine: 127.0.0.0/8, ::1 or localhost."""
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard, for binding
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def install(report: Callable[[str], None]) -> None:
    """Patch the socket module so every attempt is reported, then refused."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_sendto, real_sendmsg = socket.socket.sendto, socket.socket.sendmsg
    real_getaddrinfo = socket.getaddrinfo
    real_gethostbyname, real_gethostbyname_ex = socket.gethostbyname, socket.gethostbyname_ex

    def refuse(what: str) -> None:
        report(what)
        raise NetworkBlockedError(f"network access blocked in tests: {what}")

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in NETWORK_FAMILIES and isinstance(address, tuple) \
                and not is_loopback(address[0]):
            refuse(repr(address))

    def connect(self, address, *args):
        check(self, address)
        return real_connect(self, address, *args)

    def connect_ex(self, address, *args):
        check(self, address)
        return real_connect_ex(self, address, *args)

    def sendto(self, data, *args):
        check(self, args[-1])
        return real_sendto(self, data, *args)

    def sendmsg(self, buffers, *args):
        if len(args) >= 3:  # (ancdata, flags, address): a datagram sent to an address
            check(self, args[2])
        return real_sendmsg(self, buffers, *args)

    def lookup(real: Callable) -> Callable:
        def guarded(host, *args, **kwargs):
            if not is_loopback(host):
                refuse(f"dns:{host}")
            return real(host, *args, **kwargs)
        return guarded

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.socket.sendto, socket.socket.sendmsg = sendto, sendmsg
    socket.getaddrinfo = lookup(real_getaddrinfo)
    socket.gethostbyname = lookup(real_gethostbyname)
    socket.gethostbyname_ex = lookup(real_gethostbyname_ex)
