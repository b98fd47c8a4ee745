"""Per-snapshot aggregates, computed once and reused by every ``check()`` on the same snapshot.

A :class:`PortfolioView` values the portfolio (account currency), sums exposure per venue and account,
reserves cash for open orders, counts the rate windows, and prepares the VaR vectors and the stress
losses, so one check only adds the order's own marginal effect (O(1) for most checks, O(T) for
historical VaR).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from statistics import NormalDist

import numpy as np

from gekko_agent.domain import ZERO, AssetClass, InstrumentId, OrderSide
from gekko_agent.risk.config import VarMethod
from gekko_agent.risk.limits import RiskLimits, StressScenario
from gekko_agent.risk.snapshot import FloatArray, ReturnWindow, RiskSnapshot
from gekko_agent.risk.var import historical_var_es, horizon_scale, parametric_var_es, tail_count, to_money_up

__all__ = ["PortfolioView", "StressLeg", "VarBase"]

_ONE = Decimal(1)
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class StressLeg:
    """One stress leg (a scenario, or one direction of its sigma shocks) and the portfolio's loss in it."""

    name: str
    scenario: StressScenario
    direction: int
    loss: Decimal


@dataclass(frozen=True, slots=True)
class VarBase:
    """Cached VaR inputs of a portfolio: exposures per factor, P&L per row, Σw, and today's figures."""

    window: ReturnWindow
    k: int
    kth: float
    sigma_w_list: list[float]
    cov_list: list[list[float]]
    column_max_list: list[float]
    cov: FloatArray
    columns: FloatArray
    neg_loss_sorted: FloatArray
    sorted_columns: FloatArray
    column_max: FloatArray
    pnl: FloatArray
    sigma_w: FloatArray
    variance: float
    scale: float
    var: Decimal
    es: Decimal


class PortfolioView:
    """Aggregates of one snapshot under one set of limits (see the module docstring).

    Args:
        snap: the snapshot.
        limits: the limits in force.
    """

    def __init__(self, snap: RiskSnapshot, limits: RiskLimits) -> None:
        self.snap = snap
        self.limits = limits
        self.unvalued: list[str] = []
        self.notional: dict[InstrumentId, Decimal] = {}
        self.gross_venue: dict[str, Decimal] = {}
        self.net_venue: dict[str, Decimal] = {}
        self.gross = ZERO
        self.net = ZERO
        self.fx_margin_used = ZERO
        self.equity: Decimal | None = None
        self.open_qty: dict[tuple[InstrumentId, OrderSide], Decimal] = {}
        self.reserved_cash: dict[str, Decimal] = {}
        self._var: VarBase | str | None = "unset"
        self._stress: tuple[StressLeg, ...] | str | None = None
        self._shocks: dict[tuple[int, InstrumentId], Decimal | None] = {}
        self._sigmas: dict[InstrumentId, Decimal | None] = {}
        conf = float(limits.var_confidence)
        self._z = _NORMAL.inv_cdf(conf)
        self._es_factor = _NORMAL.pdf(self._z) / (1.0 - conf)
        self._value()
        self._reserve()
        now = snap.now
        self.submits = len(snap.submit_times) - bisect_right(
            snap.submit_times, now - timedelta(seconds=limits.submit_window_s)
        )
        self.cancels = len(snap.cancel_times) - bisect_right(
            snap.cancel_times, now - timedelta(seconds=limits.cancel_window_s)
        )

    def rate(self, currency: str) -> Decimal | None:
        """Account-currency units per unit of ``currency``, or None when unknown."""
        if currency == self.snap.account_currency:
            return _ONE
        return self.snap.rates.get(currency)

    def mark(self, iid: InstrumentId) -> Decimal | None:
        """Last trade price of ``iid``, if known."""
        md = self.snap.market.get(iid)
        return md.last if md is not None else None

    def _value(self) -> None:
        snap = self.snap
        equity = ZERO
        for ccy, amount in snap.cash.items():
            r = self.rate(ccy)
            if r is None:
                if amount:
                    self.unvalued.append(f"no rate for {ccy} cash")
                continue
            equity += amount * r
        for iid, pos in snap.positions.items():
            if not pos.quantity:
                continue
            mark, inst = self.mark(iid), snap.instruments.get(iid)
            r = self.rate(pos.quote)
            if mark is None or r is None or inst is None:
                self.unvalued.append(f"cannot value {iid}")
                continue
            value = pos.quantity * mark * r
            self.notional[iid] = value
            venue = inst.venue
            self.gross_venue[venue] = self.gross_venue.get(venue, ZERO) + abs(value)
            self.net_venue[venue] = self.net_venue.get(venue, ZERO) + value
            self.gross += abs(value)
            self.net += value
            if pos.asset_class is AssetClass.CRYPTO_SPOT:
                equity += value
            else:
                equity += pos.unrealized_pnl(mark) * r
                self.fx_margin_used += abs(value) / inst.max_leverage
        self.equity = None if self.unvalued else equity

    def _reserve(self) -> None:
        fee = _ONE + self.limits.fee_rate
        for o in self.snap.open_orders:
            key = (o.instrument_id, o.side)
            self.open_qty[key] = self.open_qty.get(key, ZERO) + o.remaining
            inst = self.snap.instruments.get(o.instrument_id)
            if o.side is OrderSide.BUY and inst is not None and inst.asset_class is AssetClass.CRYPTO_SPOT:
                price = o.price if o.price is not None else self.mark(o.instrument_id)
                if price is None:
                    self.unvalued.append(f"cannot price open order {o.order_id}")
                    self.equity = None
                    continue
                self.reserved_cash[inst.quote] = (
                    self.reserved_cash.get(inst.quote, ZERO) + o.remaining * price * fee
                )

    # ---------------------------------------------------------------- VaR
    def var_base(self) -> VarBase | None:
        """VaR inputs for the current portfolio, or None when history is missing or too short."""
        if self._var == "unset":
            self._var = self._build_var()
        return None if isinstance(self._var, str) else self._var

    def exposure_vector(self, window: ReturnWindow) -> FloatArray | None:
        """Factor exposures (account currency) of positions and foreign cash; None if a factor is missing."""
        w = np.zeros(len(window.factors))
        for iid, value in self.notional.items():
            j = window.index.get(iid)
            if j is None:
                return None
            w[j] += float(value)
        for ccy, amount in self.snap.cash.items():
            if ccy == self.snap.account_currency or not amount:
                continue
            j, r = window.index.get(ccy), self.rate(ccy)
            if j is None or r is None:
                return None
            w[j] += float(amount * r)
        return w

    def _build_var(self) -> VarBase | str:
        window, lim = self.snap.returns, self.limits
        if window is None or window.observations < lim.var_min_obs or self.unvalued:
            return "missing"
        w = self.exposure_vector(window)
        if w is None:
            return "missing"
        rows = window.returns[-lim.var_lookback :]
        cov = window.cov if rows.shape[0] == window.observations else np.cov(rows, rowvar=False, ddof=1)
        cov = np.atleast_2d(cov)
        columns = np.ascontiguousarray(rows.T)
        pnl = w @ columns
        sigma_w = cov @ w
        variance = float(w @ sigma_w)
        scale = horizon_scale(lim.var_horizon_s, window.interval_seconds)
        var, es = self.var_of(pnl, variance, scale)
        order = np.argsort(pnl, kind="stable")  # worst P&L (largest loss) first
        sorted_columns = np.ascontiguousarray(columns[:, order])
        column_max = np.abs(columns).max(axis=1) if columns.shape[1] else np.zeros(columns.shape[0])
        srt = pnl[order]
        k = tail_count(srt.shape[0], float(lim.var_confidence))
        return VarBase(
            window=window,
            k=k,
            kth=float(srt[k - 1]),
            sigma_w_list=sigma_w.tolist(),
            cov_list=cov.tolist(),
            column_max_list=column_max.tolist(),
            cov=cov,
            columns=columns,
            neg_loss_sorted=srt,
            sorted_columns=sorted_columns,
            column_max=column_max,
            pnl=pnl,
            sigma_w=sigma_w,
            variance=variance,
            scale=scale,
            var=var,
            es=es,
        )

    def var_of(self, pnl: FloatArray, variance: float, scale: float) -> tuple[Decimal, Decimal]:
        """VaR and ES (Decimal, rounded up) by the configured method(s): the larger of both when ``both``."""
        method, conf = self.limits.var_method.value, float(self.limits.var_confidence)
        var = es = 0.0
        if method in ("historical", "both"):
            var, es = historical_var_es(pnl, conf, scale)
        if method in ("parametric", "both"):
            pv, pe = parametric_var_es(variance, conf, scale)
            var, es = max(var, pv), max(es, pe)
        return to_money_up(var), to_money_up(es)

    def var_after(self, base: VarBase, legs: list[int], deltas: list[float]) -> tuple[Decimal, Decimal]:
        """VaR and ES after adding ``deltas`` (account currency) to the exposures of factors ``legs``.

        Parametric: ``wᵀΣw`` updated with the two or three terms the order changes (O(1)).
        Historical: only rows that can reach the tail are recomputed. A row's P&L moves by at most
        ``B = Σ|δ_j|·max|r_j|``, so a row whose P&L is above the k-th worst by more than ``2B`` stays out
        of the k worst; those candidates are a prefix of the rows sorted by P&L (exact, not approximate).
        """
        variance = base.variance
        sigma_w, cov = base.sigma_w_list, base.cov_list
        bound = 0.0
        for a, da in zip(legs, deltas, strict=True):
            variance += 2.0 * da * sigma_w[a]
            bound += abs(da) * base.column_max_list[a]
            for b, db in zip(legs, deltas, strict=True):
                variance += da * db * cov[a][b]
        var = es = 0.0
        method = self.limits.var_method
        if method is not VarMethod.PARAMETRIC:
            srt, k = base.neg_loss_sorted, base.k
            n = int(np.searchsorted(srt, base.kth + 2.0 * bound, side="right"))
            n = k if n < k else n
            pnl = srt[:n] + base.sorted_columns[legs[0], :n] * deltas[0]
            if len(legs) > 1:
                pnl += base.sorted_columns[legs[1], :n] * deltas[1]
            worst = (np.partition(pnl, k - 1)[:k] if n > k else pnl).tolist()
            var, es = -max(worst) * base.scale, -sum(worst) / k * base.scale
        if method is not VarMethod.HISTORICAL:
            sigma = math.sqrt(variance) if variance > 0 else 0.0
            var, es = max(var, self._z * sigma * base.scale), max(es, self._es_factor * sigma * base.scale)
        return to_money_up(var), to_money_up(es)

    # ---------------------------------------------------------------- stress
    def stress_legs(self) -> tuple[StressLeg, ...] | None:
        """Loss of the current portfolio in every stress leg, or None when an input is missing."""
        if self._stress is None:
            self._stress = self._build_stress()
        return None if isinstance(self._stress, str) else self._stress

    def price_shock(self, sc: StressScenario, direction: int, iid: InstrumentId) -> Decimal | None:
        """Price move of ``iid`` in a leg (None when a sigma shock needs history that is missing); cached."""
        key = (id(sc) * direction, iid)
        if key in self._shocks:
            return self._shocks[key]
        shock = self._price_shock(sc, direction, iid)
        self._shocks[key] = shock
        return shock

    def _price_shock(self, sc: StressScenario, direction: int, iid: InstrumentId) -> Decimal | None:
        if iid in sc.instrument_shocks:
            return sc.instrument_shocks[iid]
        inst = self.snap.instruments.get(iid)
        if inst is None:
            return None
        cls = inst.asset_class.value
        if cls in sc.asset_class_shocks:
            return sc.asset_class_shocks[cls]
        if cls in sc.sigma_shocks:
            sigma = self.sigma(iid)
            return None if sigma is None else sc.sigma_shocks[cls] * sigma * direction
        return ZERO

    def sigma(self, iid: InstrumentId) -> Decimal | None:
        """Standard deviation of ``iid``'s returns over the VaR horizon, if history has it (cached)."""
        if iid not in self._sigmas:
            self._sigmas[iid] = self._sigma(iid)
        return self._sigmas[iid]

    def _sigma(self, iid: InstrumentId) -> Decimal | None:
        window = self.snap.returns
        j = window.index.get(iid) if window is not None else None
        if window is None or j is None or window.observations < 2:
            return None
        daily = float(np.sqrt(window.cov[j, j])) * horizon_scale(
            self.limits.var_horizon_s, window.interval_seconds
        )
        return Decimal(repr(daily))

    def _build_stress(self) -> tuple[StressLeg, ...] | str:
        if self.unvalued:
            return "unvalued"
        legs: list[StressLeg] = []
        for sc in self.limits.scenarios:
            for direction in (1, -1) if sc.sigma_shocks else (1,):
                loss = ZERO
                for iid, pos in self.snap.positions.items():
                    if not pos.quantity:
                        continue
                    sp = self.price_shock(sc, direction, iid)
                    mark, r = self.mark(iid), self.rate(pos.quote)
                    if sp is None or mark is None or r is None:
                        return "missing"
                    sc_ccy = sc.currency_shocks.get(pos.quote, ZERO)
                    if pos.asset_class is AssetClass.CRYPTO_SPOT:  # the coin's own value moves by sp
                        pnl = pos.quantity * r * mark * sp
                    else:
                        before = mark - pos.avg_price
                        pnl = pos.quantity * r * ((mark * (1 + sp) - pos.avg_price) * (1 + sc_ccy) - before)
                    loss -= pnl
                for ccy, amount in self.snap.cash.items():
                    shock = sc.currency_shocks.get(ccy)
                    r = self.rate(ccy)
                    if shock is not None and r is not None and ccy != self.snap.account_currency:
                        loss -= amount * r * shock
                suffix = "" if not sc.sigma_shocks else (" (+)" if direction > 0 else " (-)")
                legs.append(StressLeg(sc.name + suffix, sc, direction, loss))
        return tuple(legs)
