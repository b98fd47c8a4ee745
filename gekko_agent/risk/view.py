"""Per-snapshot aggregates, computed once and reused by every ``check()`` on the same snapshot.

A :class:`PortfolioView` values the portfolio (account currency), sums exposure per venue and account,
reserves cash for open orders, counts the rate windows, and prepares the VaR vectors and the stress
losses, so one check only adds the order's own marginal effect (O(1) for most checks, O(T) for
historical VaR).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from gekko_agent.domain import ZERO, AssetClass, InstrumentId, OrderSide
from gekko_agent.risk.limits import RiskLimits, StressScenario
from gekko_agent.risk.outcomes import CheckResult, ReasonCode
from gekko_agent.risk.plan import LimitPlan, StressLeg
from gekko_agent.risk.snapshot import FloatArray, ReturnWindow, RiskSnapshot
from gekko_agent.risk.var import horizon_scale
from gekko_agent.risk.var_cache import VarBase, build_var_base, var_after, var_of

if TYPE_CHECKING:
    from gekko_agent.risk.sides import SideState

__all__ = [
    "PortfolioView",
    "StressLeg",
    "VarBase",
    "cancels_in_window",
    "daily_loss_fraction",
    "drawdown_fraction",
]

_ONE = Decimal(1)


def cancels_in_window(snap: RiskSnapshot, limits: RiskLimits) -> int:
    """Cancels inside the sliding cancel window ending at ``snap.now`` (needs no valuation)."""
    since = snap.now - timedelta(seconds=limits.cancel_window_s)
    return len(snap.cancel_times) - bisect_right(snap.cancel_times, since)


def daily_loss_fraction(equity: Decimal | None, day_start: Decimal | None) -> Decimal | None:
    """Loss since the day start as a fraction of day-start equity (None when unknown)."""
    if equity is None or day_start is None or day_start <= 0:
        return None
    return (day_start - equity) / day_start


def drawdown_fraction(equity: Decimal | None, peak: Decimal | None) -> Decimal | None:
    """Fall from the peak as a fraction of the peak (None when unknown)."""
    if equity is None or peak is None:
        return None
    peak = max(peak, equity)
    if peak <= 0:
        return None
    return (peak - equity) / peak


class PortfolioView:
    """Aggregates of one snapshot under one set of limits (see the module docstring).

    Besides the aggregates it holds the engine's per-snapshot memos, filled on first use: ``gates`` (the
    results of the gates that depend only on the instrument), ``blocks`` (venue gates) and ``sides``
    (:class:`~gekko_agent.risk.sides.SideState` per instrument and side).

    Args:
        snap: the snapshot.
        limits: the limits in force.
        plan: the engine's :class:`~gekko_agent.risk.plan.LimitPlan` of ``limits`` (built when not given).
    """

    def __init__(self, snap: RiskSnapshot, limits: RiskLimits, plan: LimitPlan | None = None) -> None:
        self.snap = snap
        self.limits = limits
        self.plan = plan if plan is not None and plan.limits is limits else LimitPlan(limits)
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
        self._var: VarBase | None = None
        self._var_done = False
        self._stress: tuple[StressLeg, ...] | str | None = None
        self._shocks: dict[tuple[int, InstrumentId], Decimal | None] = {}
        self._sigmas: dict[InstrumentId, Decimal | None] = {}
        self._z, self._es_factor = self.plan.z, self.plan.es_factor
        self.sides: dict[tuple[InstrumentId, int], SideState] = {}
        self.gates: dict[InstrumentId, tuple[CheckResult, ...]] = {}
        self.blocks: dict[tuple[str, str, AssetClass], tuple[ReasonCode, str] | None] = {}
        self._value()
        self._reserve()
        self.daily_loss = daily_loss_fraction(self.equity, snap.equity_day_start)
        self.drawdown = drawdown_fraction(self.equity, snap.equity_peak)
        now = snap.now
        self.submits = len(snap.submit_times) - bisect_right(
            snap.submit_times, now - timedelta(seconds=limits.submit_window_s)
        )
        self.cancels = cancels_in_window(snap, limits)

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
        if not self._var_done:
            self._var = self._build_var()
            self._var_done = True
        return self._var

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

    def _build_var(self) -> VarBase | None:
        window, lim = self.snap.returns, self.limits
        if window is None or window.observations < lim.var_min_obs or self.unvalued:
            return None
        w = self.exposure_vector(window)
        if w is None:
            return None
        return build_var_base(window, w, lim)

    def var_of(self, pnl: FloatArray, variance: float, scale: float) -> tuple[Decimal, Decimal]:
        """VaR and ES (Decimal, rounded up) by the configured method(s): the larger of both when ``both``."""
        return var_of(pnl, variance, scale, self.limits)

    def var_after(self, base: VarBase, legs: list[int], deltas: list[float]) -> tuple[float, float]:
        """VaR and ES (floats) after adding ``deltas`` to the exposures of factors ``legs``.

        See :func:`~gekko_agent.risk.var_cache.var_after`; compare with ``base.var_room``/``es_room``.
        """
        return var_after(base, legs, deltas, self.limits.var_method, self._z, self._es_factor)

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
        snap, plan = self.snap, self.plan
        held = [(iid, pos) for iid, pos in snap.positions.items() if pos.quantity]
        static = [plan.static_shocks(iid, snap.instruments[iid].asset_class) for iid, _ in held]
        prefix: list[tuple[Decimal, Decimal] | None] = [None] * len(held)  # q·r·mark (spot) or (q·r, before)
        acct = snap.account_currency
        cash = [(ccy, amount, r) for ccy, amount in snap.cash.items() if (r := self.rate(ccy)) is not None]
        legs: list[StressLeg] = []
        for i, leg in enumerate(plan.legs):
            sc, direction = leg.scenario, leg.direction
            loss = ZERO
            for j, (iid, pos) in enumerate(held):
                sp = static[j][i]
                if sp is None:
                    sp = self.price_shock(sc, direction, iid)
                    if sp is None:
                        return "missing"
                mark, r = self.mark(iid), self.rate(pos.quote)
                assert mark is not None  # valued: every held instrument has a mark and a rate
                assert r is not None
                sc_ccy = sc.currency_shocks.get(pos.quote, ZERO)
                pre = prefix[j]
                if pos.asset_class is AssetClass.CRYPTO_SPOT:  # the coin's own value moves by sp
                    if pre is None:
                        pre = prefix[j] = (pos.quantity * r * mark, ZERO)
                    pnl = pre[0] * sp
                else:
                    if pre is None:
                        pre = prefix[j] = (pos.quantity * r, mark - pos.avg_price)
                    pnl = pre[0] * ((mark * (1 + sp) - pos.avg_price) * (1 + sc_ccy) - pre[1])
                loss -= pnl
            for ccy, amount, r in cash:
                shock = sc.currency_shocks.get(ccy)
                if shock is not None and ccy != acct:
                    loss -= amount * r * shock
            legs.append(leg.zero if loss is ZERO else StressLeg(leg.name, sc, direction, loss))
        return tuple(legs)
