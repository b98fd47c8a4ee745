"""The simulated exchange behind every protocol: a paper venue plus the order-level faults.

:class:`SimExchange` is what a protocol's routes call. It owns the :class:`FaultInjector`, places
orders in the paper venue (thinning the touch first when the ``partial`` fault fires, and
restoring the standing quote on the next request so the rest then fills), and indexes fills by
order for the wire formats, which report executed quantity, cumulative quote and per-order trades.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from gekko_agent.domain.clock import LiveClock
from gekko_agent.domain.instruments import Instrument, InstrumentId
from gekko_agent.domain.money import ZERO, Quantity
from gekko_agent.domain.orders import Fill, OrderStatus, OrderType
from gekko_agent.errors import OrderNotFound
from gekko_agent.execution.ports import OrderRequest, Quote, VenueAck, VenueOrder
from gekko_agent.testing.sim.faults import Fault, FaultInjector, FaultPlan
from gekko_agent.venues.paper import PaperVenue

__all__ = ["OrderView", "SimExchange", "numeric_id"]


def numeric_id(paper_id: str | None) -> int:
    """``binanceus-o12`` (or ``binanceus-s1f2e-o12``) → 12: paper ids end in a sequence number."""
    digits = "".join(itertools.takewhile(str.isdigit, reversed(paper_id or "")))
    return int(digits[::-1] or 0)


@dataclasses.dataclass(frozen=True, slots=True)
class OrderView:
    """An order with its fills, as the wire formats need it.

    Attributes:
        order: the venue's view.
        fills: its fills, oldest first.
    """

    order: VenueOrder
    fills: tuple[Fill, ...]

    @property
    def executed(self) -> Decimal:
        """Filled base units."""
        return self.order.filled_quantity

    @property
    def quote_amount(self) -> Decimal:
        """Sum of fill notionals (quote currency)."""
        return sum((f.notional for f in self.fills), ZERO)

    @property
    def fees(self) -> Decimal:
        """Sum of fees."""
        return sum((f.fee.amount for f in self.fills), ZERO)


class SimExchange:
    """A paper venue with order faults, shared by the protocol apps.

    Args:
        venue: the matching engine and account.
        faults: the fault plan (its seed drives the injector).
    """

    def __init__(self, venue: PaperVenue, faults: FaultPlan) -> None:
        self.venue = venue
        self.injector = FaultInjector(faults)
        self.clock = LiveClock()
        self._standing: dict[InstrumentId, Quote] = {}
        self._instruments: dict[InstrumentId, Instrument] = {}
        self.placements: Counter[str] = Counter()
        self.clock_refusals = 0  # signed requests refused because their time was off the venue's

    def skew_ms(self, headers: Any = None) -> int:
        """How far the venue's clock is from the real one for this request, in ms."""
        return self.injector.skew_ms(headers)

    def venue_now(self, headers: Any = None) -> datetime:
        """The venue's clock: now, shifted by the skew in effect."""
        return self.clock.now() + timedelta(milliseconds=self.skew_ms(headers))

    async def instruments(self) -> dict[InstrumentId, Instrument]:
        """Instruments by id (cached)."""
        if not self._instruments:
            self._instruments = {i.id: i for i in await self.venue.instruments()}
        return self._instruments

    async def by_symbol(self, venue_symbol: str) -> Instrument | None:
        """The instrument the venue spells ``venue_symbol``, if any."""
        for inst in (await self.instruments()).values():
            if inst.venue_symbol == venue_symbol:
                return inst
        return None

    async def refresh(self) -> None:
        """Put back standing quotes thinned by a partial fault; working remainders fill now."""
        standing, self._standing = self._standing, {}
        for quote in standing.values():
            self.venue.on_quote(dataclasses.replace(quote, ts=self.clock.now()))

    async def place(self, request: OrderRequest, fault: Fault | None) -> VenueAck:
        """Submit to the paper venue (counted per client id); with the partial fault, only part fills now."""
        await self.refresh()
        self.placements[request.client_order_id] += 1
        inst = (await self.instruments()).get(request.instrument_id)
        if fault is Fault.PARTIAL and inst is not None and request.order_type is OrderType.MARKET:
            quote = await self.venue.quote(inst.id)
            part = inst.round_quantity(request.quantity / 2)
            if part >= inst.lot_size:
                thin = dataclasses.replace(
                    quote, ts=self.clock.now(), bid_size=Quantity(part), ask_size=Quantity(part)
                )
                self.venue.on_quote(thin)
                self._standing[inst.id] = quote
        return await self.venue.submit(request)

    async def view(self, client_order_id: str) -> OrderView:
        """The order and its fills; OrderNotFound when unknown or rejected (venues forget rejects)."""
        order = await self.venue.order_status(client_order_id)
        if order.status is OrderStatus.REJECTED:
            raise OrderNotFound(client_order_id)
        return OrderView(order, await self.fills_of(order.client_order_id))

    async def view_by_number(self, number: int) -> OrderView:
        """The order whose paper venue id ends in ``number`` (wire formats show ids as numbers)."""
        for order in await self.all_orders():
            if order.venue_order_id is not None and numeric_id(order.venue_order_id) == number:
                return OrderView(order, await self.fills_of(order.client_order_id))
        raise OrderNotFound(f"order number {number}")

    async def all_orders(self) -> list[VenueOrder]:
        """Every accepted order, oldest first (the paper venue forgets nothing; rejects are left out)."""
        return [o for o in self.venue.orders() if o.status is not OrderStatus.REJECTED]

    async def fills_of(self, client_order_id: str) -> tuple[Fill, ...]:
        """Fills of one order, oldest first."""
        batch = await self.venue.fills_since(None)
        return tuple(f for f in batch.fills if f.client_order_id == client_order_id)

    async def fills(self, iid: InstrumentId | None = None, since: datetime | None = None) -> tuple[Fill, ...]:
        """All fills, optionally for one instrument and at or after a time."""
        batch = await self.venue.fills_since(since)
        return tuple(f for f in batch.fills if iid is None or f.instrument_id == iid)

    async def free_and_locked(self) -> dict[str, tuple[Decimal, Decimal]]:
        """Per currency: (free, reserved by open orders)."""
        out: dict[str, tuple[Decimal, Decimal]] = {}
        for ccy, money in (await self.venue.balances()).items():
            free = self.venue.free(ccy)
            out[ccy] = (free, money.amount - free)
        return out
