"""More fills than one page holds, read through the real ccxt clients from the simulators.

Binance answers ``myTrades`` 500 at a time by default and at most 1000; Coinbase Advanced Trade
answers ``orders/historical/fills`` a page at a time with a cursor. Every fill must come back
exactly once, in a deterministic order, whether read whole, from a cursor, or for one order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gekko_agent.domain.clock import LiveClock
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.domain.orders import Fill, OrderSide, OrderStatus, OrderType
from gekko_agent.execution.ports import OrderRequest
from gekko_agent.testing.sim import RunningSimulator, running_simulator
from gekko_agent.testing.sim import binance as binance_sim
from gekko_agent.testing.sim import coinbase as coinbase_sim
from gekko_agent.testing.sim.coinbase_wire import trade_uuid
from gekko_agent.testing.sim.exchange import numeric_id
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig
from gekko_agent.venues.paper import PaperVenue

BINANCE_BTC, BINANCE_ETH = "BTC/USD@binanceus", "ETH/USD@binanceus"
COINBASE_BTC = "BTC/USD@coinbase"


async def fill_in_pieces(venue: PaperVenue, cid: str, iid: str, pieces: int, piece: Decimal) -> None:
    """One limit buy on the simulator's venue, filled in ``pieces`` fills (one per thin quote)."""
    standing = await venue.quote(iid)
    thin = dataclasses.replace(standing, ask_size=Quantity(piece), bid_size=Quantity(piece))
    venue.on_quote(thin)
    limit = Price(standing.ask + Decimal(1))
    ack = await venue.submit(
        OrderRequest(cid, iid, OrderSide.BUY, Quantity(piece * pieces), OrderType.LIMIT, limit_price=limit)
    )
    assert ack.accepted, ack.order.reason
    for _ in range(pieces - 1):
        venue.on_quote(dataclasses.replace(thin, ts=LiveClock().now()))
    venue.on_quote(dataclasses.replace(standing, ts=LiveClock().now()))
    assert (await venue.order_status(cid)).status is OrderStatus.FILLED


async def venue_side_ids(sim: RunningSimulator, wire_id: Callable[[Fill], str]) -> set[str]:
    """The simulator's fills as the ccxt venue names them (``MARKET:TRADE_ID``)."""
    return {wire_id(f) for f in (await sim.venue.fills_since(None)).fills}


def assert_once_each_in_order(fills: tuple[Fill, ...]) -> None:
    ids = [f.fill_id for f in fills]
    assert len(set(ids)) == len(ids), "a fill came back twice"
    keys = [(f.ts, f.instrument_id) for f in fills]
    assert keys == sorted(keys)


def _binance_id(fill: Fill) -> str:
    symbol = fill.instrument_id.partition("@")[0].replace("/", "")
    return f"{symbol}:{numeric_id(fill.fill_id)}"


def _coinbase_id(fill: Fill) -> str:
    return f"{fill.instrument_id.partition('@')[0].replace('/', '-')}:{trade_uuid(fill)}"


def _config(exchange_id: str, sim: RunningSimulator) -> CcxtVenueConfig:
    module = binance_sim if exchange_id == "binanceus" else coinbase_sim
    return CcxtVenueConfig(
        exchange_id,
        api_key=module.API_KEY,
        secret=module.API_SECRET,
        base_url=sim.url,
        enable_rate_limit=False,
        symbols=("BTC/USD", "ETH/USD"),
    )


@pytest.fixture
def binance() -> Iterator[RunningSimulator]:
    with running_simulator("binance") as running:
        yield running


@pytest.fixture
def coinbase() -> Iterator[RunningSimulator]:
    with running_simulator("coinbase") as running:
        yield running


@pytest.fixture
async def binance_venue(binance: RunningSimulator) -> AsyncIterator[CcxtVenue]:
    venue = CcxtVenue(_config("binanceus", binance), LiveClock())
    await venue.instruments()
    yield venue
    await venue.close()


@pytest.fixture
async def coinbase_venue(coinbase: RunningSimulator) -> AsyncIterator[CcxtVenue]:
    venue = CcxtVenue(_config("coinbase", coinbase), LiveClock())
    await venue.instruments()
    yield venue
    await venue.close()


async def test_binance_single_call_answers_one_page_of_500(
    binance: RunningSimulator, binance_venue: CcxtVenue
) -> None:
    await fill_in_pieces(binance.venue, "one-page", BINANCE_BTC, 1001, Decimal("0.00001"))
    page = await binance_venue.exchange.fetch_my_trades("BTC/USD")
    assert len(page) == 500  # the default page, the most recent trades, as Binance answers
    assert sorted(int(t["id"]) for t in page) == list(range(502, 1002))


async def test_binance_fills_since_none_returns_every_fill_past_1000(
    binance: RunningSimulator, binance_venue: CcxtVenue
) -> None:
    await fill_in_pieces(binance.venue, "many-btc", BINANCE_BTC, 1250, Decimal("0.00001"))
    await fill_in_pieces(binance.venue, "some-eth", BINANCE_ETH, 30, Decimal("0.001"))
    batch = await binance_venue.fills_since(None)
    assert len(batch.fills) == 1280
    assert {f.fill_id for f in batch.fills} == await venue_side_ids(binance, _binance_id)
    assert_once_each_in_order(batch.fills)
    again = await binance_venue.fills_since(None)
    assert [f.fill_id for f in again.fills] == [f.fill_id for f in batch.fills]  # deterministic


async def test_binance_cursor_returns_only_the_next_1100_fills(
    binance: RunningSimulator, binance_venue: CcxtVenue
) -> None:
    await fill_in_pieces(binance.venue, "first", BINANCE_BTC, 1001, Decimal("0.00001"))
    first = await binance_venue.fills_since(None)
    await fill_in_pieces(binance.venue, "second", BINANCE_BTC, 1100, Decimal("0.00001"))
    second = await binance_venue.fills_since(first.cursor)
    assert len(second.fills) == 1100
    assert {f.client_order_id for f in second.fills} == {"second"}
    assert {f.fill_id for f in first.fills} | {f.fill_id for f in second.fills} == await venue_side_ids(
        binance, _binance_id
    )
    assert (await binance_venue.fills_since(second.cursor)).fills == ()


async def test_binance_fills_since_a_time_pages_past_the_first_page(
    binance: RunningSimulator, binance_venue: CcxtVenue
) -> None:
    await fill_in_pieces(binance.venue, "timed", BINANCE_BTC, 1500, Decimal("0.00001"))
    batch = await binance_venue.fills_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert len(batch.fills) == 1500
    assert_once_each_in_order(batch.fills)


async def test_binance_fills_for_one_order_returns_all_of_its_fills(
    binance: RunningSimulator, binance_venue: CcxtVenue
) -> None:
    await fill_in_pieces(binance.venue, "other", BINANCE_BTC, 40, Decimal("0.00001"))
    await fill_in_pieces(binance.venue, "big", BINANCE_BTC, 1200, Decimal("0.00001"))
    order = await binance_venue.order_status("big")
    fills = await binance_venue.fills_for(order)
    assert len(fills) == 1200
    assert {f.client_order_id for f in fills} == {"big"}
    assert sum(f.quantity for f in fills) == order.filled_quantity


async def test_coinbase_fills_since_none_returns_every_fill_over_many_cursor_pages(
    coinbase: RunningSimulator, coinbase_venue: CcxtVenue
) -> None:
    await fill_in_pieces(coinbase.venue, "cb-many", COINBASE_BTC, 1100, Decimal("0.000001"))
    batch = await coinbase_venue.fills_since(None)
    assert len(batch.fills) == 1100
    assert {f.fill_id for f in batch.fills} == await venue_side_ids(coinbase, _coinbase_id)
    assert_once_each_in_order(batch.fills)
    await fill_in_pieces(coinbase.venue, "cb-more", COINBASE_BTC, 300, Decimal("0.000001"))
    more = await coinbase_venue.fills_since(batch.cursor)
    assert len(more.fills) == 300
    assert {f.client_order_id for f in more.fills} == {"cb-more"}
    assert (await coinbase_venue.fills_since(more.cursor)).fills == ()


async def test_coinbase_fills_for_one_order_returns_all_of_its_fills(
    coinbase: RunningSimulator, coinbase_venue: CcxtVenue
) -> None:
    await fill_in_pieces(coinbase.venue, "cb-small", COINBASE_BTC, 5, Decimal("0.0001"))
    await fill_in_pieces(coinbase.venue, "cb-big", COINBASE_BTC, 600, Decimal("0.000001"))
    order = await coinbase_venue.order_status("cb-big")
    fills = await coinbase_venue.fills_for(order)
    assert len(fills) == 600
    assert {f.client_order_id for f in fills} == {"cb-big"}


async def test_coinbase_fills_endpoint_pages_by_limit_and_cursor(
    coinbase: RunningSimulator, coinbase_venue: CcxtVenue
) -> None:
    await fill_in_pieces(coinbase.venue, "cb-wire", COINBASE_BTC, 250, Decimal("0.000001"))
    fetch = coinbase_venue.exchange.v3PrivateGetBrokerageOrdersHistoricalFills
    default = await fetch({})
    assert len(default["fills"]) == 100 and default["cursor"]
    seen: list[str] = []
    cursor = ""
    while True:
        page = await fetch({"limit": 90, **({"cursor": cursor} if cursor else {})})
        seen += [f["trade_id"] for f in page["fills"]]
        cursor = page["cursor"]
        if not cursor:
            break
        await fill_in_pieces(coinbase.venue, f"cb-late-{len(seen)}", COINBASE_BTC, 2, Decimal("0.0001"))
    assert len(seen) == 250 == len(set(seen))  # fills made while paging do not shift later pages
