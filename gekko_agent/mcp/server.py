"""Gekko's MCP server: the tool registry, served to other agents over stdio or streamable HTTP.

The server is a thin transport over the same :class:`~gekko_agent.tools.registry.ToolRegistry` and
:class:`~gekko_agent.tools.context.ToolContext` the agent uses:

* read-only tools are always listed; trading tools (propose/cancel) only when ``enabled_trading``.
  A trading tool that is not enabled is neither listed nor callable;
* a trading tool only *enqueues* intents through the context, so every order an MCP client proposes
  still passes the RiskEngine and the approval policy before a venue sees it;
* tool errors come back as ``is_error`` results with one line of text (data for the caller), never as
  protocol failures; untrusted output (news, sentiment) keeps its untrusted envelope;
* over HTTP every request needs ``Authorization: Bearer <token>`` (401 otherwise), checked in constant
  time by :class:`StaticTokenVerifier` through the SDK's own bearer-auth middleware.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings

from gekko_agent.tools.registry import Tool, ToolRegistry, Trust

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from gekko_agent.mcp.config import McpServerConfig
    from gekko_agent.tools.context import ToolContext
    from gekko_agent.tools.research import ResearchService
    from gekko_agent.tools.sentiment import LlmScorer

__all__ = ["SNAPSHOT_NOTE", "StaticTokenVerifier", "build_server", "http_app", "server_registry"]

SERVER_NAME = "gekko"
_INSTRUCTIONS = (
    "Gekko trading agent tools. Read tools show portfolio, market data, risk state and forecasts. "
    "Trading tools, when offered, only queue proposals: Gekko's risk engine and approval policy decide; "
    "a proposal is not an order and an order is not a fill."
)
SNAPSHOT_NOTE = (
    "SNAPSHOT: this server is not attached to a running engine; read tools answer from {source}, "
    "which does not move. Trading tools refuse here: run `gekko run` with mcp.serve.beside_engine "
    "to trade through Gekko's risk engine."
)
"""Appended to the instructions (and to each tool's description) of a standalone snapshot server."""


def server_registry(
    research: ResearchService | None = None, llm_scorer: LlmScorer | None = None
) -> ToolRegistry:
    """Every Gekko tool: market, portfolio, orders, risk, forecast, sentiment and (when configured) research.

    Args:
        research: the research service, when agent.yaml lists news sources.
        llm_scorer: the model scorer for sentiment, when a model is on.
    """
    from gekko_agent.tools import forecast, market, orders, portfolio, risk
    from gekko_agent.tools.research import research_tools
    from gekko_agent.tools.sentiment import sentiment_tools

    tools: list[Tool] = [*market.TOOLS, *portfolio.TOOLS, *orders.TOOLS, *risk.TOOLS, *forecast.TOOLS]
    tools += sentiment_tools(llm_scorer)
    if research is not None:
        tools += research_tools(research)
    return ToolRegistry(tools)


def _mcp_tool(t: Tool, note: str) -> types.Tool:
    return types.Tool(
        name=t.name,
        description=f"{t.description} ({note})" if note else t.description,
        input_schema=t.parameters,
        annotations=types.ToolAnnotations(
            read_only_hint=t.read_only,
            destructive_hint=False,
            idempotent_hint=t.read_only,
            open_world_hint=t.trust is Trust.UNTRUSTED,
        ),
    )


def build_server(
    registry: ToolRegistry,
    context: Callable[[], ToolContext],
    *,
    enable_trading: bool = False,
    name: str = SERVER_NAME,
    version: str = "",
    caller_context: Callable[[str], ToolContext] | None = None,
    snapshot_of: str | None = None,
) -> Server[Any]:
    """A low-level MCP server exposing ``registry`` over ``context``.

    Args:
        registry: the tools.
        context: returns the engine view the tools receive; called once per tool call, so it may hand
            out a fresh view each time (``lambda: ctx`` for a fixed one).
        enable_trading: also expose the trading (non-read-only) tools.
        name: the server name announced to clients.
        version: the version announced to clients.
        caller_context: when given, used instead of ``context`` with the caller's name (the client's
            ``clientInfo.name``), so proposals carry who made them.
        snapshot_of: when the server is a standalone snapshot, what it answers from (e.g. "a paper
            replay frozen at 2023-03-09T06:00"); said in the instructions and in every tool's
            description (see :data:`SNAPSHOT_NOTE`).
    """
    exposed = {t.name: t for t in registry.tools(include_trading=enable_trading)}
    note = "" if snapshot_of is None else f"snapshot of {snapshot_of}, not a live engine"
    listing = types.ListToolsResult(tools=[_mcp_tool(t, note) for t in exposed.values()])
    instructions = _INSTRUCTIONS
    if snapshot_of is not None:
        instructions += " " + SNAPSHOT_NOTE.format(source=snapshot_of)

    async def list_tools(
        _ctx: ServerRequestContext[Any], _params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return listing

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        t = exposed.get(params.name)
        if t is None:
            hidden = params.name in registry and not enable_trading
            why = "trading tools are disabled on this server" if hidden else "unknown tool"
            text = f"{params.name}: {why}; available: {', '.join(sorted(exposed))}"
            return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)
        view = context() if caller_context is None else caller_context(_caller(ctx))
        result = await t.call(view, params.arguments or {})
        structured = {"result": result.content} if result.ok else None
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=result.text())],
            structured_content=structured,
            is_error=not result.ok,
        )

    def input_schema(tool_name: str) -> dict[str, Any] | None:
        t = exposed.get(tool_name)
        return None if t is None else t.parameters

    return Server(
        name,
        version=version,
        instructions=instructions,
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _caller(ctx: ServerRequestContext[Any]) -> str:
    """The calling client's announced name (``clientInfo.name``), or ``client``."""
    params = ctx.session.client_params
    name = params.client_info.name if params is not None else ""
    return name or "client"


class StaticTokenVerifier:
    """Accepts exactly one bearer token (compared in constant time).

    Args:
        token: the secret token clients must send.
    """

    def __init__(self, token: str) -> None:
        if len(token) < 16:
            raise ValueError("the MCP bearer token must be at least 16 characters")
        self._token = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        """The access granted to ``token``, or None when it is not the configured one."""
        if hmac.compare_digest(token.encode(), self._token):
            return AccessToken(token="bearer", client_id="gekko-mcp-client", scopes=[])  # noqa: S106
        return None


def http_app(
    server: Server[Any], config: McpServerConfig, token: str, *, port: int | None = None
) -> Starlette:
    """The streamable HTTP ASGI app of ``server``, behind bearer-token auth.

    Args:
        server: from :func:`build_server`.
        config: host, port and path.
        token: the bearer token clients must send.
        port: the port actually bound (defaults to ``config.port``).
    """
    base = f"http://{_host_for_url(config.host)}:{port or config.port}"
    auth = AuthSettings(
        issuer_url=base,
        resource_server_url=f"{base}{config.path}",
        validate_token_resource=False,
    )
    return server.streamable_http_app(
        streamable_http_path=config.path,
        host=config.host,
        auth=auth,
        token_verifier=StaticTokenVerifier(token),
    )


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
