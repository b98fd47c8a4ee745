"""A loopback Coinbase Advanced Trade REST simulator, the endpoints ccxt's ``coinbase`` uses.

Public: ``GET /v2/currencies``, ``/v2/currencies/crypto``, ``/v2/exchange-rates``, ``/v2/time``
(ccxt loads currencies with them) and ``/api/v3/brokerage/time``, ``market/products``
(``product_type=FUTURE`` lists none), ``market/products/{id}``, ``market/product_book``,
``market/products/{id}/candles``, ``market/products/{id}/ticker``.

Private (under ``/api/v3/brokerage``): the same market data without ``market/`` plus
``best_bid_ask``, ``transaction_summary``, ``accounts``; ``POST orders`` (``client_order_id``;
``market_market_ioc`` by ``base_size`` or ``quote_size``, ``limit_limit_gtc`` with ``post_only``,
``sor_limit_ioc``, ``limit_limit_fok``, ``stop_limit_stop_limit_gtc``), ``POST orders/batch_cancel``,
``GET orders/historical/{order_id}``, ``orders/historical/batch`` (``product_id``,
``order_status``, ``limit``, ``cursor``), ``orders/historical/fills`` (``order_id(s)``,
``product_id(s)``, ``start_sequence_timestamp``, ``end_sequence_timestamp``, ``limit`` (a page of
100 unless given, at most 1000), ``cursor``); and
``GET /v2/accounts`` (ccxt's default balance call).

Authentication is checked on every private call, both ways ccxt signs:

* legacy keys (:data:`API_KEY` / :data:`API_SECRET`): ``CB-ACCESS-KEY``, ``CB-ACCESS-TIMESTAMP``
  and ``CB-ACCESS-SIGN`` = hex HMAC-SHA256 of ``timestamp + method + path + body`` (v2 GETs sign
  their query too);
* CDP keys (:data:`CDP_KEY_NAME` / :data:`CDP_PRIVATE_KEY`, a fixed test EC key): an ES256
  ``Authorization: Bearer`` JWT whose ``sub`` is the key name and whose ``uri`` names the request.

A failed create answers HTTP 200 with ``success: false`` and an ``error_response`` whose
``preview_failure_reason`` ccxt maps (``PREVIEW_INSUFFICIENT_FUND`` → ``InsufficientFunds``). A known
``client_order_id`` is not placed again: the existing order is answered, as Coinbase does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gekko_agent.domain.clock import LiveClock
from gekko_agent.domain.instruments import AssetClass, Instrument
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.domain.orders import OrderSide, OrderType
from gekko_agent.errors import DataNotFound, InvalidInput, OrderNotFound
from gekko_agent.execution.ports import OrderRequest, RejectReason
from gekko_agent.testing.sim import coinbase_wire as wire
from gekko_agent.testing.sim.coinbase_market import CoinbaseMarketData
from gekko_agent.testing.sim.exchange import OrderView, SimExchange, numeric_id
from gekko_agent.testing.sim.faults import (
    ASGIApp,
    DroppedAnswer,
    Fault,
    FaultMiddleware,
    FaultPlan,
    hold_until_disconnect,
)
from gekko_agent.testing.sim.server import standing_quote
from gekko_agent.venues.paper import (
    BookDepth,
    FeeSchedule,
    FillModel,
    NoSlippage,
    PaperVenue,
    PaperVenueConfig,
)

__all__ = [
    "API_KEY",
    "API_SECRET",
    "CDP_KEY_NAME",
    "CDP_PRIVATE_KEY",
    "FEES",
    "NAME",
    "create_app",
    "default_venue",
]

NAME = "coinbase"
API_KEY = "gekko-sim-coinbase-key"
API_SECRET = "gekko-sim-coinbase-secret"  # noqa: S105  (the simulator's published test secret)
CDP_KEY_NAME = "organizations/gekko-sim/apiKeys/gekko-sim-coinbase"
FEES = FeeSchedule(maker_bps=Decimal(5), taker_bps=Decimal(10))

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_SEED = int.from_bytes(hashlib.sha256(b"gekko-sim-coinbase-cdp-key").digest(), "big")
_CDP_KEY = ec.derive_private_key(_SEED % (_P256_ORDER - 1) + 1, ec.SECP256R1())
CDP_PRIVATE_KEY = _CDP_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
_MAX_SKEW_S = 120
_MAX_CLIENT_ID = 128
_TOUCH_SIZE = Decimal(1000)  # as server.market_venue: one level this deep at the touch
_FILLS_PAGE, _MAX_FILLS_PAGE = 100, 1000  # fills per page: default and most


def default_venue(seed: int = 0) -> PaperVenue:
    """BTC-USD, ETH-USD and BTC-USDC with 100k USD, 100k USDC, 1 BTC and 10 ETH."""
    spot = AssetClass.CRYPTO_SPOT
    lot, tick = Decimal("0.00000001"), Decimal("0.01")
    instruments = (
        Instrument("BTC/USD", NAME, spot, tick, lot, lot, Decimal(1)),
        Instrument("ETH/USD", NAME, spot, tick, lot, lot, Decimal(1)),
        Instrument("BTC/USDC", NAME, spot, tick, lot, lot, Decimal(1)),
    )
    balances = {"USD": Decimal(100_000), "USDC": Decimal(100_000), "BTC": Decimal(1), "ETH": Decimal(10)}
    mids = {
        f"BTC/USD@{NAME}": Decimal(30_000),
        f"ETH/USD@{NAME}": Decimal(2_000),
        f"BTC/USDC@{NAME}": Decimal(30_010),
    }
    # built like server.market_venue, but taking client ids as long as Coinbase does (ccxt's own
    # ``ccxt-<uuid>`` ids are 41 characters, over the paper default of 36)
    config = PaperVenueConfig(
        name=NAME,
        instruments=instruments,
        balances=balances,
        fees=FEES,
        slippage=NoSlippage(),
        fill_model=FillModel(depth=BookDepth(levels=1, level_quantity=_TOUCH_SIZE, step_bps=Decimal(0))),
        seed=seed,
        max_client_order_id_length=_MAX_CLIENT_ID,
    )
    venue = PaperVenue(config, LiveClock())
    for inst in instruments:
        venue.on_quote(standing_quote(inst, mids[inst.id]))
    return venue


def _unauthorized(detail: str) -> JSONResponse:
    return JSONResponse(
        {"error": "unauthorized", "error_details": detail, "message": "Unauthorized"}, status_code=401
    )


def _check_jwt(request: Request, token: str, now: float) -> JSONResponse | None:
    try:
        claims = jwt.decode(
            token,
            _CDP_KEY.public_key(),
            algorithms=["ES256"],
            audience="retail_rest_api_proxy",
            issuer="coinbase-cloud",
            options={"require": ["exp", "nbf", "sub"], "verify_exp": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        return _unauthorized(f"invalid JWT: {exc}")
    # the token's window is checked against the venue's clock (``now``, skew included)
    try:
        not_before, expires = float(claims["nbf"]), float(claims["exp"])
    except (TypeError, ValueError):
        return _unauthorized("invalid JWT: nbf/exp are not numbers")
    if expires <= now:
        return _unauthorized("invalid JWT: Signature has expired")
    if not_before > now + 1:
        return _unauthorized("invalid JWT: The token is not yet valid (nbf)")
    method, _, target = str(claims.get("uri", "")).partition(" ")
    target = target.removeprefix("https://").removeprefix("http://")
    if claims.get("sub") != CDP_KEY_NAME:
        return _unauthorized("unknown API key")
    if method != request.method or target != f"{request.url.netloc}{request.url.path}":
        return _unauthorized("JWT uri does not match the request")
    return None


def _check_hmac(request: Request, body: bytes, now: float) -> JSONResponse | None:
    headers = request.headers
    if headers.get("cb-access-key") != API_KEY:
        return _unauthorized("unknown API key")
    stamp = headers.get("cb-access-timestamp", "")
    if not stamp.isdigit() or abs(int(stamp) - now) > _MAX_SKEW_S:
        return _unauthorized("request timestamp expired")
    path = request.url.path
    if path.startswith("/v2/") and request.method == "GET" and request.url.query:
        path += "?" + request.url.query
    message = stamp.encode() + request.method.encode() + path.encode() + body
    expected = hmac.new(API_SECRET.encode(), message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get("cb-access-sign", ""), expected):
        return _unauthorized("invalid signature")
    return None


async def authenticate(request: Request, skew_ms: int = 0) -> JSONResponse | None:
    """None when the request is signed by a simulator key, else the 401 answer.

    Token and timestamp windows are checked against the venue's clock, ``skew_ms`` off the real one.
    """
    now = time.time() + skew_ms / 1000
    auth = request.headers.get("authorization", "")
    if auth.startswith("Bearer "):
        return _check_jwt(request, auth.removeprefix("Bearer ").strip(), now)
    if "cb-access-key" in request.headers:
        return _check_hmac(request, await request.body(), now)
    return _unauthorized("missing credentials")


class _Trading:
    """Order, fill and account routes over one :class:`SimExchange`."""

    def __init__(self, exchange: SimExchange) -> None:
        self.ex = exchange
        self._configs: dict[str, dict[str, Any]] = {}  # client id → order_configuration as sent

    async def _view_json(self, view: OrderView) -> dict[str, Any]:
        inst = (await self.ex.instruments())[view.order.instrument_id]
        return wire.order_json(view, inst, self._configs.get(view.order.client_order_id))

    async def _by_order_id(self, order_id: str) -> OrderView | None:
        number = wire.order_number(order_id)
        try:
            return await self.ex.view_by_number(number) if number is not None else None
        except OrderNotFound:
            return None

    async def _quantity(self, spec: wire.OrderSpec, inst: Instrument, side: OrderSide) -> Decimal | None:
        if spec.base_size is not None:
            return spec.base_size
        if spec.quote_size is None or spec.order_type is not OrderType.MARKET or side is not OrderSide.BUY:
            return None
        try:
            ask = (await self.ex.venue.quote(inst.id)).ask
        except DataNotFound:
            return None
        return inst.round_quantity(spec.quote_size / ask)

    async def create_order(self, request: Request) -> Response:
        try:
            payload = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse({"error": "INVALID_ARGUMENT", "message": "malformed JSON"}, status_code=400)
        configuration = payload.get("order_configuration") or {}
        inst = await self.ex.by_symbol(str(payload.get("product_id", "")))
        if inst is None:
            return wire.failure(RejectReason.UNKNOWN_INSTRUMENT, configuration)
        cid, side = str(payload.get("client_order_id") or ""), str(payload.get("side", "")).lower()
        if not cid:
            return wire.failure(RejectReason.INVALID_CLIENT_ORDER_ID, configuration)
        try:
            spec = wire.parse_configuration(configuration)
        except ValueError:
            spec = None
        if spec is None or side not in ("buy", "sell"):
            return wire.failure(RejectReason.UNSUPPORTED_ORDER, configuration)
        try:
            existing: OrderView | None = await self.ex.view(cid)
        except OrderNotFound:
            existing = None
        fault = None if existing else self.ex.injector.order_fault(request.headers)
        if fault is Fault.REJECT:
            return wire.failure(RejectReason.INSUFFICIENT_FUNDS, configuration)
        if existing is None:
            quantity = await self._quantity(spec, inst, OrderSide(side))
            if quantity is None or quantity <= 0:
                return wire.failure(RejectReason.BAD_LOT, configuration)
            try:
                order = OrderRequest(
                    client_order_id=cid,
                    instrument_id=inst.id,
                    side=OrderSide(side),
                    quantity=Quantity(quantity),
                    order_type=spec.order_type,
                    limit_price=Price(spec.limit_price) if spec.limit_price is not None else None,
                    stop_price=Price(spec.stop_price) if spec.stop_price is not None else None,
                    time_in_force=spec.time_in_force,
                    post_only=spec.post_only,
                )
            except InvalidInput:
                return wire.failure(RejectReason.UNSUPPORTED_ORDER, configuration)
            ack = await self.ex.place(order, fault)
            if not ack.accepted:
                return wire.failure(ack.order.reject_reason, configuration)
            self._configs[cid] = configuration
            if fault is Fault.DROP_AFTER_ACCEPT:
                await hold_until_disconnect(request.receive)
                return Response(status_code=504)
            if fault is Fault.DROP_ACCEPTED:
                return DroppedAnswer()
            existing = await self.ex.view(cid)
        placed = existing.order
        return JSONResponse(
            {
                "success": True,
                "success_response": {
                    "order_id": wire.order_uuid(placed.venue_order_id),
                    "product_id": inst.venue_symbol,
                    "side": placed.side.value.upper(),
                    "client_order_id": cid,
                },
                "order_configuration": self._configs.get(cid, configuration),
            }
        )

    async def cancel_orders(self, request: Request) -> Response:
        try:
            ids = json.loads(await request.body() or b"{}").get("order_ids") or []
        except (ValueError, AttributeError):
            return JSONResponse({"error": "INVALID_ARGUMENT", "message": "malformed JSON"}, status_code=400)
        await self.ex.refresh()
        results = []
        for order_id in ids:
            view = await self._by_order_id(str(order_id))
            ok = view is not None and not view.order.is_terminal
            if view is not None and ok:
                await self.ex.venue.cancel(view.order.client_order_id)
            reason = "UNKNOWN_CANCEL_FAILURE_REASON" if ok else "UNKNOWN_CANCEL_ORDER"
            results.append({"success": ok, "failure_reason": reason, "order_id": str(order_id)})
        return JSONResponse({"results": results})

    async def order(self, request: Request) -> Response:
        await self.ex.refresh()
        view = await self._by_order_id(request.path_params["order_id"])
        if view is None:
            return wire.not_found()
        return JSONResponse({"order": await self._view_json(view)})

    async def orders(self, request: Request) -> Response:
        await self.ex.refresh()
        query = request.query_params
        products = set(query.getlist("product_id") + query.getlist("product_ids"))
        statuses = set(query.getlist("order_status"))
        rows = []
        for order in reversed(await self.ex.all_orders()):  # newest first
            view = OrderView(order, await self.ex.fills_of(order.client_order_id))
            body = await self._view_json(view)
            if (not products or body["product_id"] in products) and (
                not statuses or body["status"] in statuses
            ):
                rows.append(body)
        page, cursor = _page(rows, query.get("cursor"), query.get("limit"), 100)
        return JSONResponse({"orders": page, "sequence": "0", "has_next": bool(cursor), "cursor": cursor})

    async def fills(self, request: Request) -> Response:
        """``GET orders/historical/fills``: newest first, ``limit`` a page (default 100, at most
        1000), ``cursor`` the page after; the answer's ``cursor`` is '' on the last page.

        The cursor is the sequence number of the page's last (oldest) fill, so fills made while a
        client pages never shift a later page.
        """
        await self.ex.refresh()
        query = request.query_params
        products = set(query.getlist("product_id") + query.getlist("product_ids"))
        order_ids = set(query.getlist("order_id") + query.getlist("order_ids"))
        start, end = _when(query.get("start_sequence_timestamp")), _when(query.get("end_sequence_timestamp"))
        raw_limit, raw_cursor = query.get("limit") or str(_FILLS_PAGE), query.get("cursor") or ""
        if not raw_limit.isdigit() or int(raw_limit) <= 0 or (raw_cursor and not raw_cursor.isdigit()):
            return _invalid("limit must be a positive integer and cursor one this server sent")
        limit, before = min(int(raw_limit), _MAX_FILLS_PAGE), int(raw_cursor) if raw_cursor else None
        insts = await self.ex.instruments()
        rows: list[tuple[int, dict[str, Any]]] = []
        for fill in reversed(await self.ex.fills(None, start)):  # newest first
            seq = numeric_id(fill.fill_id)
            if before is not None and seq >= before:
                continue
            body = wire.fill_json(fill, insts[fill.instrument_id])
            if (
                (not products or body["product_id"] in products)
                and (not order_ids or body["order_id"] in order_ids)
                and (end is None or fill.ts <= end)
            ):
                rows.append((seq, body))
                if len(rows) > limit:
                    break
        page, more = rows[:limit], len(rows) > limit
        return JSONResponse({"fills": [b for _, b in page], "cursor": str(page[-1][0]) if more else ""})

    async def accounts(self, request: Request) -> Response:
        await self.ex.refresh()
        balances = await self.ex.free_and_locked()
        if request.url.path.startswith("/v2/"):
            data = [wire.v2_account(ccy, free + held) for ccy, (free, held) in balances.items()]
            return JSONResponse({"pagination": {"limit": 250, "next_uri": None}, "data": data})
        rows = [wire.v3_account(ccy, free, held) for ccy, (free, held) in balances.items()]
        return JSONResponse({"accounts": rows, "has_next": False, "cursor": "", "size": len(rows)})


def _invalid(message: str) -> JSONResponse:
    return JSONResponse(
        {"error": "INVALID_ARGUMENT", "error_details": message, "message": message}, status_code=400
    )


def _when(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def _page(
    rows: list[dict[str, Any]], cursor: str | None, limit: str | None, default: int
) -> tuple[list[Any], str]:
    """One page of ``rows`` after the offset in ``cursor``, and the next cursor ('' at the end)."""
    start = int(cursor) if cursor and cursor.isdigit() else 0
    size = int(limit) if limit and limit.isdigit() and int(limit) > 0 else default
    end = start + size
    return rows[start:end], str(end) if end < len(rows) else ""


_Handler = Callable[[Request], Awaitable[Response]]


def _private(handler: _Handler, exchange: SimExchange) -> _Handler:
    """``handler`` behind the auth check (on ``exchange``'s clock)."""

    async def endpoint(request: Request) -> Response:
        denied = await authenticate(request, exchange.skew_ms(request.headers))
        return denied if denied is not None else await handler(request)

    return endpoint


def create_app(venue: PaperVenue, faults: FaultPlan) -> ASGIApp:
    """The Coinbase Advanced Trade REST app over ``venue`` with ``faults`` applied."""
    exchange = SimExchange(venue, faults)
    market = CoinbaseMarketData(exchange, FEES)
    trading = _Trading(exchange)
    v3, pub = "/api/v3/brokerage", "/api/v3/brokerage/market"
    routes = [
        Route("/v2/currencies", market.fiat_currencies),
        Route("/v2/currencies/crypto", market.crypto_currencies),
        Route("/v2/exchange-rates", market.exchange_rates),
        Route("/v2/time", market.time),
        Route(f"{v3}/time", market.time),
        Route(f"{pub}/products", market.products),
        Route(f"{pub}/products/{{product_id}}", market.product),
        Route(f"{pub}/product_book", market.product_book),
        Route(f"{pub}/products/{{product_id}}/candles", market.candles),
        Route(f"{pub}/products/{{product_id}}/ticker", market.ticker),
        Route(f"{v3}/products", _private(market.products, exchange)),
        Route(f"{v3}/products/{{product_id}}", _private(market.product, exchange)),
        Route(f"{v3}/product_book", _private(market.product_book, exchange)),
        Route(f"{v3}/products/{{product_id}}/candles", _private(market.candles, exchange)),
        Route(f"{v3}/products/{{product_id}}/ticker", _private(market.ticker, exchange)),
        Route(f"{v3}/best_bid_ask", _private(market.best_bid_ask, exchange)),
        Route(f"{v3}/transaction_summary", _private(market.transaction_summary, exchange)),
        Route(f"{v3}/accounts", _private(trading.accounts, exchange)),
        Route("/v2/accounts", _private(trading.accounts, exchange)),
        Route(f"{v3}/orders", _private(trading.create_order, exchange), methods=["POST"]),
        Route(f"{v3}/orders/batch_cancel", _private(trading.cancel_orders, exchange), methods=["POST"]),
        Route(f"{v3}/orders/historical/batch", _private(trading.orders, exchange)),
        Route(f"{v3}/orders/historical/fills", _private(trading.fills, exchange)),
        Route(f"{v3}/orders/historical/{{order_id}}", _private(trading.order, exchange)),
    ]
    app = Starlette(routes=routes)
    app.state.exchange = exchange
    return FaultMiddleware(
        app,
        exchange.injector,
        rate_limit_body=b'{"error":"rate_limit_exceeded","error_details":"Too many requests",'
        b'"message":"Too many requests"}',
        server_error_body=b'{"message":"Service Unavailable"}',
    )
