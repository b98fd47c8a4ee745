"""Fuzz venue answers: mutated ccxt and OANDA payloads parse to domain objects or a Gekko error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from gekko_agent.errors import GekkoError
from gekko_agent.venues.ccxt import parse as ccxt
from gekko_agent.venues.oanda import wire as oanda
from tests.reliability._strategies import examples, mutate

IID = "BTC/USD@binance"
FX = "EUR/USD@oanda"
TS = datetime(2023, 3, 9, tzinfo=UTC)
CCXT_ORDER = {
    "id": "1",
    "clientOrderId": "gk-1",
    "timestamp": 1678320000000,
    "status": "closed",
    "symbol": "BTC/USD",
    "type": "limit",
    "timeInForce": "GTC",
    "side": "buy",
    "price": 20000.5,
    "amount": "0.1",
    "filled": 0.1,
    "average": 20000.0,
    "cost": 2000.0,
    "trades": [],
}
CCXT_TRADE = {
    "id": "t1",
    "order": "1",
    "timestamp": 1678320000000,
    "side": "buy",
    "takerOrMaker": "maker",
    "price": "20000",
    "amount": "0.1",
    "fee": {"cost": "0.2", "currency": "USD"},
}
CCXT_MARKET = {
    "id": "BTCUSD",
    "symbol": "BTC/USD",
    "base": "BTC",
    "quote": "USD",
    "spot": True,
    "active": True,
    "precision": {"price": 0.01, "amount": 1e-05},
    "limits": {"amount": {"min": 1e-05}, "cost": {"min": 10}},
}
OANDA_INSTRUMENT = {
    "name": "EUR_USD",
    "displayPrecision": 5,
    "pipLocation": -4,
    "tradeUnitsPrecision": 0,
    "minimumTradeSize": "1",
    "marginRate": "0.0333",
}
OANDA_PRICE = {
    "time": "2023-03-09T00:00:00.123456789Z",
    "bids": [{"price": "1.05500", "liquidity": 1000000}],
    "asks": [{"price": "1.05510", "liquidity": 1000000}],
}
OANDA_CANDLES = {
    "candles": [
        {
            "complete": True,
            "time": "2023-03-09T00:00:00Z",
            "volume": 10,
            "mid": {"o": "1.05", "h": "1.06", "l": "1.04", "c": "1.055"},
        }
    ]
}
OANDA_FILL = {
    "id": "7",
    "orderID": "6",
    "units": "-1000",
    "price": "1.05505",
    "commission": "0.1",
    "reason": "MARKET_ORDER",
    "time": "2023-03-09T00:00:01Z",
}
OANDA_ORDER = {
    "id": "6",
    "units": "-1000",
    "state": "FILLED",
    "type": "LIMIT",
    "price": "1.05",
    "timeInForce": "GTC",
    "createTime": "2023-03-09T00:00:00Z",
    "clientExtensions": {"id": "gk-6"},
}


def _order() -> Any:
    return ccxt.order_from_ccxt(CCXT_ORDER, IID, "gk-1")


TARGETS: dict[str, tuple[dict[str, Any], Callable[[Any], Any]]] = {
    "ccxt.order": (CCXT_ORDER, lambda raw: ccxt.order_from_ccxt(raw, IID, "gk-1")),
    "ccxt.trade": (CCXT_TRADE, lambda raw: ccxt.fill_from_trade(raw, _order(), "BTCUSD", "USD", TS)),
    "ccxt.market": (CCXT_MARKET, lambda raw: ccxt.instrument_from_market(raw, "binance", 4)),
    "oanda.instrument": (OANDA_INSTRUMENT, lambda raw: oanda.parse_instrument(raw, "oanda")),
    "oanda.price": (OANDA_PRICE, lambda raw: oanda.parse_quote(raw, FX)),
    "oanda.candles": (OANDA_CANDLES, lambda raw: oanda.parse_candles(raw, FX, 60)),
    "oanda.fill": (OANDA_FILL, lambda raw: oanda.parse_fill(raw, FX, "gk-6", "USD")),
    "oanda.order": (OANDA_ORDER, lambda raw: oanda.parse_order(raw, FX, (), None)),
}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_valid_sample_parses(name: str) -> None:
    sample, parse = TARGETS[name]
    assert parse(sample) is not None


@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(max_examples=examples(40), deadline=None, phases=[Phase.explicit, Phase.generate])
@given(data=st.data())
def test_mutated_venue_answer_parses_or_raises_a_gekko_error(name: str, data: st.DataObject) -> None:
    sample, parse = TARGETS[name]
    raw = mutate(sample, data.draw)
    try:
        parse(raw)
    except GekkoError as exc:
        message = str(exc)
    else:
        return
    assert message and "\n" not in message
