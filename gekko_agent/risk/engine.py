"""The RiskEngine: ``check(intent, snapshot) -> Approved | Resized | Denied``, pure and deterministic.

Three phases:

1. **fatal gates** (sane intent numbers, allow-list, instrument, HALTED, market data, conversion rate,
   tick): a failure denies at once and the rest of the trace shows ``skip``;
2. **sizing**: every other check returns a *cap* (largest quantity it allows); gates on new exposure cap
   the order at its reducible part; the smallest cap, rounded down to the lot, is the candidate quantity;
3. **final**: minimum quantity/notional and VaR/ES of the portfolio with the candidate quantity.

The engine keeps one cache: the :class:`~gekko_agent.risk.view.PortfolioView` of the last snapshot it saw
(valuation, exposure sums, VaR vectors, stress losses, and per instrument and side the snapshot-fixed part
of every cap), so checking many intents against one snapshot costs only each order's marginal effect:
mostly Decimal comparisons, and for VaR an O(1) bound or, near the limit, an exact search of the few rows
that can reach the tail. It never reads a clock, a file or the network.

It fails closed: ``check()`` returns a value for every input. An arithmetic failure anywhere (a Decimal
beyond the context's precision, a non-finite risk figure) denies the order with ``arithmetic_error``,
naming the check that failed, instead of raising.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from gekko_agent.domain import OrderIntent, Quantity
from gekko_agent.errors import InvalidInput
from gekko_agent.risk.checks import exposure_gates as eg
from gekko_agent.risk.checks import funding, gates, portfolio, pricing, sizing
from gekko_agent.risk.config import RiskConfig
from gekko_agent.risk.context import OrderContext, deny, skipped
from gekko_agent.risk.floor import lot_floor
from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.outcomes import (
    Approved,
    CheckResult,
    Denied,
    ReasonCode,
    Resized,
    RiskOutcome,
    Verdict,
)
from gekko_agent.risk.plan import LimitPlan
from gekko_agent.risk.snapshot import RiskSnapshot, TradingState
from gekko_agent.risk.view import PortfolioView, cancels_in_window

__all__ = ["CHECK_NAMES", "CancelDecision", "RiskEngine"]

Check = Callable[[OrderContext], CheckResult]
FinalCheck = Callable[[OrderContext, Decimal], CheckResult]

_FATAL_BEFORE_PRICES: tuple[tuple[str, Check], ...] = (
    ("allow_list", gates.check_allow_list),
    ("instrument", gates.check_instrument),
    ("trading_state", gates.check_halted),
    ("market_data", gates.check_market_data),
    ("fx_rate", gates.check_rate),
)
_FATAL_AFTER_PRICES: tuple[tuple[str, Check], ...] = (("tick_size", gates.check_tick),)
_SIZING: tuple[tuple[str, Check], ...] = (
    ("reducing_state", eg.check_reducing),
    ("reduce_only", eg.check_reduce_only),
    ("sessions", eg.check_sessions),
    ("venue_circuit", eg.check_venue_circuit),
    ("reconciliation", eg.check_reconciled),
    ("valuation", eg.check_valuation),
    ("daily_loss", eg.check_daily_loss),
    ("drawdown", eg.check_drawdown),
    ("price_band", pricing.check_price_band),
    ("submit_rate", pricing.check_submit_rate),
    ("order_notional", sizing.check_order_notional),
    ("order_quantity", sizing.check_order_quantity),
    ("lot_size", sizing.check_lot_size),
    ("position", sizing.check_position),
    ("gross_exposure_venue", sizing.check_gross_venue),
    ("net_exposure_venue", sizing.check_net_venue),
    ("gross_exposure_account", sizing.check_gross_account),
    ("net_exposure_account", sizing.check_net_account),
    ("leverage", sizing.check_leverage),
    ("funding", funding.check_funding),
    ("strategy_budget", funding.check_budget),
    ("stress", portfolio.check_stress),
    ("forecast", portfolio.check_forecast),
    ("var_data", portfolio.check_var_data),
)
_SIZING_FNS: tuple[Check, ...] = tuple(fn for _, fn in _SIZING)
_FINAL: tuple[tuple[str, FinalCheck], ...] = (
    ("min_size", portfolio.check_min_size),
    ("var_es", portfolio.check_var_es),
)
CHECK_NAMES: tuple[str, ...] = (
    "intent",
    *(n for n, _ in (*_FATAL_BEFORE_PRICES, *_FATAL_AFTER_PRICES, *_SIZING, *_FINAL)),
)
_FAILURES = (ArithmeticError, InvalidInput)
"""What a check may raise on extreme numbers: decimal signals (InvalidOperation, Overflow, DivisionByZero
…), float overflow, and InvalidInput for a non-finite VaR figure. Anything else is a bug and propagates."""


@dataclass(frozen=True, slots=True)
class CancelDecision:
    """Whether a cancel may be sent. Cancels always pass in REDUCING and HALTED (exits stay possible).

    Attributes:
        allowed: True when the cancel may go to the venue.
        reason: the reason code when it may not.
        explanation: one sentence.
    """

    allowed: bool
    reason: ReasonCode | None
    explanation: str


_AGGREGATES = "the portfolio's valuation, exposure, stress or VaR"
_DENY = Verdict.DENY
_PASS = Verdict.PASS


def _instrument_gates(ctx: OrderContext, done: list[CheckResult]) -> tuple[CheckResult, ...]:
    """Results of the gates that depend only on the instrument, up to the first denial (also appended to
    ``done``, so a failure part-way leaves the trace so far)."""
    start = len(done)
    for _, fn in _FATAL_BEFORE_PRICES:
        r = fn(ctx)
        done.append(r)
        if r.verdict is _DENY:
            break
    return tuple(done[start:])


def _fatal_trace(done: list[CheckResult]) -> tuple[CheckResult, ...]:
    seen = {r.name for r in done}
    return (*done, *(skipped(n) for n in CHECK_NAMES if n not in seen))


def _reasons(trace: tuple[CheckResult, ...]) -> tuple[ReasonCode, ...]:
    out: list[ReasonCode] = []
    for r in trace:
        if r.reason is not None and r.verdict is not _PASS and r.reason not in out:
            out.append(r.reason)
    return tuple(out)


class RiskEngine:
    """Deterministic pre-trade risk checks (see the module docstring).

    Args:
        limits: the limits in force (a :class:`RiskConfig` is converted; none: the safe defaults).
    """

    def __init__(self, limits: RiskLimits | RiskConfig | None = None) -> None:
        if limits is None:
            limits = RiskConfig()
        self._limits = limits if isinstance(limits, RiskLimits) else RiskLimits.from_config(limits)
        self._plan = LimitPlan(self._limits)
        self._cached: tuple[RiskSnapshot, RiskLimits, PortfolioView] | None = None

    @property
    def limits(self) -> RiskLimits:
        """The limits in force."""
        return self._limits

    def replace_limits(self, limits: RiskLimits) -> None:
        """Install new limits. Call only with limits a :class:`~gekko_agent.risk.governance.LimitGovernor`
        produced (the composition root wires this; agent tools never hold the engine itself)."""
        self._limits = limits
        self._plan = LimitPlan(limits)
        self._cached = None

    def view(self, snapshot: RiskSnapshot) -> PortfolioView:
        """The aggregates of ``snapshot`` (cached for the last snapshot seen)."""
        c = self._cached
        if c is not None and c[0] is snapshot and c[1] is self._limits:
            return c[2]
        view = PortfolioView(snapshot, self._limits, self._plan)
        self._cached = (snapshot, self._limits, view)
        return view

    def check(self, intent: OrderIntent, snapshot: RiskSnapshot) -> RiskOutcome:
        """Approve, resize or deny ``intent`` against ``snapshot``. Same inputs, same answer, never raises
        on extreme numbers (see the module docstring)."""
        done: list[CheckResult] = []
        try:
            return self._check(intent, snapshot, done)
        except _FAILURES as exc:
            return self._failed(intent, done, exc)

    def _check(self, intent: OrderIntent, snapshot: RiskSnapshot, done: list[CheckResult]) -> RiskOutcome:
        append = done.append
        first = gates.check_intent(intent)  # before the view: it depends on the intent alone
        append(first)
        if first.verdict is _DENY:
            return self._denied(intent, _fatal_trace(done))
        lim = self._limits
        c = self._cached
        try:
            view = c[2] if c is not None and c[0] is snapshot and c[1] is lim else self.view(snapshot)
        except _FAILURES as exc:  # the snapshot's own numbers cannot be aggregated
            return self._failed(intent, done, exc, "valuation", _AGGREGATES)
        ctx = OrderContext(intent, snapshot, view, lim)
        cached = view.gates.get(ctx.iid)
        if cached is None:  # the first gates depend only on the instrument: once per snapshot
            cached = view.gates[ctx.iid] = _instrument_gates(ctx, done)
        else:
            done.extend(cached)
        if cached[-1].verdict is _DENY:
            return self._denied(intent, _fatal_trace(done))
        try:
            ctx.prepare()  # builds (once per snapshot and side) exposure, stress and VaR aggregates
        except _FAILURES as exc:
            return self._failed(intent, done, exc, "valuation", _AGGREGATES)
        for _, fn in _FATAL_AFTER_PRICES:
            r = fn(ctx)
            append(r)
            if r.verdict is _DENY:
                return self._denied(intent, _fatal_trace(done))
        q0: Decimal = intent.quantity
        cap = q0
        binding: CheckResult | None = None
        for fn in _SIZING_FNS:
            r = fn(ctx)
            append(r)
            rc = r.cap
            if rc is not None and rc < cap:
                cap, binding = rc, r
        assert ctx.inst is not None
        q: Decimal = lot_floor(cap, ctx.inst.lot_size) if cap > 0 else Decimal(0)
        q = min(q, q0)
        if q <= 0:
            done.extend(skipped(n) for n, _ in _FINAL)
            return self._denied(intent, tuple(done))
        for _, final in _FINAL:
            r = final(ctx, q)
            append(r)
            if r.verdict is _DENY:
                return self._denied(intent, _fatal_trace(done))  # later final checks show ``skip``
        trace = tuple(done)
        if q == q0:
            return Approved(intent, trace)
        assert binding is not None
        reasons = _reasons(trace)
        explanation = f"Resized from {q0} to {q}: {binding.detail}."
        return Resized(intent.with_quantity(Quantity(q)), intent, reasons, explanation, trace)

    def _failed(
        self,
        intent: OrderIntent,
        done: list[CheckResult],
        exc: Exception,
        name: str | None = None,
        what: str | None = None,
    ) -> Denied:
        """Deny after an arithmetic failure in ``what`` (default: check ``name``, default: the first check
        without a result), recorded as a denial by ``name``."""
        if name is None:
            seen = {r.name for r in done}
            name = next((n for n in CHECK_NAMES if n not in seen), CHECK_NAMES[-1])
        why = f"{type(exc).__name__} while computing {what or name}; the numbers are out of range"
        return self._denied(intent, _fatal_trace([*done, deny(name, ReasonCode.ARITHMETIC_ERROR, why)]))

    @staticmethod
    def _denied(intent: OrderIntent, trace: tuple[CheckResult, ...]) -> Denied:
        first: CheckResult | None = None
        for r in trace:
            if r.verdict is _DENY:
                first = r
                break
        if first is None:  # denied because the caps left less than one lot
            first = next(r for r in trace if r.verdict is Verdict.RESIZE)
        reasons = _reasons(trace)
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        return Denied(intent, reasons, f"Denied: {first.detail}{more}.", trace)

    def check_cancel(self, snapshot: RiskSnapshot) -> CancelDecision:
        """May a cancel be sent now? Only the cancel rate limits it, and only in ACTIVE.

        It counts the cancel window straight from the snapshot, so a portfolio whose numbers cannot be
        valued (see :meth:`check`) never blocks a cancel.
        """
        lim = self._limits
        if snapshot.trading_state is not TradingState.ACTIVE or not lim.rate_enabled:
            return CancelDecision(True, None, "Cancels always pass outside ACTIVE.")
        count = cancels_in_window(snapshot, lim)
        if count >= lim.max_cancels:
            why = f"Denied: {count} cancels in {lim.cancel_window_s:.0f} s reach the {lim.max_cancels} limit."
            return CancelDecision(False, ReasonCode.CANCEL_RATE, why)
        return CancelDecision(True, None, "Approved: the cancel rate is within its limit.")
