"""Risk tools: the trading state, limit headroom and a dry-run check of an order.

These tools only *read* the risk engine. No tool may raise a limit or lift a halt: limits come from
agent.yaml and from people.
"""

from __future__ import annotations

from typing import Any

from gekko_agent.tools.context import ToolContext
from gekko_agent.tools.orders import OrderRequest, build_intent
from gekko_agent.tools.registry import Tool, tool

__all__ = ["TOOLS", "check_order", "get_risk_status"]


@tool(group="risk")
def get_risk_status(ctx: ToolContext) -> dict[str, Any]:
    """Trading state (active, reducing, halted) and how much of each risk limit is used and left."""
    s = ctx.risk_status()
    return {
        "state": s.state,
        "max_order_notional": s.max_order_notional,
        "allowed_instruments": list(s.allowed_instruments),
        "limits": [
            {"name": x.name, "used": x.used, "limit": x.limit, "remaining": x.remaining, "unit": x.unit}
            for x in s.limits
        ],
    }


@tool(group="risk")
def check_order(ctx: ToolContext, order: OrderRequest) -> dict[str, Any]:
    """Dry-run the risk engine on one order: would it be approved, resized or denied, and why. Sends nothing.

    Args:
        order: the order to test, in the same form propose_orders takes.
    """
    w = ctx.what_if(build_intent(order, strategy=ctx.strategy, now=ctx.now))
    return {
        "outcome": w.outcome,
        "approved_quantity": w.approved_quantity,
        "reasons": list(w.reasons),
        "explanation": w.explanation,
    }


TOOLS: tuple[Tool, ...] = (get_risk_status, check_order)
