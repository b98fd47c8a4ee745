"""A guard that refuses every network connection that is not loopback.

Tests install it (see ``tests/conftest.py``) so that no test can reach an exchange, a model
provider, Slack or Telegram by accident: a connection to any other address raises
:class:`NetworkBlocked`, which fails the test loudly.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["NetworkBlocked", "block_non_loopback", "is_loopback_address"]

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}


class NetworkBlocked(RuntimeError):
    """A test tried to reach a non-loopback address."""


def is_loopback_address(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the local host names."""
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if not is_loopback_address(host):
            raise NetworkBlocked(f"test tried to connect to {host}:{address[1]}; only loopback is allowed")


@contextmanager
def block_non_loopback() -> Iterator[None]:
    """Within the block, connecting to or resolving a non-loopback address raises NetworkBlocked."""
    orig_connect = socket.socket.connect
    orig_connect_ex = socket.socket.connect_ex
    orig_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        orig_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return orig_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None:
            name = host.decode() if isinstance(host, bytes) else str(host)
            if not is_loopback_address(name):
                raise NetworkBlocked(f"test tried to resolve {name!r}; only loopback is allowed")
        return orig_getaddrinfo(host, *args, **kwargs)

    patches: list[tuple[Any, str, Callable[..., Any]]] = [
        (socket.socket, "connect", connect),
        (socket.socket, "connect_ex", connect_ex),
        (socket, "getaddrinfo", getaddrinfo),
    ]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    for obj, name, fn in patches:
        setattr(obj, name, fn)
    try:
        yield
    finally:
        for obj, name, fn in saved:
            setattr(obj, name, fn)
