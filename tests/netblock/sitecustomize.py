"""Blocks network connections in child processes started by the tests (CLI runs).

Put this folder on PYTHONPATH and set CONDUCTOR_NETBLOCK_LOG to a file: any attempt to connect to
an IP address is written there and refused, so a test can assert that none happened.
"""

import os
import socket

_LOG = os.environ.get("CONDUCTOR_NETBLOCK_LOG")

if _LOG:
    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex
    _getaddrinfo = socket.getaddrinfo

    def _record(what):
        with open(_LOG, "a", encoding="utf-8") as handle:
            handle.write(f"{what}\n")
        raise OSError(f"network access blocked in tests: {what}")

    def _guarded_connect(self, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _record(repr(address))
        return _connect(self, address, *args)

    def _guarded_connect_ex(self, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _record(repr(address))
        return _connect_ex(self, address, *args)

    def _guarded_getaddrinfo(host, *args, **kwargs):
        if host not in (None, "localhost", "127.0.0.1", "::1"):
            _record(f"dns:{host}")
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.getaddrinfo = _guarded_getaddrinfo
