"""The cached VaR inputs of one portfolio and the exact marginal VaR/ES of one order.

:func:`build_var_base` runs once per snapshot. It does only O(N²) work plus one pass over the returns for
each factor's largest move; everything that needs the T portfolio P&L rows is computed on first use:

* parametric: ``wᵀΣw`` updated with the terms the order changes (O(1));
* historical, in three tiers, each used only when the one before cannot settle the order:

  1. a *bound*: no row loses more than ``L`` (``L = -w·min r`` for one factor, ``Σ|w_j|·max|r_j|`` for
     several), so today's historical VaR and ES are at most ``L``; the order moves a row's P&L by at most
     ``B = Σ|δ_j|·max|r_j|``, so after it they are at most ``L + B`` (times the horizon scale). When that
     fits the limits, the order passes, with no pass over the rows;
  2. the same test with today's exact figures (the P&L rows and one selection, O(T));
  3. the exact tail search of :mod:`gekko_agent.risk.var_tail` (one sort of the P&L rows, then a few
     dozen candidate rows per order).

  Every tier's bound is at least the next one's, so a tier passes an order only when the next would:
  the verdict, and the figures in a denial (always from tier 3), are those of the exact search.

The limits are compared on floats: :func:`float_floor_cents` gives the largest float ``t`` with
``to_money_up(x) <= limit`` exactly when ``x <= t``, so no Decimal is built unless an order is denied.
Today's figures are Decimals only when asked for (reports) or when they exceed a limit (the room is then
today's figure: an order may not make it worse).
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Context, Decimal
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from gekko_agent.risk.config import VarMethod
from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.snapshot import FloatArray, ReturnWindow
from gekko_agent.risk.var import historical_var_es, horizon_scale, tail_count, to_money_up
from gekko_agent.risk.var_tail import SortedTail, build_tail, historical_tail

__all__ = ["VarBase", "build_var_base", "float_floor_cents", "normal_constants", "var_after", "var_of"]

_CENT = Decimal("0.01")
_SLACK = 1e-9  # relative margin on float upper bounds
_BIG = 1e300  # bounds beyond this take the exact path (a sum of k of them could overflow)
_WIDE = Context(prec=400)
_PARAMETRIC = VarMethod.PARAMETRIC
_HISTORICAL = VarMethod.HISTORICAL
_NORMAL = NormalDist()


@lru_cache(maxsize=16)
def normal_constants(confidence: float) -> tuple[float, float, float]:
    """``(z_α, φ(z_α), φ(z_α)/(1-α))`` of the standard normal at ``confidence``."""
    z = _NORMAL.inv_cdf(confidence)
    pdf = _NORMAL.pdf(z)
    return z, pdf, pdf / (1.0 - confidence)


def _parametric(variance: float, confidence: float, scale: float) -> tuple[float, float]:
    """:func:`~gekko_agent.risk.var.parametric_var_es`, same arithmetic, with the normal constants cached."""
    z, pdf, _ = normal_constants(confidence)
    sigma = math.sqrt(max(variance, 0.0))
    return z * sigma * scale, sigma * pdf / (1.0 - confidence) * scale


@lru_cache(maxsize=64)
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


def var_of(pnl: FloatArray, variance: float, scale: float, limits: RiskLimits) -> tuple[Decimal, Decimal]:
    """VaR and ES (Decimal, rounded up) by the configured method(s): the larger of both when ``both``."""
    method, conf = limits.var_method.value, float(limits.var_confidence)
    var = es = 0.0
    if method in ("historical", "both"):
        var, es = historical_var_es(pnl, conf, scale)
    if method in ("parametric", "both"):
        pv, pe = _parametric(variance, conf, scale)
        var, es = max(var, pv), max(es, pe)
    return to_money_up(var), to_money_up(es)


def _bump(x: float) -> float:
    """``x`` raised by a relative margin that covers the rounding of a sum or a mean of k terms."""
    return x + _SLACK * abs(x)


class VarBase:
    """VaR inputs of one portfolio over one window (see the module docstring); lazy parts built on first use.

    A per-snapshot memo: the portfolio view owns it, and nothing changes it after :func:`build_var_base`
    but its own caches.

    Attributes:
        window: the return window.
        k: rows in the historical tail.
        sigma_w_list: Σw as floats.
        cov_list: Σ as lists of floats.
        column_max_list: largest |return| of each factor.
        variance: wᵀΣw.
        scale: horizon scale √(h/Δ).
        var_room: the largest float VaR an order may leave (``max(max_var, var)``, see the module).
        es_room: the same for ES.
        loss_bound: an upper bound of today's historical VaR and ES (scaled), or None (tier 1 unusable).
    """

    __slots__ = (
        "_exact",
        "_figures",
        "_limits",
        "_pnl",
        "_rows",
        "_tail",
        "_w",
        "column_max_list",
        "cov_list",
        "es_room",
        "k",
        "loss_bound",
        "scale",
        "sigma_w_list",
        "var_room",
        "variance",
        "window",
    )

    def __init__(
        self,
        window: ReturnWindow,
        w: FloatArray,
        rows: FloatArray,
        limits: RiskLimits,
        cov: FloatArray,
        column_max: list[float],
        loss_bound: float | None,
    ) -> None:
        self.window = window
        self._w = w
        self._rows = rows
        self._limits = limits
        self.k = tail_count(rows.shape[0], float(limits.var_confidence))
        self.cov_list: list[list[float]] = cov.tolist()
        if len(self.cov_list) == 1:  # one factor: the same products numpy's dot and gemv form (0.0 + a·b)
            c, w0 = self.cov_list[0][0], float(w[0])
            sw = 0.0 + c * w0
            self.sigma_w_list: list[float] = [sw]
            self.variance = 0.0 + w0 * sw
        else:
            sigma_w = cov @ w
            self.variance = float(w @ sigma_w)
            self.sigma_w_list = sigma_w.tolist()
        self.column_max_list = column_max
        self.scale = horizon_scale(limits.var_horizon_s, window.interval_seconds)
        scaled = None if loss_bound is None else loss_bound * self.scale
        self.loss_bound = scaled if scaled is not None and abs(scaled) < _BIG else None
        self._pnl: FloatArray | None = None
        self._figures: tuple[Decimal, Decimal] | None = None
        self._exact: tuple[float, float] | None = None
        self._tail: SortedTail | None = None
        self.var_room, self.es_room = self._rooms()

    def _rooms(self) -> tuple[float, float]:
        lim = self._limits
        var_floor, es_floor = float_floor_cents(lim.max_var), float_floor_cents(lim.max_es)
        method, lb = lim.var_method, self.loss_bound
        pv, pe = _parametric(self.variance, float(lim.var_confidence), self.scale)
        if method is _PARAMETRIC:
            var, es = max(0.0, pv), max(0.0, pe)
        elif lb is None:
            var = es = math.inf
        elif method is _HISTORICAL:
            var = es = lb
        else:
            var, es = max(lb, pv), max(lb, pe)
        if var <= var_floor and es <= es_floor and math.isfinite(pv) and math.isfinite(pe):
            return var_floor, es_floor  # today's figures are within the limits
        var_now, es_now = self.var, self.es  # raises InvalidInput on a non-finite figure, as always
        return float_floor_cents(max(lim.max_var, var_now)), float_floor_cents(max(lim.max_es, es_now))

    @property
    def pnl(self) -> FloatArray:
        """P&L per row (window order), ``w · r_t``."""
        if self._pnl is None:
            self._pnl = self._w @ np.ascontiguousarray(self._rows.T)
        return self._pnl

    @property
    def var(self) -> Decimal:
        """Today's VaR (Decimal, rounded up) by the configured method(s)."""
        return self.figures[0]

    @property
    def es(self) -> Decimal:
        """Today's ES (Decimal, rounded up) by the configured method(s)."""
        return self.figures[1]

    @property
    def figures(self) -> tuple[Decimal, Decimal]:
        """Today's (VaR, ES) as Decimals rounded up (see :func:`var_of`)."""
        if self._figures is None:
            self._figures = var_of(self.pnl, self.variance, self.scale, self._limits)
        return self._figures

    @property
    def historical(self) -> tuple[float, float]:
        """Today's historical VaR and ES (floats, scaled)."""
        if self._exact is None:
            self._exact = historical_var_es(self.pnl, float(self._limits.var_confidence), self.scale)
        return self._exact

    @property
    def tail(self) -> SortedTail:
        """The P&L rows sorted worst first (built on first use)."""
        if self._tail is None:
            self._tail = build_tail(self.pnl, np.ascontiguousarray(self._rows.T), self.k)
        return self._tail


def build_var_base(window: ReturnWindow, w: FloatArray, limits: RiskLimits) -> VarBase:
    """The cached inputs for exposures ``w`` (account currency per factor) over ``window``."""
    rows = window.returns[-limits.var_lookback :]
    t, n = rows.shape
    cov = window.cov if t == window.observations else np.cov(rows, rowvar=False, ddof=1)
    cov = np.atleast_2d(cov)
    bound: float | None
    if t == 0:
        column_max, bound = [0.0] * n, None
    elif n == 1:
        col = rows[:, 0]
        lo, hi = float(col.min()), float(col.max())
        column_max = [max(abs(lo), abs(hi)) if lo == lo and hi == hi else math.nan]  # nan as numpy has it
        w0 = float(w[0])
        bound = -(w0 * lo) if w0 > 0 else -(w0 * hi) if w0 < 0 else 0.0  # the largest loss of a row
        bound = _bump(bound)
    else:
        column_max = np.abs(rows).max(axis=0).tolist()
        bound = _bump(sum(abs(x) * m for x, m in zip(w.tolist(), column_max, strict=True)))
    if bound is not None and not (math.isfinite(bound) and abs(bound) < _BIG):
        bound = None
    return VarBase(window, w, rows, limits, cov, column_max, bound)


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
    returned instead (tiers 1 and 2 of the module docstring): the tail is then not searched, and the
    verdict is the same.
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
    if method is _PARAMETRIC:
        var, es = pv, pe
    else:
        both = method is not _HISTORICAL
        if not exact:
            grow = bound * scale
            lb = base.loss_bound
            if lb is not None:  # tier 1: today's figures bounded by the largest loss of a row
                hv = lb + grow
                hv += _SLACK * (abs(hv) + 1.0)
                if both:
                    hv, he = max(hv, pv), max(hv, pe)
                else:
                    he = hv
                if hv <= base.var_room and he <= base.es_room:
                    return hv, he
            hist_var, hist_es = base.historical  # tier 2: today's exact figures
            hv, he = hist_var + grow, hist_es + grow
            hv, he = hv + _SLACK * (abs(hv) + 1.0), he + _SLACK * (abs(he) + 1.0)  # float rounding
            if both:
                hv, he = max(hv, pv), max(he, pe)
            if hv <= base.var_room and he <= base.es_room:
                return hv, he
        tail = base.tail  # tier 3: the exact search
        worst = historical_tail(tail, legs, deltas, bound)
        var, es = -worst[-1] * scale, -math.fsum(worst) / tail.k * scale
        if both:
            var, es = max(var, pv), max(es, pe)
    if not (math.isfinite(var) and math.isfinite(es)):
        to_money_up(var)  # raises InvalidInput, as the Decimal figures always did
        to_money_up(es)
    return var, es
