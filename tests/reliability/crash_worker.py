"""The trading process the crash test kills: it submits a fixed list of intents through the
ExecutionEngine and the real ccxt client to a Binance simulator, journaling into a file ledger.

Every start resumes: orders and portfolio are restored from the ledger, the venue is reconciled
before anything new is sent, and intents already journaled (by intent id) are not proposed again.
Run as ``python -m tests.reliability.crash_worker URL LEDGER N SEED``; prints ``ready`` once
reconciled, ``submitted I`` after each order and ``done`` at the end.
"""

from __future__ import annotations

import asyncio
import random
import sys
from decimal import Decimal

from gekko_agent.domain import (
    LiveClock,
    OrderIntent,
    OrderSide,
    OrderSubmitted,
    OrderType,
    Portfolio,
    Price,
    Quantity,
)
from gekko_agent.execution.reconcile import Reconciler
from gekko_agent.execution.resume import RestorableExecutionEngine, restore_portfolio
from gekko_agent.ledger import Ledger, events, orders
from gekko_agent.testing.sim import binance as binance_sim
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig

IID = "BTC/USD@binanceus"
VENUE = "binanceus"


def intent_for(i: int, rng: random.Random) -> OrderIntent:
    """The i-th intent: mostly small market orders, some resting limit buys."""
    qty = Quantity(Decimal("0.001") * rng.randint(1, 5))
    kind = rng.random()
    if kind < 0.25:
        return OrderIntent(f"crash-{i}", IID, OrderSide.BUY, qty, OrderType.LIMIT, Price(Decimal("20000.00")))
    side = OrderSide.BUY if kind < 0.65 else OrderSide.SELL
    return OrderIntent(f"crash-{i}", IID, side, qty)


async def run(url: str, ledger_path: str, count: int, seed: int) -> None:
    """Resume from the ledger, reconcile, then send the intents not yet journaled."""
    clock = LiveClock()
    config = CcxtVenueConfig(
        VENUE,
        api_key=binance_sim.API_KEY,
        secret=binance_sim.API_SECRET,
        base_url=url,
        timeout_ms=400,
        enable_rate_limit=False,
        lookup_delay_s=0.02,
        symbols=("BTC/USD",),
    )
    venue = CcxtVenue(config, clock)
    with Ledger(ledger_path) as ledger:
        instruments = {i.id: i for i in await venue.instruments()}
        terms = {iid: (i.quote, i.asset_class) for iid, i in instruments.items()}
        engine = RestorableExecutionEngine(
            {VENUE: venue}, instruments, Portfolio("USD"), ledger, clock, retry_delay=0.01
        )
        engine.restore(orders(ledger).values(), restore_portfolio(ledger, terms))
        reconciler = Reconciler(ledger, clock, terms, engine=engine)
        await reconciler.reconcile(venue)
        engine.mark_reconciled(VENUE)
        print("ready", flush=True)
        done = {
            s.event.intent.intent_id
            for s in events(ledger, kinds="order_submitted")
            if isinstance(s.event, OrderSubmitted)
        }
        rng = random.Random(seed)
        for i in range(count):
            intent = intent_for(i, rng)
            if intent.intent_id in done:
                continue
            await engine.submit(intent)
            print(f"submitted {i}", flush=True)
            if i % 4 == 3:
                await engine.poll()
        await engine.poll()
        await reconciler.reconcile(venue)
    await venue.close()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
