"""Simulator round trip through ccxt: median milliseconds of ``submit`` + ``order_status``.

The real async ccxt ``binanceus`` client, wrapped by :class:`~gekko_agent.venues.ccxt.CcxtVenue`,
talks HTTP to the loopback Binance simulator (no faults): each round is one market order placed
(``POST /api/v3/order``) and then looked up by client id (``GET /api/v3/order``).

Run: ``.venv/bin/python benchmarks/bench_ccxt_sim.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from decimal import Decimal

from gekko_agent.domain.clock import LiveClock
from gekko_agent.domain.money import Quantity
from gekko_agent.domain.orders import OrderSide
from gekko_agent.execution.ports import OrderRequest
from gekko_agent.testing.sim import binance, running_simulator
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig


async def _rounds(url: str, rounds: int) -> list[float]:
    config = CcxtVenueConfig(
        "binanceus", api_key=binance.API_KEY, secret=binance.API_SECRET, base_url=url, enable_rate_limit=False
    )
    venue = CcxtVenue(config, LiveClock())
    try:
        await venue.instruments()
        times = []
        for n in range(rounds + 5):
            req = OrderRequest(
                f"bench-{n:05d}", "BTC/USD@binanceus", OrderSide.BUY, Quantity(Decimal("0.0005"))
            )
            start = time.perf_counter()
            await venue.submit(req)
            await venue.order_status(req.client_order_id)
            if n >= 5:  # warm-up rounds are not counted
                times.append((time.perf_counter() - start) * 1000)
        return times
    finally:
        await venue.close()


def main() -> None:
    """Print the median, p90 and count of the round trips."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with running_simulator("binance") as sim:
        times = asyncio.run(_rounds(sim.url, args.rounds))
    p90 = statistics.quantiles(times, n=10)[-1]
    median = statistics.median(times)
    label = "ccxt binanceus sim round trip (submit + status)"
    print(f"{label}: median {median:.2f} ms, p90 {p90:.2f} ms, n={len(times)}")


if __name__ == "__main__":
    main()
