from __future__ import annotations

import socket
import threading

import pytest

from gekko_agent.testing.netguard import NetworkBlocked, is_loopback_address


def test_connect_to_public_address_is_blocked() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlocked):
            s.connect(("1.1.1.1", 443))
    finally:
        s.close()


def test_resolve_public_name_is_blocked() -> None:
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("api.binance.us", 443)


def test_private_range_is_blocked() -> None:
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("10.0.0.1", 80), timeout=0.1)


def test_loopback_connection_is_allowed() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    t = threading.Thread(target=lambda: server.accept()[0].close())
    t.start()
    with socket.create_connection(("localhost", port), timeout=2):
        pass
    t.join(2)
    server.close()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("8.8.8.8", False),
        ("example.com", False),
    ],
)
def test_is_loopback_address_classifies(host: str, expected: bool) -> None:
    assert is_loopback_address(host) is expected
