"""Gekko over MCP: the server other agents use (``gekko mcp serve``) and its configuration.

Importing this package is light (configuration only) so agent.yaml's schema can mount
:class:`McpConfig`; the server itself is :mod:`gekko_agent.mcp.server` (it imports the MCP SDK).
The agent-side client of outside MCP servers lives in :mod:`gekko_agent.agent.mcp_client`.
"""

from gekko_agent.mcp.config import McpClientServerConfig, McpConfig, McpServerConfig

__all__ = ["McpClientServerConfig", "McpConfig", "McpServerConfig"]
