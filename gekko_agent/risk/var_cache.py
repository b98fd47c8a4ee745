"""The cached VaR inputs of one portfolio and the exact marginal VaR/ES of one order.

:func:`build_var_base` runs once per snapshot (O(T·N) plus a sort of the T portfolio P&L rows); after
that :func:`var_after` prices an order that changes one or two factor exposures:

* parametric: ``wᵀΣw`` updated with the terms the order changes (O(1));
* historical: the rows worst *now* bound the new k-th worst P&L from above (``U``), and a row's P&L moves
  by at most ``B = Σ|δ_j|·max|r_j|``, so only rows with P&L at most ``U + B`` can reach the tail. They
  are a prefix of the rows sorted by P&L; of those, only rows whose new P&L is at most ``U`` are kept and
  sorted. Exact, not approximate, and usually a few dozen rows.

The limits are compared on floats: :func:`float_floor_cents` gives the largest float ``t`` with
``to_money_up(x) <= limit`` exactly when ``x <= t``, so no Decimal is built unless an order is denied.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Context, Decimal

import numpy as np

from gekko_agent.risk.config import VarMethod
from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.snapshot import FloatArray, ReturnWindow
from gekko_agent.risk.var import historical_var_es, horizon_scale, parametric_var_es, tail_count, to_money_up

__all__ = ["VarBase", "build_var_base", "float_floor_cents", "var_after", "var_of"]

_CENT = Decimal("0.01")
_SLACK = 1e-9  # relative margin on float upper bounds
_PY_ROWS = 48  # candidate rows beyond the tail priced with Python floats (numpy past that)
_WIDE = Context(prec=400)


def float_floor_cents(limit: Decimal) -> float:
    """The largest float ``t`` with ``t <= floor(limit, cents)``: ``to_money_up(x) <= limit`` iff ``x <= t``.

    ``to_money_up`` rounds up to a cent, and a cent multiple is at most ``limit`` exactly when it is at
    most ``limit`` rounded down to the cent.
    """
    fc = limit.quantize(_CENT, rounding=ROUND_FLOOR, context=_WIDE)
    t = float(fc)
    if Decimal(t) > fc:
        t = math.nextafter(t, -math.inf)
    return t


@dataclass(frozen=True, slots=True)
class VarBase:
    """Cached VaR inputs of a portfolio: P&L per row (also sorted), Σw, today's figures and limit bounds.

    Attributes:
        window: the return window.
        k: rows in the tail.
        kth: the k-th worst P&L now.
        sigma_w_list: Σw as floats.
        cov_list: Σ as lists of floats.
        column_max_list: largest |return| of each factor.
        head: the k worst P&L now (ascending).
        head_columns: per factor, its returns on those k rows.
        sorted_list: every row's P&L, ascending (for bisection).
        neg_loss_sorted: the same as an array.
        sorted_columns: N × T returns with the rows in that order.
        pnl: P&L per row (window order).
        variance: wᵀΣw.
        scale: horizon scale √(h/Δ).
        var: VaR now (Decimal, rounded up).
        es: ES now (Decimal, rounded up).
        var_room: the largest float VaR an order may leave (``max(max_var, var)``, see the module).
        es_room: the same for ES.
        hist_var: historical VaR now (float); ``hist_es``: historical ES now.
    """

    window: ReturnWindow
    k: int
    kth: float
    sigma_w_list: list[float]
    cov_list: list[list[float]]
    column_max_list: list[float]
    head: list[float]
    head_columns: list[list[float]]
    sorted_list: list[float]
    neg_loss_sorted: FloatArray
    sorted_columns: FloatArray
    pnl: FloatArray
    variance: float
    scale: float
    var: Decimal
    es: Decimal
    var_room: float
    es_room: float
    hist_var: float
    hist_es: float


def var_of(pnl: FloatArray, variance: float, scale: float, limits: RiskLimits) -> tuple[Decimal, Decimal]:
    """VaR and ES (Decimal, rounded up) by the configured method(s): the larger of both when ``both``."""
    method, conf = limits.var_method.value, float(limits.var_confidence)
    var = es = 0.0
    if method in ("historical", "both"):
        var, es = historical_var_es(pnl, conf, scale)
    if method in ("parametric", "both"):
        pv, pe = parametric_var_es(variance, conf, scale)
        var, es = max(var, pv), max(es, pe)
    return to_money_up(var), to_money_up(es)


def build_var_base(window: ReturnWindow, w: FloatArray, limits: RiskLimits) -> VarBase:
    """The cached inputs for exposures ``w`` (account currency per factor) over ``window``."""
    rows = window.returns[-limits.var_lookback :]
    cov = window.cov if rows.shape[0] == window.observations else np.cov(rows, rowvar=False, ddof=1)
    cov = np.atleast_2d(cov)
    columns = np.ascontiguousarray(rows.T)
    pnl = w @ columns
    sigma_w = cov @ w
    variance = float(w @ sigma_w)
    scale = horizon_scale(limits.var_horizon_s, window.interval_seconds)
    var, es = var_of(pnl, variance, scale, limits)
    order = np.argsort(pnl, kind="stable")  # worst P&L (largest loss) first
    sorted_columns = np.ascontiguousarray(columns[:, order])
    column_max = np.abs(columns).max(axis=1) if columns.shape[1] else np.zeros(columns.shape[0])
    srt = pnl[order]
    k = tail_count(srt.shape[0], float(limits.var_confidence))
    hist_var, hist_es = historical_var_es(pnl, float(limits.var_confidence), scale)
    return VarBase(
        window=window,
        k=k,
        kth=float(srt[k - 1]),
        sigma_w_list=sigma_w.tolist(),
        cov_list=cov.tolist(),
        column_max_list=column_max.tolist(),
        head=srt[:k].tolist(),
        head_columns=sorted_columns[:, :k].tolist(),
        sorted_list=srt.tolist(),
        neg_loss_sorted=srt,
        sorted_columns=sorted_columns,
        pnl=pnl,
        variance=variance,
        scale=scale,
        var=var,
        es=es,
        var_room=float_floor_cents(max(limits.max_var, var)),
        es_room=float_floor_cents(max(limits.max_es, es)),
        hist_var=hist_var,
        hist_es=hist_es,
    )


def _historical_tail(base: VarBase, legs: list[int], deltas: list[float], bound: float) -> list[float]:
    """The k worst P&L (ascending) after adding ``deltas`` to factors ``legs`` (see the module).

    Few candidates (the usual case) are priced with Python floats, many with numpy.
    """
    k, d0, a0 = base.k, deltas[0], legs[0]
    two = len(legs) > 1
    d1, a1 = (deltas[1], legs[1]) if two else (0.0, a0)
    if two:
        h0, h1 = base.head_columns[a0], base.head_columns[a1]
        worst = [p + c * d0 + e * d1 for p, c, e in zip(base.head, h0, h1, strict=True)]
    else:
        worst = [p + c * d0 for p, c in zip(base.head, base.head_columns[a0], strict=True)]
    upper = max(worst)  # the new k-th worst P&L is at most this
    reach = upper + bound
    n = bisect_right(base.sorted_list, reach + 1e-9 * (abs(reach) + bound))
    if n - k > _PY_ROWS:
        x = base.neg_loss_sorted[k:n] + base.sorted_columns[a0, k:n] * d0
        if two:
            x += base.sorted_columns[a1, k:n] * d1
        sel = x[x <= upper]
        if sel.shape[0] > _PY_ROWS:  # a large move (e.g. closing the position): select, do not sort all
            sel = np.partition(sel, k - 1)[:k]
        worst += sel.tolist()
    elif n > k:
        rows, c0 = base.sorted_list[k:n], base.sorted_columns[a0, k:n].tolist()
        if two:
            c1 = base.sorted_columns[a1, k:n].tolist()
            more = [p + c * d0 + e * d1 for p, c, e in zip(rows, c0, c1, strict=True)]
        else:
            more = [p + c * d0 for p, c in zip(rows, c0, strict=True)]
        worst += [v for v in more if v <= upper]
    worst.sort()
    return worst[:k]


def var_after(
    base: VarBase,
    legs: list[int],
    deltas: list[float],
    method: VarMethod,
    z: float,
    es_factor: float,
    exact: bool = False,
) -> tuple[float, float]:
    """VaR and ES (floats, not rounded) after adding ``deltas`` (account currency) to factors ``legs``.

    Compare them with ``base.var_room`` / ``base.es_room``; :func:`to_money_up` gives the Decimal figures.
    Unless ``exact``, when upper bounds of both figures already fit within those rooms the bounds are
    returned instead (every row's P&L moves by at most ``B``, so the historical VaR and ES grow by at most
    ``B`` times the horizon scale): the tail is then not searched, and the verdict is the same.
    """
    variance = base.variance
    sigma_w, cov, column_max = base.sigma_w_list, base.cov_list, base.column_max_list
    if len(legs) == 1:
        a, da = legs[0], deltas[0]
        variance += 2.0 * da * sigma_w[a]
        variance += da * da * cov[a][a]
        bound = abs(da) * column_max[a]
    else:
        bound = 0.0
        for a, da in zip(legs, deltas, strict=True):
            variance += 2.0 * da * sigma_w[a]
            bound += abs(da) * column_max[a]
            row = cov[a]
            for b, db in zip(legs, deltas, strict=True):
                variance += da * db * row[b]
    scale = base.scale
    sigma = math.sqrt(variance) if variance > 0 else 0.0
    pv, pe = z * sigma * scale, es_factor * sigma * scale  # parametric
    if method is VarMethod.PARAMETRIC:
        var, es = pv, pe
    else:
        both = method is not VarMethod.HISTORICAL
        if not exact:
            grow = bound * scale
            hv, he = base.hist_var + grow, base.hist_es + grow
            hv, he = hv + _SLACK * (abs(hv) + 1.0), he + _SLACK * (abs(he) + 1.0)  # float rounding
            if both:
                hv, he = max(hv, pv), max(he, pe)
            if hv <= base.var_room and he <= base.es_room:
                return hv, he
        worst = _historical_tail(base, legs, deltas, bound)
        var, es = -worst[-1] * scale, -math.fsum(worst) / base.k * scale
        if both:
            var, es = max(var, pv), max(es, pe)
    if not (math.isfinite(var) and math.isfinite(es)):
        to_money_up(var)  # raises InvalidInput, as the Decimal figures always did
        to_money_up(es)
    return var, es
