"""Portfolio tools: equity, cash balances, positions and PnL, read from the engine's own books.

The agent may say an order is filled only from these (the ledger-backed portfolio), never from what it
proposed.
"""

from __future__ import annotations

from typing import Any

from gekko_agent.tools.context import PositionView, ToolContext
from gekko_agent.tools.registry import Tool, tool

__all__ = ["TOOLS", "get_balances", "get_pnl", "get_portfolio", "get_positions"]


def _position(p: PositionView) -> dict[str, Any]:
    return {
        "instrument_id": p.instrument_id,
        "quantity": p.quantity,
        "avg_price": p.avg_price,
        "last": p.last,
        "unrealized_pnl": p.unrealized_pnl,
        "realized_pnl": p.realized_pnl,
    }


@tool(group="portfolio")
def get_portfolio(ctx: ToolContext) -> dict[str, Any]:
    """The whole account now: equity, cash per currency, open positions and PnL (account currency)."""
    p = ctx.portfolio()
    return {
        "account_currency": p.account_currency,
        "equity": p.equity,
        "equity_day_start": p.equity_day_start,
        "cash": dict(sorted(p.cash.items())),
        "positions": [_position(x) for x in p.positions],
        "realized_pnl": p.realized_pnl,
        "unrealized_pnl": p.unrealized_pnl,
    }


@tool(group="portfolio")
def get_positions(ctx: ToolContext) -> list[dict[str, Any]]:
    """Open positions: signed quantity (negative is short), entry price, last price and PnL."""
    return [_position(x) for x in ctx.portfolio().positions]


@tool(group="portfolio")
def get_balances(ctx: ToolContext) -> dict[str, Any]:
    """Cash balance per currency."""
    return dict(sorted(ctx.portfolio().cash.items()))


@tool(group="portfolio")
def get_pnl(ctx: ToolContext) -> dict[str, Any]:
    """Profit and loss: realized, unrealized, and equity change since the start of the UTC day."""
    p = ctx.portfolio()
    day = p.equity - p.equity_day_start if p.equity is not None and p.equity_day_start is not None else None
    return {
        "account_currency": p.account_currency,
        "realized_pnl": p.realized_pnl,
        "unrealized_pnl": p.unrealized_pnl,
        "day_pnl": day,
    }


TOOLS: tuple[Tool, ...] = (get_portfolio, get_positions, get_balances, get_pnl)
