"""Gates on *new* exposure: each caps the order at its reducible part, so exits stay possible.

REDUCING state, the ``reduce_only`` flag, closed sessions and maintenance, the venue circuit breaker, the
reconciliation watermark, the daily-loss and drawdown breakers, and an unvalued portfolio.
"""

from __future__ import annotations

from decimal import Decimal

from gekko_agent.domain import AssetClass
from gekko_agent.risk.context import PASS, SKIP, OrderContext
from gekko_agent.risk.limits import LossBreaker, in_week_interval, minute_of_week
from gekko_agent.risk.outcomes import CheckResult, ReasonCode
from gekko_agent.risk.snapshot import TradingState
from gekko_agent.risk.view import daily_loss_fraction, drawdown_fraction

__all__ = [
    "check_daily_loss",
    "check_drawdown",
    "check_reconciled",
    "check_reduce_only",
    "check_reducing",
    "check_sessions",
    "check_valuation",
    "check_venue_circuit",
    "daily_loss_fraction",
    "drawdown_fraction",
]


def check_reducing(ctx: OrderContext) -> CheckResult:
    """In REDUCING only orders that shrink the position pass (larger ones are cut to flat); always on."""
    if ctx.snap.trading_state is TradingState.REDUCING:
        return ctx.only_reducing("reducing_state", ReasonCode.TRADING_REDUCING, "trading is REDUCING")
    return PASS["reducing_state"]


def check_reduce_only(ctx: OrderContext) -> CheckResult:
    """An intent flagged ``reduce_only`` may not add exposure; always on."""
    if ctx.intent.reduce_only:
        return ctx.only_reducing("reduce_only", ReasonCode.REDUCE_ONLY, "the order is reduce-only")
    return PASS["reduce_only"]


Block = tuple[ReasonCode, str] | None
"""Why a gate forbids new exposure (reason, detail), or None when it does not."""


def _venue_block(ctx: OrderContext, name: str) -> Block:
    """The block of the venue gate ``name`` for the order's instrument, computed once per snapshot."""
    assert ctx.inst is not None
    inst = ctx.inst
    key = (name, inst.venue, inst.asset_class)
    memo = ctx.view.blocks
    if key not in memo:
        memo[key] = _session_block(ctx) if name == "sessions" else _reconcile_block(ctx)
    return memo[key]


def _session_block(ctx: OrderContext) -> Block:
    assert ctx.inst is not None
    lim, now = ctx.lim, ctx.snap.now
    for w in lim.maintenance:
        if w.covers(ctx.inst.venue, now):
            return ReasonCode.VENUE_MAINTENANCE, f"{ctx.inst.venue} is in maintenance"
    if ctx.inst.asset_class is AssetClass.FX and in_week_interval(
        minute_of_week(now), lim.fx_close, lim.fx_open
    ):
        return ReasonCode.VENUE_SESSION_CLOSED, "the FX market is closed for the weekend"
    return None


def _reconcile_block(ctx: OrderContext) -> Block:
    assert ctx.inst is not None
    health = ctx.snap.venues.get(ctx.inst.venue)
    if health is None or not health.reconciled:
        why = f"{ctx.inst.venue} is not reconciled since its last start, reconnect or error"
        return ReasonCode.VENUE_NOT_RECONCILED, why
    return None


def check_sessions(ctx: OrderContext) -> CheckResult:
    """No new exposure while FX is closed for the weekend or the venue is in maintenance."""
    name = "sessions"
    if not ctx.lim.sessions_enabled:
        return SKIP[name]
    block = _venue_block(ctx, name)
    return PASS[name] if block is None else ctx.only_reducing(name, *block)


def check_venue_circuit(ctx: OrderContext) -> CheckResult:
    """Venue circuit breaker: too many consecutive venue errors forbid new exposure there."""
    name, lim = "venue_circuit", ctx.lim
    if not lim.venue_breaker_enabled:
        return SKIP[name]
    assert ctx.inst is not None
    health = ctx.snap.venues.get(ctx.inst.venue)
    if health is not None and health.consecutive_errors >= lim.venue_max_errors:
        why = f"{ctx.inst.venue} had {health.consecutive_errors} consecutive errors"
        return ctx.only_reducing(name, ReasonCode.VENUE_CIRCUIT_OPEN, why)
    return PASS[name]


def check_reconciled(ctx: OrderContext) -> CheckResult:
    """Reconciliation watermark: the venue must be reconciled since its last start, reconnect or error."""
    name = "reconciliation"
    if not ctx.lim.reconcile_enabled:
        return SKIP[name]
    block = _venue_block(ctx, name)
    return PASS[name] if block is None else ctx.only_reducing(name, *block)


def _loss_gate(
    ctx: OrderContext, name: str, br: LossBreaker, frac: Decimal | None, code: ReasonCode
) -> CheckResult:
    level = br.first_level
    if level is None:
        return SKIP[name]
    if frac is None:
        return ctx.only_reducing(name, code, f"{name.replace('_', ' ')} cannot be measured (equity unknown)")
    if frac >= level:
        return ctx.only_reducing(
            name, code, f"{name.replace('_', ' ')} {frac:.2%} reached the {level:.2%} breaker"
        )
    return PASS[name]


def check_daily_loss(ctx: OrderContext) -> CheckResult:
    """Daily-loss breaker: from its first level on, no new exposure (the state machine also moves)."""
    return _loss_gate(ctx, "daily_loss", ctx.lim.daily_loss, ctx.view.daily_loss, ReasonCode.DAILY_LOSS)


def check_drawdown(ctx: OrderContext) -> CheckResult:
    """Drawdown breaker: from its first level on, no new exposure (the state machine also moves)."""
    return _loss_gate(ctx, "drawdown", ctx.lim.drawdown, ctx.view.drawdown, ReasonCode.DRAWDOWN)


def check_valuation(ctx: OrderContext) -> CheckResult:
    """Every holding must be valued (marks and rates) and equity positive; always on."""
    view = ctx.view
    if view.unvalued:
        return ctx.only_reducing("valuation", ReasonCode.PORTFOLIO_UNVALUED, view.unvalued[0])
    if view.equity is None or view.equity <= 0:
        return ctx.only_reducing("valuation", ReasonCode.PORTFOLIO_UNVALUED, "equity is not positive")
    return PASS["valuation"]
