"""Decimal money values. Floats never enter: every constructor rejects them.

``Price`` and ``Quantity`` are distinct ``Decimal`` types (so a type checker catches a swap);
``Money`` carries its currency and refuses to add across currencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal, InvalidOperation
from typing import NewType

from gekko_agent.errors import InvalidInput

__all__ = [
    "ZERO",
    "Currency",
    "Money",
    "Price",
    "Quantity",
    "round_to_step",
    "to_decimal",
    "to_price",
    "to_quantity",
]

Currency = str
Price = NewType("Price", Decimal)
Quantity = NewType("Quantity", Decimal)
ZERO = Decimal(0)


def to_decimal(value: Decimal | int | str, what: str = "value") -> Decimal:
    """Convert ``value`` to a finite Decimal, rejecting floats and garbage.

    Args:
        value: a Decimal, an int, or a decimal string such as ``"123.45"``.
        what: name used in the error message.

    Raises:
        InvalidInput: for floats, bools, non-numeric strings, NaN or infinity.
    """
    if isinstance(value, bool | float):
        raise InvalidInput(f"{what}: {value!r} is a {type(value).__name__}; money needs a Decimal or string")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput(f"{what}: {value!r} is not a number") from None
    else:
        raise InvalidInput(f"{what}: {value!r} is not a number")
    if not d.is_finite():
        raise InvalidInput(f"{what}: {value!r} is not finite")
    return d


def to_price(value: Decimal | int | str, what: str = "price") -> Price:
    """A strictly positive price."""
    d = to_decimal(value, what)
    if d <= 0:
        raise InvalidInput(f"{what}: {value!r} must be > 0")
    return Price(d)


def to_quantity(value: Decimal | int | str, what: str = "quantity") -> Quantity:
    """A non-negative quantity (side is carried separately)."""
    d = to_decimal(value, what)
    if d < 0:
        raise InvalidInput(f"{what}: {value!r} must be >= 0")
    return Quantity(d)


def round_to_step(value: Decimal, step: Decimal, mode: str = "down") -> Decimal:
    """Round ``value`` to a multiple of ``step`` (``down``, ``up`` or ``nearest``).

    Quantities round down (never buy more than asked); prices round by the caller's choice.
    """
    if step <= 0:
        return value
    rounding = {"down": ROUND_DOWN, "up": ROUND_UP, "nearest": ROUND_HALF_EVEN}[mode]
    units = (value / step).to_integral_value(rounding=rounding)
    return (units * step).quantize(step)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency.

    Attributes:
        amount: the Decimal amount (may be negative).
        currency: ISO code or asset symbol, e.g. ``USD``, ``USDT``, ``BTC``.
    """

    amount: Decimal
    currency: Currency

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise InvalidInput(f"Money amount {self.amount!r} must be a finite Decimal")
        if not self.currency:
            raise InvalidInput("Money needs a currency")

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: Currency) -> Money:
        """Build from a Decimal, int or string amount."""
        return cls(to_decimal(amount, f"amount in {currency}"), currency.upper())

    @classmethod
    def zero(cls, currency: Currency) -> Money:
        """Zero in ``currency``."""
        return cls(ZERO, currency.upper())

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidInput(f"cannot combine {self.currency} with {other.currency} without a rate")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise InvalidInput("Money cannot be multiplied by a float")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def convert(self, rate: Decimal, currency: Currency) -> Money:
        """Convert at ``rate`` units of ``currency`` per unit of this currency."""
        return Money(self.amount * rate, currency.upper())

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"
