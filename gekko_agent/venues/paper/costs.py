"""Trading costs of the paper venue: maker/taker fees and slippage models.

Fees are charged in the quote currency as basis points of the fill's notional. Slippage moves a
taker's price against it by a number of basis points that a :class:`SlippageModel` chooses:

* :class:`NoSlippage` — none;
* :class:`FixedBpsSlippage` — a constant, plus optional seeded noise;
* :class:`VolumeShareSlippage` — ``coefficient × (quantity / bar volume) ** exponent`` bps, capped
  (``exponent = 0.5`` is the square-root impact law, ``1`` a linear volume share).

Noise is drawn from the venue's seeded ``random.Random`` as an integer, so no float reaches a price
and the same seed gives the same fills.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

from gekko_agent.domain.orders import Liquidity, OrderSide
from gekko_agent.errors import InvalidInput

__all__ = [
    "BPS",
    "FeeSchedule",
    "FixedBpsSlippage",
    "NoSlippage",
    "SlippageModel",
    "VolumeShareSlippage",
    "apply_bps",
]

BPS = Decimal(10_000)
_NOISE_STEPS = 1_000
_NO_BPS = Decimal(0)


def apply_bps(price: Decimal, bps: Decimal, side: OrderSide) -> Decimal:
    """Move ``price`` against a taker on ``side`` by ``bps`` (buys pay more, sells get less)."""
    if not bps:
        return price
    return price * (BPS + bps * side.sign) / BPS


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Maker/taker fees in basis points of notional, charged in the quote currency.

    Attributes:
        maker_bps: fee for fills that added liquidity (may be negative for a rebate).
        taker_bps: fee for fills that took liquidity.
        precision: fees are rounded half-even to this step (quote currency).
    """

    maker_bps: Decimal = Decimal(10)
    taker_bps: Decimal = Decimal(10)
    precision: Decimal = Decimal("0.00000001")

    def __post_init__(self) -> None:
        if self.taker_bps < 0:
            raise InvalidInput("paper fees: taker_bps must be >= 0")
        if self.maker_bps < -self.taker_bps:
            raise InvalidInput("paper fees: a maker rebate cannot exceed the taker fee")

    def rate(self, liquidity: Liquidity) -> Decimal:
        """The fee as a fraction of notional."""
        return (self.maker_bps if liquidity is Liquidity.MAKER else self.taker_bps) / BPS

    def fee(self, notional: Decimal, liquidity: Liquidity) -> Decimal:
        """The fee on a fill of ``notional`` quote units."""
        return (notional * self.rate(liquidity)).quantize(self.precision, rounding=ROUND_HALF_EVEN)

    @property
    def worst_rate(self) -> Decimal:
        """The larger of the two rates (used to reserve funds before the liquidity is known)."""
        return max(self.maker_bps, self.taker_bps) / BPS


class SlippageModel(Protocol):
    """Chooses how many basis points a taker fill slips."""

    def bps(self, quantity: Decimal, volume: Decimal | None, rng: random.Random) -> Decimal:
        """Slippage for a taker fill of ``quantity`` base units.

        Args:
            quantity: the fill's base units.
            volume: the bar's volume when matching on bars, None on quotes.
            rng: the venue's seeded generator (the only source of randomness).
        """
        ...


@dataclass(frozen=True, slots=True)
class NoSlippage:
    """Fills at the reference price."""

    def bps(self, quantity: Decimal, volume: Decimal | None, rng: random.Random) -> Decimal:
        """Always zero."""
        return Decimal(0)


def _noise(noise_bps: Decimal, rng: random.Random) -> Decimal:
    if not noise_bps:
        return _NO_BPS
    return noise_bps * rng.randrange(_NOISE_STEPS + 1) / _NOISE_STEPS


@dataclass(frozen=True, slots=True)
class FixedBpsSlippage:
    """A constant slippage plus optional uniform noise.

    Attributes:
        fixed_bps: slippage every taker fill pays.
        noise_bps: up to this much more, drawn uniformly from the seeded generator.
    """

    fixed_bps: Decimal = Decimal(5)
    noise_bps: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.fixed_bps < 0 or self.noise_bps < 0:
            raise InvalidInput("paper slippage: fixed_bps and noise_bps must be >= 0")

    def bps(self, quantity: Decimal, volume: Decimal | None, rng: random.Random) -> Decimal:
        """``fixed_bps`` plus noise."""
        return self.fixed_bps + _noise(self.noise_bps, rng)


@dataclass(frozen=True, slots=True)
class VolumeShareSlippage:
    """Impact that grows with the share of the bar's volume taken, capped.

    Attributes:
        coefficient_bps: slippage when taking the whole bar's volume.
        exponent: 0.5 for square-root impact, 1 for linear.
        cap_bps: never more than this.
        base_bps: paid on every fill (half-spread), also when volume is unknown.
        noise_bps: up to this much more, uniform from the seeded generator.
    """

    coefficient_bps: Decimal = Decimal(100)
    exponent: Decimal = Decimal("0.5")
    cap_bps: Decimal = Decimal(100)
    base_bps: Decimal = Decimal(0)
    noise_bps: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if min(self.coefficient_bps, self.cap_bps, self.base_bps, self.noise_bps) < 0 or self.exponent <= 0:
            raise InvalidInput("paper slippage: bps values must be >= 0 and exponent > 0")

    def bps(self, quantity: Decimal, volume: Decimal | None, rng: random.Random) -> Decimal:
        """``base + min(cap, coefficient × share ** exponent) + noise``; share is 1 on an empty bar."""
        if volume is None:
            impact = Decimal(0)
        else:
            share = Decimal(1) if volume <= 0 else min(Decimal(1), quantity / volume)
            impact = self.coefficient_bps * (
                share.sqrt() if self.exponent == Decimal("0.5") else share**self.exponent
            )
        return self.base_bps + min(self.cap_bps, impact) + _noise(self.noise_bps, rng)
