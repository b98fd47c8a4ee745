"""Exact Decimal arithmetic of caps: floor-rounding operations, so a quantity never rounds up past a limit.

A *cap* is the largest quantity a check allows. The checks compute caps with these helpers; the linear
ones (:func:`raw_abs_linear`) are split in two so the quantity-independent part can be cached per
snapshot and the order's own quantity applied with :func:`clamp_cap`.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_FLOOR, Context, Decimal

from gekko_agent.domain import ZERO

__all__ = [
    "add_floor",
    "cap_abs_linear",
    "clamp_cap",
    "div_floor",
    "lot_floor",
    "raw_abs_linear",
    "remainder",
    "sub_floor",
]

_FLOOR = Context(prec=40, rounding=ROUND_FLOOR)
_divide = _FLOOR.divide
_subtract = _FLOOR.subtract
_add = _FLOOR.add
_divide_int = _FLOOR.divide_int
_multiply = _FLOOR.multiply


def div_floor(a: Decimal, b: Decimal) -> Decimal:
    """``a / b`` rounded toward minus infinity."""
    return _divide(a, b)


def sub_floor(a: Decimal, b: Decimal) -> Decimal:
    """``a - b`` rounded toward minus infinity."""
    return _subtract(a, b)


def add_floor(a: Decimal, b: Decimal) -> Decimal:
    """``a + b`` rounded toward minus infinity."""
    return _add(a, b)


def lot_floor(value: Decimal, lot: Decimal) -> Decimal:
    """``value`` rounded toward zero to a multiple of ``lot``, never past ``value``.

    The quotient is truncated in the 40-digit context (a cap from :func:`div_floor` may carry 40 digits;
    the default 28-digit context would round ``0.0999…9`` up to a whole lot). Raises
    ``decimal.InvalidOperation`` when ``value / lot`` has more than 40 integer digits (the engine turns
    that into a denial).
    """
    if lot <= 0:
        return value
    return _multiply(_divide_int(value, lot), lot).quantize(lot, rounding=ROUND_DOWN, context=_FLOOR)


def remainder(value: Decimal, step: Decimal) -> Decimal:
    """``value`` modulo ``step`` in the 40-digit context (0 when ``value`` is on the ``step`` grid)."""
    return _FLOOR.remainder(value, step)


def raw_abs_linear(a: Decimal, b: Decimal, bound: Decimal) -> Decimal | None:
    """The unclamped largest ``q`` with ``|a + b·q| <= max(bound, |a|)``; None when ``b`` is 0 (no limit).

    :func:`clamp_cap` turns it into the cap of an order of ``q0``.
    """
    if b == 0:
        return None
    room = max(bound, abs(a))
    return _divide(_subtract(room, a), b) if b > 0 else _divide(_add(room, a), -b)


def clamp_cap(raw: Decimal | None, q0: Decimal) -> Decimal:
    """The cap in ``[0, q0]`` of an order of ``q0`` from an unclamped cap (None: ``q0``)."""
    if raw is None or raw >= q0:
        return q0
    return raw if raw > 0 else ZERO


def cap_abs_linear(a: Decimal, b: Decimal, bound: Decimal, q0: Decimal) -> Decimal:
    """Largest ``q`` in ``[0, q0]`` with ``|a + b·q| <= max(bound, |a|)`` (never worse than now).

    The feasible set is an interval containing 0, so the caps of several checks combine by ``min``.
    """
    return clamp_cap(raw_abs_linear(a, b, bound), q0)
