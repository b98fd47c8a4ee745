"""A loopback OANDA v20 REST simulator over the paper matching engine, in OANDA's own formats.

Every route wants ``Authorization: Bearer <token>`` (any token; 401 without) and serves one
account under whatever account id the client names. Implemented (all under ``/v3``):
``GET accounts/{id}/summary``, ``accounts/{id}/instruments``, ``accounts/{id}/pricing?instruments=``,
``instruments/{name}/candles`` (mid, ``granularity``/``count``/``from``/``to``; the bundled real bars
of the instrument, e.g. EUR/USD 1h of 2017, see :mod:`gekko_agent.testing.sim.bars`),
``accounts/{id}/openPositions``,
``POST accounts/{id}/orders`` (MARKET, LIMIT, STOP; 201 with ``orderCreateTransaction`` and, when it
happened, ``orderFillTransaction`` / ``orderCancelTransaction``), ``GET accounts/{id}/orders/{spec}``
(an id or ``@clientId``), ``PUT accounts/{id}/orders/{spec}/cancel``, ``GET accounts/{id}/pendingOrders``,
``GET accounts/{id}/transactions/sinceid?id=`` and ``transactions/{txid}``.

Units carry the side in their sign, prices and money are strings, times RFC 3339 with nanoseconds.
Refusals are ``400`` with an ``orderRejectTransaction`` and ``errorCode`` (``UNITS_PRECISION_EXCEEDED``,
``INSUFFICIENT_MARGIN``, ``INSTRUMENT_UNKNOWN``, ``CLIENT_ORDER_ID_ALREADY_EXISTS``…); unknown orders
are ``404``. Order faults (reject, partial, drop-after-accept, drop-accepted) come from the plan, the
``X-Gekko-Fault`` header or :meth:`FaultInjector.script` on :func:`build_app`'s exchange.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gekko_agent.domain.clock import LiveClock
from gekko_agent.domain.instruments import AssetClass, Instrument
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.domain.orders import OrderSide, OrderStatus, OrderType, TimeInForce
from gekko_agent.execution.ports import OrderRequest, RejectReason
from gekko_agent.testing.sim.bars import HistoricalBars
from gekko_agent.testing.sim.exchange import SimExchange
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

__all__ = ["ACCOUNT_ID", "NAME", "build_app", "create_app", "default_venue"]

NAME = "oanda"
ACCOUNT_ID = "101-001-0000000-001"
CURRENCY = "USD"
_TOUCH = Decimal(10_000_000)

_GRANULARITY = {"S5": 5, "S10": 10, "S15": 15, "S30": 30, "M1": 60, "M2": 120, "M4": 240, "M5": 300,
                "M10": 600, "M15": 900, "M30": 1800, "H1": 3600, "H2": 7200, "H3": 10800, "H4": 14400,
                "H6": 21600, "H8": 28800, "H12": 43200, "D": 86400}  # fmt: skip
_TYPES = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT, "STOP": OrderType.STOP}
_TIF = {"GTC": TimeInForce.GTC, "GTD": TimeInForce.GTC, "GFD": TimeInForce.DAY, "IOC": TimeInForce.IOC,
        "FOK": TimeInForce.FOK}  # fmt: skip
_REJECT_CODES = {
    RejectReason.UNKNOWN_INSTRUMENT: "INSTRUMENT_UNKNOWN",
    RejectReason.UNSUPPORTED_ORDER: "TIME_IN_FORCE_INVALID",
    RejectReason.INVALID_CLIENT_ORDER_ID: "CLIENT_ORDER_ID_INVALID",
    RejectReason.BAD_LOT: "UNITS_PRECISION_EXCEEDED",
    RejectReason.BAD_TICK: "PRICE_PRECISION_EXCEEDED",
    RejectReason.BELOW_MIN_QUANTITY: "UNITS_MINIMUM_NOT_MET",
    RejectReason.BELOW_MIN_NOTIONAL: "UNITS_MINIMUM_NOT_MET",
    RejectReason.INSUFFICIENT_FUNDS: "INSUFFICIENT_MARGIN",
    RejectReason.REDUCE_ONLY_WOULD_INCREASE: "POSITION_FILL_INVALID",
    RejectReason.POST_ONLY_WOULD_TAKE: "TIME_IN_FORCE_INVALID",
    RejectReason.NO_MARKET_DATA: "INSTRUMENT_PRICE_UNKNOWN",
}
_ENDED = (OrderStatus.CANCELED, OrderStatus.EXPIRED)
_MAX_CANDLES = 5000


def default_venue(seed: int = 0) -> PaperVenue:
    """EUR/USD, GBP/USD and AUD/USD at 20:1 margin on a 100k USD account, 10M units at the touch.

    FX sizes run to hundreds of thousands of units, so the touch is far deeper than the shared
    crypto default; the ``partial`` fault still thins it for one order.
    """
    fx, tick, lot = AssetClass.FX, Decimal("0.00001"), Decimal(1)
    instruments = tuple(
        Instrument(symbol, NAME, fx, tick, lot, min_quantity=lot, max_leverage=Decimal(20))
        for symbol in ("EUR/USD", "GBP/USD", "AUD/USD")
    )
    config = PaperVenueConfig(
        name=NAME,
        instruments=instruments,
        balances={CURRENCY: Decimal(100_000)},
        fees=FeeSchedule(maker_bps=Decimal(0), taker_bps=Decimal("0.5")),
        slippage=NoSlippage(),
        fill_model=FillModel(depth=BookDepth(levels=1, level_quantity=_TOUCH, step_bps=Decimal(0))),
        seed=seed,
    )
    venue = PaperVenue(config, LiveClock())
    for inst, mid in zip(instruments, ("1.08500", "1.27000", "0.66000"), strict=True):
        quote = standing_quote(inst, Decimal(mid))
        venue.on_quote(dataclasses.replace(quote, bid_size=Quantity(_TOUCH), ask_size=Quantity(_TOUCH)))
    return venue


def _d(value: Decimal) -> str:
    return f"{value:f}"


def _t(ts: datetime | None) -> str:
    return f"{(ts or datetime.now(UTC)).strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z"


def _rfc3339(raw: str | None) -> datetime | None:
    """An RFC 3339 time (nanoseconds allowed) or a UNIX timestamp, as OANDA accepts; ValueError otherwise."""
    if raw is None:
        return None
    if raw.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(raw), UTC)
    head, _, frac = raw.removesuffix("Z").partition(".")
    moment = datetime.fromisoformat(head).replace(tzinfo=UTC)
    return moment.replace(microsecond=int((frac + "000000")[:6])) if frac else moment


def _error(status: int, message: str, code: str = "", **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"errorMessage": message, **extra}
    if code:
        body["errorCode"] = code
    return JSONResponse(body, status_code=status)


def _instrument_json(inst: Instrument) -> dict[str, Any]:
    precision = -int(inst.tick_size.normalize().as_tuple().exponent)
    return {
        "name": inst.venue_symbol,
        "type": "CURRENCY",
        "displayName": inst.symbol,
        "pipLocation": -(precision - 1),
        "displayPrecision": precision,
        "tradeUnitsPrecision": max(0, -int(inst.lot_size.normalize().as_tuple().exponent)),
        "minimumTradeSize": _d(inst.min_quantity or inst.lot_size),
        "maximumTrailingStopDistance": "1.00000",
        "minimumTrailingStopDistance": "0.00050",
        "maximumPositionSize": "0",
        "maximumOrderUnits": "100000000",
        "marginRate": _d(Decimal(1) / inst.max_leverage),
    }


@dataclass(slots=True)
class _Placed:
    """An order the simulated account accepted: its create transaction and later transactions."""

    order_id: str
    create: dict[str, Any]
    fills: list[str] = field(default_factory=list)
    cancel: dict[str, Any] | None = None
    done: bool = False


class _Oanda:
    """Route handlers over one :class:`SimExchange`, keeping the account's transaction log."""

    def __init__(self, exchange: SimExchange) -> None:
        self.ex = exchange
        self.history = HistoricalBars()
        self.log: list[dict[str, Any]] = []
        self.placed: dict[str, _Placed] = {}
        self.by_order_id: dict[str, str] = {}
        self._fill_cursor: str | None = None
        self._anonymous = 0

    def _append(self, tx: dict[str, Any]) -> dict[str, Any]:
        tx = {"id": str(len(self.log) + 1), "accountID": ACCOUNT_ID, "batchID": str(len(self.log) + 1), **tx}
        tx.setdefault("time", _t(self.ex.venue_now()))
        self.log.append(tx)
        return tx

    @property
    def last_id(self) -> str:
        return str(len(self.log))

    async def _balance(self) -> Decimal:
        money = (await self.ex.venue.balances()).get(CURRENCY)
        return money.amount if money else Decimal(0)

    async def sync(self) -> None:
        """Let the engine move (restoring thinned quotes), then log new fills and ended orders."""
        await self.ex.refresh()
        batch = await self.ex.venue.fills_since(self._fill_cursor)
        self._fill_cursor = batch.cursor
        for f in batch.fills:
            rec = self.placed.get(f.client_order_id)
            if rec is None:
                continue
            tx = self._append(
                {
                    "type": "ORDER_FILL", "orderID": rec.order_id, "clientOrderID": f.client_order_id,
                    "instrument": rec.create["instrument"], "units": _d(f.quantity * f.side.sign),
                    "price": _d(f.price), "commission": _d(f.fee.amount), "financing": "0.0000",
                    "pl": "0.0000", "reason": rec.create["type"], "time": _t(f.ts),
                    "accountBalance": _d(await self._balance()),
                }
            )  # fmt: skip
            rec.fills.append(tx["id"])
        for cid, rec in self.placed.items():
            if rec.done:
                continue
            order = await self.ex.venue.order_status(cid)
            rec.done = order.is_terminal
            if order.status in _ENDED and rec.cancel is None:
                rec.cancel = self._cancel_tx(rec, "TIME_IN_FORCE_EXPIRED")

    def _cancel_tx(self, rec: _Placed, reason: str) -> dict[str, Any]:
        cid = rec.create.get("clientExtensions", {}).get("id")
        return self._append(
            {"type": "ORDER_CANCEL", "orderID": rec.order_id, "clientOrderID": cid, "reason": reason}
        )

    def _guard(self, request: Request) -> Response | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth.removeprefix("Bearer ").strip():
            return _error(401, "Insufficient authorization to perform request.")
        return None

    def _spec(self, request: Request) -> str | None:
        """The client order id behind ``{spec}`` (an order id or ``@clientId``)."""
        spec = str(request.path_params["spec"])
        cid = spec[1:] if spec.startswith("@") else self.by_order_id.get(spec)
        return cid if cid in self.placed else None

    async def _order_json(self, cid: str) -> dict[str, Any]:
        rec = self.placed[cid]
        order = await self.ex.venue.order_status(cid)
        create = rec.create
        state = (
            "FILLED"
            if order.status is OrderStatus.FILLED
            else "CANCELLED"
            if order.status in _ENDED
            else "PENDING"
        )
        out: dict[str, Any] = {
            "id": rec.order_id, "createTime": create["time"], "state": state,
            "type": create["type"].removesuffix("_ORDER"), "instrument": create["instrument"],
            "units": create["units"], "timeInForce": create["timeInForce"],
            "positionFill": create["positionFill"],
        }  # fmt: skip
        for key in ("price", "clientExtensions"):
            if key in create:
                out[key] = create[key]
        if state == "FILLED" and rec.fills:
            out["fillingTransactionID"] = rec.fills[-1]
            out["filledTime"] = self.log[int(rec.fills[-1]) - 1]["time"]
        if rec.cancel is not None:
            out["cancellingTransactionID"] = rec.cancel["id"]
            out["cancelledTime"] = rec.cancel["time"]
        return out

    # -- reads -----------------------------------------------------------------------------------

    async def summary(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        await self.sync()
        positions = await self.ex.venue.positions()
        unrealized, margin = Decimal(0), Decimal(0)
        insts = await self.ex.instruments()
        for p in positions:
            mid = (await self.ex.venue.quote(p.instrument_id)).mid
            unrealized += p.quantity * (mid - (p.avg_price or mid))
            margin += abs(p.quantity) * mid / insts[p.instrument_id].max_leverage
        balance = await self._balance()
        nav = balance + unrealized
        account = {
            "id": request.path_params["account"], "alias": "gekko-sim", "currency": CURRENCY,
            "balance": _d(balance), "NAV": _d(nav), "unrealizedPL": _d(unrealized), "pl": "0.0000",
            "marginRate": "0.05", "marginUsed": _d(margin), "marginAvailable": _d(nav - margin),
            "openPositionCount": len(positions), "openTradeCount": len(positions),
            "pendingOrderCount": len(await self.ex.venue.open_orders()), "hedgingEnabled": False,
            "lastTransactionID": self.last_id,
        }  # fmt: skip
        return JSONResponse({"account": account, "lastTransactionID": self.last_id})

    async def instruments(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        insts = [_instrument_json(i) for i in (await self.ex.instruments()).values()]
        return JSONResponse({"instruments": insts, "lastTransactionID": self.last_id})

    async def pricing(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        await self.sync()
        prices = []
        for name in request.query_params.get("instruments", "").split(","):
            inst = await self.ex.by_symbol(name)
            if inst is None:
                return _error(400, "Invalid value specified for 'instruments'")
            book = await self.ex.venue.order_book(inst.id, 5)
            bids = [{"price": _d(lv.price), "liquidity": int(lv.quantity)} for lv in book.bids]
            asks = [{"price": _d(lv.price), "liquidity": int(lv.quantity)} for lv in book.asks]
            prices.append(
                {
                    "type": "PRICE", "instrument": name, "time": _t(book.ts), "status": "tradeable",
                    "tradeable": True, "bids": bids, "asks": asks,
                    "closeoutBid": bids[-1]["price"], "closeoutAsk": asks[-1]["price"],
                }
            )  # fmt: skip
        return JSONResponse({"prices": prices, "time": _t(self.ex.venue_now(request.headers))})

    async def candles(self, request: Request) -> Response:
        """``GET instruments/{name}/candles?granularity=&count=&from=&to=`` (mid; count ≤ 5000).

        With ``from`` the first ``count`` candles from it (all up to ``to`` when both are given);
        with only ``to`` the last ``count`` before it. With neither, the first ``count`` candles the
        simulator has (OANDA itself answers the latest: ask with ``from`` or ``to`` to page).
        Bundled real bars plus any fed ones; volumes are whole numbers, as OANDA's tick counts are.
        """
        if (denied := self._guard(request)) is not None:
            return denied
        name, q = str(request.path_params["instrument"]), request.query_params
        inst = await self.ex.by_symbol(name)
        interval = _GRANULARITY.get(q.get("granularity", "S5"))
        if inst is None or interval is None:
            return _error(400, "Invalid value specified for 'instrument' or 'granularity'")
        try:
            since, until = _rfc3339(q.get("from")), _rfc3339(q.get("to"))
            count = int(q.get("count", "500"))
        except ValueError:
            return _error(400, "Invalid value specified for 'from', 'to' or 'count'")
        if not 0 < count <= _MAX_CANDLES:
            return _error(400, f"Maximum value for 'count' exceeded: {_MAX_CANDLES}")
        fed = await self.ex.venue.ohlcv(inst.id, interval, since, 2**31)
        limit = _MAX_CANDLES if since is not None and until is not None else count
        newest = since is None and until is not None
        bars = self.history.page(inst, interval, fed, start=since, end=until, limit=limit, newest=newest)
        out = [
            {"complete": True, "volume": int(b.volume), "time": _t(b.ts),
             "mid": {"o": _d(b.open), "h": _d(b.high), "l": _d(b.low), "c": _d(b.close)}}
            for b in bars
        ]  # fmt: skip
        return JSONResponse({"instrument": name, "granularity": q.get("granularity", "S5"), "candles": out})

    async def positions(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        await self.sync()
        insts = await self.ex.instruments()
        out = []
        for p in await self.ex.venue.positions():
            held = {"units": _d(p.quantity), "averagePrice": _d(p.avg_price or Decimal(0)), "pl": "0.0000"}
            flat = {"units": "0", "pl": "0.0000"}
            long, short = (held, flat) if p.quantity > 0 else (flat, held)
            out.append({"instrument": insts[p.instrument_id].venue_symbol, "long": long, "short": short})
        return JSONResponse({"positions": out, "lastTransactionID": self.last_id})

    async def transactions_since(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        await self.sync()
        raw = request.query_params.get("id", "")
        if not raw.isdigit():
            return _error(400, "Invalid value specified for 'id'", "INVALID_TRANSACTION_ID")
        return JSONResponse(
            {"transactions": self.log[int(raw) : int(raw) + 1000], "lastTransactionID": self.last_id}
        )

    async def transaction(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        raw = str(request.path_params["txid"])
        if not raw.isdigit() or not 0 < int(raw) <= len(self.log):
            return _error(404, "The Transaction specified does not exist", "NO_SUCH_TRANSACTION")
        return JSONResponse({"transaction": self.log[int(raw) - 1], "lastTransactionID": self.last_id})

    # -- orders ----------------------------------------------------------------------------------

    async def order(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        await self.sync()
        cid = self._spec(request)
        if cid is None:
            return _error(404, "The Order specified does not exist", "NO_SUCH_ORDER")
        return JSONResponse({"order": await self._order_json(cid), "lastTransactionID": self.last_id})

    async def pending(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        await self.sync()
        working = [o.client_order_id for o in await self.ex.venue.open_orders()]
        out = [await self._order_json(cid) for cid in working if cid in self.placed]
        return JSONResponse({"orders": out, "lastTransactionID": self.last_id})

    async def cancel(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        await self.sync()
        cid = self._spec(request)
        if cid is None or self.placed[cid].done:
            tx = self._append({"type": "ORDER_CANCEL_REJECT", "rejectReason": "ORDER_DOESNT_EXIST"})
            return _error(
                404, "The Order specified does not exist", "ORDER_DOESNT_EXIST",
                orderCancelRejectTransaction=tx, relatedTransactionIDs=[tx["id"]],
                lastTransactionID=self.last_id,
            )  # fmt: skip
        await self.ex.venue.cancel(cid)
        rec = self.placed[cid]
        rec.cancel = self._cancel_tx(rec, "CLIENT_REQUEST")
        await self.sync()
        body = {"orderCancelTransaction": rec.cancel, "relatedTransactionIDs": [rec.cancel["id"]]}
        return JSONResponse({**body, "lastTransactionID": self.last_id})

    def _reject(self, spec: dict[str, Any], code: str, message: str) -> JSONResponse:
        kind = str(spec.get("type", "MARKET"))
        keep = ("instrument", "units", "price", "timeInForce", "positionFill", "clientExtensions")
        tx = self._append(
            {"type": f"{kind}_ORDER_REJECT", "rejectReason": code, **{k: spec[k] for k in keep if k in spec}}
        )
        return _error(
            400,
            message,
            code,
            orderRejectTransaction=tx,
            relatedTransactionIDs=[tx["id"]],
            lastTransactionID=self.last_id,
        )

    async def _parse(self, spec: dict[str, Any]) -> OrderRequest | tuple[str, str]:
        """The paper request for a v20 order body, or an OANDA reject code and message."""
        kind = _TYPES.get(str(spec.get("type")))
        inst = await self.ex.by_symbol(str(spec.get("instrument", "")))
        if kind is None:
            return "TIME_IN_FORCE_INVALID", f"order type {spec.get('type')!r} is not supported"
        if inst is None:
            return "INSTRUMENT_UNKNOWN", f"instrument {spec.get('instrument')!r} is unknown"
        try:
            units = Decimal(str(spec.get("units")))
            price = Decimal(str(spec["price"])) if "price" in spec else None
        except InvalidOperation:
            return "UNITS_INVALID", "units or price is not a decimal number"
        if not units.is_finite() or units == 0:
            return "UNITS_INVALID", "units must be a non-zero number"
        if (price is None) != (kind is OrderType.MARKET) or (price is not None and price <= 0):
            return "PRICE_INVALID", f"a {spec.get('type')} order needs exactly a positive price"
        tif = _TIF.get(str(spec.get("timeInForce", "FOK" if kind is OrderType.MARKET else "GTC")))
        if tif is None:
            return "TIME_IN_FORCE_INVALID", f"timeInForce {spec.get('timeInForce')!r} is not supported"
        if kind is OrderType.MARKET and tif is TimeInForce.FOK:
            tif = TimeInForce.GTC  # the standing book fills it whole; only the partial fault leaves a rest
        cid = str((spec.get("clientExtensions") or {}).get("id") or "")
        if not cid:
            self._anonymous += 1
            cid = f"oanda-anon-{self._anonymous}"
        return OrderRequest(
            client_order_id=cid,
            instrument_id=inst.id,
            side=OrderSide.BUY if units > 0 else OrderSide.SELL,
            quantity=Quantity(abs(units)),
            order_type=kind,
            limit_price=Price(price) if price is not None and kind is OrderType.LIMIT else None,
            stop_price=Price(price) if price is not None and kind is OrderType.STOP else None,
            time_in_force=tif,
            reduce_only=spec.get("positionFill") == "REDUCE_ONLY",
        )

    async def create(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        await self.sync()
        try:
            spec = (await request.json())["order"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "Invalid JSON, or no 'order' in the body", "INVALID_REQUEST")
        parsed = await self._parse(spec)
        if isinstance(parsed, tuple):
            return self._reject(spec, *parsed)
        if parsed.client_order_id in self.placed:
            return self._reject(
                spec, "CLIENT_ORDER_ID_ALREADY_EXISTS", "The client order ID specified is already in use"
            )
        fault = self.ex.injector.order_fault(request.headers)
        if fault is Fault.REJECT:
            return self._reject(spec, "MARKET_HALTED", "The market is halted (injected fault)")
        ack = await self.ex.place(parsed, fault)
        if not ack.accepted:
            code = _REJECT_CODES.get(
                ack.order.reject_reason or RejectReason.UNSUPPORTED_ORDER, "INVALID_REQUEST"
            )
            return self._reject(spec, code, ack.order.reason)
        parsed_tif = spec.get("timeInForce", "FOK" if spec["type"] == "MARKET" else "GTC")
        create = self._append(
            {"type": f"{spec['type']}_ORDER", "reason": "CLIENT_ORDER", "instrument": spec["instrument"],
             "units": spec["units"], "timeInForce": parsed_tif,
             "positionFill": spec.get("positionFill", "DEFAULT"),
             **{k: spec[k] for k in ("price", "clientExtensions") if k in spec}}
        )  # fmt: skip
        rec = self.placed[parsed.client_order_id] = _Placed(create["id"], create)
        self.by_order_id[create["id"]] = parsed.client_order_id
        await self.sync()
        if fault is Fault.DROP_AFTER_ACCEPT:
            await hold_until_disconnect(request.receive)
            return Response(status_code=504)
        if fault is Fault.DROP_ACCEPTED:
            return DroppedAnswer()
        body: dict[str, Any] = {"orderCreateTransaction": create}
        if rec.fills:
            body["orderFillTransaction"] = self.log[int(rec.fills[0]) - 1]
        if rec.cancel is not None:
            body["orderCancelTransaction"] = rec.cancel
        related = [create["id"], *rec.fills, *([rec.cancel["id"]] if rec.cancel else [])]
        return JSONResponse(
            {**body, "relatedTransactionIDs": related, "lastTransactionID": self.last_id}, 201
        )


def build_app(venue: PaperVenue, faults: FaultPlan) -> tuple[ASGIApp, SimExchange]:
    """The OANDA app over ``venue`` and its exchange (whose injector tests may script)."""
    exchange = SimExchange(venue, faults)
    h = _Oanda(exchange)
    a = "/v3/accounts/{account}"
    routes = [
        Route(f"{a}/summary", h.summary),
        Route(f"{a}/instruments", h.instruments),
        Route(f"{a}/pricing", h.pricing),
        Route("/v3/instruments/{instrument}/candles", h.candles),
        Route(f"{a}/openPositions", h.positions),
        Route(f"{a}/orders", h.create, methods=["POST"]),
        Route(f"{a}/pendingOrders", h.pending),
        Route(f"{a}/orders/{{spec}}", h.order),
        Route(f"{a}/orders/{{spec}}/cancel", h.cancel, methods=["PUT"]),
        Route(f"{a}/transactions/sinceid", h.transactions_since),
        Route(f"{a}/transactions/{{txid}}", h.transaction),
    ]
    app = Starlette(routes=routes)
    app.state.exchange = exchange
    wrapped = FaultMiddleware(
        app,
        exchange.injector,
        rate_limit_body=b'{"errorMessage":"Requests per second exceeded"}',
        server_error_body=b'{"errorMessage":"Service temporarily unavailable"}',
    )
    return wrapped, exchange


def create_app(venue: PaperVenue, faults: FaultPlan) -> ASGIApp:
    """The OANDA v20 REST app over ``venue`` with ``faults`` applied."""
    return build_app(venue, faults)[0]
