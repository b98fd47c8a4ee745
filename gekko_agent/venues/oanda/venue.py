"""``OandaVenue``: the :class:`~gekko_agent.execution.ports.Venue` over OANDA's v20 REST API.

Orders carry our client order id as ``clientExtensions.id`` and are looked up as ``@<id>``. A
submit that gets no answer (timeout, dropped connection, 5xx) is never simply resent: the venue
first asks for ``@<id>`` and returns the order if it landed; only a 404 allows another send, and
OANDA itself refuses a second order with the same client id (``CLIENT_ORDER_ID_ALREADY_EXISTS``),
which the adapter answers with the existing order. So a retry never places a second order.

OANDA keeps an order's fills and its cancel reason in transactions, not on the order; the venue
follows the transaction stream from the id it saw first (``sinceid``) and fetches older
``fillingTransactionID`` / ``cancellingTransactionID`` entries directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.clock import ensure_utc
from gekko_agent.domain.instruments import Instrument, InstrumentId, canonical_symbol
from gekko_agent.domain.instruments import instrument_id as make_iid
from gekko_agent.domain.money import Currency, Money, Quantity, to_decimal
from gekko_agent.domain.orders import OrderStatus, OrderType, TimeInForce
from gekko_agent.errors import DataNotFound, InvalidInput, OrderNotFound, VenueUnavailable
from gekko_agent.execution.ports import (
    FillBatch,
    OrderBook,
    OrderRequest,
    Quote,
    RejectReason,
    VenueAck,
    VenueCapabilities,
    VenueOrder,
    VenuePosition,
)
from gekko_agent.venues.oanda import wire
from gekko_agent.venues.oanda._v20 import accounts, instruments, orders, positions, pricing
from gekko_agent.venues.oanda.client import OandaClient, OandaConfig, OandaRequestError
from gekko_agent.venues.oanda.transactions import TransactionBook

__all__ = ["OandaVenue"]


class OandaVenue:
    """An OANDA v20 account as a Venue (FX on margin; units are base currency units).

    Args:
        config: account id, token, base URL, timeout and submit attempts.
    """

    def __init__(self, config: OandaConfig) -> None:
        self._config = config
        self._client = OandaClient(config)
        self._account = config.account_id
        self._book = TransactionBook(self._client, config.account_id, self._iid)
        self._capabilities = VenueCapabilities(
            order_types=frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP}),
            time_in_force=frozenset(TimeInForce),
            reduce_only=True,
            post_only=False,
            fractional=True,
            shorting=True,
            margin=True,
            max_client_order_id_length=config.max_client_order_id_length,
        )

    def __repr__(self) -> str:
        return f"OandaVenue(name={self.name!r}, account_id={self._account!r})"

    @property
    def name(self) -> str:
        """The venue's name (``oanda`` unless configured)."""
        return self._config.name

    @property
    def capabilities(self) -> VenueCapabilities:
        """Market, limit and stop; GTC/IOC/FOK/DAY (GFD); reduce-only; no post-only; margin."""
        return self._capabilities

    # -- mapping ---------------------------------------------------------------------------------

    def _iid(self, symbol: str) -> InstrumentId:
        return make_iid(canonical_symbol(symbol, self.name), self.name)

    def _symbol(self, iid: InstrumentId) -> str | None:
        """``EUR/USD@oanda`` → ``EUR_USD``; None for another venue's or a malformed id."""
        symbol, sep, venue = iid.partition("@")
        if not sep or venue.lower() != self.name or "/" not in symbol:
            return None
        base, _, quote = symbol.upper().partition("/")
        return f"{base}_{quote}"

    def _known_symbol(self, iid: InstrumentId) -> str:
        symbol = self._symbol(iid)
        if symbol is None:
            raise DataNotFound(f"{self.name}: no instrument {iid!r}")
        return symbol

    # -- reads -----------------------------------------------------------------------------------

    async def instruments(self) -> tuple[Instrument, ...]:
        """Tradable instruments of the account (tick from display precision, lot from units precision)."""
        body = await self._client.request(accounts.AccountInstruments(self._account))
        return tuple(wire.parse_instrument(raw, self.name) for raw in body.get("instruments", ()))

    async def balances(self) -> Mapping[Currency, Money]:
        """The account balance in its home currency."""
        summary = await self._book.summary()
        currency = str(summary["currency"])
        return {currency: Money(to_decimal(str(summary["balance"]), "balance"), currency)}

    async def positions(self) -> tuple[VenuePosition, ...]:
        """Net open positions (long units plus the negative short units)."""
        body = await self._client.request(positions.OpenPositions(self._account))
        out = []
        for raw in body.get("positions", ()):
            long, short = raw.get("long", {}), raw.get("short", {})
            net = to_decimal(str(long.get("units", "0"))) + to_decimal(str(short.get("units", "0")))
            if not net:
                continue
            side = long if net > 0 else short
            avg = side.get("averagePrice")
            out.append(
                VenuePosition(self._iid(str(raw["instrument"])), net, to_decimal(str(avg)) if avg else None)
            )
        return tuple(out)

    async def _price(self, iid: InstrumentId) -> dict[str, Any]:
        symbol = self._known_symbol(iid)
        try:
            body = await self._client.request(
                pricing.PricingInfo(self._account, params={"instruments": symbol})
            )
        except OandaRequestError as err:
            raise DataNotFound(f"{self.name}: no price for {iid}: {err}") from None
        prices = [p for p in body.get("prices", ()) if p.get("instrument") == symbol]
        if not prices or not prices[0].get("bids") or not prices[0].get("asks"):
            raise DataNotFound(f"{self.name}: no price for {iid}")
        return dict(prices[0])

    async def quote(self, iid: InstrumentId) -> Quote:
        """Best bid and ask from ``/pricing``; DataNotFound for an unknown instrument."""
        return wire.parse_quote(await self._price(iid), iid)

    async def order_book(self, iid: InstrumentId, depth: int = 10) -> OrderBook:
        """The liquidity buckets ``/pricing`` reports on each side."""
        raw = await self._price(iid)
        bids = wire.parse_levels(raw.get("bids", ()))[:depth]
        asks = wire.parse_levels(raw.get("asks", ()))[:depth]
        return OrderBook(iid, bids, asks, wire.parse_time(str(raw["time"])))

    async def ohlcv(
        self, iid: InstrumentId, interval: int, since: datetime | None = None, limit: int = 500
    ) -> tuple[Bar, ...]:
        """Complete mid candles of ``interval`` seconds, oldest first (at most 5000 per call)."""
        granularity = wire.GRANULARITIES.get(interval)
        if granularity is None:
            raise InvalidInput(f"{self.name}: no candle granularity of {interval}s")
        params: dict[str, str] = {"granularity": granularity, "price": "M", "count": str(min(limit, 5000))}
        if since is not None:
            params["from"] = ensure_utc(since).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        try:
            body = await self._client.request(
                instruments.InstrumentsCandles(self._known_symbol(iid), params=params)
            )
        except OandaRequestError as err:
            raise DataNotFound(f"{self.name}: no candles for {iid}: {err}") from None
        return wire.parse_candles(body, iid, interval)[:limit]

    # -- orders ----------------------------------------------------------------------------------

    def _refusal(self, request: OrderRequest) -> tuple[RejectReason, str] | None:
        """What OANDA would refuse anyway, decided before anything is sent."""
        if self._symbol(request.instrument_id) is None:
            return (
                RejectReason.UNKNOWN_INSTRUMENT,
                f"{request.instrument_id} is not an {self.name} instrument",
            )
        cid = request.client_order_id
        if not cid or len(cid) > self._capabilities.max_client_order_id_length or "/" in cid:
            return (
                RejectReason.INVALID_CLIENT_ORDER_ID,
                f"client order id {cid!r} is empty, too long or has '/'",
            )
        if request.post_only:
            return RejectReason.UNSUPPORTED_ORDER, "OANDA has no post-only orders"
        if not self._capabilities.supports(request.order_type, request.time_in_force):
            return (
                RejectReason.UNSUPPORTED_ORDER,
                f"{request.order_type}/{request.time_in_force} is not supported",
            )
        needs_limit = request.order_type is OrderType.LIMIT
        needs_stop = request.order_type is OrderType.STOP
        if needs_limit != (request.limit_price is not None) or needs_stop != (request.stop_price is not None):
            return RejectReason.UNSUPPORTED_ORDER, f"a {request.order_type} order needs exactly its price"
        if needs_stop and request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            return RejectReason.UNSUPPORTED_ORDER, "stop orders rest: IOC/FOK do not apply"
        return None

    def _rejected(self, request: OrderRequest, reason: RejectReason, detail: str) -> VenueAck:
        return VenueAck(
            VenueOrder(
                client_order_id=request.client_order_id,
                venue_order_id=None,
                instrument_id=request.instrument_id,
                side=request.side,
                order_type=request.order_type,
                quantity=request.quantity,
                filled_quantity=Quantity(to_decimal(0)),
                avg_fill_price=None,
                status=OrderStatus.REJECTED,
                limit_price=request.limit_price,
                stop_price=request.stop_price,
                time_in_force=request.time_in_force,
                reject_reason=reason,
                reason=detail,
            )
        )

    async def submit(self, request: OrderRequest) -> VenueAck:
        """Place an order; an unanswered send is looked up by client id before any resend."""
        refusal = self._refusal(request)
        if refusal is not None:
            return self._rejected(request, *refusal)
        await self._book.start()
        body = wire.order_body(request, self._known_symbol(request.instrument_id))
        unanswered: VenueUnavailable | None = None
        for _ in range(self._config.submit_attempts):
            if unanswered is not None:
                landed = await self._lookup(request.client_order_id)
                if landed is not None:
                    return landed
            try:
                answer = await self._client.request(orders.OrderCreate(self._account, data=body))
            except VenueUnavailable as err:
                unanswered = err
                continue
            except OandaRequestError as err:
                return await self._refused(request, err)
            return self._accepted(request, answer)
        landed = await self._lookup(request.client_order_id)
        if landed is not None:
            return landed
        assert unanswered is not None  # the loop only ends without an answer
        raise unanswered

    async def _refused(self, request: OrderRequest, err: OandaRequestError) -> VenueAck:
        if err.error_code == "CLIENT_ORDER_ID_ALREADY_EXISTS":
            existing = await self._lookup(request.client_order_id, duplicate=True)
            if existing is not None:
                return existing
        reject = err.body.get("orderRejectTransaction") or {}
        code = str(reject.get("rejectReason") or err.error_code)
        return self._rejected(
            request, wire.reject_reason(code), f"{code}: {err.body.get('errorMessage', '')}"
        )

    def _accepted(self, request: OrderRequest, answer: Mapping[str, Any]) -> VenueAck:
        create = answer["orderCreateTransaction"]
        self._book.absorb([answer.get("orderFillTransaction"), answer.get("orderCancelTransaction")])
        vid = str(create["id"])
        raw = {
            "id": vid,
            "createTime": create.get("time"),
            "type": str(create.get("type", "MARKET_ORDER")).removesuffix("_ORDER"),
            "units": create["units"],
            "price": create.get("price"),
            "timeInForce": create.get("timeInForce"),
            "clientExtensions": {"id": request.client_order_id},
            "state": "CANCELLED" if answer.get("orderCancelTransaction") else "PENDING",
        }
        fills = self._book.fills_of(vid)
        order = wire.parse_order(raw, request.instrument_id, fills, self._book.cancel_of(vid))
        return VenueAck(order, fills)

    async def _lookup(self, client_order_id: str, duplicate: bool = False) -> VenueAck | None:
        """The order under ``@client_order_id`` with its fills, or None when OANDA does not know it."""
        try:
            order = await self.order_status(client_order_id)
        except OrderNotFound:
            return None
        return VenueAck(order, self._book.fills_of(order.venue_order_id or ""), duplicate=duplicate)

    async def order_status(self, client_order_id: str) -> VenueOrder:
        """The order by client id (``GET /orders/@id``); OrderNotFound when OANDA does not know it."""
        try:
            body = await self._client.request(orders.OrderDetails(self._account, f"@{client_order_id}"))
        except OandaRequestError as err:
            if err.status in (400, 404):
                raise OrderNotFound(f"{self.name}: no order {client_order_id!r}") from None
            raise
        await self._book.catch_up()
        return await self._view(body["order"])

    async def _view(self, raw: Mapping[str, Any]) -> VenueOrder:
        vid = str(raw["id"])
        await self._book.fetch(raw.get("fillingTransactionID"), raw.get("cancellingTransactionID"))
        iid = self._iid(str(raw["instrument"]))
        return wire.parse_order(raw, iid, self._book.fills_of(vid), self._book.cancel_of(vid))

    async def open_orders(self, iid: InstrumentId | None = None) -> tuple[VenueOrder, ...]:
        """Pending market, limit and stop orders, optionally for one instrument."""
        body = await self._client.request(orders.OrdersPending(self._account))
        await self._book.catch_up()
        symbol = self._known_symbol(iid) if iid is not None else None
        return tuple(
            [
                await self._view(raw)
                for raw in body.get("orders", ())
                if raw.get("type") in ("MARKET", "LIMIT", "STOP")
                and (symbol is None or raw.get("instrument") == symbol)
            ]
        )

    async def cancel(self, client_order_id: str) -> VenueOrder:
        """Cancel a pending order; a filled or cancelled one comes back unchanged."""
        try:
            await self._client.request(orders.OrderCancel(self._account, f"@{client_order_id}"))
        except OandaRequestError as err:
            if err.status not in (400, 404):
                raise
        return await self.order_status(client_order_id)

    async def fills_since(self, since: datetime | str | None = None) -> FillBatch:
        """Fills after a transaction id (str), at or after a time, or all; the cursor is a transaction id."""
        start = since if isinstance(since, str) else "0"
        if not start.isdigit():
            raise InvalidInput(f"{self.name}: bad fills cursor {since!r}")
        fills, cursor = await self._book.fills_after(start)
        if isinstance(since, datetime):
            floor = ensure_utc(since)
            fills = [f for f in fills if f.ts >= floor]
        return FillBatch(tuple(fills), cursor)

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._client.close()
