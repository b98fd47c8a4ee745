"""The straightforward VaR base and marginal VaR/ES the cached tiers of ``var_cache`` must match.

Every snapshot: P&L of every row, one stable argsort, today's figures by :func:`var_of`, and for an order
the O(1) bound test with today's exact figures or else the exact tail search. This is what the engine
computed before its VaR base became lazy; the tests compare verdicts, rooms and denial figures with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from gekko_agent.risk.config import VarMethod
from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.snapshot import FloatArray, ReturnWindow
from gekko_agent.risk.var import historical_var_es, horizon_scale, parametric_var_es, tail_count, to_money_up
from gekko_agent.risk.var_cache import float_floor_cents
from gekko_agent.risk.var_tail import SortedTail, build_tail, historical_tail

_SLACK = 1e-9


@dataclass(frozen=True)
class RefBase:
    """Everything computed up front."""

    tail: SortedTail
    sigma_w: list[float]
    cov: list[list[float]]
    column_max: list[float]
    variance: float
    scale: float
    var: Decimal
    es: Decimal
    var_room: float
    es_room: float
    hist_var: float
    hist_es: float


def _var_of(pnl: FloatArray, variance: float, scale: float, limits: RiskLimits) -> tuple[Decimal, Decimal]:
    method, conf = limits.var_method.value, float(limits.var_confidence)
    var = es = 0.0
    if method in ("historical", "both"):
        var, es = historical_var_es(pnl, conf, scale)
    if method in ("parametric", "both"):
        pv, pe = parametric_var_es(variance, conf, scale)
        var, es = max(var, pv), max(es, pe)
    return to_money_up(var), to_money_up(es)


def build(window: ReturnWindow, w: FloatArray, limits: RiskLimits) -> RefBase:
    """The reference base for exposures ``w`` over ``window``."""
    rows = window.returns[-limits.var_lookback :]
    cov = window.cov if rows.shape[0] == window.observations else np.cov(rows, rowvar=False, ddof=1)
    cov = np.atleast_2d(cov)
    columns = np.ascontiguousarray(rows.T)
    pnl = w @ columns
    sigma_w = cov @ w
    variance = float(w @ sigma_w)
    scale = horizon_scale(limits.var_horizon_s, window.interval_seconds)
    var, es = _var_of(pnl, variance, scale, limits)
    k = tail_count(pnl.shape[0], float(limits.var_confidence))
    hist_var, hist_es = historical_var_es(pnl, float(limits.var_confidence), scale)
    return RefBase(
        tail=build_tail(pnl, columns, k),
        sigma_w=sigma_w.tolist(),
        cov=cov.tolist(),
        column_max=np.abs(columns).max(axis=1).tolist(),
        variance=variance,
        scale=scale,
        var=var,
        es=es,
        var_room=float_floor_cents(max(limits.max_var, var)),
        es_room=float_floor_cents(max(limits.max_es, es)),
        hist_var=hist_var,
        hist_es=hist_es,
    )


def var_after(
    base: RefBase, legs: list[int], deltas: list[float], method: VarMethod, z: float, es_factor: float
) -> tuple[float, float]:
    """VaR and ES floats after the order (bounds when they already fit the rooms)."""
    variance, bound = base.variance, 0.0
    if len(legs) == 1:
        a, da = legs[0], deltas[0]
        variance += 2.0 * da * base.sigma_w[a]
        variance += da * da * base.cov[a][a]
        bound = abs(da) * base.column_max[a]
    else:
        for a, da in zip(legs, deltas, strict=True):
            variance += 2.0 * da * base.sigma_w[a]
            bound += abs(da) * base.column_max[a]
            for b, db in zip(legs, deltas, strict=True):
                variance += da * db * base.cov[a][b]
    sigma = math.sqrt(variance) if variance > 0 else 0.0
    pv, pe = z * sigma * base.scale, es_factor * sigma * base.scale
    if method is VarMethod.PARAMETRIC:
        return pv, pe
    both = method is not VarMethod.HISTORICAL
    grow = bound * base.scale
    hv, he = base.hist_var + grow, base.hist_es + grow
    hv, he = hv + _SLACK * (abs(hv) + 1.0), he + _SLACK * (abs(he) + 1.0)
    if both:
        hv, he = max(hv, pv), max(he, pe)
    if hv <= base.var_room and he <= base.es_room:
        return hv, he
    worst = historical_tail(base.tail, legs, deltas, bound)
    var, es = -worst[-1] * base.scale, -math.fsum(worst) / base.tail.k * base.scale
    if both:
        var, es = max(var, pv), max(es, pe)
    return var, es
