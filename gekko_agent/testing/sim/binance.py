"""A loopback Binance (Binance.US) spot REST simulator, the endpoints ccxt's ``binanceus`` uses.

Public (``/api/v3``): ``GET ping``, ``time``, ``exchangeInfo`` (``PRICE_FILTER``, ``LOT_SIZE``,
``NOTIONAL`` filters), ``depth``, ``ticker/bookTicker``, ``klines`` (the bundled real bars of the
instrument, e.g. BTC/USD 1m of March 2023, see :mod:`gekko_agent.testing.sim.bars`).
Signed (``X-MBX-APIKEY`` + HMAC-SHA256 ``signature`` over the query or form body, checked against
:data:`API_SECRET`): ``POST order`` (``newClientOrderId``; ``MARKET``, ``LIMIT``, ``LIMIT_MAKER``,
``STOP_LOSS``, ``STOP_LOSS_LIMIT``; ``FULL`` answers with fills), ``GET order`` and
``DELETE order`` (by ``orderId`` or ``origClientOrderId``), ``GET openOrders``, ``GET allOrders``,
``GET myTrades`` (``orderId``, ``fromId``, ``startTime``, ``endTime``, ``limit`` default 500 and at
most 1000, paged as Binance pages it), ``GET account``.

Errors use Binance's ``{"code": -2010, "msg": ...}`` bodies, so ccxt raises the same exceptions
it raises against the real exchange: ``-1013 Filter failure: LOT_SIZE`` for an off-lot quantity,
``-2010 Account has insufficient balance for requested action.``, ``-2010 Duplicate order sent.``
for a known ``newClientOrderId``, ``-2013 Order does not exist.``, ``-2011 Unknown order sent.``,
``-1121 Invalid symbol.``, ``-1022``/``-2015`` for bad signatures or keys.

Signed requests are checked against the venue's clock as Binance checks them: a ``timestamp`` at
least 1 s ahead of the server's time, or older than ``recvWindow`` ms (default 5000, at most
60000), is refused with ``-1021``; the ``skew`` fault moves that clock (and every time the
simulator answers with: ``serverTime``, order and trade times).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gekko_agent.domain.instruments import AssetClass, Instrument
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.domain.orders import OrderSide, TimeInForce
from gekko_agent.errors import InvalidInput, OrderNotFound
from gekko_agent.execution.ports import OrderRequest, RejectReason
from gekko_agent.testing.sim.bars import HistoricalBars
from gekko_agent.testing.sim.binance_wire import REJECTS, TYPES, d, error, ms, order_json, symbol_info
from gekko_agent.testing.sim.exchange import OrderView, SimExchange, numeric_id
from gekko_agent.testing.sim.faults import (
    ASGIApp,
    DroppedAnswer,
    Fault,
    FaultMiddleware,
    FaultPlan,
    hold_until_disconnect,
)
from gekko_agent.testing.sim.server import market_venue
from gekko_agent.venues.paper import PaperVenue

__all__ = ["API_KEY", "API_SECRET", "NAME", "create_app", "default_venue", "select_trades"]

NAME = "binanceus"
API_KEY = "gekko-sim-binance-key"
API_SECRET = "gekko-sim-binance-secret"  # noqa: S105  (the simulator's published test secret)
_KLINE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_MAX_KLINES = 1000
_DEFAULT_TRADES, _MAX_TRADES, _DAY_MS = 500, 1000, 86_400_000
_DEFAULT_RECV_WINDOW, _MAX_RECV_WINDOW, _MAX_AHEAD_MS = 5000, 60_000, 1000
# The optional parameter sets ``GET myTrades`` accepts (with ``symbol``), as Binance documents them.
_TRADE_COMBOS = frozenset(
    frozenset(c)
    for c in ((), ("orderId",), ("startTime",), ("endTime",), ("fromId",), ("startTime", "endTime"),
              ("orderId", "fromId"))
)  # fmt: skip


def _from_ms(raw: str | None) -> datetime | None:
    """A Binance millisecond timestamp parameter as a UTC datetime (ValueError when malformed)."""
    return None if raw is None else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(raw))


def default_venue(seed: int = 0) -> PaperVenue:
    """BTC/USD, ETH/USD and BTC/USDT with 100k USD, 100k USDT, 1 BTC and 10 ETH."""
    spot = AssetClass.CRYPTO_SPOT
    lot, tick, minimum = Decimal("0.00001"), Decimal("0.01"), Decimal(10)
    instruments = (
        Instrument("BTC/USD", NAME, spot, tick, lot, lot, minimum),
        Instrument("ETH/USD", NAME, spot, tick, Decimal("0.0001"), Decimal("0.0001"), minimum),
        Instrument("BTC/USDT", NAME, spot, tick, lot, lot, minimum),
    )
    balances = {"USD": Decimal(100_000), "USDT": Decimal(100_000), "BTC": Decimal(1), "ETH": Decimal(10)}
    mids = {
        f"BTC/USD@{NAME}": Decimal(30_000),
        f"ETH/USD@{NAME}": Decimal(2_000),
        f"BTC/USDT@{NAME}": Decimal(30_010),
    }
    return market_venue(NAME, instruments, balances, mids, seed)


class _Binance:
    """Route handlers over one :class:`SimExchange`."""

    def __init__(self, exchange: SimExchange, history: HistoricalBars) -> None:
        self.ex = exchange
        self.history = history

    async def _params(self, request: Request, signed: bool) -> dict[str, str] | JSONResponse:
        raw = request.url.query if request.method in ("GET", "DELETE") else (await request.body()).decode()
        if not signed:
            return dict(parse_qsl(raw))
        if request.headers.get("x-mbx-apikey") != API_KEY:
            return error(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        payload, sep, signature = raw.rpartition("&signature=")
        expected = hmac.new(API_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(signature, expected):
            return error(-1022, "Signature for this request is not valid.", 400)
        params = dict(parse_qsl(payload))
        stale = self._outside_window(params, ms(self.ex.venue_now(request.headers)))
        if stale is None:
            return params
        self.ex.clock_refusals += 1
        return stale

    @staticmethod
    def _outside_window(params: dict[str, str], server_ms: int) -> JSONResponse | None:
        """Binance's time check: ``timestamp < serverTime + 1000`` and ``serverTime - timestamp <=
        recvWindow``, else ``-1021`` (the request is refused before it reaches the engine)."""
        try:
            stamp = int(params["timestamp"])
            window = int(params.get("recvWindow", _DEFAULT_RECV_WINDOW))
        except (KeyError, ValueError):
            return error(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        if not 0 < window <= _MAX_RECV_WINDOW:
            return error(-1131, "recvWindow must be less than 60000")
        if stamp >= server_ms + _MAX_AHEAD_MS:
            return error(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if server_ms - stamp > window:
            return error(-1021, "Timestamp for this request is outside of the recvWindow.")
        return None

    async def _inst(self, params: dict[str, str]) -> Instrument | JSONResponse:
        inst = await self.ex.by_symbol(params.get("symbol", ""))
        return inst if inst is not None else error(-1121, "Invalid symbol.")

    async def time(self, request: Request) -> Response:
        await self.ex.refresh()
        now = ms(self.ex.venue_now(request.headers))
        return JSONResponse({"serverTime": now} if request.url.path.endswith("time") else {})

    async def exchange_info(self, request: Request) -> Response:
        insts = (await self.ex.instruments()).values()
        now = ms(self.ex.venue_now(request.headers))
        return JSONResponse(
            {
                "timezone": "UTC",
                "serverTime": now,
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": [symbol_info(i) for i in insts],
            }
        )

    async def depth(self, request: Request) -> Response:
        await self.ex.refresh()
        params = await self._params(request, signed=False)
        inst = await self._inst(params) if isinstance(params, dict) else params
        if not isinstance(inst, Instrument):
            return inst
        book = await self.ex.venue.order_book(
            inst.id, int(params.get("limit", 100)) if isinstance(params, dict) else 100
        )
        bids = [[d(lv.price), d(lv.quantity)] for lv in book.bids]
        asks = [[d(lv.price), d(lv.quantity)] for lv in book.asks]
        return JSONResponse({"lastUpdateId": ms(book.ts), "bids": bids, "asks": asks})

    async def book_ticker(self, request: Request) -> Response:
        await self.ex.refresh()
        params = await self._params(request, signed=False)
        assert isinstance(params, dict)
        insts = list((await self.ex.instruments()).values())
        if "symbol" in params:
            inst = await self._inst(params)
            if not isinstance(inst, Instrument):
                return inst
            insts = [inst]
        out = []
        for inst in insts:
            q = await self.ex.venue.quote(inst.id)
            out.append(
                {
                    "symbol": inst.venue_symbol,
                    "bidPrice": d(q.bid),
                    "bidQty": d(q.bid_size or Decimal(0)),
                    "askPrice": d(q.ask),
                    "askQty": d(q.ask_size or Decimal(0)),
                }
            )
        return JSONResponse(out[0] if "symbol" in params else out)

    async def klines(self, request: Request) -> Response:
        """``GET klines?symbol=&interval=&startTime=&endTime=&limit=`` (default 500, at most 1000).

        With ``startTime`` the first ``limit`` bars from it; otherwise the last ``limit`` up to
        ``endTime`` (or now), as Binance answers. Bundled real bars plus any fed to the venue.
        """
        params = await self._params(request, signed=False)
        assert isinstance(params, dict)
        inst = await self._inst(params)
        if not isinstance(inst, Instrument):
            return inst
        interval = params.get("interval", "1m")
        unit = _KLINE_UNITS.get(interval[-1:])
        if unit is None or not interval[:-1].isdigit() or int(interval[:-1]) <= 0:
            return error(-1120, "Invalid interval.")
        seconds = int(interval[:-1]) * unit
        try:
            limit = min(int(params.get("limit", 500)), _MAX_KLINES)
            start = _from_ms(params.get("startTime"))
            end = _from_ms(params.get("endTime"))
        except ValueError:
            return error(-1100, "Illegal characters found in a parameter.")
        if limit <= 0:
            return error(-1100, "Illegal characters found in parameter 'limit'.")
        fed = await self.ex.venue.ohlcv(inst.id, seconds, start, 2**31)
        until = None if end is None else end + timedelta(milliseconds=1)  # endTime is inclusive
        bars = self.history.page(
            inst, seconds, fed, start=start, end=until, limit=limit, newest=start is None
        )
        rows = [
            [ms(b.ts), d(b.open), d(b.high), d(b.low), d(b.close), d(b.volume),
             ms(b.ts) + seconds * 1000 - 1, d(b.close * b.volume), 0, "0", "0", "0"]
            for b in bars
        ]  # fmt: skip
        return JSONResponse(rows)

    async def account(self, request: Request) -> Response:
        params = await self._params(request, signed=True)
        if not isinstance(params, dict):
            return params
        await self.ex.refresh()
        balances = [
            {"asset": c, "free": d(f), "locked": d(lk)}
            for c, (f, lk) in (await self.ex.free_and_locked()).items()
        ]
        return JSONResponse(
            {
                "makerCommission": 5,
                "takerCommission": 10,
                "canTrade": True,
                "canWithdraw": True,
                "canDeposit": True,
                "updateTime": ms(self.ex.venue_now(request.headers)),
                "accountType": "SPOT",
                "balances": balances,
                "permissions": ["SPOT"],
            }
        )

    def _request(self, params: dict[str, str], inst: Instrument) -> OrderRequest | JSONResponse:
        kind = TYPES.get(params.get("type", "").upper())
        side = params.get("side", "").lower()
        if kind is None or side not in ("buy", "sell") or "quantity" not in params:
            return error(-1014, "Unsupported order combination.")
        try:
            price = Price(Decimal(params["price"])) if "price" in params else None
            stop = Price(Decimal(params["stopPrice"])) if "stopPrice" in params else None
            tif = TimeInForce(params.get("timeInForce", "GTC").lower())
            return OrderRequest(
                client_order_id=params.get("newClientOrderId") or f"sim-{self.ex.clock.monotonic()}",
                instrument_id=inst.id,
                side=OrderSide(side),
                quantity=Quantity(Decimal(params["quantity"])),
                order_type=kind,
                limit_price=price,
                stop_price=stop,
                time_in_force=tif,
                post_only=params.get("type", "").upper() == "LIMIT_MAKER",
            )
        except (ArithmeticError, ValueError, InvalidInput):
            return error(-1100, "Illegal characters found in a parameter.")

    async def new_order(self, request: Request) -> Response:
        params = await self._params(request, signed=True)
        if not isinstance(params, dict):
            return params
        inst = await self._inst(params)
        if not isinstance(inst, Instrument):
            return inst
        order = self._request(params, inst)
        if not isinstance(order, OrderRequest):
            return order
        fault = self.ex.injector.order_fault(request.headers)
        if fault is Fault.REJECT:
            return error(*REJECTS[RejectReason.INSUFFICIENT_FUNDS])
        ack = await self.ex.place(order, fault)
        if ack.duplicate:
            return error(-2010, "Duplicate order sent.")
        if not ack.accepted:
            reason = ack.order.reject_reason
            code, msg = (
                REJECTS.get(reason, (-2010, "New order rejected."))
                if reason
                else (-2010, "New order rejected.")
            )
            return error(code, msg)
        if fault is Fault.DROP_AFTER_ACCEPT:
            await hold_until_disconnect(request.receive)
            return Response(status_code=504)
        if fault is Fault.DROP_ACCEPTED:
            return DroppedAnswer()
        view = await self.ex.view(order.client_order_id)
        full = params.get("newOrderRespType", "FULL") == "FULL"
        return JSONResponse(order_json(view, inst, full=full, shift_ms=self.ex.skew_ms(request.headers)))

    async def _find(self, params: dict[str, str]) -> OrderView | None:
        try:
            if "origClientOrderId" in params:
                return await self.ex.view(params["origClientOrderId"])
            if "orderId" in params:
                return await self.ex.view_by_number(int(params["orderId"]))
        except (OrderNotFound, ValueError):
            return None
        return None

    async def order(self, request: Request) -> Response:
        params = await self._params(request, signed=True)
        if not isinstance(params, dict):
            return params
        await self.ex.refresh()
        inst = await self._inst(params)
        if not isinstance(inst, Instrument):
            return inst
        view = await self._find(params)
        if request.method == "DELETE":
            if view is None or view.order.is_terminal:
                return error(-2011, "Unknown order sent.")
            await self.ex.venue.cancel(view.order.client_order_id)
            view = await self.ex.view(view.order.client_order_id)
            body = order_json(view, inst, shift_ms=self.ex.skew_ms(request.headers))
            body["origClientOrderId"] = view.order.client_order_id
            return JSONResponse(body)
        if view is None or view.order.instrument_id != inst.id:
            return error(-2013, "Order does not exist.")
        return JSONResponse(order_json(view, inst, shift_ms=self.ex.skew_ms(request.headers)))

    async def orders(self, request: Request) -> Response:
        params = await self._params(request, signed=True)
        if not isinstance(params, dict):
            return params
        await self.ex.refresh()
        insts = await self.ex.instruments()
        only = await self.ex.by_symbol(params["symbol"]) if "symbol" in params else None
        if "symbol" in params and only is None:
            return error(-1121, "Invalid symbol.")
        open_only = request.url.path.endswith("openOrders")
        shift = self.ex.skew_ms(request.headers)
        picked = await self.ex.venue.open_orders() if open_only else await self.ex.all_orders()
        out = []
        for o in picked:
            if only is None or o.instrument_id == only.id:
                view = OrderView(o, await self.ex.fills_of(o.client_order_id))
                out.append(order_json(view, insts[o.instrument_id], shift_ms=shift))
        return JSONResponse(out)

    async def my_trades(self, request: Request) -> Response:
        """``GET myTrades`` as Binance answers it (see :func:`select_trades`)."""
        params = await self._params(request, signed=True)
        if not isinstance(params, dict):
            return params
        await self.ex.refresh()
        inst = await self._inst(params)
        if not isinstance(inst, Instrument):
            return inst
        shift = self.ex.skew_ms(request.headers)
        rows = [
            {
                "symbol": inst.venue_symbol,
                "id": numeric_id(f.fill_id),
                "orderId": numeric_id(f.venue_order_id),
                "orderListId": -1,
                "price": d(f.price),
                "qty": d(f.quantity),
                "quoteQty": d(f.notional),
                "commission": d(f.fee.amount),
                "commissionAsset": f.fee.currency,
                "time": ms(f.ts) + shift,
                "isBuyer": f.side is OrderSide.BUY,
                "isMaker": f.liquidity.value == "maker",
                "isBestMatch": True,
            }
            for f in await self.ex.fills(inst.id)
        ]
        picked = select_trades(rows, params)
        return picked if isinstance(picked, JSONResponse) else JSONResponse(picked)


def select_trades(rows: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]] | JSONResponse:
    """The ``myTrades`` answer over ``rows`` (oldest first), or Binance's error for the parameters.

    ``limit`` defaults to 500 and must lie in 1..1000. ``fromId``: trades with an id at or above it,
    oldest first. ``startTime`` (and ``endTime``, at most 24 h later): the oldest ``limit`` in the
    window. ``endTime`` alone, or no parameter: the most recent ``limit``. ``orderId`` narrows to
    one order (alone or with ``fromId``). Other combinations: ``-1128``.
    """
    given = frozenset(k for k in ("orderId", "startTime", "endTime", "fromId") if k in params)
    if given not in _TRADE_COMBOS:
        return error(-1128, "Combination of optional parameters invalid.")
    try:
        limit = int(params.get("limit", _DEFAULT_TRADES))
        numbers = {k: int(params[k]) for k in given}
    except ValueError:
        return error(-1100, "Illegal characters found in a parameter.")
    if not 1 <= limit <= _MAX_TRADES:
        return error(
            -1100, f"Illegal characters found in parameter 'limit'; legal range is '1' to '{_MAX_TRADES}'."
        )
    start, end = numbers.get("startTime"), numbers.get("endTime")
    if start is not None and end is not None and end - start > _DAY_MS:
        return error(-1127, "More than 24 hours between startTime and endTime.")
    if "orderId" in numbers:
        rows = [r for r in rows if r["orderId"] == numbers["orderId"]]
    if "fromId" in numbers:
        rows = [r for r in rows if r["id"] >= numbers["fromId"]]
    if start is not None:
        rows = [r for r in rows if r["time"] >= start]
    if end is not None:
        rows = [r for r in rows if r["time"] <= end]
    newest = "fromId" not in numbers and "orderId" not in numbers and start is None
    return rows[-limit:] if newest else rows[:limit]


def create_app(venue: PaperVenue, faults: FaultPlan) -> ASGIApp:
    """The Binance REST app over ``venue`` with ``faults`` applied."""
    exchange = SimExchange(venue, faults)
    h = _Binance(exchange, HistoricalBars())
    p = "/api/v3"
    routes = [
        Route(f"{p}/ping", h.time),
        Route(f"{p}/time", h.time),
        Route(f"{p}/exchangeInfo", h.exchange_info),
        Route(f"{p}/depth", h.depth),
        Route(f"{p}/ticker/bookTicker", h.book_ticker),
        Route(f"{p}/klines", h.klines),
        Route(f"{p}/account", h.account),
        Route(f"{p}/order", h.new_order, methods=["POST"]),
        Route(f"{p}/order", h.order, methods=["GET", "DELETE"]),
        Route(f"{p}/openOrders", h.orders),
        Route(f"{p}/allOrders", h.orders),
        Route(f"{p}/myTrades", h.my_trades),
    ]
    app = Starlette(routes=routes)
    app.state.exchange = exchange
    return FaultMiddleware(
        app,
        exchange.injector,
        rate_limit_body=b'{"code":-1003,"msg":"Too much request weight used."}',
        server_error_body=b'{"code":-1001,"msg":"Internal error; unable to process your request."}',
    )
