"""The local app (no login, can load and delete data) is reachable from this machine only."""

from __future__ import annotations

import base64
import os
import socket
import sys
from pathlib import Path

import pytest
from conftest import Server

LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1 in /proc/net/tcp*


def listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp writes them) with a socket listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def websocket_answer(port: int, host: str) -> str:
    """The status line the app's websocket endpoint answers a browser that names ``host``."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: http://{host}:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        sock.sendall(request.encode())
        return sock.recv(4096).decode("latin-1").splitlines()[0]


@pytest.mark.skipif(sys.platform != "linux", reason="reads the listening sockets from /proc/net")
def test_the_local_app_listens_on_loopback_only_and_refuses_other_host_names(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", address=None)  # the project's own config decides
    try:
        addresses = listening_addresses(server.port)
        assert addresses, "the server is not listening"
        assert addresses <= LOOPBACK, f"listening beyond this machine: {addresses}"
        assert " 101 " in websocket_answer(server.port, "localhost")
        assert " 101 " in websocket_answer(server.port, "127.0.0.1")
        # A page whose own host name resolves to 127.0.0.1 (DNS rebinding) is refused.
        assert " 403 " in websocket_answer(server.port, "rebind.attacker.example")
    finally:
        server.stop()
