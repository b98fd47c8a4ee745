"""Portfolio-level checks: stress scenarios and forecast sizing (caps), VaR data (gate), and after sizing,
minimum size and VaR / expected shortfall of the portfolio with the final quantity (deny only)."""

from __future__ import annotations

from decimal import Decimal

from gekko_agent.domain import ZERO, AssetClass
from gekko_agent.risk.context import (
    OrderContext,
    cap_abs_linear,
    deny,
    div_floor,
    limit_to,
    passed,
    skipped,
    sub_floor,
)
from gekko_agent.risk.outcomes import CheckResult, ReasonCode

__all__ = ["check_forecast", "check_min_size", "check_stress", "check_var_data", "check_var_es"]

_ONE = Decimal(1)


def check_stress(ctx: OrderContext) -> CheckResult:
    """Worst scenario loss after the order at most ``stress.max_loss`` (or no worse than now).

    A spot coin's value in the account currency moves by the price shock (a quote-currency shock moves
    the coin's quote price the other way, not its value); quote-currency cash moves by the currency shock.
    """
    name, lim = "stress", ctx.lim
    if not lim.stress_enabled:
        return skipped(name)
    assert ctx.inst is not None
    legs = ctx.view.stress_legs()
    if legs is None:
        return ctx.only_reducing(name, ReasonCode.STRESS_DATA_MISSING, "stress loss cannot be computed")
    if not legs:
        return passed(name)
    room = max(lim.stress_max_loss, max(leg.loss for leg in legs))
    cap, worst = ctx.q0, ""
    for leg in legs:
        sp = ctx.view.price_shock(leg.scenario, leg.direction, ctx.iid)
        if sp is None:
            return ctx.only_reducing(name, ReasonCode.STRESS_DATA_MISSING, f"no return history for {ctx.iid}")
        shock_ccy = leg.scenario.currency_shocks.get(ctx.inst.quote, ZERO)
        if ctx.inst.asset_class is AssetClass.CRYPTO_SPOT:  # coin bought, quote cash paid
            unit_loss = -ctx.sign * ctx.vpu * (sp - shock_ccy)
        else:  # FX: P&L in the quote currency, converted at the shocked rate
            unit_loss = -ctx.sign * ctx.vpu * sp * (_ONE + shock_ccy)
        if unit_loss > 0:
            leg_cap = div_floor(sub_floor(room, leg.loss), unit_loss)
            if leg_cap < cap:
                cap, worst = max(leg_cap, ZERO), leg.name
    if cap >= ctx.q0:
        return passed(name)
    detail = f"loss in scenario {worst!r} would exceed {lim.stress_max_loss:,.2f} {lim.currency}"
    return limit_to(name, cap, ctx.q0, ReasonCode.STRESS_LOSS, detail)


def check_forecast(ctx: OrderContext) -> CheckResult:
    """Optional: the position's loss at the forecast's adverse quantile at most ``forecast.max_loss``."""
    name, lim = "forecast", ctx.lim
    if not lim.forecast_enabled:
        return skipped(name)
    if not ctx.increases:
        return passed(name)
    fc = ctx.snap.forecasts.get(ctx.iid)
    ret = (
        None
        if fc is None
        else (fc.lower(lim.forecast_quantile) if ctx.sign > 0 else fc.upper(lim.forecast_quantile))
    )
    if ret is None:
        if lim.forecast_required:
            return ctx.only_reducing(
                name, ReasonCode.FORECAST_MISSING, f"no forecast quantiles for {ctx.iid}"
            )
        return passed(name)
    unit_loss = -ret * ctx.vpu * ctx.sign
    if unit_loss <= 0:
        return passed(name)
    cap = cap_abs_linear(ctx.eff * unit_loss, unit_loss * ctx.sign, lim.forecast_max_loss, ctx.q0)
    if cap >= ctx.q0:
        return passed(name)
    if cap >= ctx.q0:
        return passed(name)
    limit = f"{lim.forecast_max_loss:,.2f} {lim.currency}"
    detail = f"forecast {lim.forecast_quantile:.0%} quantile loss would exceed {limit}"
    return limit_to(name, cap, ctx.q0, ReasonCode.FORECAST_VETO, detail)


def _factor_legs(ctx: OrderContext) -> list[int] | None:
    base = ctx.view.var_base()
    if base is None:
        return None
    assert ctx.inst is not None
    idx = base.window.index
    legs = [idx.get(ctx.iid, -1)]
    if ctx.inst.asset_class is AssetClass.CRYPTO_SPOT and ctx.inst.quote != ctx.snap.account_currency:
        legs.append(idx.get(ctx.inst.quote, -1))
    return None if -1 in legs else legs


def check_var_data(ctx: OrderContext) -> CheckResult:
    """VaR needs enough history for every factor the portfolio and the order touch; else no new exposure."""
    name = "var_data"
    if not ctx.lim.var_enabled:
        return skipped(name)
    if _factor_legs(ctx) is None:
        why = "VaR cannot be computed (return history missing, too short, or the portfolio is unvalued)"
        return ctx.only_reducing(name, ReasonCode.VAR_DATA_MISSING, why)
    return passed(name)


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
    return passed("min_size")


def check_var_es(ctx: OrderContext, q: Decimal) -> CheckResult:
    """After sizing: VaR and ES of the portfolio with the order at most the limits (or no worse than now)."""
    name, lim = "var_es", ctx.lim
    if not lim.var_enabled:
        return skipped(name)
    legs = _factor_legs(ctx)
    base = ctx.view.var_base()
    if legs is None or base is None:  # only reducing orders get here (the var_data gate capped the rest)
        return passed(name)
    dq = float(q) * ctx.sign
    deltas = [dq * float(ctx.vpu)]
    if len(legs) == 2:
        deltas.append(-dq * float(ctx.exec_price * ctx.rate))
    var, es = ctx.view.var_after(base, legs, deltas)
    if var > max(lim.max_var, base.var):
        return deny(
            name, ReasonCode.VAR_LIMIT, f"VaR would be {var:,.2f} {lim.currency}, above {lim.max_var:,.2f}"
        )
    if es > max(lim.max_es, base.es):
        return deny(
            name,
            ReasonCode.ES_LIMIT,
            f"expected shortfall would be {es:,.2f} {lim.currency}, above {lim.max_es:,.2f}",
        )
    return passed(name)
