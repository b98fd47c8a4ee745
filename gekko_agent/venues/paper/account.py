"""The paper venue's account: Decimal balances, reservations, margin positions, fee booking.

Spot instruments move both balances: a buy takes ``quantity × price + fee`` of the quote currency
and adds ``quantity`` of the base; a sell does the reverse. Nothing may be sold that is not held
(no shorting on spot), and open orders reserve what they could spend — a buy reserves
``remaining × reference price × (1 + worst fee rate)`` of the quote, a sell its base units — so
two orders can never spend the same money.

FX instruments trade on margin, like the domain :class:`~gekko_agent.domain.portfolio.Portfolio`:
a fill moves no notional, the position (signed, so shorting is allowed) carries the exposure, and
realized PnL and fees are booked to the quote currency. Opening exposure needs free margin of
``quantity × price / max_leverage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from gekko_agent.domain.instruments import AssetClass, Instrument, InstrumentId
from gekko_agent.domain.money import ZERO, Currency, Money, Price, Quantity
from gekko_agent.domain.orders import Fill, Liquidity, OrderSide, OrderType
from gekko_agent.domain.portfolio import Position
from gekko_agent.execution.ports import RejectReason
from gekko_agent.venues.paper.costs import BPS, FeeSchedule
from gekko_agent.venues.paper.orders import WorkingOrder

__all__ = ["PaperAccount"]

_UNLIMITED = Decimal("1e30")
# enum members read through module globals: ``OrderSide.BUY`` costs ~0.1 us per read
_BUY, _FX, _MAKER = OrderSide.BUY, AssetClass.FX, Liquidity.MAKER
_MARKETISH = (OrderType.MARKET, OrderType.STOP)


class PaperAccount:
    """Balances, reservations and margin positions of one paper account; the engine's Settlement.

    Args:
        venue: the prefix of fill ids (``paper`` gives ``paper-t1``, ``paper-t2``…; the venue
            passes its name and session, ``paper-s1a2b3c4d``).
        instruments: the venue's instruments by id.
        fees: the fee schedule.
        balances: starting balance per currency.
        reserve_buffer_bps: extra reserved for market and stop buys, whose price is not known yet.
    """

    def __init__(
        self,
        venue: str,
        instruments: Mapping[InstrumentId, Instrument],
        fees: FeeSchedule,
        balances: Mapping[Currency, Decimal],
        reserve_buffer_bps: Decimal = Decimal(100),
    ) -> None:
        self._venue = venue
        self._instruments = instruments
        self._fees = fees
        self._buffer = reserve_buffer_bps
        self._balances: dict[Currency, Decimal] = {c.upper(): Decimal(a) for c, a in balances.items()}
        self._reserved: dict[Currency, Decimal] = {}
        self._positions: dict[InstrumentId, Position] = {}
        self._seq = 0
        self.fills: list[Fill] = []
        # constants of the hot path, computed once exactly as the fee schedule computes them
        self._worst_rate = fees.worst_rate
        self._worst_factor = 1 + self._worst_rate
        self._buffer_factor = BPS + reserve_buffer_bps
        self._maker_rate = fees.rate(Liquidity.MAKER)
        self._taker_rate = fees.rate(Liquidity.TAKER)
        self._ccy = {iid: (inst.base, inst.quote) for iid, inst in instruments.items()}

    def balances(self) -> dict[Currency, Money]:
        """Total balance per currency (reservations included)."""
        return {c: Money(a, c) for c, a in sorted(self._balances.items())}

    def free(self, currency: Currency) -> Decimal:
        """Balance not reserved by open orders."""
        return self._balances.get(currency, ZERO) - self._reserved.get(currency, ZERO)

    def positions(self) -> list[Position]:
        """Open margin positions."""
        return [p for p in self._positions.values() if p.quantity]

    def _used_margin(self, currency: Currency) -> Decimal:
        used = ZERO
        for iid, pos in self._positions.items():
            inst = self._instruments[iid]
            if pos.quantity and inst.quote == currency:
                used += abs(pos.quantity) * pos.avg_price / inst.max_leverage
        return used

    def _reserve(self, order: WorkingOrder, currency: Currency, amount: Decimal) -> None:
        order.reserved = amount
        self._reserved[currency] = self._reserved.get(currency, ZERO) + amount

    def check(self, order: WorkingOrder, ref: Decimal) -> tuple[RejectReason, str] | None:
        """Pre-trade funds and reduce-only check; reserves funds when it passes.

        Args:
            order: the arriving order.
            ref: the price it is expected to trade at (its limit, or the current touch).

        Returns:
            None when accepted, else the reject reason and a message.
        """
        inst = self._instruments[order.instrument_id]
        qty = order.quantity
        if inst.asset_class is _FX:
            pos = self._positions.get(inst.id)
            held = pos.quantity if pos else ZERO
            if order.reduce_only and not (held * order.side.sign < 0):
                return (
                    RejectReason.REDUCE_ONLY_WOULD_INCREASE,
                    f"no {order.side.opposite()} position to reduce",
                )
            opening = max(ZERO, qty - abs(held)) if held * order.side.sign < 0 else qty
            need = opening * ref / inst.max_leverage + qty * ref * self._fees.worst_rate
            free = self.free(inst.quote) - self._used_margin(inst.quote)
            if opening and need > free:
                return RejectReason.INSUFFICIENT_FUNDS, f"margin {need:f} {inst.quote} needed, {free:f} free"
            return None
        base, quote = self._ccy[order.instrument_id]
        if order.side is _BUY:
            if order.reduce_only:
                return RejectReason.REDUCE_ONLY_WOULD_INCREASE, "a spot buy cannot reduce a position"
            if order.order_type in _MARKETISH:
                ref = ref * self._buffer_factor / BPS
            need = qty * ref * self._worst_factor
            free = self.free(quote)
            if need > free:
                return RejectReason.INSUFFICIENT_FUNDS, f"{need:f} {quote} needed, {free:f} free"
            self._reserve(order, quote, need)
            return None
        free = self.free(base)
        if qty > free:
            return (
                RejectReason.INSUFFICIENT_FUNDS,
                f"{qty:f} {base} needed, {free:f} free (no shorting on spot)",
            )
        self._reserve(order, base, qty)
        return None

    def capacity(self, order: WorkingOrder, price: Decimal) -> Decimal:
        """Most base units ``order`` can still pay for (spot) or reduce (reduce-only margin)."""
        inst = self._instruments[order.instrument_id]
        if inst.asset_class is _FX:
            if not order.reduce_only:
                return _UNLIMITED
            pos = self._positions.get(inst.id)
            held = pos.quantity if pos else ZERO
            return abs(held) if held * order.side.sign < 0 else ZERO
        base, quote = self._ccy[order.instrument_id]
        if order.side is _BUY:
            budget = self.free(quote) + order.reserved - (self._fees.precision if self._worst_rate else ZERO)
            return max(ZERO, budget / (price * self._worst_factor))
        return max(ZERO, self.free(base) + order.reserved)

    def _unreserve(self, order: WorkingOrder, currency: Currency, amount: Decimal) -> None:
        amount = min(amount, order.reserved)
        if amount > 0:
            order.reserved -= amount
            self._reserved[currency] -= amount

    def settle(
        self, order: WorkingOrder, quantity: Decimal, price: Decimal, liquidity: Liquidity, ts: datetime
    ) -> Fill:
        """Book a fill: balances, reservation, margin position, fee; returns the Fill."""
        inst = self._instruments[order.instrument_id]
        notional = quantity * price
        rate = self._maker_rate if liquidity is _MAKER else self._taker_rate
        fee = (notional * rate).quantize(self._fees.precision, rounding=ROUND_HALF_EVEN)  # as FeeSchedule.fee
        bal = self._balances
        base, quote = self._ccy[order.instrument_id]
        if inst.asset_class is _FX:
            pos = self._positions.get(inst.id) or Position(inst.id, quote, AssetClass.FX)
            new_pos, realized = pos.apply(quantity * order.side.sign, price, fee)
            self._positions[inst.id] = new_pos
            bal[quote] = bal.get(quote, ZERO) + realized - fee
        elif order.side is _BUY:
            cost = notional + fee
            bal[quote] = bal.get(quote, ZERO) - cost
            bal[base] = bal.get(base, ZERO) + quantity
            self._unreserve(order, quote, cost)
        else:
            bal[base] = bal.get(base, ZERO) - quantity
            bal[quote] = bal.get(quote, ZERO) + notional - fee
            self._unreserve(order, base, quantity)
        self._seq += 1
        fill = Fill(  # positional: this runs once per fill
            f"{self._venue}-t{self._seq}",
            order.client_order_id,
            order.venue_order_id,
            order.instrument_id,
            order.side,
            Quantity(quantity),
            Price(price),
            Money(fee, quote),
            liquidity,
            ts,
        )
        self.fills.append(fill)
        return fill

    def release(self, order: WorkingOrder) -> None:
        """Free what ``order`` still reserves (it left the book)."""
        if order.reserved:
            base, quote = self._ccy[order.instrument_id]
            self._unreserve(order, quote if order.side is _BUY else base, order.reserved)
