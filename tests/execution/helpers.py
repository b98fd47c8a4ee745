"""Builders shared by the reconciliation tests: journal an order as the engine would, then let the
venue and the ledger drift apart the ways a crash or a lost answer makes them."""

from __future__ import annotations

from decimal import Decimal

from gekko_agent.domain import (
    AssetClass,
    Clock,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    OrderUpdated,
    Price,
    Quantity,
)
from gekko_agent.execution.ports import OrderRequest
from gekko_agent.ledger import InstrumentTerms, Ledger, events

ORDER_KINDS = ("order_submitted", "order_updated", "order_filled")


def terms(*iids: str) -> InstrumentTerms:
    """Spot terms (quote from the id) for ``iids``."""
    return {iid: (iid.partition("@")[0].split("/")[1], AssetClass.CRYPTO_SPOT) for iid in iids}


def journal_order(
    ledger: Ledger,
    clock: Clock,
    cid: str,
    iid: str,
    side: OrderSide,
    qty: str,
    limit: str | None = None,
) -> Order:
    """Journal ``cid`` as submitted (what the engine writes before the venue sees it)."""
    intent = OrderIntent(
        intent_id=f"i-{cid}",
        instrument_id=iid,
        side=side,
        quantity=Quantity(Decimal(qty)),
        order_type=OrderType.LIMIT if limit else OrderType.MARKET,
        limit_price=Price(Decimal(limit)) if limit else None,
        decision_id=f"d-{cid}",
    )
    ledger.append(
        OrderSubmitted(ts=clock.now(), client_order_id=cid, venue=iid.rpartition("@")[2], intent=intent)
    )
    return Order(cid, intent, OrderStatus.SUBMITTED, updated_at=clock.now())


def journal_status(ledger: Ledger, clock: Clock, cid: str, status: OrderStatus) -> None:
    """Journal a status change of ``cid``."""
    ledger.append(OrderUpdated(ts=clock.now(), client_order_id=cid, status=status))


def request_of(order: Order) -> OrderRequest:
    """The venue request carrying ``order``."""
    return OrderRequest.from_order(order)


def order_event_count(ledger: Ledger) -> int:
    """How many order events (submissions, updates, fills) the ledger holds."""
    return len(events(ledger, kinds=ORDER_KINDS))
