"""``gekko mcp``: serve Gekko's tools to other agents over MCP (stdio or streamable HTTP).

Read tools are always served; the trading tools (propose/cancel) only when agent.yaml says
``mcp.serve.enabled_trading: true`` — and even then they only queue proposals for the risk engine and
the approval policy. HTTP needs ``mcp.serve.token`` and binds to loopback unless ``allow_remote``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import typer

from gekko_agent.errors import ConfigError, UserError

__all__ = ["app"]

app = typer.Typer(help="Serve Gekko's tools over MCP.", no_args_is_help=True)

TransportOpt = Annotated[
    str | None, typer.Option("--transport", help="stdio or http (default: mcp.serve.transport, else stdio).")
]
HostOpt = Annotated[str | None, typer.Option("--host", help="HTTP bind address (default: mcp.serve.host).")]
PortOpt = Annotated[int | None, typer.Option("--port", help="HTTP port (default: mcp.serve.port).")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="agent.yaml to read (default: ./agent.yaml).")
]
ContextOpt = Annotated[
    str | None,
    typer.Option(
        "--context",
        help="MODULE:FUNCTION giving the ToolContext (default: $GEKKO_MCP_CONTEXT, else the engine).",
    ),
]


def _serve(
    transport: str | None, host: str | None, port: int | None, config: Path | None, context: str | None
) -> None:
    from gekko_agent.mcp.config import McpConfig, load_section
    from gekko_agent.mcp.serve import (
        DEFAULT_CONTEXT_FACTORY,
        load_context_factory,
        resolve_token,
        run_http,
        run_stdio,
    )
    from gekko_agent.mcp.server import build_server, server_registry
    from gekko_agent.tools.research import ResearchConfig, ResearchService

    path = config if config is not None else (Path("agent.yaml") if Path("agent.yaml").exists() else None)
    mcp_cfg: McpConfig = load_section(path, "mcp", McpConfig) if path else McpConfig()
    research_cfg: ResearchConfig = (
        load_section(path, "research", ResearchConfig) if path else ResearchConfig()
    )
    updates: dict[str, object] = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    serve_cfg = (
        mcp_cfg.serve.model_validate({**mcp_cfg.serve.model_dump(), **updates}) if updates else mcp_cfg.serve
    )
    chosen: Literal["stdio", "http"] | str = transport or serve_cfg.transport
    if chosen not in ("stdio", "http"):
        raise UserError(f"--transport must be stdio or http, got {chosen!r}")
    factory = load_context_factory(context or os.environ.get("GEKKO_MCP_CONTEXT") or DEFAULT_CONTEXT_FACTORY)
    tool_context = factory(path)
    research = ResearchService(research_cfg) if research_cfg.sources else None
    server = build_server(
        server_registry(research), lambda: tool_context, enable_trading=serve_cfg.enabled_trading
    )
    if chosen == "stdio":
        run_stdio(server)
    else:
        run_http(server, serve_cfg, resolve_token(serve_cfg, str(path or "agent.yaml")))


@app.command("serve")
def serve(
    transport: TransportOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
    config: ConfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Serve Gekko's tools over MCP until the client disconnects (stdio) or you interrupt (http)."""
    try:
        _serve(transport, host, port, config, context)
    except ConfigError as exc:
        typer.secho(f"gekko: config error: {exc}", err=True, fg="red")
        raise typer.Exit(2) from None
    except UserError as exc:
        typer.secho(f"gekko: error: {exc}", err=True, fg="red")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.callback()
def _group() -> None:
    """Serve Gekko's tools over MCP."""
