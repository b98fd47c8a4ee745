"""Parameter sweeps (``gekko backtest --grid fast=5,10,20 slow=30,60``) in parallel processes.

Two paths, and every result says which one ran:

* ``event``: each combination is a full :func:`~gekko_agent.runtime.backtest.run_backtest` (the
  same Trader, RiskEngine, paper venue, fees, slippage and participation cap as a single backtest),
  spread over a :class:`~concurrent.futures.ProcessPoolExecutor`.
* ``numpy`` (``sma_cross`` only, when asked with ``vectorized=True``): the crossover signal and a
  fixed-quantity long/flat book computed with numpy over the whole array — signal on a bar's
  close, fill at the next bar's open, ``fee_bps`` per fill, no slippage, no participation cap, no
  risk checks. It ranks parameters fast; confirm the winner on the event path.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from gekko_agent.config import GekkoConfig
from gekko_agent.errors import GekkoError, InvalidInput
from gekko_agent.market.bararray import BarArray, to_ns
from gekko_agent.market.loader import load_bars
from gekko_agent.runtime.backtest import Leg, backtest_sources, check_window, run_backtest, strategy_params

__all__ = ["SweepResult", "parse_grid", "run_grid", "sma_cross_vectorized"]

_YEAR_SECONDS = 365.25 * 24 * 3600
_WARMUP_NS = 1500 * 60 * 1_000_000_000  # run_backtest's warm-up before --from
Grid = Mapping[str, Sequence[str]]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SweepResult:
    """One combination's outcome.

    Attributes:
        params: the strategy parameters of this combination.
        path: ``event`` (full engine) or ``numpy`` (vectorized sma_cross).
        metrics: total_return, sharpe, max_drawdown, final_equity, fees, fills (floats / ints).
        error: why the combination could not run (invalid parameters), else None.
    """

    params: dict[str, str]
    path: str
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """``["fast=5,10,20", "slow=30,60"]`` → ``{"fast": ["5", "10", "20"], "slow": ["30", "60"]}``.

    An item may hold several space-separated ``KEY=...`` parts (``--grid "fast=5,10 slow=30,60"``).

    Raises:
        InvalidInput: an item that is not ``KEY=V1,V2,...``.
    """
    grid: dict[str, list[str]] = {}
    for item in (part for text in items for part in text.split()):
        key, sep, values = item.partition("=")
        parts = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not parts:
            raise InvalidInput(f"--grid: {item!r} is not KEY=V1,V2,...")
        grid[key.strip()] = parts
    return grid


def _combinations(grid: Grid) -> list[dict[str, str]]:
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]


def _event_one(job: tuple[GekkoConfig, str, dict[str, str], dict[str, Any]]) -> SweepResult:
    base, strategy, params, kwargs = job
    try:
        r = run_backtest(base, strategy=strategy, params=params, **kwargs)
    except GekkoError as exc:
        return SweepResult(params, "event", error=str(exc))
    metrics = {
        "total_return": float(r.total_return),
        "sharpe": r.sharpe,
        "max_drawdown": float(r.max_drawdown),
        "final_equity": float(r.final_equity),
        "fees": float(r.fees),
        "fills": len(r.fills),
    }
    return SweepResult(params, "event", metrics)


def _sma(csum: F64, n: int) -> F64:
    """Simple moving average from the cumulative sum ``csum`` (leading 0) of closes; NaN for n - 1 bars."""
    out = np.full(len(csum) - 1, np.nan)
    if len(csum) > n:
        out[n - 1 :] = (csum[n:] - csum[:-n]) / n
    return out


def sma_cross_vectorized(
    bars: BarArray,
    fast: int,
    slow: int,
    *,
    quantity: float,
    cash: float,
    fee_bps: float,
    start_ns: int | None = None,
) -> dict[str, float]:
    """sma_cross with numpy: enter on ``prev <= 0 < diff``, exit on ``prev >= 0 > diff``, fill at next open.

    Args:
        bars: the instrument's bars (warm-up included).
        fast: fast window.
        slow: slow window.
        quantity: base units per entry.
        cash: starting cash (quote currency).
        fee_bps: fee per fill, bps of notional.
        start_ns: signals on bars closing before this are ignored (warm-up).
    """
    close, open_ = bars.close, bars.open
    csum = np.cumsum(np.concatenate(([0.0], close)))
    diff = _sma(csum, fast) - _sma(csum, slow)
    prev = np.concatenate(([np.nan], diff[:-1]))
    event = np.where((prev <= 0) & (diff > 0), 1, np.where((prev >= 0) & (diff < 0), -1, 0))
    if start_ns is not None:
        event[bars.ts + bars.interval * 1_000_000_000 <= start_ns] = 0
    idx = np.where(event != 0, np.arange(len(event)), 0)
    np.maximum.accumulate(idx, out=idx)
    state = np.where(event[idx] > 0, 1.0, 0.0)  # long iff the last event was a cross up
    held = np.concatenate(([0.0], state[:-1]))  # a decision on close i is held from open i + 1
    trade = np.diff(np.concatenate(([0.0], held)))
    notional = trade * quantity * open_
    fees = np.abs(notional) * fee_bps / 1e4
    cash_path = cash - np.cumsum(notional + fees)
    equity = cash_path + held * quantity * close
    first = 0 if start_ns is None else int(np.searchsorted(bars.ts + bars.interval * 1_000_000_000, start_ns))
    eq = equity[first:] if first < len(equity) else equity[-1:]
    step = max(1, 300 // bars.interval)
    sampled = eq[::step]
    rets = np.diff(sampled) / sampled[:-1] if len(sampled) > 2 else np.zeros(0)
    sd = float(rets.std(ddof=1)) if len(rets) > 1 else 0.0
    sharpe = float(rets.mean()) / sd * math.sqrt(_YEAR_SECONDS / (step * bars.interval)) if sd > 0 else 0.0
    peak = np.maximum.accumulate(sampled)
    return {
        "total_return": float(eq[-1] / eq[0] - 1.0),
        "sharpe": sharpe,
        "max_drawdown": float(np.max((peak - sampled) / peak)),
        "final_equity": float(eq[-1]),
        "fees": float(fees[first:].sum()),
        "fills": int(np.count_nonzero(trade[first:])),
    }


def _numpy_all(
    base: GekkoConfig,
    source: tuple[Leg, BarArray | None],
    combos: list[dict[str, str]],
    kwargs: dict[str, Any],
) -> list[SweepResult]:
    from gekko_agent.strategies.sma_cross import Params

    start, end = kwargs.get("start"), kwargs.get("end")
    leg, bars = source
    if bars is None:
        lo = to_ns(start) - _WARMUP_NS if start is not None else None
        bars = load_bars(leg.dataset or "", lo, end, cache=base.data.cache)
    out: list[SweepResult] = []
    for combo in combos:
        try:
            p = Params.model_validate(strategy_params(base, "sma_cross", [leg], dict(combo)))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in err["loc"])
            problem = err["msg"].removeprefix("Value error, ")
            out.append(SweepResult(combo, "numpy", error=f"{loc}: {problem}" if loc else problem))
            continue
        metrics = sma_cross_vectorized(
            bars,
            p.fast,
            p.slow,
            quantity=float(p.quantity),
            cash=float(kwargs.get("cash", Decimal(100000))),
            fee_bps=float(kwargs.get("fee_bps", Decimal(10))),
            start_ns=to_ns(start) if start is not None else None,
        )
        out.append(SweepResult(combo, "numpy", metrics))
    return out


def run_grid(
    base: GekkoConfig,
    strategy: str,
    dataset: str | Sequence[str] | None,
    grid: Grid,
    *,
    csv: Path | None = None,
    interval: str | int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    fee_bps: Decimal = Decimal(10),
    cash: Decimal = Decimal(100000),
    workers: int = 2,
    vectorized: bool = False,
) -> list[SweepResult]:
    """Backtest every combination of ``grid``; results in grid order.

    Args:
        base: config supplying risk limits and default strategy parameters.
        strategy: strategy name.
        dataset: bundled dataset name, or several (``arbitrage``); None with ``csv``.
        grid: parameter name → values to try (strings, validated by the strategy's ``Params``).
        csv: a user's OHLCV file instead of ``dataset``.
        interval: the CSV's bar length (None: inferred).
        start: bars before this only warm up.
        end: stop before this time.
        fee_bps: fee per fill.
        cash: starting cash.
        workers: processes for the event path.
        vectorized: take the numpy path for ``sma_cross`` on one instrument (other strategies always
            run events).

    Raises:
        InvalidInput: a window without bars, no source (checked once, before any combination runs).
    """
    check_window(start, end)
    legs, csv_bars = backtest_sources(base, dataset, csv, interval, (start, end))
    combos = _combinations(grid)
    kwargs: dict[str, Any] = {"start": start, "end": end, "fee_bps": fee_bps, "cash": cash}
    if vectorized and strategy == "sma_cross" and len(legs) == 1:
        bars = next(iter(csv_bars.values())) if csv_bars else None
        return _numpy_all(base, (legs[0], bars), combos, kwargs)
    kwargs.update(dataset=dataset, csv=csv, interval=interval)
    jobs = [(base, strategy, combo, kwargs) for combo in combos]
    if workers <= 1 or len(jobs) <= 1:
        return [_event_one(job) for job in jobs]
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
        return list(pool.map(_event_one, jobs))
