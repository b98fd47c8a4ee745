"""Size limits that resize: order notional and quantity, lot rounding, position, exposure, leverage.

Exposure and position are measured at the last price in the account currency, on the worst-case position
(open orders on the same side assumed filled). A limit already breached is never made worse: the cap is
the largest quantity whose result is within ``max(limit, value before the order)``.
"""

from __future__ import annotations

from decimal import Decimal

from gekko_agent.domain import ZERO, round_to_step
from gekko_agent.risk.context import OrderContext, cap_abs_linear, div_floor, limit_to, passed, skipped
from gekko_agent.risk.outcomes import CheckResult, ReasonCode

__all__ = [
    "check_gross_account",
    "check_gross_venue",
    "check_leverage",
    "check_lot_size",
    "check_net_account",
    "check_net_venue",
    "check_order_notional",
    "check_order_quantity",
    "check_position",
]


def _money(x: Decimal, ccy: str) -> str:
    return f"{x:,.2f} {ccy}"


def check_order_notional(ctx: OrderContext) -> CheckResult:
    """Order value (at the worse of execution and last price) at most ``order.max_notional``."""
    name, lim = "order_notional", ctx.lim
    if not lim.order_enabled:
        return skipped(name)
    cap = div_floor(lim.order_max_notional, ctx.cpu)
    if cap >= ctx.q0:
        return passed(name)
    value = _money(ctx.q0 * ctx.cpu, lim.currency)
    if cap >= ctx.q0:
        return passed(name)
    detail = f"order value {value} exceeds {_money(lim.order_max_notional, lim.currency)}"
    return limit_to(name, cap, ctx.q0, ReasonCode.ORDER_NOTIONAL, detail)


def check_order_quantity(ctx: OrderContext) -> CheckResult:
    """Order quantity at most the instrument's ``order.max_quantity``."""
    name, lim = "order_quantity", ctx.lim
    if not lim.order_enabled:
        return skipped(name)
    cap = lim.order_max_qty(ctx.iid)
    if cap is None:
        return passed(name)
    return limit_to(
        name, cap, ctx.q0, ReasonCode.ORDER_QUANTITY, f"quantity {ctx.q0} exceeds the limit {cap}"
    )


def check_lot_size(ctx: OrderContext) -> CheckResult:
    """Quantity rounded down to the lot size (always on: the venue would reject it)."""
    assert ctx.inst is not None
    cap = round_to_step(ctx.q0, ctx.inst.lot_size, "down")
    return limit_to(
        "lot_size", cap, ctx.q0, ReasonCode.LOT_SIZE, f"quantity is not a multiple of {ctx.inst.lot_size}"
    )


def check_position(ctx: OrderContext) -> CheckResult:
    """|position| after the order at most ``position.max_notional`` (and its quantity limit, if set)."""
    name, lim = "position", ctx.lim
    if not lim.position_enabled:
        return skipped(name)
    cap = cap_abs_linear(ctx.eff * ctx.vpu, ctx.vpu * ctx.sign, lim.position_max_notional, ctx.q0)
    detail = f"position in {ctx.iid} would exceed {_money(lim.position_max_notional, lim.currency)}"
    qty_limit = lim.position_max_quantity.get(ctx.iid)
    if qty_limit is not None:
        qcap = cap_abs_linear(ctx.eff, Decimal(ctx.sign), qty_limit, ctx.q0)
        if qcap < cap:
            cap, detail = qcap, f"position in {ctx.iid} would exceed {qty_limit} units"
    return limit_to(name, cap, ctx.q0, ReasonCode.POSITION_LIMIT, detail)


def _gross_cap(ctx: OrderContext, gross: Decimal, limit: Decimal) -> Decimal:
    rest = gross - abs(ctx.view.notional.get(ctx.iid, ZERO))
    c = ctx.eff * ctx.vpu
    bound = max(limit, rest + abs(c)) - rest
    return cap_abs_linear(c, ctx.vpu * ctx.sign, bound, ctx.q0)


def _net_cap(ctx: OrderContext, net: Decimal, limit: Decimal) -> Decimal:
    a = net - ctx.view.notional.get(ctx.iid, ZERO) + ctx.eff * ctx.vpu
    return cap_abs_linear(a, ctx.vpu * ctx.sign, limit, ctx.q0)


def check_gross_venue(ctx: OrderContext) -> CheckResult:
    """Gross exposure on the order's venue at most ``exposure.max_gross_per_venue``."""
    name, lim = "gross_exposure_venue", ctx.lim
    if not lim.exposure_enabled:
        return skipped(name)
    assert ctx.inst is not None
    cap = _gross_cap(ctx, ctx.view.gross_venue.get(ctx.inst.venue, ZERO), lim.max_gross_venue)
    if cap >= ctx.q0:
        return passed(name)
    detail = f"gross exposure on {ctx.inst.venue} would exceed {_money(lim.max_gross_venue, lim.currency)}"
    return limit_to(name, cap, ctx.q0, ReasonCode.GROSS_EXPOSURE_VENUE, detail)


def check_net_venue(ctx: OrderContext) -> CheckResult:
    """|net exposure| on the order's venue at most ``exposure.max_net_per_venue``."""
    name, lim = "net_exposure_venue", ctx.lim
    if not lim.exposure_enabled:
        return skipped(name)
    assert ctx.inst is not None
    cap = _net_cap(ctx, ctx.view.net_venue.get(ctx.inst.venue, ZERO), lim.max_net_venue)
    if cap >= ctx.q0:
        return passed(name)
    detail = f"net exposure on {ctx.inst.venue} would exceed {_money(lim.max_net_venue, lim.currency)}"
    return limit_to(name, cap, ctx.q0, ReasonCode.NET_EXPOSURE_VENUE, detail)


def check_gross_account(ctx: OrderContext) -> CheckResult:
    """Gross exposure of the account at most ``exposure.max_gross_account``."""
    name, lim = "gross_exposure_account", ctx.lim
    if not lim.exposure_enabled:
        return skipped(name)
    cap = _gross_cap(ctx, ctx.view.gross, lim.max_gross_account)
    if cap >= ctx.q0:
        return passed(name)
    detail = f"account gross exposure would exceed {_money(lim.max_gross_account, lim.currency)}"
    return limit_to(name, cap, ctx.q0, ReasonCode.GROSS_EXPOSURE_ACCOUNT, detail)


def check_net_account(ctx: OrderContext) -> CheckResult:
    """|net exposure| of the account at most ``exposure.max_net_account``."""
    name, lim = "net_exposure_account", ctx.lim
    if not lim.exposure_enabled:
        return skipped(name)
    cap = _net_cap(ctx, ctx.view.net, lim.max_net_account)
    if cap >= ctx.q0:
        return passed(name)
    detail = f"account net exposure would exceed {_money(lim.max_net_account, lim.currency)}"
    return limit_to(name, cap, ctx.q0, ReasonCode.NET_EXPOSURE_ACCOUNT, detail)


def check_leverage(ctx: OrderContext) -> CheckResult:
    """Gross exposure / equity at most ``leverage.max_leverage``."""
    name, lim = "leverage", ctx.lim
    equity = ctx.view.equity
    if not lim.leverage_enabled or equity is None:
        return skipped(name)
    cap = _gross_cap(ctx, ctx.view.gross, lim.max_leverage * equity)
    return limit_to(
        name, cap, ctx.q0, ReasonCode.LEVERAGE, f"leverage would exceed {lim.max_leverage}x equity"
    )
