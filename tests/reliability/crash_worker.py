"""The trading process the crash test kills: it submits a fixed list of intents through the
ExecutionEngine and the real ccxt client to a Binance simulator, journaling into a file ledger.

Every start resumes: orders and portfolio are restored from the ledger, the venue is reconciled
before anything new is sent, and intents already journaled (by intent id) are not proposed again.
Run as ``python -m tests.reliability.crash_worker URL LEDGER N SEED``; prints ``ready`` once
reconciled, ``submitted I`` after each order and ``done`` at the end.

With ``GEKKO_KILL_AT=NAME:N`` in its environment it SIGKILLs itself at the Nth pass of a kill point
(:mod:`gekko_agent.testing.killpoints`). The points sit at the ports the engine calls, so nothing in
the product changes: the ccxt session's trace hook (``submit_sent``), a venue wrapper
(``submit_acked``, ``fill_received``) and the ledger's write connection (``ledger_append``).
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import duckdb

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
from gekko_agent.domain.events import Event
from gekko_agent.execution.ports import FillBatch, OrderRequest, VenueAck
from gekko_agent.execution.reconcile import Reconciler
from gekko_agent.execution.resume import RestorableExecutionEngine, restore_portfolio
from gekko_agent.ledger import Ledger, events, orders
from gekko_agent.testing.killpoints import kill_point
from gekko_agent.testing.sim import binance as binance_sim
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig
from gekko_agent.venues.ccxt.client import build_exchange

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


class KillPointVenue:
    """The venue as the engine sees it, with kill points after a submit's answer and a poll's fills."""

    def __init__(self, inner: CcxtVenue) -> None:
        self.inner = inner

    async def submit(self, request: OrderRequest) -> VenueAck:
        ack = await self.inner.submit(request)
        kill_point("submit_acked", request.client_order_id)
        return ack

    async def fills_since(self, since: Any = None) -> FillBatch:
        batch = await self.inner.fills_since(since)
        if batch.fills:
            kill_point("fill_received", ",".join(f.fill_id for f in batch.fills))
        return batch

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _KillingConnection:
    """A DuckDB connection whose event INSERTs pass the ``ledger_append`` kill point once done."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, ledger: KillPointLedger) -> None:
        self._conn = conn
        self._ledger = ledger

    def execute(self, sql: str, *args: Any) -> Any:
        result = self._conn.execute(sql, *args)
        if sql.startswith("INSERT INTO events"):
            kill_point("ledger_append", self._ledger.writing)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class KillPointLedger(Ledger):
    """The file ledger with the ``ledger_append`` kill point inside ``append``."""

    writing = ""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._conn = _KillingConnection(self._conn, self)  # type: ignore[assignment]

    def append(self, event: Event) -> int:
        self.writing = type(event).__name__
        return super().append(event)


def _trace() -> aiohttp.TraceConfig:
    """An aiohttp trace passing ``submit_sent`` once a create-order body is on the wire."""

    async def sent(_session: aiohttp.ClientSession, _ctx: SimpleNamespace, params: Any) -> None:
        if params.method == "POST" and params.url.path.endswith("/order"):
            form: Mapping[str, list[str]] = parse_qs(bytes(params.chunk).decode(errors="replace"))
            kill_point("submit_sent", form.get("newClientOrderId", ["?"])[0])

    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(sent)
    return trace


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
    exchange = build_exchange(config)
    exchange.session = aiohttp.ClientSession(trace_configs=[_trace()])  # ccxt closes it on close()
    ccxt_venue = CcxtVenue(config, clock, exchange)
    venue: Any = KillPointVenue(ccxt_venue)
    with KillPointLedger(ledger_path) as ledger:
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
    await ccxt_venue.close()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
