"""A network guard for test suites: nothing resolves a name or connects beyond this machine.

Tests talk to the local emulator and to fake APIs on 127.0.0.1; a test that reaches further (a
placeholder host left in a handler, an option pointing at the real API) would depend on the
network and could send real requests. `guard()` patches the socket module so that looking up a
name other than localhost, or connecting to an address outside 127.0.0.0/8 and ::1, fails at
once with `socket.gaierror` naming the host and the fix; connections on this machine (and Unix
sockets) are untouched.

The pytest plugin (cde_runtime.testing) turns it on for the whole session and sets
CDE_OFFLINE_TESTS=1 for the connector processes it starts; `import cde_runtime` then turns it on
in those too. Production never sets the variable.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

__all__ = ["VARIABLE", "guard", "is_local", "unguard"]

#: Set to 1 in a process that must stay on this machine (the test fixtures set it).
VARIABLE = "CDE_OFFLINE_TESTS"
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_original_getaddrinfo = socket.getaddrinfo
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


def is_local(host: Any) -> bool:
    """Whether `host` (a name or an address) is this machine."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.partition("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(host: Any) -> socket.gaierror:
    return socket.gaierror(
        socket.EAI_NONAME,
        f"{host} is not on this machine, and tests reach only 127.0.0.1 ({VARIABLE}=1): point "
        "the option or URL at a local stand-in (the emulator's /feed or /channel, a fake_api)",
    )


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not is_local(host):
        raise _refuse(host)
    return _original_getaddrinfo(host, *args, **kwargs)


def _remote(sock: socket.socket, address: Any) -> bool:
    inet = sock.family in (socket.AF_INET, socket.AF_INET6)
    return inet and isinstance(address, tuple) and not is_local(address[0])


def _connect(self: socket.socket, address: Any) -> None:
    if _remote(self, address):
        raise _refuse(address[0])
    _original_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    if _remote(self, address):
        raise _refuse(address[0])
    return _original_connect_ex(self, address)


def guard() -> None:
    """Refuse names and addresses beyond this machine in this process (idempotent)."""
    socket.getaddrinfo = _getaddrinfo
    socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign,assignment]


def unguard() -> None:
    """Undo `guard()`: names and addresses resolve and connect as before."""
    socket.getaddrinfo = _original_getaddrinfo
    socket.socket.connect = _original_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]


def guard_if_asked() -> None:
    """`guard()` when the environment asks for it (CDE_OFFLINE_TESTS=1)."""
    if os.environ.get(VARIABLE) == "1":
        guard()
