"""Market-data routes of the Coinbase simulator: currencies, products, books, candles, fee tier.

The same handlers serve the public ``/api/v3/brokerage/market/...`` paths and their private
twins; :mod:`gekko_agent.testing.sim.coinbase` mounts them and checks auth on the private ones.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gekko_agent.domain.instruments import Instrument
from gekko_agent.errors import DataNotFound
from gekko_agent.execution.ports import Quote
from gekko_agent.testing.sim import coinbase_wire as wire
from gekko_agent.testing.sim.bars import HistoricalBars
from gekko_agent.testing.sim.exchange import SimExchange
from gekko_agent.venues.paper import FeeSchedule

__all__ = ["GRANULARITY", "CoinbaseMarketData"]

GRANULARITY = {
    "ONE_MINUTE": 60,
    "FIVE_MINUTE": 300,
    "FIFTEEN_MINUTE": 900,
    "THIRTY_MINUTE": 1800,
    "ONE_HOUR": 3600,
    "TWO_HOUR": 7200,
    "SIX_HOUR": 21_600,
    "ONE_DAY": 86_400,
}
_BPS = Decimal(10_000)
_MAX_CANDLES = 350


def _epoch(raw: str | None) -> datetime | None:
    """UNIX seconds as a UTC datetime; None when absent or empty; ValueError when malformed."""
    return datetime.fromtimestamp(int(raw), UTC) if raw else None


def _product_missing(product_id: str) -> JSONResponse:
    return JSONResponse(
        {"error": "NOT_FOUND", "error_details": f"product {product_id} not found", "message": "NotFound"},
        status_code=404,
    )


class CoinbaseMarketData:
    """Route handlers for Coinbase market data over one :class:`SimExchange`.

    Args:
        exchange: the simulated exchange.
        fees: the fee tier ``transaction_summary`` publishes.
    """

    def __init__(self, exchange: SimExchange, fees: FeeSchedule) -> None:
        self.ex = exchange
        self.fees = fees
        self.history = HistoricalBars()

    async def _currencies(self) -> list[str]:
        codes: set[str] = set()
        for inst in (await self.ex.instruments()).values():
            codes.update((inst.base, inst.quote))
        return sorted(codes)

    async def _quote(self, inst: Instrument) -> Quote | None:
        try:
            return await self.ex.venue.quote(inst.id)
        except DataNotFound:
            return None

    async def _inst(self, product_id: str) -> Instrument | None:
        return await self.ex.by_symbol(product_id)

    async def fiat_currencies(self, request: Request) -> Response:
        """``GET /v2/currencies``."""
        rows = [{"id": c, "name": c, "min_size": "0.01"} for c in await self._currencies() if wire.is_fiat(c)]
        return JSONResponse({"data": rows})

    async def crypto_currencies(self, request: Request) -> Response:
        """``GET /v2/currencies/crypto``."""
        rows = [
            {
                "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"gekko-sim/asset/{c}")),
                "code": c,
                "name": c,
                "color": "#0052FF",
                "sort_index": n,
                "exponent": 8,
                "type": "crypto",
                "address_regex": ".*",
            }
            for n, c in enumerate(await self._currencies())
            if not wire.is_fiat(c)
        ]
        return JSONResponse({"data": rows})

    async def exchange_rates(self, request: Request) -> Response:
        """``GET /v2/exchange-rates``: USD per unit inverted, from the standing quotes."""
        rates: dict[str, str] = {"USD": "1"}
        for inst in (await self.ex.instruments()).values():
            quote = await self._quote(inst)
            if quote is not None and inst.quote == "USD" and quote.mid:
                rates[inst.base] = wire.d((Decimal(1) / quote.mid).quantize(Decimal("1e-12")))
        return JSONResponse({"data": {"currency": "USD", "rates": rates}})

    async def time(self, request: Request) -> Response:
        """``GET /api/v3/brokerage/time`` (and the v2 ``time``), on the venue's (maybe skewed) clock."""
        now = self.ex.venue_now(request.headers)
        ms = int(now.timestamp() * 1000)
        body: dict[str, Any] = {"iso": wire.iso(now), "epochSeconds": str(ms // 1000), "epochMillis": str(ms)}
        if request.url.path.startswith("/v2/"):
            body = {"data": {"iso": wire.iso(now), "epoch": ms // 1000}}
        return JSONResponse(body)

    async def products(self, request: Request) -> Response:
        """``GET .../products`` (spot only: a ``product_type`` other than SPOT lists nothing)."""
        await self.ex.refresh()
        kind = request.query_params.get("product_type", "SPOT").upper()
        rows = []
        if kind == "SPOT":
            for inst in (await self.ex.instruments()).values():
                quote = await self._quote(inst)
                rows.append(wire.product_json(inst, quote.mid if quote else None))
        return JSONResponse({"products": rows, "num_products": len(rows)})

    async def product(self, request: Request) -> Response:
        """``GET .../products/{product_id}``."""
        product_id = request.path_params["product_id"]
        inst = await self._inst(product_id)
        if inst is None:
            return _product_missing(product_id)
        quote = await self._quote(inst)
        return JSONResponse(wire.product_json(inst, quote.mid if quote else None))

    async def _book(self, inst: Instrument, limit: int) -> dict[str, Any]:
        try:
            book = await self.ex.venue.order_book(inst.id, limit)
        except DataNotFound:
            return {
                "product_id": inst.venue_symbol,
                "bids": [],
                "asks": [],
                "time": wire.iso(self.ex.clock.now()),
            }
        return {
            "product_id": inst.venue_symbol,
            "bids": [{"price": wire.d(lv.price), "size": wire.d(lv.quantity)} for lv in book.bids],
            "asks": [{"price": wire.d(lv.price), "size": wire.d(lv.quantity)} for lv in book.asks],
            "time": wire.iso(book.ts),
        }

    async def product_book(self, request: Request) -> Response:
        """``GET .../product_book?product_id=&limit=``."""
        await self.ex.refresh()
        product_id = request.query_params.get("product_id", "")
        inst = await self._inst(product_id)
        if inst is None:
            return _product_missing(product_id)
        raw = request.query_params.get("limit", "50")
        book = await self._book(inst, int(raw) if raw.isdigit() and int(raw) > 0 else 50)
        quote = await self._quote(inst)
        mid = quote.mid if quote else None
        spread = quote.ask - quote.bid if quote else None
        return JSONResponse(
            {
                "pricebook": book,
                "last": wire.d(mid) if mid is not None else "",
                "mid_market": wire.d(mid) if mid is not None else "",
                "spread_bps": wire.d(spread / mid * _BPS) if spread is not None and mid else "",
                "spread_absolute": wire.d(spread) if spread is not None else "",
            }
        )

    async def best_bid_ask(self, request: Request) -> Response:
        """``GET /api/v3/brokerage/best_bid_ask?product_ids=...`` (every product when none named)."""
        await self.ex.refresh()
        named = request.query_params.getlist("product_ids")
        insts = [i for i in (await self.ex.instruments()).values() if not named or i.venue_symbol in named]
        return JSONResponse({"pricebooks": [await self._book(i, 1) for i in insts]})

    async def candles(self, request: Request) -> Response:
        """``GET .../products/{product_id}/candles?granularity=&start=&end=`` (newest first).

        ``start`` and ``end`` are UNIX seconds, the window ``[start, end)``; at most 350 candles, the
        first 350 of the window. Bundled real bars (see :mod:`gekko_agent.testing.sim.bars`) plus
        any fed to the venue.
        """
        product_id = request.path_params["product_id"]
        inst = await self._inst(product_id)
        if inst is None:
            return _product_missing(product_id)
        query = request.query_params
        seconds = GRANULARITY.get(query.get("granularity", "ONE_MINUTE").upper())
        if seconds is None:
            return JSONResponse({"error": "INVALID_ARGUMENT", "message": "bad granularity"}, status_code=400)
        try:
            start = _epoch(query.get("start"))
            end = _epoch(query.get("end"))
        except ValueError:
            return JSONResponse({"error": "INVALID_ARGUMENT", "message": "bad start or end"}, status_code=400)
        fed = await self.ex.venue.ohlcv(inst.id, seconds, start, 2**31)
        bars = self.history.page(
            inst, seconds, fed, start=start, end=end, limit=_MAX_CANDLES, newest=start is None
        )
        rows = [
            {
                "start": str(int(b.ts.timestamp())),
                "low": wire.d(b.low),
                "high": wire.d(b.high),
                "open": wire.d(b.open),
                "close": wire.d(b.close),
                "volume": wire.d(b.volume),
            }
            for b in reversed(bars)
        ]
        return JSONResponse({"candles": rows})

    async def ticker(self, request: Request) -> Response:
        """``GET .../products/{product_id}/ticker``: the touch and this account's last trades there."""
        await self.ex.refresh()
        product_id = request.path_params["product_id"]
        inst = await self._inst(product_id)
        if inst is None:
            return _product_missing(product_id)
        quote = await self._quote(inst)
        raw = request.query_params.get("limit", "1")
        limit = int(raw) if raw.isdigit() and int(raw) > 0 else 1
        trades = [
            {
                "trade_id": wire.trade_uuid(f),
                "product_id": inst.venue_symbol,
                "price": wire.d(f.price),
                "size": wire.d(f.quantity),
                "time": wire.iso(f.ts),
                "side": f.side.value.upper(),
                "bid": "",
                "ask": "",
            }
            for f in reversed(await self.ex.fills(inst.id))
        ][:limit]
        return JSONResponse(
            {
                "trades": trades,
                "best_bid": wire.d(quote.bid) if quote else "",
                "best_ask": wire.d(quote.ask) if quote else "",
            }
        )

    async def transaction_summary(self, request: Request) -> Response:
        """``GET /api/v3/brokerage/transaction_summary``: the published fee tier."""
        fills = await self.ex.fills()
        return JSONResponse(
            {
                "total_volume": float(sum((f.notional for f in fills), Decimal(0))),
                "total_fees": float(sum((f.fee.amount for f in fills), Decimal(0))),
                "fee_tier": {
                    "pricing_tier": "Advanced 1",
                    "usd_from": "0",
                    "usd_to": "10000",
                    "taker_fee_rate": wire.d(self.fees.taker_bps / _BPS),
                    "maker_fee_rate": wire.d(self.fees.maker_bps / _BPS),
                },
                "margin_rate": None,
                "goods_and_services_tax": None,
                "advanced_trade_only_volume": 0,
                "advanced_trade_only_fees": 0,
                "coinbase_pro_volume": 0,
                "coinbase_pro_fees": 0,
            }
        )
