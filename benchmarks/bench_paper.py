"""Paper venue throughput: orders matched per second.

Three figures:

* ``engine`` — the pure matching engine with the paper account as its settlement: working orders
  (market, limit, stop, stop-limit mixed) matched against bars, fills booked, no venue validation;
* ``venue`` — the full ``PaperVenue`` path: async ``submit`` (validation, funds reservation) plus
  ``on_bar`` matching;
* ``quiet`` — bars with no order working: ``on_bar`` per bar (µs), and ``skip_bars`` over the same
  rows in chunks of 1,000 (µs per chunk, independent of its length).

Run: ``.venv/bin/python benchmarks/bench_paper.py [--orders N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.clock import SimClock
from gekko_agent.domain.instruments import AssetClass, Instrument
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.domain.orders import OrderSide, OrderType
from gekko_agent.execution.ports import OrderRequest
from gekko_agent.market import BarArray
from gekko_agent.venues.paper import (
    FeeSchedule,
    FillModel,
    FixedBpsSlippage,
    MatchingEngine,
    PaperAccount,
    PaperVenue,
    PaperVenueConfig,
    WorkingOrder,
)

T0 = datetime(2024, 1, 2, tzinfo=UTC)
BTC = Instrument("BTC/USD", "paper", AssetClass.CRYPTO_SPOT, Decimal("0.01"), Decimal("0.001"))
FEES = FeeSchedule(maker_bps=Decimal(2), taker_bps=Decimal(5))
TYPES = (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT)


def _request(i: int) -> OrderRequest:
    side = OrderSide.BUY if i % 2 else OrderSide.SELL
    kind = TYPES[i % 4]
    off = Decimal(i % 7) * side.sign
    limit = Price(Decimal(100) + off) if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    stop = Price(Decimal(100) - off) if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None
    return OrderRequest(f"b{i}", BTC.id, side, Quantity(Decimal("0.01")), kind, limit, stop)


def _bars(n: int) -> list[Bar]:
    return [
        Bar(
            BTC.id,
            T0 + timedelta(minutes=k),
            Decimal(100),
            Decimal(108),
            Decimal(92),
            Decimal(100),
            Decimal(10**9),
        )
        for k in range(1, n + 1)
    ]


def bench_engine(n_orders: int, per_bar: int) -> tuple[float, int]:
    """Orders/s through the pure engine; returns (rate, fills)."""
    balances = {"USD": Decimal(10**12), "BTC": Decimal(10**9)}
    account = PaperAccount("paper", {BTC.id: BTC}, FEES, balances)
    engine = MatchingEngine(account, {BTC.id: BTC.lot_size}, FillModel(), FixedBpsSlippage(Decimal(1)))
    orders = [WorkingOrder(_request(i), f"o{i}", T0, T0) for i in range(n_orders)]
    bars = _bars(n_orders // per_bar + 1)
    fills = 0
    start = time.perf_counter()
    for b_index, b in enumerate(bars):
        for order in orders[b_index * per_bar : (b_index + 1) * per_bar]:
            engine.add(order)
        end = b.ts + timedelta(seconds=60)
        fills += len(engine.on_bar(BTC.id, b.ts, end, b.open, b.high, b.low, b.volume))
    elapsed = time.perf_counter() - start
    return n_orders / elapsed, fills


async def bench_venue(n_orders: int, per_bar: int) -> tuple[float, int]:
    """Orders/s through ``PaperVenue.submit`` + ``on_bar``; returns (rate, fills)."""
    clock = SimClock(T0)
    cfg = PaperVenueConfig(
        instruments=(BTC,),
        balances={"USD": Decimal(10**12), "BTC": Decimal(10**9)},
        fees=FEES,
        slippage=FixedBpsSlippage(Decimal(1)),
    )
    venue = PaperVenue(cfg, clock)
    bars = _bars(n_orders // per_bar + 1)
    venue.on_bar(Bar(BTC.id, T0, Decimal(100), Decimal(100), Decimal(100), Decimal(100), Decimal(1)))
    fills = 0
    start = time.perf_counter()
    i = 0
    for b in bars:
        for _ in range(per_bar):
            if i >= n_orders:
                break
            await venue.submit(_request(i))
            i += 1
        clock.advance_to(b.ts)
        fills += len(venue.on_bar(b))
    elapsed = time.perf_counter() - start
    return n_orders / elapsed, fills


def bench_quiet(n_bars: int, chunk: int = 1_000) -> tuple[float, float]:
    """Idle bars: µs per ``on_bar`` and µs per ``skip_bars`` call of ``chunk`` rows."""
    ns = 60 * 10**9 * np.arange(1, n_bars + 1, dtype=np.int64) + int(T0.timestamp()) * 10**9
    price = np.full(n_bars, 100.0)
    array = BarArray(BTC.id, 60, ns, price, price + 8, price - 8, price, np.full(n_bars, 1e9), 2, 2)
    bars = array.to_bars()
    venue = PaperVenue(PaperVenueConfig(instruments=(BTC,)), SimClock(T0))
    start = time.perf_counter()
    for b in bars:
        venue.on_bar(b)
    per_bar = (time.perf_counter() - start) / n_bars * 1e6
    venue = PaperVenue(PaperVenueConfig(instruments=(BTC,)), SimClock(T0))
    start = time.perf_counter()
    for lo in range(0, n_bars, chunk):
        venue.skip_bars(BTC.id, array, lo, min(n_bars, lo + chunk))
    per_skip = (time.perf_counter() - start) / -(-n_bars // chunk) * 1e6
    return per_bar, per_skip


def main() -> None:
    """Print orders matched per second for the engine and the venue."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--per-bar", type=int, default=100)
    args = parser.parse_args()
    rate, fills = bench_engine(args.orders, args.per_bar)
    print(f"engine: {rate:,.0f} orders/s matched ({args.orders:,} orders, {fills:,} fills)")
    rate, fills = asyncio.run(bench_venue(args.orders, args.per_bar))
    print(f"venue:  {rate:,.0f} orders/s submitted+matched ({args.orders:,} orders, {fills:,} fills)")
    per_bar, per_skip = bench_quiet(args.orders)
    print(f"quiet:  on_bar {per_bar:.2f} us/bar, skip_bars {per_skip:.2f} us per 1,000 bars")


if __name__ == "__main__":
    main()
