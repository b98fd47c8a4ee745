"""The Venue contract: the same tests for every adapter (paper, ccxt, OANDA over their simulators).

A test module runs the suite by importing these functions and providing two fixtures:

* ``venue`` — a ready :class:`~gekko_agent.execution.ports.Venue` whose market for
  ``market.instrument_id`` has a live quote, so a market order fills at once (as on a real
  exchange) and a limit far from the touch rests;
* ``market`` — a :class:`ContractMarket` describing that instrument in the venue's own terms.

Example::

    from .contract import *  # noqa: F403  (collects every test_* below)
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from gekko_agent.domain.instruments import AssetClass
from gekko_agent.domain.money import ZERO, Price, Quantity
from gekko_agent.domain.orders import OrderSide, OrderStatus, OrderType
from gekko_agent.errors import OrderNotFound
from gekko_agent.execution.ports import OrderRequest, RejectReason, Venue, VenueOrder

__all__ = [
    "ContractMarket",
    "test_balances_after_buy_move_by_notional_and_fees",
    "test_cancel_resting_order_ends_canceled",
    "test_cancel_unknown_client_id_raises_order_not_found",
    "test_capabilities_declare_market_and_limit",
    "test_fills_since_cursor_returns_only_new_fills",
    "test_instruments_include_contract_market",
    "test_open_orders_list_resting_order_until_canceled",
    "test_order_status_reports_market_fill",
    "test_order_status_unknown_raises_order_not_found",
    "test_quote_has_bid_not_above_ask",
    "test_resubmit_same_client_id_returns_existing_order",
    "test_submit_market_buy_acks_with_venue_order_id",
    "test_submit_off_lot_quantity_rejects_bad_lot",
    "test_submit_unaffordable_buy_rejects_insufficient_funds",
    "test_submit_unknown_instrument_rejects",
]

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class ContractMarket:
    """The instrument the contract trades and sizes that suit the venue under test.

    Attributes:
        instrument_id: ``SYMBOL@venue``.
        base: currency bought.
        quote: currency paid.
        quantity: a valid, affordable order size.
        resting_buy_price: a valid limit far below the market (rests, never fills).
        off_lot_quantity: a size that is not a multiple of the lot.
        unaffordable_quantity: a valid size the account cannot pay for.
    """

    instrument_id: str
    base: str
    quote: str
    quantity: Decimal
    resting_buy_price: Decimal
    off_lot_quantity: Decimal
    unaffordable_quantity: Decimal


def _cid() -> str:
    return f"ct-{next(_ids):06d}"


def _market_buy(market: ContractMarket, qty: Decimal | None = None, cid: str | None = None) -> OrderRequest:
    return OrderRequest(cid or _cid(), market.instrument_id, OrderSide.BUY, Quantity(qty or market.quantity))


def _resting_buy(market: ContractMarket) -> OrderRequest:
    return OrderRequest(
        _cid(),
        market.instrument_id,
        OrderSide.BUY,
        Quantity(market.quantity),
        OrderType.LIMIT,
        limit_price=Price(market.resting_buy_price),
    )


async def _settled(venue: Venue, cid: str, tries: int = 50) -> VenueOrder:
    """The order once terminal (venues behind a simulator may answer the submit before the fill)."""
    order = await venue.order_status(cid)
    for _ in range(tries):
        if order.is_terminal:
            break
        await asyncio.sleep(0.01)
        order = await venue.order_status(cid)
    return order


async def test_capabilities_declare_market_and_limit(venue: Venue) -> None:
    caps = venue.capabilities
    assert {OrderType.MARKET, OrderType.LIMIT} <= caps.order_types
    assert caps.max_client_order_id_length >= 20


async def test_instruments_include_contract_market(venue: Venue, market: ContractMarket) -> None:
    ids = {i.id for i in await venue.instruments()}
    assert market.instrument_id in ids


async def test_quote_has_bid_not_above_ask(venue: Venue, market: ContractMarket) -> None:
    q = await venue.quote(market.instrument_id)
    assert q.bid <= q.ask
    assert q.instrument_id == market.instrument_id


async def test_submit_market_buy_acks_with_venue_order_id(venue: Venue, market: ContractMarket) -> None:
    ack = await venue.submit(_market_buy(market))
    assert ack.accepted
    assert ack.venue_order_id
    assert not ack.duplicate
    assert ack.order.quantity == market.quantity


async def test_resubmit_same_client_id_returns_existing_order(venue: Venue, market: ContractMarket) -> None:
    req = _resting_buy(market)
    first = await venue.submit(req)
    again = await venue.submit(req)
    assert again.duplicate
    assert again.venue_order_id == first.venue_order_id
    listed = [o.client_order_id for o in await venue.open_orders(market.instrument_id)]
    assert listed.count(req.client_order_id) == 1


async def test_order_status_reports_market_fill(venue: Venue, market: ContractMarket) -> None:
    ack = await venue.submit(_market_buy(market))
    order = await _settled(venue, ack.client_order_id)
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == market.quantity
    assert order.avg_fill_price is not None
    assert order.avg_fill_price > 0


async def test_order_status_unknown_raises_order_not_found(venue: Venue) -> None:
    with pytest.raises(OrderNotFound):
        await venue.order_status("ct-never-sent")


async def test_open_orders_list_resting_order_until_canceled(venue: Venue, market: ContractMarket) -> None:
    ack = await venue.submit(_resting_buy(market))
    listed = {o.client_order_id for o in await venue.open_orders()}
    assert ack.client_order_id in listed
    await venue.cancel(ack.client_order_id)
    assert ack.client_order_id not in {o.client_order_id for o in await venue.open_orders()}


async def test_cancel_resting_order_ends_canceled(venue: Venue, market: ContractMarket) -> None:
    ack = await venue.submit(_resting_buy(market))
    canceled = await venue.cancel(ack.client_order_id)
    assert canceled.status is OrderStatus.CANCELED
    assert (await venue.order_status(ack.client_order_id)).status is OrderStatus.CANCELED
    assert (await venue.cancel(ack.client_order_id)).status is OrderStatus.CANCELED


async def test_cancel_unknown_client_id_raises_order_not_found(venue: Venue) -> None:
    with pytest.raises(OrderNotFound):
        await venue.cancel("ct-never-sent")


async def test_fills_since_cursor_returns_only_new_fills(venue: Venue, market: ContractMarket) -> None:
    start = await venue.fills_since(None)
    ack = await venue.submit(_market_buy(market))
    await _settled(venue, ack.client_order_id)
    batch = await venue.fills_since(start.cursor)
    assert {f.client_order_id for f in batch.fills} == {ack.client_order_id}
    assert sum((f.quantity for f in batch.fills), ZERO) == market.quantity
    assert len({f.fill_id for f in batch.fills}) == len(batch.fills)
    assert (await venue.fills_since(batch.cursor)).fills == ()


async def test_balances_after_buy_move_by_notional_and_fees(venue: Venue, market: ContractMarket) -> None:
    before = await venue.balances()
    start = await venue.fills_since(None)
    ack = await venue.submit(_market_buy(market))
    await _settled(venue, ack.client_order_id)
    fills = (await venue.fills_since(start.cursor)).fills
    after = await venue.balances()
    fees = sum((f.fee.amount for f in fills if f.fee.currency == market.quote), ZERO)
    inst = next(i for i in await venue.instruments() if i.id == market.instrument_id)
    spot = inst.asset_class is AssetClass.CRYPTO_SPOT
    paid = sum((f.notional for f in fills), ZERO) if spot else ZERO
    assert after[market.quote].amount == before[market.quote].amount - paid - fees
    if spot:
        base_before = before[market.base].amount if market.base in before else ZERO
        assert after[market.base].amount == base_before + market.quantity


async def test_submit_off_lot_quantity_rejects_bad_lot(venue: Venue, market: ContractMarket) -> None:
    ack = await venue.submit(_market_buy(market, market.off_lot_quantity))
    assert ack.status is OrderStatus.REJECTED
    assert ack.order.reject_reason is RejectReason.BAD_LOT


async def test_submit_unaffordable_buy_rejects_insufficient_funds(
    venue: Venue, market: ContractMarket
) -> None:
    before = await venue.balances()
    ack = await venue.submit(_market_buy(market, market.unaffordable_quantity))
    assert ack.status is OrderStatus.REJECTED
    assert ack.order.reject_reason is RejectReason.INSUFFICIENT_FUNDS
    assert await venue.balances() == before


async def test_submit_unknown_instrument_rejects(venue: Venue, market: ContractMarket) -> None:
    req = OrderRequest(_cid(), "NOPE/USD@" + venue.name, OrderSide.BUY, Quantity(market.quantity))
    ack = await venue.submit(req)
    assert ack.status is OrderStatus.REJECTED
    assert ack.order.reject_reason is RejectReason.UNKNOWN_INSTRUMENT
