"""The functions the agent and the MCP server expose, one module per group; typed, docstring = schema.

Each group module exports ``TOOLS: tuple[Tool, ...]``. :func:`builtin_registry` collects the groups
named in :data:`GROUPS` that are installed (research and sentiment are separate modules).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable

from gekko_agent.tools.context import ToolContext
from gekko_agent.tools.registry import Tool, ToolError, ToolRegistry, ToolResult, Trust, tool

__all__ = [
    "GROUPS",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "Trust",
    "builtin_registry",
    "group_tools",
    "tool",
]

GROUPS: tuple[str, ...] = ("market", "portfolio", "orders", "risk", "forecast", "research", "sentiment")


def group_tools(group: str) -> tuple[Tool, ...]:
    """The ``TOOLS`` of module ``gekko_agent.tools.<group>``, or () when that module is not present."""
    module_name = f"gekko_agent.tools.{group}"
    if importlib.util.find_spec(module_name) is None:
        return ()
    tools: tuple[Tool, ...] = tuple(getattr(importlib.import_module(module_name), "TOOLS", ()))
    return tools


def builtin_registry(groups: Iterable[str] = GROUPS, *, include_trading: bool = True) -> ToolRegistry:
    """A registry of Gekko's own tools.

    Args:
        groups: which groups to include.
        include_trading: False leaves out propose/cancel (the MCP server's default).
    """
    reg = ToolRegistry()
    for g in groups:
        reg.extend(t for t in group_tools(g) if include_trading or t.read_only)
    return reg
