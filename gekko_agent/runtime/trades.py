"""Round trips: the fills of a run grouped into trades, flat to flat per instrument.

A round trip starts when an instrument's position leaves zero and ends when it is back to zero (a
fill through zero closes one and opens the next); its PnL is in the instrument's quote currency,
net of the fees of its fills (fees in the quote currency; others are not deducted). A position
still open at the end of a run is not a round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from gekko_agent.domain import Fill, OrderSide

__all__ = ["RoundTrip", "round_trips"]

_PRICE_PLACES = Decimal("1e-8")


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One position from flat back to flat on one instrument.

    Attributes:
        instrument_id: what was traded.
        direction: ``long`` or ``short``.
        entry_ts: time of the first fill.
        exit_ts: time of the last fill.
        quantity: base units at the largest position.
        entry_price: volume-weighted price of the fills that opened it.
        exit_price: volume-weighted price of the fills that closed it.
        fees: fees of its fills in the quote currency.
        pnl: (exit - entry) x quantity x direction, less ``fees`` (quote currency).
        return_pct: ``pnl`` over the entry notional.
    """

    instrument_id: str
    direction: str
    entry_ts: datetime
    exit_ts: datetime
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    fees: Decimal
    pnl: Decimal
    return_pct: Decimal

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict: money, prices and quantities as decimal strings, the return as a number."""
        return {
            "instrument": self.instrument_id,
            "side": self.direction,
            "entry_time": self.entry_ts.isoformat(),
            "exit_time": self.exit_ts.isoformat(),
            "quantity": str(self.quantity),
            "entry_price": _places(self.entry_price),
            "exit_price": _places(self.exit_price),
            "fees": _places(self.fees),
            "pnl": _places(self.pnl),
            "return": round(float(self.return_pct), 6),
        }


def _places(value: Decimal) -> str:
    """A decimal string with at most 8 places (volume-weighted prices divide)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:
        value = value.quantize(_PRICE_PLACES)
    return str(value)


class _Open:
    """A round trip being built from fills."""

    def __init__(self, fill: Fill, sign: int) -> None:
        self.sign = sign
        self.entry_ts = fill.ts
        self.in_qty = self.out_qty = Decimal(0)
        self.in_value = self.out_value = self.fees = Decimal(0)
        self.position = Decimal(0)

    def add(self, fill: Fill, qty: Decimal) -> None:
        signed = qty if fill.side is OrderSide.BUY else -qty
        if signed * self.sign > 0:
            self.in_qty += qty
            self.in_value += qty * fill.price
        else:
            self.out_qty += qty
            self.out_value += qty * fill.price
        quote = fill.instrument_id.partition("@")[0].partition("/")[2]
        if fill.fee.currency == quote and fill.quantity:
            self.fees += fill.fee.amount * qty / fill.quantity
        self.position += signed

    def close(self, iid: str, ts: datetime) -> RoundTrip:
        entry = self.in_value / self.in_qty
        exit_ = self.out_value / self.out_qty
        gross = (self.out_value - self.in_value) * self.sign
        pnl = gross - self.fees
        return RoundTrip(
            instrument_id=iid,
            direction="long" if self.sign > 0 else "short",
            entry_ts=self.entry_ts,
            exit_ts=ts,
            quantity=self.in_qty,
            entry_price=entry,
            exit_price=exit_,
            fees=self.fees,
            pnl=pnl,
            return_pct=pnl / self.in_value if self.in_value else Decimal(0),
        )


def round_trips(fills: Sequence[Fill]) -> list[RoundTrip]:
    """Closed round trips, in the order they closed (a position still open at the end is left out)."""
    open_: dict[str, _Open] = {}
    done: list[RoundTrip] = []
    for fill in fills:
        qty: Decimal = fill.quantity
        sign = 1 if fill.side is OrderSide.BUY else -1
        trip = open_.get(fill.instrument_id)
        if trip is None:
            open_[fill.instrument_id] = trip = _Open(fill, sign)
        if sign * trip.sign < 0 and qty > abs(trip.position):
            rest = qty - abs(trip.position)
            trip.add(fill, abs(trip.position))
            done.append(trip.close(fill.instrument_id, fill.ts))
            open_[fill.instrument_id] = trip = _Open(fill, sign)
            qty = rest
        trip.add(fill, qty)
        if trip.position == 0:
            done.append(trip.close(fill.instrument_id, fill.ts))
            del open_[fill.instrument_id]
    return done
