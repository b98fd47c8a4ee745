"""The paper venue's own record of an order: mutable while it works, frozen when reported.

The matching engine updates :class:`WorkingOrder` in place (it is hot-path state, not a value);
everything leaving the venue is the frozen :class:`~gekko_agent.execution.ports.VenueOrder` made
by :meth:`WorkingOrder.snapshot`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from gekko_agent.domain.money import ZERO, Price, Quantity
from gekko_agent.domain.orders import OrderSide, OrderStatus, OrderType, TimeInForce
from gekko_agent.execution.ports import OrderRequest, RejectReason, VenueOrder

__all__ = ["WorkingOrder"]

_ACCEPTED = OrderStatus.ACCEPTED  # read once: enum attribute reads cost ~0.1 us


class WorkingOrder:
    """One order inside the paper venue.

    Args:
        request: what was asked for.
        venue_order_id: the id the venue gave it (None when rejected).
        created_at: venue time of acceptance.
        active_at: when it starts matching (``created_at`` plus the simulated latency).
    """

    __slots__ = (
        "active_at",
        "client_order_id",
        "created_at",
        "filled",
        "funds_capped",
        "instrument_id",
        "limit_price",
        "notional",
        "order_type",
        "post_only",
        "quantity",
        "reason",
        "reduce_only",
        "reject_reason",
        "request",
        "reserved",
        "rested",
        "side",
        "status",
        "stop_price",
        "tif",
        "triggered",
        "updated_at",
        "venue_order_id",
    )

    def __init__(
        self, request: OrderRequest, venue_order_id: str | None, created_at: datetime, active_at: datetime
    ) -> None:
        self.request = request
        self.client_order_id = request.client_order_id
        self.venue_order_id = venue_order_id
        self.instrument_id = request.instrument_id
        self.side: OrderSide = request.side
        self.order_type: OrderType = request.order_type
        self.quantity: Decimal = request.quantity
        self.limit_price: Decimal | None = request.limit_price
        self.stop_price: Decimal | None = request.stop_price
        self.tif: TimeInForce = request.time_in_force
        self.post_only = request.post_only
        self.reduce_only = request.reduce_only
        self.created_at = created_at
        self.active_at = active_at
        self.updated_at = created_at
        self.status = _ACCEPTED
        self.filled: Decimal = ZERO
        self.notional: Decimal = ZERO
        self.reason = ""
        self.reject_reason: RejectReason | None = None
        self.reserved: Decimal = ZERO
        self.triggered = False
        self.rested = False
        self.funds_capped = False

    def reject(self, reason: RejectReason, detail: str) -> None:
        """Mark the order refused before it reached the book."""
        self.status = OrderStatus.REJECTED
        self.reject_reason = reason
        self.reason = detail

    @property
    def remaining(self) -> Decimal:
        """Base units still to fill."""
        return self.quantity - self.filled

    def snapshot(self) -> VenueOrder:
        """The frozen view reported to callers."""
        avg = Price(self.notional / self.filled) if self.filled else None
        return VenueOrder(  # positional: this runs at least once per order
            self.client_order_id,
            self.venue_order_id,
            self.instrument_id,
            self.side,
            self.order_type,
            Quantity(self.quantity),
            Quantity(self.filled),
            avg,
            self.status,
            self.request.limit_price,
            self.request.stop_price,
            self.tif,
            self.reject_reason,
            self.reason,
            self.created_at,
            self.updated_at,
        )
