"""Order tools: propose orders, cancel the agent's own orders, list them.

Proposing never trades: :meth:`ToolContext.propose` enqueues intents, and the engine runs each through
the RiskEngine (and the approval policy) before any venue sees it. The same :class:`OrderRequest`
schema is the body of the LLM brain's final ``propose_orders`` answer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gekko_agent.domain import OrderIntent, OrderSide, OrderType, Price, Quantity, new_id
from gekko_agent.risk.bounds import MAX_DECIMAL_PLACES, MAX_PRICE, MAX_QUANTITY
from gekko_agent.tools.context import ToolContext
from gekko_agent.tools.registry import Tool, tool

__all__ = ["TOOLS", "OrderRequest", "build_intent", "cancel_order", "list_open_orders", "propose_orders"]


class OrderRequest(BaseModel):
    """One order as the model proposes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instrument_id: str = Field(min_length=1, max_length=64, description="SYMBOL@venue, e.g. BTC/USD@paper.")
    side: Literal["buy", "sell"] = Field(description="buy or sell.")
    quantity: Decimal = Field(
        gt=0,
        le=MAX_QUANTITY,
        decimal_places=MAX_DECIMAL_PLACES,
        allow_inf_nan=False,
        description=f"Base units, greater than 0 and at most {MAX_QUANTITY:E}.",
    )
    order_type: Literal["market", "limit"] = Field("market", description="market or limit.")
    limit_price: Decimal | None = Field(
        None,
        gt=0,
        le=MAX_PRICE,
        decimal_places=MAX_DECIMAL_PLACES,
        allow_inf_nan=False,
        description=f"Required for limit orders; greater than 0 and at most {MAX_PRICE:E}.",
    )
    reduce_only: bool = Field(False, description="True when the order may only shrink a position.")
    rationale: str = Field(min_length=1, max_length=600, description="Why, in one or two sentences.")
    confidence: Decimal = Field(ge=0, le=1, description="Your confidence, 0 to 1.")
    horizon_minutes: int = Field(60, ge=1, le=10_080, description="How long the idea should take to work.")

    @model_validator(mode="after")
    def _limit_needs_price(self) -> OrderRequest:
        if self.order_type == "limit" and self.limit_price is None:
            raise ValueError("a limit order needs limit_price")
        if self.order_type == "market" and self.limit_price is not None:
            raise ValueError("a market order takes no limit_price")
        return self


def build_intent(
    req: OrderRequest, *, strategy: str, now: datetime, decision_id: str | None = None
) -> OrderIntent:
    """The :class:`OrderIntent` for ``req`` (the horizon is kept in the rationale for the journal).

    Args:
        req: the validated request.
        strategy: the proposing brain's strategy name.
        now: engine time.
        decision_id: the decision it belongs to, when known.
    """
    return OrderIntent(
        intent_id=new_id("in"),
        instrument_id=req.instrument_id,
        side=OrderSide(req.side),
        quantity=Quantity(req.quantity),
        order_type=OrderType(req.order_type),
        limit_price=Price(req.limit_price) if req.limit_price is not None else None,
        reduce_only=req.reduce_only,
        strategy=strategy,
        rationale=f"{req.rationale} [horizon {req.horizon_minutes}m]",
        confidence=req.confidence,
        decision_id=decision_id,
        created_at=now,
    )


@tool(read_only=False, group="orders")
def propose_orders(
    ctx: ToolContext, orders: Annotated[list[OrderRequest], Field(min_length=1, max_length=10)]
) -> dict[str, Any]:
    """Propose orders; the risk engine checks each one and may resize or deny it. Nothing is filled yet.

    Args:
        orders: one to ten orders, each with a rationale and a confidence.
    """
    ids = ctx.propose([build_intent(o, strategy=ctx.strategy, now=ctx.now) for o in orders])
    return {"queued_for_risk_check": ids}


@tool(read_only=False, group="orders")
def cancel_order(ctx: ToolContext, order_id: str) -> dict[str, Any]:
    """Ask to cancel one of your own open orders (the venue confirms later).

    Args:
        order_id: the order's id as list_open_orders shows it.
    """
    return {"order_id": order_id, "cancel_requested": ctx.cancel_own(order_id)}


@tool(group="orders")
def list_open_orders(ctx: ToolContext) -> list[dict[str, Any]]:
    """Your own orders still resting at a venue."""
    return [
        {
            "order_id": o.order_id,
            "instrument_id": o.instrument_id,
            "side": o.side,
            "remaining": o.remaining,
            "price": o.price,
            "strategy": o.strategy,
        }
        for o in ctx.open_orders()
    ]


TOOLS: tuple[Tool, ...] = (propose_orders, cancel_order, list_open_orders)
