"""Positions and the portfolio: Decimal bookkeeping of fills, fees and PnL.

Spot crypto moves both balances (buying 1 BTC for 20,000 USD adds a position of 1 and takes
20,000 USD plus the fee from cash). FX on a margin account moves no cash on entry: realized PnL
(in the quote currency) and fees are booked to cash when a position is reduced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from gekko_agent.domain.instruments import AssetClass, InstrumentId
from gekko_agent.domain.money import ZERO, Currency, Money
from gekko_agent.domain.orders import Fill, OrderSide
from gekko_agent.errors import DataNotFound

__all__ = ["Portfolio", "Position"]

_BUY, _SPOT = OrderSide.BUY, AssetClass.CRYPTO_SPOT  # read once: enum attribute reads are slow
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Position:
    """A net position in one instrument (signed quantity; + long, - short).

    Attributes:
        instrument_id: ``SYMBOL@venue``.
        quote: currency prices and PnL are in.
        asset_class: spot or FX (decides how cash moves).
        quantity: signed base units.
        avg_price: average entry price of the open quantity (0 when flat).
        realized_pnl: PnL closed so far, quote currency, before fees.
        fees: fees paid on this instrument, quote currency.
    """

    instrument_id: InstrumentId
    quote: Currency
    asset_class: AssetClass = AssetClass.CRYPTO_SPOT
    quantity: Decimal = ZERO
    avg_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO

    @property
    def is_flat(self) -> bool:
        """True with no open quantity."""
        return self.quantity == 0

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        """Open PnL at ``mark`` (quote currency)."""
        return (mark - self.avg_price) * self.quantity

    def notional(self, mark: Decimal) -> Decimal:
        """Signed market value at ``mark`` (quote currency)."""
        return self.quantity * mark

    def apply(self, signed_qty: Decimal, price: Decimal, fee_in_quote: Decimal) -> tuple[Position, Decimal]:
        """Apply a fill; returns the new position and the PnL it realized (quote currency)."""
        q, avg = self.quantity, self.avg_price
        realized = ZERO
        if q == 0 or (q > 0) == (signed_qty > 0):
            new_q = q + signed_qty
            new_avg = (avg * abs(q) + price * abs(signed_qty)) / abs(new_q)
        else:
            closing = min(abs(signed_qty), abs(q))
            realized = (price - avg) * closing * (1 if q > 0 else -1)
            new_q = q + signed_qty
            if new_q == 0:
                new_avg = ZERO
            elif (new_q > 0) == (q > 0):
                new_avg = avg
            else:  # reversed through zero: the remainder opens at the fill price
                new_avg = price
        # Built directly, not through dataclasses.replace: this runs once per fill.
        pos = Position(
            self.instrument_id,
            self.quote,
            self.asset_class,
            new_q,
            new_avg,
            self.realized_pnl + realized,
            self.fees + fee_in_quote,
        )
        return pos, realized


@dataclass(slots=True)
class Portfolio:
    """Cash per currency plus positions per instrument, updated fill by fill.

    Mutable on purpose (the engine owns one and applies fills in order); ``snapshot()`` gives an
    immutable copy for the risk engine and the UI.

    Attributes:
        account_currency: the currency equity is reported in.
        cash: balances per currency.
        positions: open and closed positions per instrument.
        applied_fills: fill ids already applied (a replayed fill is ignored).
    """

    account_currency: Currency = "USD"
    cash: dict[Currency, Decimal] = field(default_factory=dict)
    positions: dict[InstrumentId, Position] = field(default_factory=dict)
    applied_fills: set[str] = field(default_factory=set)

    def deposit(self, money: Money) -> None:
        """Add (or with a negative amount, withdraw) cash."""
        self.cash[money.currency] = self.cash.get(money.currency, ZERO) + money.amount

    def position(self, iid: InstrumentId) -> Position | None:
        """The position in ``iid``, if any was ever opened."""
        return self.positions.get(iid)

    def apply_fill(self, fill: Fill, quote: Currency, asset_class: AssetClass) -> Decimal:
        """Book ``fill``; returns realized PnL (quote currency). Replayed fill ids are ignored.

        Args:
            fill: the execution.
            quote: the instrument's quote currency.
            asset_class: spot (cash moves with notional) or FX (only PnL and fees move cash).
        """
        fill_id = fill.fill_id
        if fill_id in self.applied_fills:
            return ZERO
        iid = fill.instrument_id
        pos = self.positions.get(iid) or Position(iid, quote, asset_class)
        fee = fill.fee
        fee_in_quote = fee.amount if fee.currency == quote else ZERO
        price = fill.price
        signed = fill.quantity * (1 if fill.side is _BUY else -1)
        new_pos, realized = pos.apply(signed, price, fee_in_quote)
        self.positions[iid] = new_pos
        cash = self.cash
        if asset_class is _SPOT:
            cash[quote] = cash.get(quote, ZERO) - signed * price
        else:
            cash[quote] = cash.get(quote, ZERO) + realized
        cash[fee.currency] = cash.get(fee.currency, ZERO) - fee.amount
        self.applied_fills.add(fill_id)
        return realized

    def _rate(self, currency: Currency, rates: Mapping[Currency, Decimal]) -> Decimal:
        if currency == self.account_currency:
            return _ONE
        try:
            return rates[currency]
        except KeyError:
            raise DataNotFound(f"no rate to convert {currency} into {self.account_currency}") from None

    def unrealized_pnl(
        self, marks: Mapping[InstrumentId, Decimal], rates: Mapping[Currency, Decimal]
    ) -> Decimal:
        """Open PnL of every position, in the account currency."""
        total = ZERO
        for iid, pos in self.positions.items():
            if pos.quantity:
                total += pos.unrealized_pnl(self._mark(iid, marks)) * self._rate(pos.quote, rates)
        return total

    def realized_pnl(self, rates: Mapping[Currency, Decimal]) -> Decimal:
        """Closed PnL before fees, in the account currency."""
        return sum((p.realized_pnl * self._rate(p.quote, rates) for p in self.positions.values()), ZERO)

    def fees_paid(self, rates: Mapping[Currency, Decimal]) -> Decimal:
        """Fees booked on positions, in the account currency."""
        return sum((p.fees * self._rate(p.quote, rates) for p in self.positions.values()), ZERO)

    @staticmethod
    def _mark(iid: InstrumentId, marks: Mapping[InstrumentId, Decimal]) -> Decimal:
        try:
            return marks[iid]
        except KeyError:
            raise DataNotFound(f"no mark price for {iid}") from None

    def equity(self, marks: Mapping[InstrumentId, Decimal], rates: Mapping[Currency, Decimal]) -> Decimal:
        """Cash plus spot holdings at market plus open FX PnL, in the account currency.

        Args:
            marks: last price per instrument with an open position.
            rates: account-currency units per unit of each other currency.

        Raises:
            DataNotFound: a mark or a rate is missing (callers fail closed).
        """
        # Runs once per bar: the same additions in the same order as a sum() over generators, with
        # the rate of the account currency (1) and the position values inlined.
        own = self.account_currency
        total = ZERO
        for ccy, amount in self.cash.items():
            if amount:
                total = total + amount * (_ONE if ccy == own else self._rate(ccy, rates))
        for iid, pos in self.positions.items():
            qty = pos.quantity
            if not qty:
                continue
            mark = self._mark(iid, marks)
            value = qty * mark if pos.asset_class is _SPOT else (mark - pos.avg_price) * qty
            total += value * (_ONE if pos.quote == own else self._rate(pos.quote, rates))
        return total

    def gross_exposure(
        self, marks: Mapping[InstrumentId, Decimal], rates: Mapping[Currency, Decimal]
    ) -> Decimal:
        """Sum of absolute position values, account currency."""
        return sum(
            (
                abs(p.notional(self._mark(i, marks))) * self._rate(p.quote, rates)
                for i, p in self.positions.items()
                if p.quantity
            ),
            ZERO,
        )

    def net_exposure(
        self, marks: Mapping[InstrumentId, Decimal], rates: Mapping[Currency, Decimal]
    ) -> Decimal:
        """Sum of signed position values, account currency."""
        return sum(
            (
                p.notional(self._mark(i, marks)) * self._rate(p.quote, rates)
                for i, p in self.positions.items()
                if p.quantity
            ),
            ZERO,
        )

    def copy(self) -> Portfolio:
        """An independent copy (positions are immutable values)."""
        return Portfolio(
            self.account_currency, dict(self.cash), dict(self.positions), set(self.applied_fills)
        )
