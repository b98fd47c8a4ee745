"""Fatal gates: without a known, allowed instrument, fresh prices and a conversion rate, nothing else can be
judged, so these deny outright (fail closed) and the engine skips the remaining checks."""

from __future__ import annotations

from datetime import datetime

from gekko_agent.domain import OrderIntent
from gekko_agent.risk.bounds import MAX_PRICE, MAX_QUANTITY, number_problem
from gekko_agent.risk.context import PASS, SKIP, OrderContext, deny
from gekko_agent.risk.floor import remainder
from gekko_agent.risk.outcomes import CheckResult, ReasonCode
from gekko_agent.risk.snapshot import TradingState

__all__ = [
    "check_allow_list",
    "check_halted",
    "check_instrument",
    "check_intent",
    "check_market_data",
    "check_rate",
    "check_tick",
]


def check_intent(intent: OrderIntent) -> CheckResult:
    """Quantity and prices finite, positive, within :mod:`~gekko_agent.risk.bounds`; always on.

    It reads the intent alone, so the engine runs it before looking at the snapshot.
    """
    problem = number_problem(intent.quantity, "quantity", MAX_QUANTITY)
    for what, p in (("limit price", intent.limit_price), ("stop price", intent.stop_price)):
        if problem is None and p is not None:
            problem = number_problem(p, what, MAX_PRICE)
    if problem is None:
        return PASS["intent"]
    return deny("intent", ReasonCode.INVALID_INTENT, problem)


def check_allow_list(ctx: OrderContext) -> CheckResult:
    """The instrument must match the allow-list."""
    name = "allow_list"
    if not ctx.lim.allow_enabled:
        return SKIP[name]
    if ctx.lim.allows(ctx.iid):
        return PASS[name]
    return deny(name, ReasonCode.INSTRUMENT_NOT_ALLOWED, f"{ctx.iid} is not on the allow-list")


def check_instrument(ctx: OrderContext) -> CheckResult:
    """The instrument must be known (tick, lot, minimums); always on."""
    if ctx.inst is not None:
        return PASS["instrument"]
    return deny("instrument", ReasonCode.INSTRUMENT_UNKNOWN, f"{ctx.iid} is not a configured instrument")


def check_halted(ctx: OrderContext) -> CheckResult:
    """HALTED sends nothing (cancels go through :meth:`RiskEngine.check_cancel`); always on."""
    if ctx.snap.trading_state is TradingState.HALTED:
        return deny("trading_state", ReasonCode.TRADING_HALTED, "trading is HALTED; only cancels pass")
    return PASS["trading_state"]


def _age(now: datetime, ts: datetime) -> float:
    return (now - ts).total_seconds()


def check_market_data(ctx: OrderContext) -> CheckResult:
    """Last trade present and fresh; quote (when present or required) fresh and not crossed.

    A missing last price denies even when the check is disabled: no other check could be computed.
    """
    name, md, lim = "market_data", ctx.md, ctx.lim
    if md is None or md.last is None or md.last <= 0:
        return deny(name, ReasonCode.PRICE_MISSING, f"no last price for {ctx.iid}")
    if not lim.data_enabled:
        return SKIP[name]
    if md.last_ts is None or _age(ctx.snap.now, md.last_ts) > lim.max_trade_age_s:
        return deny(
            name, ReasonCode.PRICE_STALE, f"last price of {ctx.iid} is older than {lim.max_trade_age_s:.0f} s"
        )
    if md.bid is None or md.ask is None:
        if lim.require_quote:
            return deny(name, ReasonCode.QUOTE_MISSING, f"no bid/ask quote for {ctx.iid}")
        return PASS[name]
    if md.quote_ts is None or _age(ctx.snap.now, md.quote_ts) > lim.max_quote_age_s:
        return deny(
            name, ReasonCode.QUOTE_STALE, f"quote of {ctx.iid} is older than {lim.max_quote_age_s:.0f} s"
        )
    if md.bid <= 0 or md.ask < md.bid:
        return deny(
            name, ReasonCode.QUOTE_CROSSED, f"quote of {ctx.iid} is crossed (bid {md.bid} > ask {md.ask})"
        )
    return PASS[name]


def check_rate(ctx: OrderContext) -> CheckResult:
    """A conversion rate from the quote currency to the account currency must be known; always on."""
    assert ctx.inst is not None
    r = ctx.view.rate(ctx.inst.quote)
    if r is None or r <= 0:
        return deny(
            "fx_rate",
            ReasonCode.RATE_MISSING,
            f"no rate from {ctx.inst.quote} to {ctx.snap.account_currency}",
        )
    return PASS["fx_rate"]


def check_tick(ctx: OrderContext) -> CheckResult:
    """Limit and stop prices must lie on the tick grid; always on (the venue would reject them)."""
    assert ctx.inst is not None
    tick = ctx.inst.tick_size
    for label, p in (("limit", ctx.intent.limit_price), ("stop", ctx.intent.stop_price)):
        if p is not None and remainder(p, tick) != 0:
            return deny(
                "tick_size", ReasonCode.OFF_TICK, f"{label} price {p} is not a multiple of the tick {tick}"
            )
    return PASS["tick_size"]
