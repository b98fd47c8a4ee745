"""Sanity bounds on the numbers of an order, shared by the risk engine's ``intent`` gate and the tool edge.

No real order needs more: a quantity above :data:`MAX_QUANTITY` base units, a price above
:data:`MAX_PRICE`, or more than :data:`MAX_DECIMAL_PLACES` decimal places is a mistake or an attack.
Within these bounds every Decimal the checks compute fits the engine's 40-digit floor context (at most
15 integer and 18 fractional digits), so no check can overflow its precision.
"""

from __future__ import annotations

from decimal import Context, Decimal

__all__ = ["MAX_DECIMAL_PLACES", "MAX_PRICE", "MAX_QUANTITY", "number_problem"]

MAX_QUANTITY = Decimal("1E+15")
"""Largest order quantity, base units."""
MAX_PRICE = Decimal("1E+12")
"""Largest limit or stop price, quote currency."""
MAX_DECIMAL_PLACES = 18
"""Most decimal places of a quantity or price."""

_STEP = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)
_WIDE = Context(prec=40)  # holds any value <= 1E+15 at 18 places


def number_problem(value: Decimal, what: str, maximum: Decimal) -> str | None:
    """Why ``value`` is not a sane order number (finite, > 0, <= ``maximum``, few decimals); None if it is.

    Args:
        value: the quantity or price.
        what: its name in the message (``quantity``, ``limit price``).
        maximum: the largest value allowed.
    """
    if not value.is_finite():
        return f"{what} {value} is not a finite number"
    if value <= 0:
        return f"{what} {value} must be greater than 0"
    if value > maximum:
        return f"{what} {value:E} is above the maximum of {maximum:E}"
    if value.quantize(_STEP, context=_WIDE) != value:  # trailing zeros do not count: 1.2300 has 2 places
        return f"{what} {value} has more than {MAX_DECIMAL_PLACES} decimal places"
    return None
