"""Market state the engine keeps between bars: last prices, implied currency rates, equity marks,
and the factor-return window the risk engine's VaR reads."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np

from gekko_agent.domain import Bar, Instrument, InstrumentId, Order, Portfolio
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.risk.snapshot import (
    ForecastQuantiles,
    MarketData,
    OpenOrder,
    ReturnWindow,
    RiskSnapshot,
    TradingState,
    VenueHealth,
)
from gekko_agent.risk.var import RollingReturns

__all__ = ["EquityMarks", "MarketBook", "StagedReturns"]

_ONE = Decimal(1)
_REFRESH = 4096  # RollingReturns recomputes its running sums every this many pushes


class StagedReturns(RollingReturns):
    """A :class:`RollingReturns` that takes rows cheaply and folds them in only when it is read.

    :meth:`stage` copies a row into a preallocated array (no numpy call per row). Any read
    (``len``, :meth:`window`, :meth:`covariance`) or :meth:`push` first folds the staged rows in with
    a handful of vectorised operations that reproduce, bit for bit, what one ``push`` per row
    would have left: the same buffer layout, the running sums accumulated in the same order
    (``np.add.accumulate`` is sequential), the same periodic exact refresh. A backtest samples a row
    every bar but reads the window only when an intent is checked, so most rows cost a list copy.

    Args:
        factors: factor names (instrument ids or currency codes).
        capacity: most rows kept (the VaR lookback).
        interval_seconds: sampling interval of the rows.
    """

    def __init__(self, factors: Sequence[str], capacity: int, interval_seconds: int) -> None:
        super().__init__(factors, capacity, interval_seconds)
        self._staged = np.empty((_REFRESH, len(self.factors)))
        self._staged_n = 0

    def stage(self, row: Sequence[float]) -> None:
        """Queue one row of returns (one per factor); same checks as :meth:`push`."""
        if len(row) != len(self.factors) or not all(math.isfinite(x) for x in row):
            raise InvalidInput(f"a return row needs {len(self.factors)} finite values")
        if self._staged_n == _REFRESH:
            self.fold()
        self._staged[self._staged_n] = row
        self._staged_n += 1

    def stage_many(self, rows: np.ndarray) -> None:
        """Queue ``rows`` (shape ``(m, factors)``) as ``m`` calls of :meth:`stage` in order would."""
        if rows.ndim != 2 or rows.shape[1] != len(self.factors) or not bool(np.isfinite(rows).all()):
            raise InvalidInput(f"a return row needs {len(self.factors)} finite values")
        done = 0
        while done < rows.shape[0]:
            if self._staged_n == _REFRESH:
                self.fold()
            m = min(_REFRESH - self._staged_n, rows.shape[0] - done)
            self._staged[self._staged_n : self._staged_n + m] = rows[done : done + m]
            self._staged_n += m
            done += m

    def stage_column(self, values: Sequence[float]) -> None:
        """Queue one row per value of a one-factor window, as :meth:`stage` would one at a time."""
        if len(self.factors) != 1 or not all(map(math.isfinite, values)):
            raise InvalidInput(f"a return row needs {len(self.factors)} finite values")
        done, total = 0, len(values)
        while done < total:
            if self._staged_n == _REFRESH:
                self.fold()
            m = min(_REFRESH - self._staged_n, total - done)
            self._staged[self._staged_n : self._staged_n + m, 0] = values[done : done + m]
            self._staged_n += m
            done += m

    def fold(self) -> None:
        """Fold every staged row in, exactly as that many :meth:`push` calls in order would."""
        total, self._staged_n = self._staged_n, 0
        done = 0
        while done < total:
            if self._hi == self._buf.shape[0]:
                kept = self._hi - self._lo
                self._buf[:kept] = self._buf[self._lo : self._hi]
                self._lo, self._hi = 0, kept
            room = min(self._buf.shape[0] - self._hi, _REFRESH - self._pushes % _REFRESH)
            m = min(room, total - done)
            self._fold_segment(self._staged[done : done + m])
            done += m

    def _fold_segment(self, rows: np.ndarray) -> None:
        lo, hi, m = self._lo, self._hi, rows.shape[0]
        self._buf[hi : hi + m] = rows
        count = hi - lo
        if rows.shape[1] == 1:
            pops = self._fold_one(rows[:, 0].tolist(), self._buf[lo : lo + m, 0].tolist(), count)
        else:
            pops, order, signs = 0, [], []
            for j in range(m):  # the deltas in push order: +row, then -oldest once over capacity
                order.append(hi + j)
                signs.append(1.0)
                if count + j + 1 - pops > self.capacity:
                    order.append(lo + pops)
                    signs.append(-1.0)
                    pops += 1
            x = self._buf[order]
            sign = np.asarray(signs)[:, None]
            sums = np.add.accumulate(np.concatenate((self._sum[None, :], x * sign)), axis=0)
            outer = x[:, :, None] * x[:, None, :] * sign[:, :, None]
            cross = np.add.accumulate(np.concatenate((self._cross[None], outer)), axis=0)
            self._sum, self._cross = sums[-1].copy(), cross[-1].copy()
        self._lo, self._hi = lo + pops, hi + m
        self._version += m
        self._pushes += m
        self._cached = None
        if self._pushes % _REFRESH == 0:
            arr = self._buf[self._lo : self._hi]
            self._sum = arr.sum(axis=0)
            self._cross = arr.T @ arr

    def _fold_one(self, new: list[float], oldest: list[float], count: int) -> int:
        """The running sums of a one-factor window after adding ``new``; returns the rows dropped.

        ``oldest`` are the window's first rows (as many as ``new``, read after ``new`` was written),
        the ones dropped once over capacity. Each step is the float operation the numpy path's
        sequential ``np.add.accumulate`` does: ``acc + x * 1.0``, ``acc + x * x * 1.0`` for a row
        added and ``acc + x * -1.0``, ``acc + x * x * -1.0`` for a row dropped.
        """
        total, cross = float(self._sum[0]), float(self._cross[0, 0])
        cap, pops = self.capacity, 0
        for j, x in enumerate(new):
            total += x
            cross += x * x
            if count + j + 1 - pops > cap:
                y = oldest[pops]
                total += -y
                cross += -(y * y)
                pops += 1
        self._sum, self._cross = np.array([total]), np.array([[cross]])
        return pops

    def __len__(self) -> int:
        if self._staged_n:
            self.fold()
        return super().__len__()

    def push(self, row: Sequence[float] | np.ndarray) -> None:
        """Fold staged rows in, then append ``row`` as :meth:`RollingReturns.push` does."""
        if self._staged_n:
            self.fold()
        super().push(row)

    def covariance(self) -> np.ndarray:
        """Sample covariance of the window, staged rows included."""
        if self._staged_n:
            self.fold()
        return super().covariance()

    def window(self) -> ReturnWindow:
        """A read-only window of the current rows, staged rows included."""
        if self._staged_n:
            self.fold()
        return super().window()


class MarketBook:
    """Last prices per instrument and currency rates into the account currency.

    A rate for a currency ``C`` is implied from two instruments with the same base quoted in ``C``
    and in the account currency (BTC/USD ÷ BTC/USDC gives USDC in USD), or given explicitly.
    During the March 2023 USDC depeg this rate fell below 1, and equity follows it.

    Args:
        instruments: traded instruments by id.
        account_currency: currency of equity.
        fixed_rates: rates known up front (used when no cross can be implied).
        return_interval: seconds between factor-return samples for VaR.
        lookback: most return rows kept.
    """

    def __init__(
        self,
        instruments: Mapping[InstrumentId, Instrument],
        account_currency: str,
        fixed_rates: Mapping[str, Decimal] | None = None,
        return_interval: int = 60,
        lookback: int = 1440,
    ) -> None:
        self.instruments = dict(instruments)
        self.account_currency = account_currency
        self.market: dict[InstrumentId, MarketData] = {}
        self.fixed_rates = dict(fixed_rates or {})
        self._crosses: dict[str, tuple[InstrumentId, InstrumentId]] = {}
        by_base: dict[str, dict[str, InstrumentId]] = {}
        for iid, inst in self.instruments.items():
            by_base.setdefault(inst.base, {})[inst.quote] = iid
        for quotes in by_base.values():
            if account_currency in quotes:
                for ccy, iid in quotes.items():
                    if ccy != account_currency:
                        self._crosses.setdefault(ccy, (quotes[account_currency], iid))
        self._quotes = frozenset(i.quote for i in self.instruments.values())
        foreign = sorted(self._quotes - {account_currency})
        self.factors: tuple[str, ...] = (*self.instruments, *foreign)
        self.returns = StagedReturns(self.factors, lookback, return_interval)
        self.return_interval = return_interval
        self._last_sample: datetime | None = None
        self._last_values: list[float] | None = None

    def on_bar(self, bar: Bar, close_ts: datetime) -> None:
        """Record a closed bar's price and, on each interval boundary, a row of factor returns."""
        self.market[bar.instrument_id] = MarketData(last=bar.close, last_ts=close_ts)
        if (
            self._last_sample is None
            or (close_ts - self._last_sample).total_seconds() >= self.return_interval
        ):
            self._sample(close_ts)

    def skip(self, iid: InstrumentId, closes: Sequence[float], last: Decimal, last_ts: datetime) -> None:
        """What :meth:`on_bar` would leave after one bar per close of ``closes`` (the backtest fast path).

        Only for a book of one instrument quoted in the account currency whose bars are at least
        ``return_interval`` apart (each bar samples a return row), after its first bar. ``closes`` are
        the bars' closes as floats equal to ``float(bar.close)``; ``last`` and ``last_ts`` are the last
        bar's close and close time.

        Raises:
            InvalidInput: a book the preconditions do not hold for.
        """
        prev = self._last_values
        if self.factors != (iid,) or self.instruments[iid].quote != self.account_currency or prev is None:
            raise InvalidInput(f"MarketBook.skip: needs a sampled one-instrument book of {iid}")
        if not closes:
            return
        self.market[iid] = MarketData(last=last, last_ts=last_ts)
        p = prev[0]
        rows: list[float] = []
        for v in closes:  # _sample's arithmetic, row by row
            rows.append((v / p - 1.0) if p else 0.0)
            p = v
        self.returns.stage_column(rows)
        self._last_values = [closes[-1]]
        self._last_sample = last_ts

    def _sample(self, ts: datetime) -> None:
        try:
            values = [float(self.value_in_account(iid)) for iid in self.instruments]
            values += [float(self.rate(c)) for c in self.factors[len(self.instruments) :]]
        except DataNotFound:
            return
        if self._last_values is not None:
            row = [(v / p - 1.0) if p else 0.0 for v, p in zip(values, self._last_values, strict=True)]
            self.returns.stage(row)
        self._last_values = values
        self._last_sample = ts

    def last(self, iid: InstrumentId) -> Decimal:
        """Last price of ``iid``; DataNotFound before its first bar."""
        md = self.market.get(iid)
        if md is None or md.last is None:
            raise DataNotFound(f"no price yet for {iid}")
        return md.last

    def rate(self, currency: str) -> Decimal:
        """Account-currency units per unit of ``currency``."""
        if currency == self.account_currency:
            return _ONE
        cross = self._crosses.get(currency)
        if cross is not None and cross[0] in self.market and cross[1] in self.market:
            return self.last(cross[0]) / self.last(cross[1])
        if currency in self.fixed_rates:
            return self.fixed_rates[currency]
        raise DataNotFound(f"no rate for {currency} in {self.account_currency}")

    def rates(self) -> dict[str, Decimal]:
        """Every rate that can be computed now."""
        out: dict[str, Decimal] = {}
        for ccy in self._quotes | self.fixed_rates.keys():
            try:
                out[ccy] = self.rate(ccy)
            except DataNotFound:
                continue
        return out

    def value_in_account(self, iid: InstrumentId) -> Decimal:
        """Last price of ``iid`` converted into the account currency."""
        return self.last(iid) * self.rate(self.instruments[iid].quote)

    def marks(self) -> dict[InstrumentId, Decimal]:
        """Last price per instrument that has one."""
        return {iid: md.last for iid, md in self.market.items() if md.last is not None}


def portfolio_snapshot(
    now: datetime,
    portfolio: Portfolio,
    book: MarketBook,
    equity: EquityMarks,
    instruments: Mapping[InstrumentId, Instrument],
    *,
    open_orders: Iterable[Order],
    submit_times: Iterable[datetime],
    cancel_times: Iterable[datetime],
    trading_state: TradingState,
    strategy_usage: Mapping[str, Decimal],
    venues: Mapping[str, VenueHealth] | None = None,
    forecasts: Mapping[InstrumentId, ForecastQuantiles] | None = None,
) -> RiskSnapshot:
    """The risk engine's view of ``portfolio`` marked by ``book``, with ``equity``'s breaker references.

    The Trader builds its snapshot here, and so does the dashboard's rebuild from a ledger, so both
    see the portfolio the same way.
    """
    return RiskSnapshot(
        now=now,
        account_currency=portfolio.account_currency,
        cash=portfolio.cash,
        positions={iid: pos for iid, pos in portfolio.positions.items() if pos.quantity},
        instruments=instruments,
        market=book.market,
        rates=book.rates(),
        equity_day_start=equity.day_start,
        equity_peak=equity.peak,
        open_orders=tuple(OpenOrder.of(o) for o in open_orders),
        submit_times=tuple(submit_times),
        cancel_times=tuple(cancel_times),
        venues=venues or {},
        trading_state=trading_state,
        strategy_usage=strategy_usage,
        returns=book.returns.window() if len(book.returns) else None,
        forecasts=forecasts or {},
    )


@dataclass(slots=True)
class EquityMarks:
    """Equity now, at the start of the UTC day, and its peak, plus a sampled equity curve.

    The day start and the peak are the references of the daily-loss and drawdown breakers. A
    session that resumes from the ledger puts the journaled ones back with :meth:`restore`, so a
    restart neither forgets a drawdown nor starts a fresh day's loss budget.

    Attributes:
        now: latest equity.
        day_start: equity at the first mark of the current UTC day.
        peak: highest equity seen.
        curve: (time, equity) samples, one per ``sample_seconds``.
        sample_seconds: spacing of the curve.
        day: ordinal of the UTC day ``day_start`` belongs to.
        not_before: marks older than this are ignored (set by :meth:`restore`: bars polled again to
            warm indicators up after a restart are older than the restored references).
    """

    now: Decimal | None = None
    day_start: Decimal | None = None
    peak: Decimal | None = None
    curve: list[tuple[datetime, Decimal]] = field(default_factory=list)
    sample_seconds: int = 300
    day: int | None = None
    not_before: datetime | None = None

    def update(self, portfolio: Portfolio, book: MarketBook, ts: datetime) -> Decimal | None:
        """Recompute equity at ``ts``; None (and nothing changes) while a price or rate is missing."""
        if self.not_before is not None and ts < self.not_before:
            return None
        try:
            equity = portfolio.equity(book.marks(), book.rates())
        except DataNotFound:
            return None
        self.now = equity
        day = ts.toordinal()
        if self.day != day:
            self.day, self.day_start = day, equity
        if self.peak is None or equity > self.peak:
            self.peak = equity
        if not self.curve or (ts - self.curve[-1][0]).total_seconds() >= self.sample_seconds:
            self.curve.append((ts, equity))
        return equity

    def advance(self, now: Decimal, high: Decimal, samples: Iterable[tuple[datetime, Decimal]]) -> None:
        """What :meth:`update` would leave after bars of one UTC day valued ``now`` last, ``high`` at most.

        ``samples`` are the curve points those bars add (the backtest fast path chooses them with
        :attr:`sample_seconds`).
        """
        self.now = now
        if self.peak is None or high > self.peak:
            self.peak = high
        self.curve.extend(samples)

    def restore(self, ts: datetime, equity: Decimal, day_start: Decimal, peak: Decimal) -> None:
        """Take back references journaled at ``ts`` (the day start counts for the UTC day of ``ts``).

        A later mark on a new UTC day starts a new day as usual; the peak only rises from ``peak``.
        """
        self.now = equity
        self.day, self.day_start = ts.toordinal(), day_start
        self.peak = peak if self.peak is None else max(self.peak, peak)
        self.not_before = ts
