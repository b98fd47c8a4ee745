"""Run Gekko's MCP server on a transport: stdio (one client, the parent process) or streamable HTTP.

:func:`load_context_factory` resolves the ``--context MODULE:FUNCTION`` option of ``gekko mcp serve``:
the function takes the agent.yaml path (or None) and returns a
:class:`~gekko_agent.tools.context.ToolContext`. The runtime provides the engine's; tests and demos
pass :func:`gekko_agent.testing.mcp_fixture_server.fixture_tool_context`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from gekko_agent.errors import ConfigError, InvalidInput
from gekko_agent.mcp.config import McpServerConfig, is_loopback

if TYPE_CHECKING:
    from mcp.server import Server

    from gekko_agent.tools.context import ToolContext

__all__ = ["DEFAULT_CONTEXT_FACTORY", "load_context_factory", "resolve_token", "run_http", "run_stdio"]

DEFAULT_CONTEXT_FACTORY = "gekko_agent.runtime.wiring:mcp_tool_context"
"""Where ``gekko mcp serve`` finds the engine's ToolContext when ``--context`` is not given."""

ContextFactory = Callable[[Path | None], "ToolContext"]


def load_context_factory(spec: str) -> ContextFactory:
    """Import ``MODULE:FUNCTION`` and return the function.

    Raises:
        InvalidInput: the spec is malformed, or the module or function does not exist.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise InvalidInput(f"--context {spec!r}: expected MODULE:FUNCTION")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInput(f"--context {spec!r}: cannot import {module_name} ({exc})") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise InvalidInput(f"--context {spec!r}: {module_name} has no function {attr!r}")
    return factory  # type: ignore[no-any-return]


def resolve_token(config: McpServerConfig, source: str, environ: Mapping[str, str] | None = None) -> str:
    """The bearer token HTTP clients must send.

    Args:
        config: ``mcp.serve``.
        source: the config file, for error messages.
        environ: where an ``{env: NAME}`` token is read (default: the process environment).

    Raises:
        ConfigError: no token is configured, or it cannot be read.
    """
    if config.token is None:
        raise ConfigError(
            source, "mcp.serve.token", "the HTTP transport needs a bearer token (e.g. {env: NAME})"
        )
    return config.token.resolve(source, "mcp.serve.token", environ).get_secret_value()


def run_stdio(server: Server[Any]) -> None:
    """Serve one client over this process's stdin/stdout until it disconnects."""
    from mcp.server.stdio import stdio_server

    async def serve() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(serve)


def run_http(server: Server[Any], config: McpServerConfig, token: str) -> None:
    """Serve streamable HTTP on ``config.host:config.port`` behind the bearer token until interrupted.

    Raises:
        ConfigError: the host is not loopback and ``allow_remote`` is off.
    """
    import uvicorn

    from gekko_agent.mcp.server import http_app

    if not config.allow_remote and not is_loopback(config.host):
        raise ConfigError(
            "agent.yaml", "mcp.serve.host", f"{config.host!r} is not loopback (see allow_remote)"
        )
    app = http_app(server, config, token)
    uv_config = uvicorn.Config(app, host=config.host, port=config.port, log_level="warning", lifespan="on")
    anyio.run(uvicorn.Server(uv_config).serve)
