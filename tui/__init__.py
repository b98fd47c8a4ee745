"""The Textual dashboard (``gekko tui``, ``gekko demo``): watch, approve, halt.

Seven screens (overview, positions & orders, risk, agent, approvals, forecasts, logs) render
immutable :class:`~.model.Snapshot` values from a :class:`~.model.DashboardSource`; every action goes
through the ops command layer. Nothing in ``gekko_agent`` imports this package except the CLI, lazily.
"""

from gekko_agent.tui.app import GekkoApp
from gekko_agent.tui.model import (
    BreakerRow,
    DashboardSource,
    DecisionRow,
    ForecastBand,
    IntentRow,
    LimitRow,
    RiskFigures,
    Snapshot,
    ToolCallRow,
)

__all__ = [
    "BreakerRow",
    "DashboardSource",
    "DecisionRow",
    "ForecastBand",
    "GekkoApp",
    "IntentRow",
    "LimitRow",
    "RiskFigures",
    "Snapshot",
    "ToolCallRow",
]
