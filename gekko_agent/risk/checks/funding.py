"""Can the order be paid for, and is it within its strategy's budget.

* spot buy: quote-currency cash, less what open buys reserve, covers quantity × price × (1 + fee);
* spot sell: base holdings, less open sells, cover the quantity (spot cannot go short);
* FX: the margin of the new exposure fits in equity × (1 - buffer) less margin in use;
* budget: the new exposure (account currency) fits in what the strategy has left.
"""

from __future__ import annotations

from decimal import Decimal

from gekko_agent.domain import ZERO, AssetClass, OrderSide
from gekko_agent.risk.context import PASS, SKIP, OrderContext, add_floor, div_floor, limit_to
from gekko_agent.risk.outcomes import CheckResult, ReasonCode

__all__ = ["check_budget", "check_funding"]

_ONE = Decimal(1)


def _cash_available(ctx: OrderContext, quote: str) -> Decimal:
    return ctx.snap.cash.get(quote, ZERO) - ctx.view.reserved_cash.get(quote, ZERO)


def _spot_cap(ctx: OrderContext) -> Decimal:
    """Spot buy: cash (less open-buy reservations) over price × (1 + fee); spot sell: free holdings."""
    assert ctx.inst is not None
    if ctx.sign > 0:
        avail = _cash_available(ctx, ctx.inst.quote)
        unit = ctx.exec_price * (_ONE + ctx.lim.fee_rate)
        return div_floor(avail, unit) if avail > 0 else ZERO
    held = ctx.pos - ctx.view.open_qty.get((ctx.iid, OrderSide.SELL), ZERO)
    return held if held > 0 else ZERO


def _spot_why(ctx: OrderContext, cap: Decimal) -> tuple[ReasonCode, str]:
    """Reason and detail of a binding spot cap (built only when it binds)."""
    assert ctx.inst is not None
    if ctx.sign > 0:
        quote = ctx.inst.quote
        avail = _cash_available(ctx, quote)
        return (
            ReasonCode.INSUFFICIENT_CASH,
            f"{avail:,.2f} {quote} available does not cover the order and fees",
        )
    return ReasonCode.INSUFFICIENT_HOLDINGS, f"only {cap} {ctx.inst.base} held and not already offered"


def _margin_cap(ctx: OrderContext) -> tuple[Decimal, ReasonCode, str]:
    assert ctx.inst is not None
    equity = ctx.view.equity
    detail = "free margin does not cover the new exposure"
    if equity is None:
        return ctx.reducible, ReasonCode.INSUFFICIENT_MARGIN, detail
    free = equity * (_ONE - ctx.lim.margin_buffer) - ctx.view.fx_margin_used
    extra = div_floor(free * ctx.inst.max_leverage, ctx.vpu) if free > 0 else ZERO
    return add_floor(ctx.reducible, extra), ReasonCode.INSUFFICIENT_MARGIN, detail


def check_funding(ctx: OrderContext) -> CheckResult:
    """Cash for spot buys, holdings for spot sells, margin for FX."""
    name = "funding"
    if not ctx.lim.cash_enabled:
        return SKIP[name]
    assert ctx.inst is not None
    if ctx.inst.asset_class is AssetClass.CRYPTO_SPOT:
        cap = _spot_cap(ctx)
        if cap >= ctx.q0:
            return PASS[name]
        code, detail = _spot_why(ctx, cap)
    else:
        cap, code, detail = _margin_cap(ctx)
    return limit_to(name, cap, ctx.q0, code, detail)


def check_budget(ctx: OrderContext) -> CheckResult:
    """New exposure within the strategy's remaining budget (reducing orders always fit)."""
    name, lim = "strategy_budget", ctx.lim
    if not lim.budget_enabled:
        return SKIP[name]
    if not ctx.increases:
        return PASS[name]
    strategy = ctx.intent.strategy
    left = lim.budget_of(strategy) - ctx.snap.strategy_usage.get(strategy, ZERO)
    cap = add_floor(ctx.reducible, div_floor(left, ctx.cpu) if left > 0 else ZERO)
    if cap >= ctx.q0:
        return PASS[name]
    detail = f"strategy {strategy!r} has {max(left, ZERO):,.2f} {lim.currency} of budget left"
    return limit_to(name, cap, ctx.q0, ReasonCode.STRATEGY_BUDGET, detail)
