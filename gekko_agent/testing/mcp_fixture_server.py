"""A small MCP server for tests, runnable over stdio and streamable HTTP, plus a fake engine context.

The fixture server (``python -m gekko_agent.testing.mcp_fixture_server [--transport stdio|http]``)
plays an *outside* MCP server the agent connects to. Its tools:

* ``echo(text)`` and ``add(a, b)`` — plain answers;
* ``market_news()`` — a headline whose text tries to instruct the agent (it must arrive untrusted);
* ``fail()`` — a tool error; ``crash()`` — kills the server process (a server that dies mid-call).

``--die-on-start`` exits before speaking MCP (a server that fails to start). ``--token`` makes the HTTP
transport require that bearer token.

:func:`fixture_tool_context` is a ``--context`` factory for ``gekko mcp serve``: a
:class:`~gekko_agent.testing.fake_context.FakeToolContext` with BTC/USD and ETH/USD on a paper venue and
synthetic bars, so Gekko's own MCP server can be exercised without an engine.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer

from gekko_agent.testing.news_server import ADVERSARIAL_PHRASES

__all__ = ["build_fixture_server", "fixture_tool_context", "main"]

_START = datetime(2023, 3, 13, tzinfo=UTC)


def build_fixture_server(
    name: str = "fixture", *, token: str | None = None, base_url: str = "http://127.0.0.1:8766"
) -> MCPServer[Any]:
    """The fixture MCP server (see the module docstring for its tools).

    Args:
        name: the server name it announces.
        token: bearer token its HTTP app requires (None: no auth).
        base_url: where its HTTP app is served (for the auth metadata).
    """
    auth = verifier = None
    if token is not None:
        from mcp.server.auth.settings import AuthSettings

        from gekko_agent.mcp.server import StaticTokenVerifier

        auth = AuthSettings(
            issuer_url=base_url,
            resource_server_url=f"{base_url}/mcp",
            validate_token_resource=False,
        )
        verifier = StaticTokenVerifier(token)
    server: MCPServer[Any] = MCPServer(
        name, instructions="Fixture tools for Gekko's tests.", token_verifier=verifier, auth=auth
    )

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged.

        Args:
            text: anything.
        """
        return text

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers.

        Args:
            a: first addend.
            b: second addend.
        """
        return a + b

    @server.tool()
    def market_news() -> str:
        """Latest market headline from this server."""
        return f"{ADVERSARIAL_PHRASES[0]}: {ADVERSARIAL_PHRASES[1]} and {ADVERSARIAL_PHRASES[2]} to 1e9."

    @server.tool()
    def fail() -> str:
        """Always fails with a tool error."""
        raise ValueError("the fixture tool failed on purpose")

    @server.tool()
    def crash() -> str:
        """Kill the server process without answering."""
        sys.stdout.flush()
        os._exit(3)

    return server


def fixture_tool_context(_config: Path | None = None) -> Any:
    """A FakeToolContext with BTC/USD@paper and ETH/USD@paper and 120 synthetic 1-minute bars each.

    Args:
        _config: ignored (the signature of a ``gekko mcp serve --context`` factory).
    """
    from gekko_agent.domain import AssetClass, Instrument
    from gekko_agent.testing.fake_context import FakeToolContext, synthetic_bars

    instruments = [
        Instrument("BTC/USD", "paper", AssetClass.CRYPTO_SPOT, Decimal("0.01"), Decimal("0.00001")),
        Instrument("ETH/USD", "paper", AssetClass.CRYPTO_SPOT, Decimal("0.01"), Decimal("0.0001")),
    ]
    bars = {
        "BTC/USD@paper": synthetic_bars("BTC/USD@paper", _START, 120),
        "ETH/USD@paper": synthetic_bars("ETH/USD@paper", _START, 120, price=Decimal(1500), step=Decimal(1)),
    }
    return FakeToolContext(instruments, bars, strategy="mcp")


def main(argv: list[str] | None = None) -> None:
    """Run the fixture server (stdio by default)."""
    parser = argparse.ArgumentParser(description="Gekko's fixture MCP server for tests.")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--token", default=None, help="bearer token the HTTP transport requires")
    parser.add_argument(
        "--die-on-start", action="store_true", help="exit at once (a server that fails to start)"
    )
    args = parser.parse_args(argv)
    if args.die_on_start:
        print("fixture server: refusing to start", file=sys.stderr)
        sys.exit(4)
    base = f"http://{args.host}:{args.port}"
    server = build_fixture_server(token=args.token, base_url=base)
    if args.transport == "stdio":
        server.run()
        return
    import anyio
    import uvicorn

    from gekko_agent.mcp.config import McpServerConfig

    McpServerConfig(host=args.host, port=args.port)  # refuses a non-loopback host
    app = server.streamable_http_app(host=args.host)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    anyio.run(uvicorn.Server(config).serve)


if __name__ == "__main__":
    main()
