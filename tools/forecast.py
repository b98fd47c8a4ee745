"""Forecast tools: return quantiles per instrument from the loaded torch model."""

from __future__ import annotations

from typing import Any

from gekko_agent.tools.context import ToolContext
from gekko_agent.tools.registry import Tool, tool

__all__ = ["TOOLS", "get_forecast"]


@tool(group="forecast")
def get_forecast(ctx: ToolContext, instrument_id: str) -> dict[str, Any]:
    """Forecast simple-return quantiles over the model's horizon (e.g. 0.05, 0.5, 0.95) for one instrument.

    Args:
        instrument_id: the instrument, e.g. BTC/USD@paper.
    """
    f = ctx.forecast(instrument_id)
    if f is None:
        return {"instrument_id": instrument_id, "available": False}
    return {
        "instrument_id": instrument_id,
        "available": True,
        "model": f.model,
        "horizon_seconds": f.horizon_seconds,
        "quantiles": {str(k): v for k, v in sorted(f.quantiles.items())},
    }


TOOLS: tuple[Tool, ...] = (get_forecast,)
