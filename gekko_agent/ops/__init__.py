"""Supervision: one transport-neutral command layer (status, positions, approve, halt…) with roles,
used by the TUI, Slack, Telegram and the CLI."""

from gekko_agent.ops.auth import OpsConfig, OpsUser, Principal, Role, Unauthorized, authorize
from gekko_agent.ops.commands import HELP, Answer, Answerer, CommandService
from gekko_agent.ops.port import Denial, EngineStatus, EngineView, PositionRow
from gekko_agent.ops.replies import Button, Reply, Table

__all__ = [
    "HELP",
    "Answer",
    "Answerer",
    "Button",
    "CommandService",
    "Denial",
    "EngineStatus",
    "EngineView",
    "OpsConfig",
    "OpsUser",
    "PositionRow",
    "Principal",
    "Reply",
    "Role",
    "Table",
    "Unauthorized",
    "authorize",
]
