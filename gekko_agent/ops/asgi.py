"""Serve an ASGI app (Starlette) with uvicorn inside the running event loop.

Used by the Slack endpoint, and by the loopback Telegram and Slack fakes in :mod:`gekko_agent.testing`.
The socket is bound before the server starts, so port 0 works and :attr:`AsgiServer.url` is known at
once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

__all__ = ["AsgiServer"]


class AsgiServer:
    """One uvicorn server on one bound socket, run as a task of the current loop.

    Args:
        app: the ASGI application.
        host: address to bind (loopback unless you mean otherwise).
        port: port to bind; 0 picks a free one.
    """

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", ws="none", access_log=False, timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the server."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start serving and wait until the server accepts connections."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sock.close()

    async def __aenter__(self) -> AsgiServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
