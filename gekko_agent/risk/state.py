"""Trading state ACTIVE / REDUCING / HALTED, its breakers, and the equity marks they measure.

The state moves only two ways:

* a **breaker** escalates it (never de-escalates): daily loss and drawdown (each with a REDUCING and a
  HALTED level) and the venue circuit breaker (consecutive venue errors);
* a **human** command (:class:`~gekko_agent.risk.governance.HumanActor` required) halts, reduces or resumes.

Operator flow after a halt: ``HALTED → begin_flatten → REDUCING`` (only exposure-reducing orders pass)
``→ flat → HALTED`` by itself, then an explicit ``resume`` to ACTIVE. A breaker that is still tripped
when a human sets the state is *acknowledged*: it fires again only at a higher level, or after it
cleared and tripped anew, so a deliberate flatten is not re-halted by the breach that caused it.
Every change is a :class:`~gekko_agent.domain.TradingStateChanged` event for the caller to journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gekko_agent.domain import TradingStateChanged
from gekko_agent.errors import InvalidInput
from gekko_agent.risk.checks.exposure_gates import daily_loss_fraction, drawdown_fraction
from gekko_agent.risk.governance import HumanActor
from gekko_agent.risk.limits import LossBreaker, RiskLimits
from gekko_agent.risk.snapshot import RiskSnapshot, TradingState
from gekko_agent.risk.view import PortfolioView

__all__ = ["BreakerTrip", "EquityTracker", "TradingState", "TradingStateMachine", "breaker_trips"]

_RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


@dataclass(frozen=True, slots=True)
class BreakerTrip:
    """A breaker that is tripped in a snapshot.

    Attributes:
        breaker: ``daily_loss``, ``drawdown`` or ``venue:<name>``.
        level: the state it demands.
        detail: one sentence.
    """

    breaker: str
    level: TradingState
    detail: str


def _loss_trip(name: str, br: LossBreaker, frac: Decimal | None) -> BreakerTrip | None:
    if not br.enabled or frac is None:
        return None
    label = name.replace("_", " ")
    if br.halt_at is not None and frac >= br.halt_at:
        return BreakerTrip(
            name, TradingState.HALTED, f"{label} {frac:.2%} reached the halt level {br.halt_at:.2%}"
        )
    if br.reduce_at is not None and frac >= br.reduce_at:
        return BreakerTrip(
            name, TradingState.REDUCING, f"{label} {frac:.2%} reached the reduce level {br.reduce_at:.2%}"
        )
    return None


def breaker_trips(
    snapshot: RiskSnapshot, limits: RiskLimits, view: PortfolioView | None = None
) -> list[BreakerTrip]:
    """Every breaker tripped in ``snapshot`` (pure)."""
    view = view or PortfolioView(snapshot, limits)
    trips = [
        _loss_trip(
            "daily_loss", limits.daily_loss, daily_loss_fraction(view.equity, snapshot.equity_day_start)
        ),
        _loss_trip("drawdown", limits.drawdown, drawdown_fraction(view.equity, snapshot.equity_peak)),
    ]
    out = [t for t in trips if t is not None]
    if limits.venue_breaker_enabled:
        for venue, health in sorted(snapshot.venues.items()):
            if health.consecutive_errors >= limits.venue_max_errors:
                level = TradingState(limits.venue_breaker_action.value)
                out.append(
                    BreakerTrip(
                        f"venue:{venue}", level, f"{venue} had {health.consecutive_errors} consecutive errors"
                    )
                )
    return out


class TradingStateMachine:
    """The trading state and who moved it (see the module docstring).

    Args:
        state: the state to start in (restore the journaled one on restart).
    """

    def __init__(self, state: TradingState = TradingState.ACTIVE) -> None:
        self._state = state
        self._acknowledged: dict[str, TradingState] = {}
        self._tripped: dict[str, TradingState] = {}
        self._flatten = False

    @property
    def state(self) -> TradingState:
        """The current state."""
        return self._state

    @property
    def quiet(self) -> bool:
        """True when no breaker was tripped at the last evaluation and no flatten is under way."""
        return not self._tripped and not self._flatten and not self._acknowledged

    @property
    def flattening(self) -> bool:
        """True while REDUCING was entered from HALTED to flatten (returns to HALTED when flat)."""
        return self._flatten

    def _move(self, new: TradingState, reason: str, actor: str, ts: datetime) -> TradingStateChanged:
        old, self._state = self._state, new
        return TradingStateChanged(ts=ts, old=old.value, new=new.value, reason=reason, actor=actor)

    def evaluate(
        self, snapshot: RiskSnapshot, limits: RiskLimits, view: PortfolioView | None = None
    ) -> list[TradingStateChanged]:
        """Apply breakers (escalation only) and the end of a flatten; returns the events to journal."""
        ts = snapshot.now
        events: list[TradingStateChanged] = []
        trips = breaker_trips(snapshot, limits, view)
        tripped = {t.breaker for t in trips}
        self._tripped = {t.breaker: t.level for t in trips}
        for name in list(self._acknowledged):
            if name not in tripped:
                del self._acknowledged[name]
        for trip in trips:
            acked = self._acknowledged.get(trip.breaker)
            if acked is not None and _RANK[trip.level] <= _RANK[acked]:
                continue
            if _RANK[trip.level] > _RANK[self._state]:
                self._flatten = False
                events.append(self._move(trip.level, trip.detail, f"breaker:{trip.breaker}", ts))
            self._acknowledged[trip.breaker] = trip.level
        flat = not any(p.quantity for p in snapshot.positions.values()) and not snapshot.open_orders
        if self._flatten and self._state is TradingState.REDUCING and flat:
            self._flatten = False
            events.append(
                self._move(TradingState.HALTED, "flattened: every position is closed", "system", ts)
            )
        return events

    def _human(self, new: TradingState, actor: HumanActor, reason: str, ts: datetime) -> TradingStateChanged:
        if not isinstance(actor, HumanActor):
            raise InvalidInput("only a person can change the trading state")
        self._acknowledged = dict(self._tripped)
        return self._move(new, reason or f"{new.value} by {actor}", str(actor), ts)

    def halt(self, actor: HumanActor, reason: str, ts: datetime) -> TradingStateChanged:
        """Kill switch: HALTED now (from any state)."""
        self._flatten = False
        return self._human(TradingState.HALTED, actor, reason, ts)

    def begin_flatten(self, actor: HumanActor, reason: str, ts: datetime) -> TradingStateChanged:
        """HALTED → REDUCING to close positions; returns to HALTED by itself once flat.

        Breakers tripped at the last :meth:`evaluate` are acknowledged, so they do not re-halt the flatten.
        """
        if self._state is not TradingState.HALTED:
            raise InvalidInput(f"flatten starts from HALTED; the state is {self._state.value}")
        event = self._human(TradingState.REDUCING, actor, reason, ts)
        self._flatten = True
        return event

    def reduce(self, actor: HumanActor, reason: str, ts: datetime) -> TradingStateChanged:
        """Move to REDUCING (stays there until a person resumes or halts)."""
        self._flatten = False
        return self._human(TradingState.REDUCING, actor, reason, ts)

    def resume(self, actor: HumanActor, reason: str, ts: datetime) -> TradingStateChanged:
        """Back to ACTIVE: an explicit, journaled human command (tripped breakers still gate new exposure)."""
        self._flatten = False
        return self._human(TradingState.ACTIVE, actor, reason, ts)


class EquityTracker:
    """Day-start equity (UTC days) and the running peak, for the breakers. Mutable; owned by the caller."""

    def __init__(self) -> None:
        self.day: datetime | None = None
        self.day_start: Decimal | None = None
        self.peak: Decimal | None = None

    def update(self, ts: datetime, equity: Decimal) -> None:
        """Record ``equity`` at ``ts``: a new UTC day resets the day start; the peak only rises."""
        day = ts.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.day is None or day > self.day:
            self.day, self.day_start = day, equity
        self.peak = equity if self.peak is None else max(self.peak, equity)
