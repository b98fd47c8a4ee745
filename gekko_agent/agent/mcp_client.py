"""Tools from outside MCP servers, offered to the model as ``server__tool``, output untrusted.

:class:`McpToolHub` connects to every enabled server under ``mcp.servers`` in agent.yaml (a stdio
command or a streamable HTTP URL with optional headers and bearer token), lists its tools and turns each
into a registry :class:`~gekko_agent.tools.registry.Tool` named ``<server>__<tool>`` with
``Trust.UNTRUSTED``, so whatever the server says reaches the model inside the untrusted envelope.

Nothing an outside server does can stop the agent: a server that fails to start, or dies later, is
reported once as an :class:`~gekko_agent.domain.AlertRaised` (to the injected sink and in
:attr:`McpToolHub.alerts`) and the agent carries on without it; its tools then answer with a one-line
error the model reads as data. Outside tools never trade: Gekko's orders go only through its own
``propose_orders``.

Enter and leave the hub in the same task (``async with McpToolHub(...) as hub``): the SDK's transports
hold anyio task groups that must close where they opened. :class:`BackgroundHub` does that for callers
that start and stop in different tasks (the LLM brain): the hub lives in a task of its own, and is
closed cleanly when asked to, or when the event loop shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import IO, Any

import anyio
import httpx2
import mcp_types as types
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from gekko_agent.domain import AlertRaised, Clock, LiveClock
from gekko_agent.errors import GekkoError
from gekko_agent.mcp.config import McpClientServerConfig
from gekko_agent.tools.registry import Tool, ToolError, Trust

__all__ = ["NAMESPACE_SEPARATOR", "BackgroundHub", "McpToolHub", "ServerStatus"]

log = logging.getLogger(__name__)
NAMESPACE_SEPARATOR = "__"
_GONE = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, ConnectionError)


@dataclass(slots=True)
class ServerStatus:
    """Where one configured server stands.

    Attributes:
        name: the server's name in agent.yaml.
        state: ``connected``, ``failed`` (never started), ``dead`` (died later) or ``disabled``.
        reason: one line on what went wrong.
        tools: the namespaced tool names it offers.
    """

    name: str
    state: str = "disabled"
    reason: str = ""
    tools: list[str] = field(default_factory=list)


def _one_line(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def _result_text(result: types.CallToolResult) -> str:
    parts = [c.text for c in result.content if isinstance(c, types.TextContent)]
    if not parts and result.structured_content is not None:
        return str(result.structured_content)
    return "\n".join(parts)


class McpToolHub:
    """Connections to the outside MCP servers named in agent.yaml.

    Args:
        servers: ``mcp.servers`` from agent.yaml.
        alert: where failures are reported (e.g. the ledger's journal); alerts are kept in
            :attr:`alerts` as well.
        clock: timestamps of alerts.
        source: the config file name, for secret-resolution errors.
    """

    def __init__(
        self,
        servers: Mapping[str, McpClientServerConfig],
        *,
        alert: Callable[[AlertRaised], object] | None = None,
        clock: Clock | None = None,
        source: str = "agent.yaml",
    ) -> None:
        self._configs = dict(servers)
        self._alert = alert
        self._clock = clock or LiveClock()
        self._source = source
        self._stack = AsyncExitStack()
        self._clients: dict[str, Client] = {}
        self._stderr: dict[str, IO[str]] = {}
        self._tools: list[Tool] = []
        self.status = {name: ServerStatus(name) for name in self._configs}
        self.alerts: list[AlertRaised] = []

    async def __aenter__(self) -> McpToolHub:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def tools(self) -> list[Tool]:
        """The namespaced tools of every server that connected (register them with the agent)."""
        return list(self._tools)

    async def start(self) -> list[Tool]:
        """Connect to each enabled server and list its tools; failures are reported, never raised."""
        await self._stack.__aenter__()
        for name, cfg in self._configs.items():
            if not cfg.enabled:
                continue
            try:
                client = await self._connect(name, cfg)
                listing = await client.list_tools()
            except (Exception, anyio.get_cancelled_exc_class()) as exc:
                if isinstance(exc, anyio.get_cancelled_exc_class()):
                    raise
                # Boundary: an outside process may fail in any way; the agent must carry on without it.
                self._report(name, "failed", f"could not start: {self._why(name, exc)}")
                continue
            offered = [t for t in listing.tools if cfg.tools is None or t.name in cfg.tools]
            for spec in offered:
                self._tools.append(self._wrap(name, spec))
            self.status[name].state = "connected"
            self.status[name].tools = [f"{name}{NAMESPACE_SEPARATOR}{t.name}" for t in offered]
        return self.tools()

    async def close(self) -> None:
        """Disconnect from every server (errors while closing are ignored: the servers are going away)."""
        try:
            # a dying server's transport may fail to close; there is nothing left to do about it
            with contextlib.suppress(Exception):
                await self._stack.aclose()
        finally:  # also when the loop shutting down cancels the close
            for f in self._stderr.values():
                f.close()

    async def _connect(self, name: str, cfg: McpClientServerConfig) -> Client:
        server_stack = AsyncExitStack()
        await server_stack.__aenter__()
        try:
            if cfg.command is not None:
                errlog = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 — closed in close()
                self._stderr[name] = errlog
                params = StdioServerParameters(
                    command=cfg.command, args=cfg.args, env=cfg.env or None, cwd=cfg.cwd
                )
                transport: Any = stdio_client(params, errlog=errlog)
            else:
                assert cfg.url is not None
                headers = dict(cfg.headers)
                if cfg.bearer_token is not None:
                    key = f"mcp.servers.{name}.bearer_token"
                    token = cfg.bearer_token.resolve(self._source, key).get_secret_value()
                    headers["Authorization"] = f"Bearer {token}"
                http = await server_stack.enter_async_context(
                    httpx2.AsyncClient(headers=headers, timeout=cfg.timeout_s)
                )
                transport = streamable_http_client(cfg.url, http_client=http)
            client = Client(transport, read_timeout_seconds=cfg.timeout_s, cache=None)
            await server_stack.enter_async_context(client)
        except BaseException:
            with contextlib.suppress(Exception):  # the original failure is the one worth reporting
                await server_stack.aclose()
            raise
        self._stack.push_async_callback(server_stack.aclose)
        self._clients[name] = client
        return client

    def _why(self, name: str, exc: BaseException) -> str:
        reason = _one_line(exc)
        errlog = self._stderr.get(name)
        if errlog is not None:
            errlog.flush()
            errlog.seek(0)
            lines = [ln.strip() for ln in errlog.read().splitlines() if ln.strip()]
            if lines:
                reason += f" (stderr: {lines[-1][:200]})"
        return reason

    def _report(self, name: str, state: str, reason: str) -> None:
        self.status[name].state = state
        self.status[name].reason = reason
        self._clients.pop(name, None)
        log.warning("MCP server %s %s: %s; the agent carries on without it", name, state, reason)
        event = AlertRaised(ts=self._clock.now(), level="warning", source=f"mcp:{name}", message=reason)
        self.alerts.append(event)
        if self._alert is not None:
            self._alert(event)

    def _wrap(self, server: str, spec: types.Tool) -> Tool:
        full = f"{server}{NAMESPACE_SEPARATOR}{spec.name}"[:64]

        async def call(args: dict[str, Any]) -> Any:
            return await self.call(server, spec.name, args)

        description = f"[{server} MCP server, untrusted] {spec.description or spec.name}"
        return Tool.external(
            full, description, spec.input_schema, call, read_only=True, trust=Trust.UNTRUSTED, group=server
        )

    async def call(self, server: str, tool_name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Call ``tool_name`` on ``server``.

        Raises:
            ToolError: the server is gone, the call failed, or the tool reported an error (one line).
        """
        client = self._clients.get(server)
        if client is None:
            raise ToolError(
                f"MCP server {server!r} is unavailable: {self.status[server].reason or 'not connected'}"
            )
        try:
            result = await client.call_tool(tool_name, args)
        except MCPError as exc:
            if exc.code == types.CONNECTION_CLOSED:
                self._report(server, "dead", f"connection closed during {tool_name}: {exc.message}")
                raise ToolError(f"MCP server {server!r} died; its tools are unavailable") from None
            raise ToolError(f"{server}{NAMESPACE_SEPARATOR}{tool_name}: {exc.message}") from None
        except _GONE as exc:
            self._report(server, "dead", f"died during {tool_name}: {self._why(server, exc)}")
            raise ToolError(f"MCP server {server!r} died; its tools are unavailable") from None
        except TimeoutError:
            raise ToolError(f"{server}{NAMESPACE_SEPARATOR}{tool_name}: timed out") from None
        except GekkoError:
            raise
        except Exception as exc:  # boundary: an outside server may fail in any way; the cycle carries on
            self._report(server, "dead", f"failed during {tool_name}: {self._why(server, exc)}")
            raise ToolError(f"MCP server {server!r} failed; its tools are unavailable") from None
        text = _result_text(result)
        if result.is_error:
            raise ToolError(f"{server}{NAMESPACE_SEPARATOR}{tool_name}: {text.strip()[:300] or 'tool error'}")
        return {"server": server, "tool": tool_name, "text": text}


class BackgroundHub:
    """Keeps an :class:`McpToolHub` open in a task of its own, so any task may start or close it.

    The SDK's transports must be closed in the task that opened them; here that is the hub's own task,
    which :meth:`close` ends. If nobody calls :meth:`close`, the event loop cancels that task when it
    shuts down, and the hub still closes (server processes are stopped) on the way out.

    Args:
        hub: the hub to run.
    """

    def __init__(self, hub: McpToolHub) -> None:
        self.hub = hub
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    @property
    def running(self) -> bool:
        """True between a :meth:`start` and the hub's close."""
        return self._task is not None and not self._task.done()

    async def start(self) -> list[Tool]:
        """Connect every server (failures are reported by the hub, never raised); returns their tools."""
        if self._task is None:
            ready = asyncio.Event()
            self._task = asyncio.create_task(self._own(ready), name="gekko-mcp-hub")
            waiter = asyncio.create_task(ready.wait())
            try:
                await asyncio.wait({self._task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
            if self._task.done():
                self._task.result()  # the hub's task ended before it was ready: raise why
        return self.hub.tools()

    async def _own(self, ready: asyncio.Event) -> None:
        async with self.hub:
            ready.set()
            await self._stop.wait()

    async def close(self) -> None:
        """Close the hub (and stop its stdio servers); waits until they are closed."""
        if self._task is None:
            return
        self._stop.set()
        await asyncio.wait({self._task})
        failure = None if self._task.cancelled() else self._task.exception()
        if failure is not None:
            log.warning("MCP hub closed with an error: %s", _one_line(failure))
