"""Simulator round trip through ccxt: median milliseconds of ``submit`` + ``order_status``.

The real async ccxt ``binanceus`` client, wrapped by :class:`~gekko_agent.venues.ccxt.CcxtVenue`,
talks HTTP to the loopback Binance simulator (no faults): each round is one market order placed
(``POST /api/v3/order``) and then looked up by client id (``GET /api/v3/order``).

It also times ``fills_since(None)`` over ``--fills`` fills of one symbol (default 2,500: three
``myTrades`` pages of at most 1000), the read that must page to lose nothing.

Run: ``.venv/bin/python benchmarks/bench_ccxt_sim.py [--rounds N] [--fills N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import time
from decimal import Decimal

from gekko_agent.domain.clock import LiveClock
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.domain.orders import OrderSide, OrderType
from gekko_agent.execution.ports import OrderRequest
from gekko_agent.testing.sim import binance, running_simulator
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig
from gekko_agent.venues.paper import PaperVenue

BTC = "BTC/USD@binanceus"


def _config(url: str) -> CcxtVenueConfig:
    return CcxtVenueConfig(
        "binanceus", api_key=binance.API_KEY, secret=binance.API_SECRET, base_url=url, enable_rate_limit=False
    )


async def _rounds(url: str, rounds: int) -> list[float]:
    venue = CcxtVenue(_config(url), LiveClock())
    try:
        await venue.instruments()
        times = []
        for n in range(rounds + 5):
            req = OrderRequest(f"bench-{n:05d}", BTC, OrderSide.BUY, Quantity(Decimal("0.0005")))
            start = time.perf_counter()
            await venue.submit(req)
            await venue.order_status(req.client_order_id)
            if n >= 5:  # warm-up rounds are not counted
                times.append((time.perf_counter() - start) * 1000)
        return times
    finally:
        await venue.close()


async def _fill_many(venue: PaperVenue, count: int) -> None:
    """One buy on the simulator's venue filled ``count`` times, one lot per thin quote."""
    standing = await venue.quote(BTC)
    lot = Decimal("0.00001")
    thin = dataclasses.replace(standing, ask_size=Quantity(lot), bid_size=Quantity(lot))
    venue.on_quote(thin)
    limit = Price(standing.ask + 1)
    await venue.submit(
        OrderRequest(
            "bench-many", BTC, OrderSide.BUY, Quantity(lot * count), OrderType.LIMIT, limit_price=limit
        )
    )
    for _ in range(count - 1):
        venue.on_quote(dataclasses.replace(thin, ts=LiveClock().now()))
    venue.on_quote(dataclasses.replace(standing, ts=LiveClock().now()))


async def _read_fills(url: str, venue: PaperVenue, count: int, reads: int) -> list[float]:
    await _fill_many(venue, count)
    times = []
    for _ in range(reads):
        ccxt_venue = CcxtVenue(_config(url), LiveClock())  # fresh: order lookups included
        try:
            await ccxt_venue.instruments()
            start = time.perf_counter()
            batch = await ccxt_venue.fills_since(None)
            times.append((time.perf_counter() - start) * 1000)
            if len(batch.fills) != count:
                raise SystemExit(f"read {len(batch.fills)} fills of {count}")
        finally:
            await ccxt_venue.close()
    return times


def main() -> None:
    """Print the median, p90 and count of the round trips, and the median full fill read."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--fills", type=int, default=2500)
    args = parser.parse_args()
    with running_simulator("binance") as sim:
        times = asyncio.run(_rounds(sim.url, args.rounds))
    p90 = statistics.quantiles(times, n=10)[-1]
    median = statistics.median(times)
    label = "ccxt binanceus sim round trip (submit + status)"
    print(f"{label}: median {median:.2f} ms, p90 {p90:.2f} ms, n={len(times)}")
    if args.fills:
        with running_simulator("binance") as sim:
            reads = asyncio.run(_read_fills(sim.url, sim.venue, args.fills, 5))
        print(f"fills_since(None) over {args.fills:,} fills: median {statistics.median(reads):.1f} ms, n=5")


if __name__ == "__main__":
    main()
