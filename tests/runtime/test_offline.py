"""No test suite resolves a name or connects beyond this machine (cde_runtime/offline.py).

The pytest plugin turns the guard on for every suite that loads it (each generated project's,
and this one), and for the connector processes those suites start.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import httpx
import pytest
from cde_emulator.fake_api import FakeApi
from cde_runtime import offline


@pytest.mark.parametrize("host", ["channel.example.com", "cde-container-api", "192.0.2.1"])
def test_the_plugin_refuses_to_resolve_or_reach_anything_beyond_this_machine(host: str) -> None:
    with pytest.raises(socket.gaierror, match=r"tests reach only 127\.0\.0\.1"):
        socket.getaddrinfo(host, 443)
    with socket.socket() as sock:
        assert offline._remote(sock, (host, 443))
    # Refused before anything is sent (a name: no lookup either).
    with pytest.raises(socket.gaierror, match="is not on this machine"), socket.socket() as sock:
        sock.connect(("shop.invalid", 443))


def test_an_http_client_gets_a_connect_error_naming_the_fix() -> None:
    with pytest.raises(httpx.ConnectError, match="point the option or URL at a local stand-in"):
        httpx.get("https://channel.example.com/api", timeout=1)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.5"])
def test_this_machine_is_reachable(host: str) -> None:
    assert offline.is_local(host)
    assert socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)


def test_a_fake_api_on_this_machine_answers() -> None:
    with FakeApi({"GET /ping": {"ok": True}}) as api:
        assert httpx.get(f"{api.url}/ping").json() == {"ok": True}


def test_connector_processes_started_by_a_suite_are_guarded_too() -> None:
    assert os.environ[offline.VARIABLE] == "1"  # what run_connector passes on
    code = (
        "import socket, cde_runtime\n"
        "try:\n    socket.getaddrinfo('example.com', 80)\n"
        "except socket.gaierror as error:\n    print('refused:', error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.startswith("refused: [Errno -2] example.com is not on this machine")


def test_production_processes_are_not_guarded() -> None:
    env = {k: v for k, v in os.environ.items() if k != offline.VARIABLE}
    code = (
        "import socket, cde_runtime; print(socket.getaddrinfo is cde_runtime.offline._getaddrinfo)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    )
    assert result.stdout.strip() == "False"
