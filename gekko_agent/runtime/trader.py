"""The Trader: the one loop every mode runs. Bars in → brain → risk → execution → journal.

Backtest, paper and live differ only in the clock, the feed and the venues wired in
(:mod:`gekko_agent.runtime.wiring`); nothing here asks which mode it is in.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from gekko_agent.agent.strategy import StrategyContext
from gekko_agent.domain import (
    AlertRaised,
    Bar,
    Clock,
    EquityMarked,
    Event,
    Fill,
    Instrument,
    InstrumentId,
    IntentProposed,
    LimitChanged,
    Order,
    OrderIntent,
    RiskEvaluated,
)
from gekko_agent.errors import DataNotFound, InvalidInput, OrderNotFound
from gekko_agent.execution.approvals import ApprovalQueue
from gekko_agent.execution.engine import EventSink, ExecutionEngine
from gekko_agent.risk.engine import CancelDecision, RiskEngine
from gekko_agent.risk.governance import HumanActor, LimitGovernor, LimitProposal
from gekko_agent.risk.limits import LossBreaker, RiskLimits
from gekko_agent.risk.outcomes import Denied, RiskOutcome, to_event
from gekko_agent.risk.snapshot import (
    RiskSnapshot,
    TradingState,
    VenueHealth,
)
from gekko_agent.risk.state import TradingStateMachine
from gekko_agent.runtime.brain import Brain, CancellingBrain, CyclingBrain, ForecastSource, SteppedBrain
from gekko_agent.runtime.marks import EquityMarks, MarketBook, portfolio_snapshot

__all__ = [
    "BAND_MARGIN",
    "MARK_STEP",
    "QUIET_MARGIN",
    "CancelOutcome",
    "Trader",
    "TraderStats",
]

BAND_MARGIN = 1e-3
"""How close (as a fraction of equity) an estimated loss may come to a breaker level before the
breakers are evaluated exactly on every bar."""

QUIET_MARGIN = 1e-9
"""Relative margin :meth:`Trader.quiet_band` keeps between its ends and the levels they stand for."""
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()
_DAY_NS = 86_400 * 1_000_000_000

MARK_STEP = Decimal("0.0005")
"""A new equity peak is journaled (``EquityMarked``) once it is this fraction above the last one
journaled; a new UTC day is journaled at once. After a crash the restored peak is at most this much
below the true one (a clean stop journals the exact references)."""


def _levels(br: LossBreaker) -> list[float]:
    """A loss breaker's levels as sorted floats; none when it is disabled."""
    return sorted(float(x) for x in (br.reduce_at, br.halt_at) if x is not None) if br.enabled else []


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What became of a cancel request.

    Attributes:
        client_order_id: the order.
        decision: the risk engine's answer (the cancel-rate limit).
        order: the order after the cancel was sent; None when risk denied it.
    """

    client_order_id: str
    decision: CancelDecision
    order: Order | None


@dataclass(slots=True)
class TraderStats:
    """Counters for reports and the dashboard."""

    bars: int = 0
    intents: int = 0
    approved: int = 0
    resized: int = 0
    denied: int = 0
    orders: int = 0


class Trader:
    """Runs the order path for every closed bar.

    Args:
        brain: proposes intents.
        risk: the deterministic risk engine.
        execution: sends approved orders and books fills.
        journal: the ledger.
        clock: engine clock (a SimClock in backtest and paper replay).
        book: last prices, rates and the VaR return window.
        instruments: traded instruments by id.
    """

    def __init__(
        self,
        brain: Brain,
        risk: RiskEngine,
        execution: ExecutionEngine,
        journal: EventSink,
        clock: Clock,
        book: MarketBook,
        instruments: Mapping[InstrumentId, Instrument],
    ) -> None:
        self.brain = brain  # the property also notes whether it runs cycles (checked once, not per bar)
        self.risk = risk
        self.execution = execution
        self.journal = journal
        self.clock = clock
        self.book = book
        self.instruments = dict(instruments)
        self.equity = EquityMarks()
        self.machine = TradingStateMachine()
        self._owner: dict[InstrumentId, str] = {}  # last strategy that traded each instrument (budgets)
        self.stats = TraderStats()
        self.trading = True
        self.recent: list[tuple[OrderIntent, RiskOutcome]] = []
        self.approvals: ApprovalQueue | None = None  # orders that need a person wait here
        self.forecasts: ForecastSource | None = None  # quantiles for the risk snapshot, when wired
        self._last_bands: tuple[TradingState, tuple[int, ...]] | None = None
        self._marked_day: int | None = None
        self._mark_above: Decimal | None = None
        self._governor: LimitGovernor | None = None
        self._levels: tuple[RiskLimits, tuple[list[float], ...]] | None = None  # breaker levels per limits

    @property
    def state(self) -> TradingState:
        """ACTIVE, REDUCING or HALTED."""
        return self.machine.state

    @property
    def governor(self) -> LimitGovernor:
        """The limits in force and the limit changes waiting for people (see :meth:`record_limits`).

        Built on first use from the risk engine's own config and the traded instruments, unless the
        composition root set one.
        """
        if self._governor is None:
            self._governor = LimitGovernor(self.risk.limits.config, instruments=self.instruments)
        return self._governor

    @governor.setter
    def governor(self, governor: LimitGovernor) -> None:
        self._governor = governor

    def record_limits(self, events: Sequence[Event]) -> None:
        """Install the governor's limits when ``events`` hold a ``LimitChanged``, then journal ``events``.

        Nothing here awaits, so the swap falls between two risk checks: the next check, breaker
        evaluation and cancel check use the new limits whole.
        """
        if any(isinstance(e, LimitChanged) for e in events):
            self.risk.replace_limits(self.governor.limits)
            self._last_bands = None
        for event in events:
            self.journal.append(event)

    def propose_limit(self, key: str, value: str, proposer: str, reason: str) -> LimitProposal:
        """Queue a limit change for people to decide (anyone may ask, the agent too); changes nothing.

        Raises:
            InvalidInput: unknown key or a value the ``risk:`` section would refuse.
        """
        proposal, events = self.governor.propose(key, value, proposer, reason, self.clock.now())
        self.record_limits(events)
        return proposal

    def restore_state(self, state: TradingState) -> None:
        """Start in ``state`` (the journaled one, on resume): a restart never lifts a halt."""
        self.machine = TradingStateMachine(state)
        self._last_bands = None

    def restore_owners(self, owners: Mapping[InstrumentId, str]) -> None:
        """Which strategy holds each position (from the ledger's orders), for the budget check."""
        self._owner.update(owners)

    def context(self) -> StrategyContext:
        """What the brain may see now."""
        p = self.execution.portfolio
        positions = {iid: pos.quantity for iid, pos in p.positions.items() if pos.quantity}
        return StrategyContext(now=self.clock.now(), positions=positions, cash=dict(p.cash))

    def snapshot(self) -> RiskSnapshot:
        """Everything the risk engine needs, frozen at this instant."""
        now = self.clock.now()
        return portfolio_snapshot(
            now,
            self.execution.portfolio,
            self.book,
            self.equity,
            self.instruments,
            open_orders=self.execution.open_orders(),
            submit_times=self.execution.submit_times,
            cancel_times=self.execution.cancel_times,
            venues=self._venue_health(),
            trading_state=self.state,
            strategy_usage=self._strategy_usage(),
            forecasts=self.forecasts.forecasts(now) if self.forecasts is not None else None,
        )

    def _strategy_usage(self) -> dict[str, Decimal]:
        usage: dict[str, Decimal] = {}
        p = self.execution.portfolio
        owner = self._owner
        for iid, pos in p.positions.items():
            if pos.quantity and iid in self.book.market:
                name = owner.get(iid, "manual")
                usage[name] = usage.get(name, Decimal(0)) + abs(pos.quantity) * self.book.value_in_account(
                    iid
                )
        return usage

    @property
    def brain(self) -> Brain:
        """Who decides (rules or LLM); assigning one re-checks whether it runs decision cycles."""
        return self._brain

    @brain.setter
    def brain(self, brain: Brain) -> None:
        self._brain = brain
        # A runtime Protocol check costs ~25 us; on_bar runs per bar, so it is made once here.
        self._cycling: CyclingBrain | None = brain if isinstance(brain, CyclingBrain) else None
        self.stepped: SteppedBrain | None = brain if isinstance(brain, SteppedBrain) else None

    # -- the loop ----------------------------------------------------------------------------------

    async def on_bar(self, bar: Bar, *, decide: bool = True) -> None:
        """A bar closed: update marks, let the brain decide, and run each intent through risk.

        Args:
            bar: the closed bar.
            decide: False during warm-up (marks and indicators update, no orders).
        """
        self.account(bar)
        await self.think(bar, decide=decide)

    def account(self, bar: Bar) -> None:
        """The bookkeeping half of :meth:`on_bar`: book, equity marks (journaled when due), breakers."""
        close_ts = bar.ts + timedelta(seconds=bar.interval)
        self.book.on_bar(bar, close_ts)
        self.stats.bars += 1
        if self.forecasts is not None:
            self.forecasts.observe(bar)
        eq = self.equity
        equity = eq.update(self.execution.portfolio, self.book, close_ts)
        if equity is not None and (
            eq.day != self._marked_day or (self._mark_above is not None and equity > self._mark_above)
        ):
            self.mark_equity(close_ts)
        self._apply_breakers()

    async def think(self, bar: Bar, *, decide: bool = True, observed: bool = False) -> None:
        """The deciding half of :meth:`on_bar`, once ``bar`` is accounted for: the brain, then risk.

        Args:
            bar: the closed bar.
            decide: False during warm-up (indicators update, no orders).
            observed: the brain (a :class:`SteppedBrain`) has already observed ``bar``; it is only
                asked to decide (the backtest fast path, :mod:`gekko_agent.runtime.quiet`).
        """
        if observed:
            if self.stepped is None:
                raise InvalidInput(f"{self.brain.name}: this brain cannot decide on a bar it has not seen")
            intents = list(self.stepped.decide(bar, self.context()))
        else:
            intents = list(self.brain.on_bar(bar, self.context()))
        if not decide or not self.trading:
            return
        cancels: list[str] = []
        cycling = self._cycling
        close_ts = bar.ts + timedelta(seconds=bar.interval)
        if cycling is not None and cycling.due(close_ts):
            intents += await cycling.run_cycle(close_ts)
            if isinstance(cycling, CancellingBrain):
                cancels = cycling.take_cancels()
        for cid in cancels:
            if cid in self.execution.orders:
                await self.cancel(cid, self.brain.name)
        for intent in intents:
            await self.propose(intent)

    def mark_equity(self, ts: datetime | None = None) -> EquityMarked | None:
        """Journal the breakers' references (equity, day start, peak) so a restart can restore them.

        Called when a new UTC day starts or the peak has risen by :data:`MARK_STEP`, and on a clean
        stop; None while equity is unknown.
        """
        eq = self.equity
        if eq.now is None or eq.day_start is None or eq.peak is None:
            return None
        event = EquityMarked(
            ts=ts or self.clock.now(),
            currency=self.execution.portfolio.account_currency,
            equity=eq.now,
            day_start=eq.day_start,
            peak=eq.peak,
        )
        self.journal.append(event)
        self._marked_day, self._mark_above = eq.day, eq.peak * (1 + MARK_STEP)
        return event

    async def on_fills(self, fills: Sequence[Fill]) -> None:
        """Book fills the venue reported outside a submit (resting orders), then tell the brain."""
        for fill in fills:
            if self.execution.on_fill(fill) and self.trading:
                for intent in self.brain.on_fill(fill, self.context()):
                    await self.propose(intent)

    async def propose(self, intent: OrderIntent) -> RiskOutcome:
        """The one path: journal the intent, check it, and send what risk approved."""
        now = self.clock.now()
        if intent.created_at is None:
            intent = dataclasses.replace(intent, created_at=now)
        self.stats.intents += 1
        self.journal.append(IntentProposed(ts=now, decision_id=intent.decision_id, intent=intent))
        outcome = self.risk.check(intent, self.snapshot())
        self.journal.append(to_event(outcome, now))
        self.recent.append((intent, outcome))
        del self.recent[:-200]
        if isinstance(outcome, Denied):
            self.stats.denied += 1
            return outcome
        if outcome.intent is not intent:
            self.stats.resized += 1
        else:
            self.stats.approved += 1
        if self.approvals is not None and self._needs_person(outcome.intent):
            return outcome
        self._owner[outcome.intent.instrument_id] = outcome.intent.strategy
        await self.execution.submit(outcome.intent)
        self.stats.orders += 1
        return outcome

    async def cancel(self, client_order_id: str, requested_by: str) -> CancelOutcome:
        """The one path for cancels: the risk engine's cancel-rate check, then the venue.

        A denial is journaled (``RiskEvaluated`` with intent id ``cancel:<order>``, linked to the
        order's decision) and returned; nothing is sent. In REDUCING and HALTED cancels always pass.

        Args:
            client_order_id: one of the engine's orders.
            requested_by: who asked (a person, ``ops:<name>``, or the brain's name), for the journal.

        Raises:
            OrderNotFound: the engine holds no such order.
        """
        order = self.execution.orders.get(client_order_id)
        if order is None:
            raise OrderNotFound(f"no order {client_order_id} in this session")
        decision = self.risk.check_cancel(self.snapshot())
        if not decision.allowed:
            self.journal.append(
                RiskEvaluated(
                    ts=self.clock.now(),
                    decision_id=order.intent.decision_id,
                    intent_id=f"cancel:{client_order_id}",
                    outcome="denied",
                    reasons=(str(decision.reason),) if decision.reason else (),
                    explanation=f"Cancel of {client_order_id} asked by {requested_by}: "
                    f"{decision.explanation}",
                )
            )
            return CancelOutcome(client_order_id, decision, None)
        return CancelOutcome(client_order_id, decision, await self.execution.cancel(client_order_id))

    def _needs_person(self, intent: OrderIntent) -> bool:
        """Queue ``intent`` for approval when the policy asks for a person; True when queued."""
        assert self.approvals is not None
        try:
            notional = intent.quantity * self.book.value_in_account(intent.instrument_id)
        except DataNotFound:
            notional = Decimal(0)
        reason = self.approvals.reason_for(notional, self.brain.name)
        if reason is None:
            return False
        self.approvals.request(intent, notional, self.brain.name, reason)
        return True

    # -- trading state ---------------------------------------------------------------------------

    def _loss_fractions(self) -> list[tuple[float, list[float]]] | None:
        """(estimated loss fraction, sorted levels) per enabled loss breaker; None before equity."""
        eq = self.equity
        if eq.now is None:
            return None
        now = float(eq.now)
        out: list[tuple[float, list[float]]] = []
        for levels, ref in zip(self._loss_levels(), (eq.day_start, eq.peak), strict=True):
            if levels and ref:
                out.append(((float(ref) - now) / float(ref), levels))
        return out

    def _loss_levels(self) -> tuple[list[float], ...]:
        """Sorted float levels of the daily-loss and drawdown breakers (empty when disabled), cached."""
        limits = self.risk.limits
        if self._levels is None or self._levels[0] is not limits:
            self._levels = (limits, tuple(_levels(br) for br in (limits.daily_loss, limits.drawdown)))
        return self._levels[1]

    def quiet_band(self) -> tuple[float, float, int] | None:
        """Where a bar is sure to leave the breakers and the equity marks alone (the backtest's quiet path).

        Returns ``(lower, upper, day_end_ns)``. A bar that closes before ``day_end_ns`` (the next UTC
        midnight, ns) with equity strictly between ``lower`` and ``upper`` journals no
        ``EquityMarked`` in :meth:`on_bar` (the day is the marked one, the peak stays under the next
        mark level) and needs no breaker evaluation: every loss fraction stays under half of its
        breaker's first level, the drawdown measured from the highest peak the band allows. Both ends
        keep a relative margin of :data:`QUIET_MARGIN` for estimates made in float. None when no such
        promise holds: breakers tripped or a flatten under way, a venue with errors, open orders,
        equity or its references unknown, marks restored from a ledger, equity not above zero.
        """
        eq = self.equity
        if not self.machine.quiet or any(s.consecutive_errors for s in self.execution.stats.values()):
            return None
        if self.execution.open_orders():
            return None
        mark_above, day = self._mark_above, eq.day
        if eq.now is None or eq.day_start is None or eq.peak is None or mark_above is None or day is None:
            return None
        if day != self._marked_day or eq.not_before is not None or eq.now <= 0:
            return None
        highest_peak = max(eq.peak, mark_above)  # a quiet bar never lifts the peak past mark_above
        lower = -math.inf
        for levels, ref in zip(self._loss_levels(), (eq.day_start, highest_peak), strict=True):
            if levels and ref:
                lower = max(lower, float(ref) * (1.0 - levels[0] / 2.0) * (1.0 + QUIET_MARGIN))
        upper = float(mark_above) * (1.0 - QUIET_MARGIN)
        return lower, upper, (day + 1 - _EPOCH_ORDINAL) * _DAY_NS

    def _band_key(self) -> tuple[TradingState, tuple[int, ...]] | None:
        """The state and, per loss breaker, how many levels its fraction reached; None when unsure.

        None while a fraction is within :data:`BAND_MARGIN` of one of its levels, equity is unknown,
        a flatten is under way or a venue has errors.
        """
        if self.machine.flattening or any(s.consecutive_errors for s in self.execution.stats.values()):
            return None
        fractions = self._loss_fractions()
        if fractions is None:
            return None
        bands: list[int] = []
        for frac, levels in fractions:
            if any(abs(frac - x) <= BAND_MARGIN for x in levels):
                return None
            bands.append(sum(frac >= x for x in levels))
        return self.state, tuple(bands)

    def _breakers_may_trip(self) -> bool:
        """Cheap pre-test on every bar: False only when an evaluation would change nothing.

        Loss fractions are estimated in float from the engine's own equity marks. With nothing
        tripped, the evaluation is skipped while every fraction is below half of its smallest level
        and no venue has errors. With breakers tripped (and acknowledged by the last evaluation), it
        is skipped while the state and the band each fraction lies in (below, between or above its
        levels) equal those of the last evaluation, no fraction is within :data:`BAND_MARGIN` of a
        level, no venue has errors and no flatten is under way: the evaluation would find the same
        trips and journal nothing. Either way a breaker is never late.
        """
        if not self.machine.quiet:
            key = self._band_key()
            return key is None or key != self._last_bands
        if any(s.consecutive_errors for s in self.execution.stats.values()):
            return True
        fractions = self._loss_fractions()
        if fractions is None:
            return True
        return any(frac >= levels[0] / 2 for frac, levels in fractions)

    def _apply_breakers(self) -> None:
        if not self._breakers_may_trip():
            return
        for change in self.machine.evaluate(self.snapshot_for_breakers(), self.risk.limits):
            self.journal.append(change)
            self.journal.append(
                AlertRaised(ts=change.ts, level="warning", source="risk", message=change.reason)
            )
        self._last_bands = self._band_key()

    def snapshot_for_breakers(self) -> RiskSnapshot:
        """A light snapshot (no open orders or returns) for the breaker evaluation on every bar."""
        p = self.execution.portfolio
        return RiskSnapshot(
            now=self.clock.now(),
            account_currency=p.account_currency,
            cash=p.cash,
            positions={iid: pos for iid, pos in p.positions.items() if pos.quantity},
            instruments=self.instruments,
            market=self.book.market,
            rates=self.book.rates(),
            equity_day_start=self.equity.day_start,
            equity_peak=self.equity.peak,
            venues=self._venue_health(),
            trading_state=self.state,
        )

    def _venue_health(self) -> dict[str, VenueHealth]:
        return {
            name: VenueHealth(s.consecutive_errors, s.connected_at, s.last_error_at, s.reconciled_at)
            for name, s in self.execution.stats.items()
        }

    def command_state(self, command: str, actor: HumanActor, reason: str) -> None:
        """A person halts, reduces, flattens or resumes; journaled with who did it.

        Args:
            command: ``halt``, ``reduce``, ``flatten`` (HALTED → REDUCING until flat) or ``resume``.
            actor: the person (only the ops layer can mint a HumanActor).
            reason: why, for the journal.
        """
        now = self.clock.now()
        moves = {
            "halt": self.machine.halt,
            "reduce": self.machine.reduce,
            "flatten": self.machine.begin_flatten,
            "resume": self.machine.resume,
        }
        self.journal.append(moves[command](actor, reason, now))
