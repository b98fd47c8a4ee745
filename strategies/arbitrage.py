"""``arbitrage``: the same asset on two quote currencies or two venues, traded on convergence.

The strategy trades exactly two instruments with the same base, ``A`` and ``B`` (in the order of
its ``instruments`` list), whose quotes are taken to be at par: the same currency on two venues, or
a stablecoin and the currency it is pegged to (BTC/USDC vs BTC/USD). The spread is
``close_A / close_B - 1``. When one leg trades richer than the other by more than the cost of the
round trip (four taker fills of ``fee_bps``) plus ``threshold_bps``, for ``confirm_bars``
consecutive evaluations, it sells ``quantity`` of the rich leg and buys the same on the cheap leg;
it unwinds both once the spread is back within ``exit_bps``.

Spot cannot go short, so selling the rich leg needs holdings on it: the strategy keeps an
``inventory`` of the base on each leg (bought at the first evaluation), and sells are never larger
than what is held. Equity therefore carries the inventory's market risk; the arbitrage's own profit
is the run's equity less a run that only holds the inventory (``threshold_bps`` huge).

Latency is paid, not assumed away: signals are taken on bar closes and market orders fill at the
next bar's open (plus the venue's ``latency_ms``), so a spread that closes within one bar is not
captured; ``confirm_bars`` filters one-bar blips, ``max_skew_s`` refuses to compare stale prices.
Orders go out only when the target changes or after ``cooldown_bars``, so an order still working
(thin books fill over several bars) is not doubled at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gekko_agent.agent.strategy import StrategyContext
from gekko_agent.domain import Bar, Fill, InstrumentId, OrderIntent, OrderSide

__all__ = ["Arbitrage", "Params", "create", "spread_bps"]

_FILLS_PER_ROUND_TRIP = 4


class Params(BaseModel):
    """Parameters of arbitrage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quantity: Decimal = Field(Decimal("0.05"), gt=0, description="Base units moved across per trade.")
    inventory: Decimal | None = Field(
        None, ge=0, description="Base units held on each leg so the rich one can be sold (None: `quantity`)."
    )
    fee_bps: float = Field(10.0, ge=0, description="Fee per fill (bps) the spread must pay four times over.")
    threshold_bps: float = Field(200.0, ge=0, description="Edge beyond the fees to enter (bps).")
    exit_bps: float = Field(50.0, ge=0, description="Unwind once |spread| is back within this many bps.")
    confirm_bars: int = Field(2, ge=1, description="Consecutive evaluations the entry spread must hold.")
    cooldown_bars: int = Field(5, ge=1, description="Evaluations to wait before re-sending a correction.")
    max_skew_s: int = Field(
        0, ge=0, description="Largest gap between the two legs' last closes (s); 0: same bar close only."
    )
    min_trade: Decimal = Field(Decimal("0.0001"), gt=0, description="Smallest correction worth an order.")

    @model_validator(mode="after")
    def _exit_below_entry(self) -> Params:
        if self.exit_bps >= _FILLS_PER_ROUND_TRIP * self.fee_bps + self.threshold_bps:
            raise ValueError("exit_bps must be below the entry spread (4 x fee_bps + threshold_bps)")
        return self

    @property
    def entry_bps(self) -> float:
        """The spread that opens a trade: round-trip fees plus the threshold."""
        return _FILLS_PER_ROUND_TRIP * self.fee_bps + self.threshold_bps


def spread_bps(price_a: float, price_b: float) -> float:
    """How much richer ``A`` trades than ``B``, in basis points (negative: ``B`` is richer)."""
    return (price_a / price_b - 1.0) * 1e4


class Arbitrage:
    """Two-leg convergence arbitrage with inventory on both legs (spot never goes short)."""

    def __init__(self, name: str, instruments: tuple[InstrumentId, ...], params: Params) -> None:
        if len(instruments) != 2:
            raise ValueError(
                "arbitrage trades exactly two instruments (the same base on two quote currencies or "
                f"venues), got {len(instruments)}"
            )
        self.name = name
        self.instruments = instruments
        self.params = params
        self.inventory = params.inventory if params.inventory is not None else params.quantity
        self.state = 0  # +1: A rich (short A, long B vs inventory); -1: B rich; 0: flat vs inventory
        self._last: dict[InstrumentId, tuple[datetime, float]] = {}
        self._streak = 0
        self._since_order = params.cooldown_bars

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Update the leg's price; when both are fresh, re-evaluate the spread and the target."""
        if bar.instrument_id not in self.instruments:
            return ()
        self._last[bar.instrument_id] = (bar.ts + timedelta(seconds=bar.interval), float(bar.close))
        a, b = self.instruments
        if a not in self._last or b not in self._last:
            return ()
        (ta, pa), (tb, pb) = self._last[a], self._last[b]
        if abs((ta - tb).total_seconds()) > self.params.max_skew_s or pb <= 0:
            return ()
        self._since_order += 1
        spread = spread_bps(pa, pb)
        why = self._transition(spread)
        return self._rebalance(ctx, spread, why)

    def _transition(self, spread: float) -> str | None:
        """Move the state machine; returns why the target changed (None: it did not)."""
        p = self.params
        if self.state != 0:
            if abs(spread) <= p.exit_bps:
                self.state, self._streak = 0, 0
                return f"spread {spread:+.1f} bps is back within {p.exit_bps:g} bps; unwinding both legs"
            return None
        direction = 1 if spread > p.entry_bps else -1 if spread < -p.entry_bps else 0
        self._streak = self._streak + 1 if direction else 0
        if direction and self._streak >= p.confirm_bars:
            self.state = direction
            rich, cheap = self.instruments if direction > 0 else self.instruments[::-1]
            return (
                f"{rich} trades {abs(spread):.1f} bps above {cheap} for {self._streak} bars "
                f"(> {_FILLS_PER_ROUND_TRIP} x {p.fee_bps:g} bps fees + {p.threshold_bps:g} bps): "
                f"sell {rich}, buy {cheap}"
            )
        return None

    def targets(self) -> dict[InstrumentId, Decimal]:
        """Position each leg should hold in the current state."""
        a, b = self.instruments
        q = self.params.quantity * self.state
        return {a: self.inventory - q, b: self.inventory + q}

    def _rebalance(self, ctx: StrategyContext, spread: float, why: str | None) -> list[OrderIntent]:
        if why is None and self._since_order < self.params.cooldown_bars:
            return []
        reason = why or f"spread {spread:+.1f} bps; restoring the legs to their targets (state {self.state})"
        confidence = self._confidence(spread)
        intents: list[OrderIntent] = []
        for iid, target in self.targets().items():
            held = ctx.position(iid)
            delta = target - held
            if delta < 0:
                delta = -min(-delta, max(held, Decimal(0)))  # spot: never sell more than is held
            if abs(delta) < self.params.min_trade:
                continue
            side = OrderSide.BUY if delta > 0 else OrderSide.SELL
            intents.append(ctx.intent(self.name, iid, side, abs(delta), reason, confidence))
        if intents:
            self._since_order = 0
        return intents

    def _confidence(self, spread: float) -> Decimal:
        """0.5 at the entry spread, rising with the edge beyond it (max 0.95); 0.6 for unwinds."""
        if self.state == 0:
            return Decimal("0.6")
        entry = self.params.entry_bps or 1.0
        edge = (abs(spread) - entry) / entry
        return Decimal(str(round(min(0.95, max(0.5, 0.5 + 0.25 * edge)), 3)))

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Nothing to do on fills: positions are re-read on the next evaluation."""
        return ()


def create(name: str, instruments: tuple[InstrumentId, ...], params: Params) -> Arbitrage:
    """Build the strategy (called by the loader with validated params)."""
    return Arbitrage(name, instruments, params)
