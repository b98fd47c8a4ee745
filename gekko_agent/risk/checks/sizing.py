"""Size limits that resize: order notional and quantity, lot rounding, position, exposure, leverage.

Exposure and position are measured at the last price in the account currency, on the worst-case position
(open orders on the same side assumed filled). A limit already breached is never made worse: the cap is
the largest quantity whose result is within ``max(limit, value before the order)``.
"""

from __future__ import annotations

from decimal import Decimal

from gekko_agent.risk.context import PASS, SKIP, OrderContext, clamp_cap, div_floor, limit_to
from gekko_agent.risk.floor import lot_floor
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
        return SKIP[name]
    cap = div_floor(lim.order_max_notional, ctx.cpu)
    if cap >= ctx.q0:
        return PASS[name]
    value = _money(ctx.q0 * ctx.cpu, lim.currency)
    detail = f"order value {value} exceeds {_money(lim.order_max_notional, lim.currency)}"
    return limit_to(name, cap, ctx.q0, ReasonCode.ORDER_NOTIONAL, detail)


def check_order_quantity(ctx: OrderContext) -> CheckResult:
    """Order quantity at most the instrument's ``order.max_quantity``."""
    name, lim = "order_quantity", ctx.lim
    if not lim.order_enabled:
        return SKIP[name]
    cap = lim.order_max_qty(ctx.iid)
    if cap is None:
        return PASS[name]
    return limit_to(
        name, cap, ctx.q0, ReasonCode.ORDER_QUANTITY, f"quantity {ctx.q0} exceeds the limit {cap}"
    )


def check_lot_size(ctx: OrderContext) -> CheckResult:
    """Quantity rounded down to the lot size (always on: the venue would reject it)."""
    assert ctx.inst is not None
    cap = lot_floor(ctx.q0, ctx.inst.lot_size)
    if cap >= ctx.q0:
        return PASS["lot_size"]
    return limit_to(
        "lot_size", cap, ctx.q0, ReasonCode.LOT_SIZE, f"quantity is not a multiple of {ctx.inst.lot_size}"
    )


def check_position(ctx: OrderContext) -> CheckResult:
    """|position| after the order at most ``position.max_notional`` (and its quantity limit, if set)."""
    name, lim = "position", ctx.lim
    if not lim.position_enabled:
        return SKIP[name]
    q0, st = ctx.q0, ctx.st
    cap = clamp_cap(st.position, q0)
    qcap = clamp_cap(st.position_qty, q0) if st.has_qty_limit else None
    if cap >= q0 and (qcap is None or qcap >= q0):
        return PASS[name]
    detail = f"position in {ctx.iid} would exceed {_money(lim.position_max_notional, lim.currency)}"
    if qcap is not None and qcap < cap:
        cap, detail = qcap, f"position in {ctx.iid} would exceed {lim.position_max_quantity[ctx.iid]} units"
    return limit_to(name, cap, q0, ReasonCode.POSITION_LIMIT, detail)


def _exposure(ctx: OrderContext, name: str, raw: Decimal | None, code: ReasonCode, what: str) -> CheckResult:
    """Pass, or resize/deny with ``what`` (the limit that binds) in the detail."""
    cap = clamp_cap(raw, ctx.q0)
    if cap >= ctx.q0:
        return PASS[name]
    return limit_to(name, cap, ctx.q0, code, what)


def check_gross_venue(ctx: OrderContext) -> CheckResult:
    """Gross exposure on the order's venue at most ``exposure.max_gross_per_venue``."""
    name, lim = "gross_exposure_venue", ctx.lim
    if not lim.exposure_enabled:
        return SKIP[name]
    raw = ctx.st.gross_venue
    if raw is None or raw >= ctx.q0:
        return PASS[name]
    assert ctx.inst is not None
    detail = f"gross exposure on {ctx.inst.venue} would exceed {_money(lim.max_gross_venue, lim.currency)}"
    return _exposure(ctx, name, raw, ReasonCode.GROSS_EXPOSURE_VENUE, detail)


def check_net_venue(ctx: OrderContext) -> CheckResult:
    """|net exposure| on the order's venue at most ``exposure.max_net_per_venue``."""
    name, lim = "net_exposure_venue", ctx.lim
    if not lim.exposure_enabled:
        return SKIP[name]
    raw = ctx.st.net_venue
    if raw is None or raw >= ctx.q0:
        return PASS[name]
    assert ctx.inst is not None
    detail = f"net exposure on {ctx.inst.venue} would exceed {_money(lim.max_net_venue, lim.currency)}"
    return _exposure(ctx, name, raw, ReasonCode.NET_EXPOSURE_VENUE, detail)


def check_gross_account(ctx: OrderContext) -> CheckResult:
    """Gross exposure of the account at most ``exposure.max_gross_account``."""
    name, lim = "gross_exposure_account", ctx.lim
    if not lim.exposure_enabled:
        return SKIP[name]
    raw = ctx.st.gross_account
    if raw is None or raw >= ctx.q0:
        return PASS[name]
    detail = f"account gross exposure would exceed {_money(lim.max_gross_account, lim.currency)}"
    return _exposure(ctx, name, raw, ReasonCode.GROSS_EXPOSURE_ACCOUNT, detail)


def check_net_account(ctx: OrderContext) -> CheckResult:
    """|net exposure| of the account at most ``exposure.max_net_account``."""
    name, lim = "net_exposure_account", ctx.lim
    if not lim.exposure_enabled:
        return SKIP[name]
    raw = ctx.st.net_account
    if raw is None or raw >= ctx.q0:
        return PASS[name]
    detail = f"account net exposure would exceed {_money(lim.max_net_account, lim.currency)}"
    return _exposure(ctx, name, raw, ReasonCode.NET_EXPOSURE_ACCOUNT, detail)


def check_leverage(ctx: OrderContext) -> CheckResult:
    """Gross exposure / equity at most ``leverage.max_leverage``."""
    name, lim = "leverage", ctx.lim
    if not lim.leverage_enabled or ctx.view.equity is None:
        return SKIP[name]
    raw = ctx.st.leverage
    if raw is None or raw >= ctx.q0:
        return PASS[name]
    detail = f"leverage would exceed {lim.max_leverage}x equity"
    return _exposure(ctx, name, raw, ReasonCode.LEVERAGE, detail)
