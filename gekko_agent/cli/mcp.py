"""``gekko mcp``: serve Gekko's tools to other agents over MCP (stdio or streamable HTTP).

Standalone, the server is a snapshot (a paper replay frozen at ``demo.start``), not attached to an
engine: read tools answer from it and say so; the trading tools (listed only when agent.yaml says
``mcp.serve.enabled_trading: true``) refuse, because nothing would take their proposals. To trade over
MCP, ``gekko run`` with ``mcp.serve.beside_engine: true`` serves the same tools attached to the running
engine, where proposals go through the risk engine and the approval policy. HTTP needs
``mcp.serve.token`` and binds to loopback unless ``allow_remote``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from gekko_agent.errors import ConfigError, UserError

if TYPE_CHECKING:
    from gekko_agent.mcp.config import McpServerConfig
    from gekko_agent.tools.sentiment import LlmScorer

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


_FLAGS = {"host": "--host", "port": "--port"}


def _with_flags(serve: McpServerConfig, host: str | None, port: int | None) -> McpServerConfig:
    """``mcp.serve`` with ``--host`` / ``--port`` applied and checked like agent.yaml itself.

    Raises:
        UserError: a flag's value is not allowed (one line naming the flag).
    """
    from pydantic import ValidationError

    updates: dict[str, object] = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if not updates:
        return serve
    try:
        return serve.model_validate({**serve.model_dump(), **updates})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = str(err["loc"][0]) if err["loc"] else "host"  # the only cross-field rule is about the host
        flag = _FLAGS.get(field, f"mcp.serve.{field}")
        given = updates.get(field, getattr(serve, field, None))
        why = err["msg"].removeprefix("Value error, ")
        raise UserError(f"{flag} {given}: {why}") from None


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
    serve_cfg = _with_flags(mcp_cfg.serve, host, port)
    chosen: Literal["stdio", "http"] | str = transport or serve_cfg.transport
    if chosen not in ("stdio", "http"):
        raise UserError(f"--transport must be stdio or http, got {chosen!r}")
    factory = load_context_factory(context or os.environ.get("GEKKO_MCP_CONTEXT") or DEFAULT_CONTEXT_FACTORY)
    tool_context = factory(path)
    research = ResearchService(research_cfg) if research_cfg.sources else None
    snapshot_of = getattr(tool_context, "snapshot_of", None)
    server = build_server(
        server_registry(research, _sentiment_scorer(path)),
        lambda: tool_context,
        enable_trading=serve_cfg.enabled_trading,
        snapshot_of=snapshot_of if isinstance(snapshot_of, str) else None,
    )
    if chosen == "stdio":
        run_stdio(server)
    else:
        run_http(server, serve_cfg, resolve_token(serve_cfg, str(path or "agent.yaml")))


def _sentiment_scorer(path: Path | None) -> LlmScorer | None:
    """The model sentiment scorer when agent.yaml has ``brain.llm``; None (lexicon only) otherwise.

    A key that cannot be resolved is reported on stderr and the lexicon serves alone.
    """
    from gekko_agent.config.model import BrainConfig
    from gekko_agent.mcp.config import load_section

    brain: BrainConfig = load_section(path, "brain", BrainConfig) if path else BrainConfig()
    if brain.llm is None:
        return None
    from gekko_agent.agent.llm_trading import build_sentiment_scorer

    try:
        return build_sentiment_scorer(brain.llm)
    except ConfigError as exc:
        typer.secho(f"gekko: sentiment_score uses the lexicon only: {exc}", err=True, fg="yellow")
        return None


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
