"""The real oandapyV20 client against the OANDA v20 simulator over HTTP: formats and status codes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from gekko_agent.domain.bars import Bar
from gekko_agent.testing.sim import oanda as oanda_sim
from gekko_agent.testing.sim.faults import FaultPlan
from gekko_agent.testing.sim.server import SimServer
from gekko_agent.venues.oanda._v20 import accounts, instruments, oandapyV20, orders, pricing, transactions

ACCOUNT = oanda_sim.ACCOUNT_ID
T0 = datetime(2024, 1, 2, tzinfo=UTC)


@pytest.fixture
def api() -> Iterator[Any]:
    venue = oanda_sim.default_venue()
    for i in range(3):
        o = Decimal("1.08500") + Decimal(i) / 10_000
        venue.on_bar(Bar("AUD/USD@oanda", T0 + timedelta(hours=i), o, o, o, o, Decimal(42), 3600))
    app, _ = oanda_sim.build_app(venue, FaultPlan())
    with SimServer(app) as url:
        oandapyV20.oandapyV20.TRADING_ENVIRONMENTS["gekko-wire-test"] = {"api": url, "stream": url}
        client = oandapyV20.API(access_token="sim-token", environment="gekko-wire-test")
        yield client
        client.close()


def _market(cid: str, units: str, instrument: str = "EUR_USD") -> dict[str, Any]:
    return {
        "order": {"type": "MARKET", "instrument": instrument, "units": units, "clientExtensions": {"id": cid}}
    }


def test_order_create_sell_answers_201_with_negative_fill(api: Any) -> None:
    r = orders.OrderCreate(ACCOUNT, data=_market("w-1", "-1000"))
    body = api.request(r)
    assert r.status_code == 201
    assert body["orderCreateTransaction"]["type"] == "MARKET_ORDER"
    fill = body["orderFillTransaction"]
    assert fill["units"] == "-1000"
    assert isinstance(fill["price"], str)
    assert Decimal(fill["price"]) < Decimal("1.08500")  # a sell takes the bid
    assert fill["clientOrderID"] == "w-1"
    assert body["lastTransactionID"] == fill["id"]


def test_order_details_by_client_id_reports_filled(api: Any) -> None:
    api.request(orders.OrderCreate(ACCOUNT, data=_market("w-2", "500")))
    order = api.request(orders.OrderDetails(ACCOUNT, "@w-2"))["order"]
    assert order["state"] == "FILLED"
    assert order["clientExtensions"]["id"] == "w-2"
    assert order["units"] == "500"
    assert order["fillingTransactionID"]


def test_order_create_duplicate_client_id_answers_400(api: Any) -> None:
    api.request(orders.OrderCreate(ACCOUNT, data=_market("w-3", "100")))
    with pytest.raises(oandapyV20.V20Error) as err:
        api.request(orders.OrderCreate(ACCOUNT, data=_market("w-3", "100")))
    assert err.value.code == 400
    assert "CLIENT_ORDER_ID_ALREADY_EXISTS" in err.value.msg


def test_order_details_unknown_answers_404(api: Any) -> None:
    with pytest.raises(oandapyV20.V20Error) as err:
        api.request(orders.OrderDetails(ACCOUNT, "@never-sent"))
    assert err.value.code == 404


def test_request_without_token_answers_401() -> None:
    app, _ = oanda_sim.build_app(oanda_sim.default_venue(), FaultPlan())
    with SimServer(app) as url:
        oandapyV20.oandapyV20.TRADING_ENVIRONMENTS["gekko-wire-noauth"] = {"api": url, "stream": url}
        client = oandapyV20.API(access_token="", environment="gekko-wire-noauth")
        with pytest.raises(oandapyV20.V20Error) as err:
            client.request(accounts.AccountSummary(ACCOUNT))
        client.close()
    assert err.value.code == 401


def test_limit_order_rests_then_cancel_answers_200(api: Any) -> None:
    data = {"order": {"type": "LIMIT", "instrument": "EUR_USD", "units": "1000", "price": "1.00000",
                      "timeInForce": "GTC", "clientExtensions": {"id": "w-4"}}}  # fmt: skip
    body = api.request(orders.OrderCreate(ACCOUNT, data=data))
    assert "orderFillTransaction" not in body
    pending = api.request(orders.OrdersPending(ACCOUNT))["orders"]
    assert [o["clientExtensions"]["id"] for o in pending] == ["w-4"]
    r = orders.OrderCancel(ACCOUNT, "@w-4")
    cancel = api.request(r)["orderCancelTransaction"]
    assert r.status_code == 200
    assert cancel["reason"] == "CLIENT_REQUEST"
    assert api.request(orders.OrderDetails(ACCOUNT, "@w-4"))["order"]["state"] == "CANCELLED"


def test_summary_instruments_pricing_in_v20_shapes(api: Any) -> None:
    account = api.request(accounts.AccountSummary(ACCOUNT))["account"]
    assert account["currency"] == "USD"
    assert Decimal(account["balance"]) == Decimal(100_000)
    names = {i["name"]: i for i in api.request(accounts.AccountInstruments(ACCOUNT))["instruments"]}
    assert names["EUR_USD"]["displayPrecision"] == 5
    assert names["EUR_USD"]["pipLocation"] == -4
    price = api.request(pricing.PricingInfo(ACCOUNT, params={"instruments": "EUR_USD"}))["prices"][0]
    assert Decimal(price["bids"][0]["price"]) < Decimal(price["asks"][0]["price"])


def test_candles_answer_mid_ohlc_strings(api: Any) -> None:
    params = {"granularity": "H1", "price": "M", "count": 2}
    body = api.request(instruments.InstrumentsCandles("AUD_USD", params=params))
    assert [c["mid"]["o"] for c in body["candles"]] == ["1.08500", "1.08510"]
    assert body["candles"][0]["volume"] == 42


def test_transactions_since_id_lists_create_and_fill(api: Any) -> None:
    api.request(orders.OrderCreate(ACCOUNT, data=_market("w-5", "1000")))
    txs = api.request(transactions.TransactionsSinceID(ACCOUNT, params={"id": "0"}))["transactions"]
    assert [t["type"] for t in txs] == ["MARKET_ORDER", "ORDER_FILL"]
    again = api.request(transactions.TransactionsSinceID(ACCOUNT, params={"id": txs[-1]["id"]}))
    assert again["transactions"] == []
