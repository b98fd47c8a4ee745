"""An independent, from-scratch verifier of every limit for an approved quantity (used by property tests).

It recomputes each measure with plain Decimal arithmetic at high precision (and numpy for VaR) from the
snapshot alone, never from the engine's cached view, and states each limit the way docs/risk.md does:
the value after the order is within the limit, or no worse than before it.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from statistics import NormalDist

import numpy as np

from gekko_agent.domain import AssetClass, OrderIntent, OrderSide, OrderType
from gekko_agent.risk import RiskLimits, RiskSnapshot, TradingState

ZERO = Decimal(0)


def _rate(snap: RiskSnapshot, ccy: str) -> Decimal:
    return Decimal(1) if ccy == snap.account_currency else snap.rates[ccy]


def violations(snap: RiskSnapshot, lim: RiskLimits, original: OrderIntent, q: Decimal) -> list[str]:
    """Every limit the approved quantity ``q`` of ``original`` would breach (empty: none)."""
    out: list[str] = []
    with localcontext() as ctx:
        ctx.prec = 80
        iid = original.instrument_id
        inst = snap.instruments[iid]
        md = snap.market[iid]
        assert md.last is not None
        s = 1 if original.side is OrderSide.BUY else -1
        rate = _rate(snap, inst.quote)
        mark = md.last
        vpu = mark * rate
        if original.order_type is OrderType.MARKET:
            touch = md.ask if s > 0 else md.bid
            exec_price = (touch if touch is not None else mark) * (1 + lim.market_slippage * s)
        else:
            assert original.limit_price is not None
            exec_price = original.limit_price
        cpu = max(exec_price, mark) * rate
        if q > original.quantity or q <= 0:
            out.append("quantity not in (0, original]")
        if q % inst.lot_size != 0:
            out.append("not on lot")
        if snap.trading_state is TradingState.HALTED:
            out.append("approved while HALTED")
        pos = snap.positions[iid].quantity if iid in snap.positions else ZERO
        pending = sum(
            (o.remaining for o in snap.open_orders if o.instrument_id == iid and o.side is original.side),
            ZERO,
        )
        eff = pos + s * pending
        after = eff + s * q
        reducible = min(original.quantity, abs(eff)) if eff * s < 0 else ZERO
        if snap.trading_state is TradingState.REDUCING and (abs(after) > abs(eff) or after * eff < 0):
            out.append("REDUCING grew |exposure|")
        if lim.order_enabled and q * cpu > lim.order_max_notional:
            out.append("order notional")
        if lim.position_enabled and abs(after) * vpu > max(lim.position_max_notional, abs(eff) * vpu):
            out.append("position")

        # exposures from scratch: every other position at its mark, this one at the worst case
        def values(qty_here: Decimal) -> dict[str, Decimal]:
            vals = {}
            for other, p in snap.positions.items():
                if other != iid and p.quantity:
                    vals[other] = p.quantity * snap.market[other].last * _rate(snap, p.quote)  # type: ignore[operator]
            vals[iid] = qty_here * vpu
            return vals

        before_v, after_v = values(eff), values(after)
        venue = inst.venue

        def agg(vals: dict[str, Decimal], only_venue: bool, gross: bool) -> Decimal:
            return sum(
                (
                    abs(v) if gross else v
                    for k, v in vals.items()
                    if not only_venue or snap.instruments[k].venue == venue
                ),
                ZERO,
            )

        if lim.exposure_enabled:
            for name, ov, gross, limit in (
                ("gross venue", True, True, lim.max_gross_venue),
                ("net venue", True, False, lim.max_net_venue),
                ("gross account", False, True, lim.max_gross_account),
                ("net account", False, False, lim.max_net_account),
            ):
                b, a = abs(agg(before_v, ov, gross)), abs(agg(after_v, ov, gross))
                if a > max(limit, b):
                    out.append(name)
        if lim.cash_enabled and inst.asset_class is AssetClass.CRYPTO_SPOT:
            if s > 0:
                reserved = ZERO
                for o in snap.open_orders:
                    oi = snap.instruments[o.instrument_id]
                    if (
                        o.side is OrderSide.BUY
                        and oi.quote == inst.quote
                        and oi.asset_class is AssetClass.CRYPTO_SPOT
                    ):
                        price = o.price if o.price is not None else snap.market[o.instrument_id].last
                        reserved += o.remaining * price * (1 + lim.fee_rate)  # type: ignore[operator]
                if q * exec_price * (1 + lim.fee_rate) > snap.cash.get(inst.quote, ZERO) - reserved:
                    out.append("cash")
            else:
                sells = sum(
                    (
                        o.remaining
                        for o in snap.open_orders
                        if o.instrument_id == iid and o.side is OrderSide.SELL
                    ),
                    ZERO,
                )
                if q > pos - sells:
                    out.append("holdings")
        if lim.budget_enabled:
            used = snap.strategy_usage.get(original.strategy, ZERO)
            new = max(ZERO, q - reducible) * cpu
            if new > 0 and new > max(ZERO, lim.budget_of(original.strategy) - used):
                out.append("budget")
        if lim.stress_enabled:
            out += _stress(snap, lim, iid, s, q, eff, vpu)
    return out


def _stress(
    snap: RiskSnapshot, lim: RiskLimits, iid: str, s: int, q: Decimal, eff: Decimal, vpu: Decimal
) -> list[str]:
    inst = snap.instruments[iid]
    worst_before, worst_after = None, None
    for sc in lim.scenarios:
        assert not sc.sigma_shocks, "oracle handles price and currency shocks"
        loss = ZERO
        for other, p in snap.positions.items():
            if not p.quantity:
                continue
            oi = snap.instruments[other]
            sp = sc.instrument_shocks.get(other, sc.asset_class_shocks.get(oi.asset_class.value, ZERO))
            m, r = snap.market[other].last, _rate(snap, p.quote)
            assert m is not None
            sc_ccy = sc.currency_shocks.get(p.quote, ZERO)
            if oi.asset_class is AssetClass.CRYPTO_SPOT:
                loss -= p.quantity * r * m * sp
            else:
                loss -= p.quantity * r * ((m * (1 + sp) - p.avg_price) * (1 + sc_ccy) - (m - p.avg_price))
        for ccy, amount in snap.cash.items():
            if ccy != snap.account_currency and ccy in sc.currency_shocks:
                loss -= amount * _rate(snap, ccy) * sc.currency_shocks[ccy]
        sp = sc.instrument_shocks.get(iid, sc.asset_class_shocks.get(inst.asset_class.value, ZERO))
        shock_ccy = sc.currency_shocks.get(inst.quote, ZERO)
        unit = (
            vpu * (sp - shock_ccy)
            if inst.asset_class is AssetClass.CRYPTO_SPOT
            else vpu * sp * (1 + shock_ccy)
        )
        after = loss - s * q * unit
        worst_before = loss if worst_before is None else max(worst_before, loss)
        worst_after = after if worst_after is None else max(worst_after, after)
    if (
        worst_after is not None
        and worst_before is not None
        and worst_after > max(lim.stress_max_loss, worst_before)
    ):
        return ["stress"]
    return []


def portfolio_var(snap: RiskSnapshot, lim: RiskLimits, extra: dict[str, float]) -> float:
    """VaR from scratch with numpy, the larger of historical and parametric (positions + foreign cash +
    ``extra`` factor exposures)."""
    window = snap.returns
    assert window is not None
    w = np.zeros(len(window.factors))
    for iid, p in snap.positions.items():
        if p.quantity:
            w[window.factors.index(iid)] += float(p.quantity * snap.market[iid].last * _rate(snap, p.quote))  # type: ignore[operator]
    for ccy, amount in snap.cash.items():
        if ccy != snap.account_currency and amount:
            w[window.factors.index(ccy)] += float(amount * _rate(snap, ccy))
    for f, v in extra.items():
        w[window.factors.index(f)] += v
    rows = np.asarray(window.returns[-lim.var_lookback :])
    pnl = rows @ w
    losses = np.sort(-pnl)[::-1]
    k = max(1, math.ceil(len(losses) * (1 - float(lim.var_confidence)) - 1e-9))
    scale = math.sqrt(lim.var_horizon_s / window.interval_seconds)
    parametric = NormalDist().inv_cdf(float(lim.var_confidence)) * float(np.std(pnl, ddof=1)) * scale
    return max(float(losses[k - 1]) * scale, parametric)
