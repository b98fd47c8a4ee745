"""Parameter sweeps of sma_cross: time per combination, numpy path and event path, next to the numpy floor.

Rows, per bar count:

* ``floor: numpy signal``: the crossover signal alone with numpy (cumsum SMAs and the two crossing
  masks), the floor of ``bench_backtest.py``, timed per combination;
* ``sweep, numpy path``: :func:`~gekko_agent.runtime.sweep.sma_cross_vectorized` per combination
  (signal, long/flat book filled at the next open, fees, equity, Sharpe, drawdown), the path
  ``gekko backtest --grid ... --vectorized`` takes; the ratio to the floor is printed (goal: within 5x);
* ``sweep, event path``: one full event-driven backtest per combination (risk engine on, in-memory
  journal, the quiet-bar fast path), as ``--grid`` without ``--vectorized`` runs in each worker
  (on 100k bars and a subset of the grid only: it is slower by orders of magnitude).

Input: the derived bars of ``bench_backtest.py`` (real 1-minute BTC/USD returns and bar shapes, tiled).
Grid: fast 5, 10, 20 × slow 30, 60, 120 (9 combinations). Each figure is the median of 5 repeats.

Run: ``.venv/bin/python benchmarks/bench_sweep.py [--bars 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backtest import derived_bars, run_gekko, signals

from gekko_agent.market import BarArray
from gekko_agent.runtime.sweep import sma_cross_vectorized

GRID = [(f, s) for f in (5, 10, 20) for s in (30, 60, 120)]


def floor_signal(close: np.ndarray, fast: int, slow: int) -> int:
    """The crossover signal alone (the numpy floor of bench_backtest.py), for one combination."""
    up, down = signals(close, fast, slow)
    return int(up.sum() + down.sum())


def per_combo(fn: Callable[[int, int], object], grid: list[tuple[int, int]], repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean seconds per combination of ``grid``."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for fast, slow in grid:
            fn(fast, slow)
        times.append((time.perf_counter() - t0) / len(grid))
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, nargs="+", default=[100_000, 1_000_000])
    args = ap.parse_args()
    print(f"sma_cross grid {len(GRID)} combinations (fast 5,10,20 x slow 30,60,120); seconds per combination")
    print(f"{'path':<22}{'bars':>10}{'s/combo':>12}{'bars/s':>14}{'x floor':>9}")
    for n in args.bars:
        for name, sec, floor in measure(n):
            print(f"{name:<22}{n:>10}{sec:>12.5f}{n / sec:>14,.0f}{sec / floor:>9.1f}")


def measure(n: int) -> list[tuple[str, float, float]]:
    """(path, seconds per combination, floor seconds per combination) on ``n`` derived bars."""
    bars: BarArray = derived_bars(n)
    close = bars.close
    floor = per_combo(lambda f, s: floor_signal(close, f, s), GRID)
    vec = per_combo(lambda f, s: sma_cross_vectorized(bars, f, s, quantity=0.1, cash=1e7, fee_bps=10.0), GRID)
    rows = [("floor: numpy signal", floor, floor), ("sweep, numpy path", vec, floor)]
    if n <= 100_000:
        event = per_combo(lambda f, s: run_gekko_combo(bars, f, s), [(10, 30), (20, 60)], repeats=1)
        rows.append(("sweep, event path", event, floor))
    return rows


def run_gekko_combo(bars: BarArray, fast: int, slow: int) -> None:
    """One event-driven backtest of ``(fast, slow)`` (risk engine on, in-memory journal)."""
    run_gekko(bars, None, ledger_on=False, fast=fast, slow=slow)


if __name__ == "__main__":
    main()
