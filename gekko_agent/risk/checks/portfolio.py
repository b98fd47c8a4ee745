"""Portfolio-level checks: stress scenarios and forecast sizing (caps), VaR data (gate), and after sizing,
minimum size and VaR / expected shortfall of the portfolio with the final quantity (deny only)."""

from __future__ import annotations

from decimal import Decimal

from gekko_agent.domain import ZERO
from gekko_agent.risk.context import PASS, SKIP, OrderContext, clamp_cap, deny, limit_to
from gekko_agent.risk.outcomes import CheckResult, ReasonCode
from gekko_agent.risk.var import to_money_up

__all__ = ["check_forecast", "check_min_size", "check_stress", "check_var_data", "check_var_es"]


def check_stress(ctx: OrderContext) -> CheckResult:
    """Worst scenario loss after the order at most ``stress.max_loss`` (or no worse than now).

    A spot coin's value in the account currency moves by the price shock (a quote-currency shock moves
    the coin's quote price the other way, not its value); quote-currency cash moves by the currency shock.
    Each leg's cap is cached per instrument and side (:mod:`gekko_agent.risk.sides`).
    """
    name, lim = "stress", ctx.lim
    if not lim.stress_enabled:
        return SKIP[name]
    legs = ctx.view.stress_legs()
    if legs is None:
        return ctx.only_reducing(name, ReasonCode.STRESS_DATA_MISSING, "stress loss cannot be computed")
    if not legs:
        return PASS[name]
    caps = ctx.st.stress
    if caps is None:
        return ctx.only_reducing(name, ReasonCode.STRESS_DATA_MISSING, f"no return history for {ctx.iid}")
    q0 = ctx.q0
    cap, worst = q0, ""
    for leg_cap, leg_name in caps:
        if leg_cap < cap:
            cap, worst = max(leg_cap, ZERO), leg_name
    if cap >= q0:
        return PASS[name]
    detail = f"loss in scenario {worst!r} would exceed {lim.stress_max_loss:,.2f} {lim.currency}"
    return limit_to(name, cap, q0, ReasonCode.STRESS_LOSS, detail)


def check_forecast(ctx: OrderContext) -> CheckResult:
    """Optional: the position's loss at the forecast's adverse quantile at most ``forecast.max_loss``."""
    name, lim = "forecast", ctx.lim
    if not lim.forecast_enabled:
        return SKIP[name]
    if not ctx.increases:
        return PASS[name]
    st = ctx.st
    if st.forecast == 0:  # no forecast quantile on the adverse side
        if lim.forecast_required:
            return ctx.only_reducing(
                name, ReasonCode.FORECAST_MISSING, f"no forecast quantiles for {ctx.iid}"
            )
        return PASS[name]
    if st.forecast == 1:  # the forecast sees no loss on this side
        return PASS[name]
    cap = clamp_cap(st.forecast_cap, ctx.q0)
    if cap >= ctx.q0:
        return PASS[name]
    limit = f"{lim.forecast_max_loss:,.2f} {lim.currency}"
    detail = f"forecast {lim.forecast_quantile:.0%} quantile loss would exceed {limit}"
    return limit_to(name, cap, ctx.q0, ReasonCode.FORECAST_VETO, detail)


def check_var_data(ctx: OrderContext) -> CheckResult:
    """VaR needs enough history for every factor the portfolio and the order touch; else no new exposure."""
    name = "var_data"
    if not ctx.lim.var_enabled:
        return SKIP[name]
    if ctx.st.var_legs is None:
        why = "VaR cannot be computed (return history missing, too short, or the portfolio is unvalued)"
        return ctx.only_reducing(name, ReasonCode.VAR_DATA_MISSING, why)
    return PASS[name]


def check_min_size(ctx: OrderContext, q: Decimal) -> CheckResult:
    """After sizing: at least the instrument's minimum quantity and minimum notional (always on)."""
    assert ctx.inst is not None
    inst = ctx.inst
    if q <= 0 or q < inst.min_quantity:
        return deny(
            "min_size", ReasonCode.MIN_QUANTITY, f"quantity {q} is below the minimum {inst.min_quantity}"
        )
    if q * ctx.exec_price < inst.min_notional:
        return deny(
            "min_size", ReasonCode.MIN_NOTIONAL, f"order value is below the minimum {inst.min_notional}"
        )
    return PASS["min_size"]


def check_var_es(ctx: OrderContext, q: Decimal) -> CheckResult:
    """After sizing: VaR and ES of the portfolio with the order at most the limits (or no worse than now).

    The float figures are compared with float bounds equivalent to comparing their cent-rounded Decimals
    (see :mod:`gekko_agent.risk.var_cache`); Decimals are built only for a denial's message.
    """
    name, lim = "var_es", ctx.lim
    if not lim.var_enabled:
        return SKIP[name]
    legs = ctx.st.var_legs
    if legs is None:  # only reducing orders get here (the var_data gate capped the rest)
        return PASS[name]
    base = ctx.view.var_base()
    assert base is not None  # the legs exist only with a VaR base
    dq = float(q) * ctx.sign
    if len(legs) == 2:
        deltas = [dq * ctx.st.vpu_float, -dq * float(ctx.exec_price * ctx.rate)]
    else:
        deltas = [dq * ctx.st.vpu_float]
    var, es = ctx.view.var_after(base, legs, deltas)
    if var > base.var_room:
        return deny(
            name,
            ReasonCode.VAR_LIMIT,
            f"VaR would be {to_money_up(var):,.2f} {lim.currency}, above {lim.max_var:,.2f}",
        )
    if es > base.es_room:
        return deny(
            name,
            ReasonCode.ES_LIMIT,
            f"expected shortfall would be {to_money_up(es):,.2f} {lim.currency}, above {lim.max_es:,.2f}",
        )
    return PASS[name]
