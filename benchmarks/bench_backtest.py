"""Backtest throughput of sma_cross (fast 10, slow 30, 0.1 BTC, 10 bps per side): bars per second.

Rows, each measured in a fresh subprocess so its peak RSS is its own:

* ``gekko``: the full event-driven engine (ReplayFeed → Trader → RulesBrain → RiskEngine with the
  shipped limits → ExecutionEngine → PaperVenue), journaling into a DuckDB ledger ``":memory:"``
  (``--ledger-file`` journals into a file instead) through the backtest sink
  :class:`~gekko_agent.runtime.journal.BufferedJournal` (``append_many`` every 4,096 events and at the
  end, inside the timing; paper and live append each event durably instead);
* ``gekko, no ledger``: the same engine journaling into an in-memory list;
* ``gekko, every bar``: the same as ``gekko`` with the quiet-bar fast path off
  (:class:`~gekko_agent.runtime.quiet.QuietReplay`): every bar takes the full per-bar path (a
  Decimal bar, marks, breakers, context), as paper and live trading do; the events are the same;
* ``backtesting.py``: the same strategy rules in backtesting.py (``FractionalBacktest``, lot 1e-5);
* ``vectorbt``: ``Portfolio.from_signals`` on the same entries/exits, when it is installed;
* ``floor: python loop``: a bare loop that only updates two running SMAs and the cross test;
* ``floor: numpy``: the same signal with numpy (cumsum SMAs, crossing masks).

Input: derived from real data, not real data itself. The per-bar log returns of the bundled
Binance.US BTC/USD 1-minute file (30,240 real bars), demeaned so that tiling a three-week rally
does not compound the price away, and its real open/high/low shapes relative to the close, are
tiled (repeated in order) onto one continuous price path starting at the file's first close.
Every engine sees the same bars; the paper venue is given unlimited volume (no participation cap)
and no slippage, the convention of ``tests/runtime/test_parity_backtesting_py.py``.

Run: ``.venv/bin/python benchmarks/bench_backtest.py [--bars 100000 1000000] [--skip-peers]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
import warnings
from collections import deque
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from gekko_agent.market import BarArray, load_bars

ROOT = Path(__file__).resolve().parents[1]
FAST, SLOW, QTY, FEE = 10, 30, 0.1, 0.001


def derived_bars(n: int) -> BarArray:
    """``n`` one-minute bars built from the real file's demeaned returns and bar shapes, tiled."""
    real = load_bars("binanceus-btcusd-1m")
    c = real.close
    rets = np.diff(np.log(c))
    rets = rets - rets.mean()  # demeaned: tiling a 3-week rally 33 times would compound it ~500x
    shape_o, shape_h, shape_l = real.open[1:] / c[1:], real.high[1:] / c[1:], real.low[1:] / c[1:]
    reps = -(-n // len(rets))
    idx = np.arange(n - 1) % len(rets)
    close = c[0] * np.exp(np.concatenate(([0.0], np.cumsum(np.tile(rets, reps)[: n - 1]))))
    open_ = np.concatenate(([real.open[0]], close[1:] * shape_o[idx]))
    high = np.concatenate(([real.high[0]], close[1:] * shape_h[idx]))
    low = np.concatenate(([real.low[0]], close[1:] * shape_l[idx]))
    ts = real.ts[0] + np.arange(n, dtype=np.int64) * 60_000_000_000
    high, low = np.maximum.reduce([high, open_, close]), np.minimum.reduce([low, open_, close])
    r2 = lambda a: np.round(a, 2)  # noqa: E731 - prices in cents, like the source
    return BarArray("BTC/USD@paper", 60, ts, r2(open_), r2(high), r2(low), r2(close), np.full(n, 1e9), 2, 2)


def run_gekko(
    bars: BarArray,
    ledger_file: str | None,
    *,
    ledger_on: bool = True,
    skip_quiet: bool = True,
    fast: int = FAST,
    slow: int = SLOW,
) -> dict[str, Any]:
    from gekko_agent.config import GekkoConfig
    from gekko_agent.ledger.store import Ledger
    from gekko_agent.runtime.backtest import backtest_config
    from gekko_agent.runtime.journal import BufferedJournal
    from gekko_agent.runtime.replay import run_replay
    from gekko_agent.runtime.wiring import MemoryJournal, build_replay

    cfg = backtest_config(
        GekkoConfig(),  # the shipped default limits (not agent.yaml: bench stays independent of it)
        strategy="sma_cross",
        symbol="BTC/USD",
        asset_class="crypto_spot",
        dataset="binanceus-btcusd-1m",
        fee_bps=Decimal(10),
        cash=Decimal(10**7),
        params={"fast": fast, "slow": slow, "quantity": str(QTY)},
    )
    data = cfg.model_dump(mode="python")
    data["venues"]["paper"].update(slippage_bps=Decimal(0), max_participation=Decimal(1))
    ledger = Ledger(ledger_file or ":memory:") if ledger_on else None
    t0 = time.perf_counter()
    journal = BufferedJournal(ledger) if ledger is not None else MemoryJournal()
    system = build_replay(GekkoConfig.model_validate(data), journal, bars={"BTC/USD@paper": bars})
    asyncio.run(run_replay(system, skip_quiet=skip_quiet))
    if isinstance(journal, BufferedJournal):
        journal.close()
    seconds = time.perf_counter() - t0
    stats = system.trader.stats
    if ledger is not None:
        ledger.close()
    return {"seconds": seconds, "orders": stats.orders, "denied": stats.denied}


def _frame(bars: BarArray) -> Any:
    import pandas as pd

    cols = {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close}
    return pd.DataFrame({**cols, "Volume": bars.volume}, index=pd.to_datetime(bars.ts, utc=True))


def run_backtesting_py(bars: BarArray) -> dict[str, Any]:
    import pandas as pd
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest

    class SmaCross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            close = pd.Series(self.data.Close)
            diff = (close.rolling(FAST).mean() - close.rolling(SLOW).mean()).to_numpy()
            self.diff = self.I(lambda: diff, name="diff")

        def next(self) -> None:
            prev, cur = self.diff[-2], self.diff[-1]
            if prev <= 0 < cur and not self.position:
                self.buy(size=round(QTY / 1e-5))
            elif prev >= 0 > cur and self.position:
                self.position.close()

    frame = _frame(bars)
    t0 = time.perf_counter()
    bt = FractionalBacktest(frame, SmaCross, cash=1e7, commission=FEE, fractional_unit=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.run()
    return {"seconds": time.perf_counter() - t0, "orders": 2 * int(stats["# Trades"])}


def signals(close: np.ndarray, fast: int = FAST, slow: int = SLOW) -> tuple[np.ndarray, np.ndarray]:
    """The crossover masks (fast SMA crossing above, crossing below) from cumsum SMAs."""
    csum = np.concatenate(([0.0], np.cumsum(close)))
    f = np.full(close.shape, np.nan)
    s = np.full(close.shape, np.nan)
    f[fast - 1 :] = (csum[fast:] - csum[:-fast]) / fast
    s[slow - 1 :] = (csum[slow:] - csum[:-slow]) / slow
    diff = f - s
    prev = np.concatenate(([np.nan], diff[:-1]))
    return (prev <= 0) & (diff > 0), (prev >= 0) & (diff < 0)


def run_vectorbt(bars: BarArray) -> dict[str, Any]:
    import vectorbt as vbt

    def once(b: BarArray) -> int:
        frame = _frame(b)
        entries, exits = signals(b.close)
        pf = vbt.Portfolio.from_signals(
            frame["Close"], entries, exits, price=frame["Open"].shift(-1), size=QTY, fees=FEE, init_cash=1e7
        )
        return int(pf.orders.count())

    once(bars[:200])  # numba compiles on the first call: not part of the figure
    t0 = time.perf_counter()
    orders = once(bars)
    return {"seconds": time.perf_counter() - t0, "orders": orders}


def run_python_floor(bars: BarArray) -> dict[str, Any]:
    closes = bars.close.tolist()
    t0 = time.perf_counter()
    window: deque[float] = deque(maxlen=SLOW)
    sum_f = sum_s = 0.0
    prev: float | None = None
    crosses = 0
    for c in closes:
        if len(window) == SLOW:
            sum_s -= window[0]
        if len(window) >= FAST:
            sum_f -= window[-FAST]
        window.append(c)
        sum_f += c
        sum_s += c
        if len(window) == SLOW:
            diff = sum_f / FAST - sum_s / SLOW
            if prev is not None and ((prev <= 0 < diff) or (prev >= 0 > diff)):
                crosses += 1
            prev = diff
    return {"seconds": time.perf_counter() - t0, "orders": crosses}


def run_numpy_floor(bars: BarArray) -> dict[str, Any]:
    t0 = time.perf_counter()
    up, down = signals(bars.close)
    return {"seconds": time.perf_counter() - t0, "orders": int(up.sum() + down.sum())}


CASES = {
    "gekko": run_gekko,
    "gekko, no ledger": run_gekko,
    "gekko, every bar": run_gekko,
    "backtesting.py": run_backtesting_py,
    "vectorbt": run_vectorbt,
    "floor: python loop": run_python_floor,
    "floor: numpy": run_numpy_floor,
}


def _child(case: str, n: int, ledger_file: str | None) -> None:
    bars = derived_bars(n)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if case.startswith("gekko"):
        out = run_gekko(
            bars, ledger_file, ledger_on=case != "gekko, no ledger", skip_quiet=case != "gekko, every bar"
        )
    else:
        out = CASES[case](bars)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["rss_before_mb"] = base_rss / 1024
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--skip-peers", action="store_true", help="Only Gekko and the floors.")
    ap.add_argument("--ledger-file", help="Journal into this DuckDB file instead of :memory:.")
    ap.add_argument("--child", nargs=2, metavar=("CASE", "BARS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]), args.ledger_file)
        return
    ledger = args.ledger_file or ":memory:"
    print(
        f"sma_cross {FAST}/{SLOW}, risk engine on, ledger {ledger} via BufferedJournal (append_many per"
        " 4,096 events); input: real 1m BTC/USD, tiled (derived)"
    )
    print(f"{'engine':<20}{'bars':>10}{'seconds':>10}{'bars/s':>13}{'orders':>8}{'peak RSS MB':>13}")
    for n in args.bars:
        for case in CASES:
            if args.skip_peers and case in ("backtesting.py", "vectorbt"):
                continue
            cmd = [sys.executable, __file__, "--child", case, str(n)]
            if args.ledger_file:
                cmd += ["--ledger-file", f"{args.ledger_file}.{n}"]
                Path(f"{args.ledger_file}.{n}").unlink(missing_ok=True)
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                why = (proc.stderr.strip().splitlines() or ["failed"])[-1][:60]
                print(f"{case:<20}{n:>10}  unavailable: {why}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rate = n / r["seconds"] if r["seconds"] else float("inf")
            print(
                f"{case:<20}{n:>10}{r['seconds']:>10.3f}{rate:>13,.0f}{r['orders']:>8}{r['peak_rss_mb']:>13.0f}"
            )


if __name__ == "__main__":
    main()
