"""``CcxtVenue``: the :class:`~gekko_agent.execution.ports.Venue` over any async ccxt exchange.

Symbols map through the exchange's markets (``BTC/USD@binanceus`` ↔ market id ``BTCUSD``); tick,
lot and minimums come from the markets' precision and limits. Orders are checked against them
before sending, because ccxt would otherwise round an off-lot quantity silently.

Submit is idempotent on the client order id. A submit whose answer is lost (timeout, dropped
connection, 5xx) is never simply resent: the order is first looked up by client id, and only when
the venue does not know it after ``lookup_attempts`` tries is it sent again. A client id already
sent from this process is looked up before anything is sent, and a venue that answers "duplicate"
gets the existing order returned with ``duplicate=True``.

A request refused for clock skew (Binance ``-1021``) makes the adapter measure the venue's clock
again (ccxt ``load_time_difference``) before the retryable error goes up, so the caller's retry
is signed on the venue's time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.clock import Clock
from gekko_agent.domain.instruments import Instrument, InstrumentId
from gekko_agent.domain.money import ZERO, Currency, Money, Price, Quantity
from gekko_agent.domain.orders import Fill, OrderSide, OrderStatus, OrderType, TimeInForce
from gekko_agent.errors import DataNotFound, GekkoError, InvalidInput, OrderNotFound
from gekko_agent.execution.ports import (
    BookLevel,
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
from gekko_agent.venues.ccxt.client import CcxtVenueConfig, build_exchange
from gekko_agent.venues.ccxt.cursor import MarketCursor, decode_cursor, encode_cursor
from gekko_agent.venues.ccxt.errors import is_ambiguous, is_clock_skew, is_duplicate, reject_reason, translate
from gekko_agent.venues.ccxt.paging import TradeQuery, fetch_all_trades, trade_order_key
from gekko_agent.venues.ccxt.parse import (
    dec,
    fill_from_trade,
    instrument_from_market,
    order_from_ccxt,
    timestamp,
)

__all__ = ["CcxtVenue"]

T = TypeVar("T")
_TIMEFRAMES = {60: "1m", 300: "5m", 900: "15m", 3600: "1h", 14_400: "4h", 86_400: "1d"}


class CcxtVenue:
    """A venue reached through ccxt.

    Args:
        config: exchange id, credentials, URLs and lookup policy.
        clock: stamps local rejects and fills the venue sent without a time.
        exchange: an already built async ccxt exchange (default: built from ``config``).
    """

    def __init__(self, config: CcxtVenueConfig, clock: Clock, exchange: Any = None) -> None:
        self._config = config
        self._clock = clock
        self._ex: Any = exchange if exchange is not None else build_exchange(config)
        self._instruments: dict[InstrumentId, Instrument] = {}
        self._symbols: dict[InstrumentId, str] = {}  # iid → ccxt unified symbol
        self._known: dict[str, tuple[InstrumentId, str | None]] = {}  # cid → (iid, venue order id)
        self._by_venue_id: dict[str, str] = {}  # venue order id → cid
        self._sent: set[str] = set()
        self._capabilities = VenueCapabilities(
            order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
            time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),
            post_only=True,
            max_client_order_id_length=config.max_client_order_id_length,
        )

    @property
    def name(self) -> str:
        """The venue name in instrument ids."""
        return self._config.venue_name

    @property
    def capabilities(self) -> VenueCapabilities:
        """Market and limit orders; GTC, IOC, FOK; post-only."""
        return self._capabilities

    @property
    def exchange(self) -> Any:
        """The underlying ccxt exchange (for diagnostics and benchmarks)."""
        return self._ex

    async def _call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run a ccxt call, translating its exceptions."""
        try:
            return await fn(*args)
        except GekkoError:
            raise
        except Exception as exc:
            await self._resync_clock(exc)
            raise translate(exc, self.name, getattr(self._ex, "last_response_headers", None)) from exc

    async def _resync_clock(self, exc: BaseException) -> None:
        """After a clock-skew refusal, measure the venue's clock again (best effort)."""
        if is_clock_skew(exc) and hasattr(self._ex, "load_time_difference"):
            with contextlib.suppress(Exception):
                await self._ex.load_time_difference()

    # -- markets -------------------------------------------------------------------------------

    async def instruments(self) -> tuple[Instrument, ...]:
        """Spot markets the exchange lists (those in ``config.symbols`` when it names any)."""
        if not self._instruments:
            markets: Mapping[str, Any] = await self._call(self._ex.load_markets)
            wanted = set(self._config.symbols)
            for symbol, market in markets.items():
                inst = instrument_from_market(market, self.name, int(self._ex.precisionMode))
                if inst is not None and (not wanted or inst.symbol in wanted):
                    self._instruments[inst.id] = inst
                    self._symbols[inst.id] = symbol
        return tuple(self._instruments.values())

    async def _inst(self, iid: InstrumentId) -> Instrument | None:
        await self.instruments()
        return self._instruments.get(iid)

    async def _symbol(self, iid: InstrumentId) -> str:
        if await self._inst(iid) is None:
            raise DataNotFound(f"{self.name} has no instrument {iid!r}")
        return self._symbols[iid]

    # -- reads ---------------------------------------------------------------------------------

    async def balances(self) -> Mapping[Currency, Money]:
        """Total balance per currency."""
        raw: Mapping[str, Any] = await self._call(self._ex.fetch_balance)
        totals: Mapping[str, Any] = raw.get("total") or {}
        return {c: Money(amount, c) for c, v in sorted(totals.items()) if (amount := dec(v)) is not None}

    async def positions(self) -> tuple[VenuePosition, ...]:
        """Spot venues hold balances, not positions."""
        return ()

    async def order_book(self, iid: InstrumentId, depth: int = 10) -> OrderBook:
        """Up to ``depth`` levels per side."""
        raw: Mapping[str, Any] = await self._call(self._ex.fetch_order_book, await self._symbol(iid), depth)

        def levels(rows: list[list[Any]]) -> tuple[BookLevel, ...]:
            return tuple(
                BookLevel(Price(dec(r[0]) or ZERO), Quantity(dec(r[1]) or ZERO)) for r in rows[:depth]
            )

        ts = timestamp(raw.get("timestamp")) or self._clock.now()
        return OrderBook(iid, levels(raw.get("bids") or []), levels(raw.get("asks") or []), ts)

    async def quote(self, iid: InstrumentId) -> Quote:
        """Top of book; DataNotFound when a side is empty."""
        book = await self.order_book(iid, 5)
        if not book.bids or not book.asks:
            raise DataNotFound(f"{self.name}: no two-sided book for {iid}")
        bid, ask = book.bids[0], book.asks[0]
        return Quote(
            iid, bid.price, ask.price, Price((bid.price + ask.price) / 2), book.ts, bid.quantity, ask.quantity
        )

    async def ohlcv(
        self, iid: InstrumentId, interval: int, since: datetime | None = None, limit: int = 500
    ) -> tuple[Bar, ...]:
        """Bars from ``fetch_ohlcv``."""
        frame = _TIMEFRAMES.get(interval)
        if frame is None:
            raise InvalidInput(f"{self.name}: no timeframe for {interval} s bars")
        start = int(since.timestamp() * 1000) if since else None
        rows: list[list[Any]] = await self._call(
            self._ex.fetch_ohlcv, await self._symbol(iid), frame, start, limit
        )
        out = []
        for r in rows:
            o, h, lo, c, v = (dec(x, ZERO) or ZERO for x in r[1:6])
            out.append(Bar(iid, timestamp(r[0]) or self._clock.now(), o, h, lo, c, v, interval))
        return tuple(out)

    # -- orders --------------------------------------------------------------------------------

    def _remember(self, order: VenueOrder) -> None:
        self._known[order.client_order_id] = (order.instrument_id, order.venue_order_id)
        if order.venue_order_id:
            self._by_venue_id[order.venue_order_id] = order.client_order_id

    async def _fetch(self, cid: str, iid: InstrumentId) -> VenueOrder:
        """One lookup of ``cid`` on the market of ``iid``; OrderNotFound when the venue lacks it."""
        symbol = await self._symbol(iid)
        venue_id = self._known.get(cid, (iid, None))[1]
        if venue_id is not None:
            raw = await self._call(self._ex.fetch_order, venue_id, symbol)
        elif self._config.lookup_param:
            raw = await self._call(self._ex.fetch_order, None, symbol, {self._config.lookup_param: cid})
        else:
            listed: list[Mapping[str, Any]] = await self._call(self._ex.fetch_orders, symbol)
            raw = next((o for o in listed if o.get("clientOrderId") == cid), None)
            if raw is None:
                raise OrderNotFound(f"{self.name}: no order {cid!r}")
        order = order_from_ccxt(raw, iid, cid)
        self._remember(order)
        return order

    async def order_status(self, client_order_id: str) -> VenueOrder:
        """The order by client id, searched on its market (or every polled market when unknown)."""
        known = self._known.get(client_order_id)
        candidates = [known[0]] if known else [i.id for i in await self.instruments()]
        for iid in candidates:
            try:
                return await self._fetch(client_order_id, iid)
            except OrderNotFound:
                continue
        raise OrderNotFound(f"{self.name}: no order {client_order_id!r}")

    async def open_orders(self, iid: InstrumentId | None = None) -> tuple[VenueOrder, ...]:
        """Open orders (all markets, or one)."""
        await self.instruments()
        symbol = await self._symbol(iid) if iid else None
        listed: list[Mapping[str, Any]] = await self._call(self._ex.fetch_open_orders, symbol)
        reverse = {s: i for i, s in self._symbols.items()}
        out = []
        for raw in listed:
            owner = reverse.get(str(raw.get("symbol")))
            if owner is not None:
                order = order_from_ccxt(raw, owner, str(raw.get("clientOrderId") or raw.get("id")))
                self._remember(order)
                out.append(order)
        return tuple(out)

    async def cancel(self, client_order_id: str) -> VenueOrder:
        """Cancel an open order; a terminal one comes back unchanged."""
        order = await self.order_status(client_order_id)
        if order.is_terminal:
            return order
        symbol = await self._symbol(order.instrument_id)
        with contextlib.suppress(OrderNotFound):  # it may finish between our look and the cancel
            await self._call(self._ex.cancel_order, order.venue_order_id, symbol)
        return await self._fetch(client_order_id, order.instrument_id)

    def _rejected(self, request: OrderRequest, reason: RejectReason, text: str) -> VenueAck:
        now = self._clock.now()
        order = VenueOrder(
            request.client_order_id, None, request.instrument_id, request.side, request.order_type,
            request.quantity, Quantity(ZERO), None, OrderStatus.REJECTED, request.limit_price,
            request.stop_price, request.time_in_force, reason, text, now, now,
        )  # fmt: skip
        return VenueAck(order)

    def _precheck(self, request: OrderRequest, inst: Instrument | None) -> tuple[RejectReason, str] | None:
        if inst is None:
            return RejectReason.UNKNOWN_INSTRUMENT, f"{self.name} has no instrument {request.instrument_id!r}"
        cid = request.client_order_id
        if not cid or len(cid) > self._capabilities.max_client_order_id_length:
            return RejectReason.INVALID_CLIENT_ORDER_ID, f"client order id {cid!r} is empty or too long"
        if not self._capabilities.supports(request.order_type, request.time_in_force) or request.reduce_only:
            return (
                RejectReason.UNSUPPORTED_ORDER,
                f"{request.order_type}/{request.time_in_force} is not supported",
            )
        if (request.limit_price is None) != (request.order_type is OrderType.MARKET):
            return RejectReason.UNSUPPORTED_ORDER, f"a {request.order_type} order needs exactly a limit price"
        if request.quantity <= 0 or not inst.is_on_lot(request.quantity):
            return (
                RejectReason.BAD_LOT,
                f"quantity {request.quantity} is not a multiple of the lot {inst.lot_size}",
            )
        if request.quantity < inst.min_quantity:
            return (
                RejectReason.BELOW_MIN_QUANTITY,
                f"quantity {request.quantity} < minimum {inst.min_quantity}",
            )
        if request.limit_price is not None and not inst.is_on_tick(request.limit_price):
            return RejectReason.BAD_TICK, f"price {request.limit_price} is off the tick {inst.tick_size}"
        return None

    async def _ack(self, raw: Mapping[str, Any], request: OrderRequest, duplicate: bool = False) -> VenueAck:
        order = order_from_ccxt(raw, request.instrument_id, request.client_order_id)
        self._remember(order)
        if raw.get("amount") is None and order.venue_order_id:  # a thin answer (id only): read it back
            order = await self._fetch(request.client_order_id, request.instrument_id)
            fills = (await self.fills_for(order)) if order.filled_quantity else ()
            return VenueAck(order, fills, duplicate)
        inst = self._instruments[request.instrument_id]
        assert inst.venue_symbol_override is not None
        fills = tuple(
            f
            for t in raw.get("trades") or ()
            if (f := fill_from_trade(t, order, inst.venue_symbol_override, inst.quote, self._clock.now()))
        )
        return VenueAck(order, fills, duplicate)

    async def _lookup_after_ambiguous(self, request: OrderRequest) -> VenueOrder | None:
        """The order if the venue has it (None if it surely does not); VenueUnavailable when unsure."""
        for attempt in range(self._config.lookup_attempts):
            try:
                return await self._fetch(request.client_order_id, request.instrument_id)
            except OrderNotFound:
                if attempt + 1 < self._config.lookup_attempts:
                    await asyncio.sleep(self._config.lookup_delay_s)
        return None

    async def _existing(self, request: OrderRequest) -> VenueAck | None:
        try:
            order = await self._fetch(request.client_order_id, request.instrument_id)
        except OrderNotFound:
            return None
        fills = (await self.fills_for(order)) if order.filled_quantity else ()
        return VenueAck(order, fills, duplicate=True)

    async def submit(self, request: OrderRequest) -> VenueAck:
        """Place an order once, whatever happens on the wire (see the module docstring)."""
        inst = await self._inst(request.instrument_id)
        problem = self._precheck(request, inst)
        if problem is not None:
            return self._rejected(request, *problem)
        if request.client_order_id in self._sent and (known := await self._existing(request)) is not None:
            return known
        symbol = self._symbols[request.instrument_id]
        params: dict[str, Any] = {self._config.submit_client_id_param: request.client_order_id}
        if request.time_in_force is not TimeInForce.GTC:
            params["timeInForce"] = request.time_in_force.value.upper()
        if request.post_only:
            params["postOnly"] = True
        kind = "market" if request.order_type is OrderType.MARKET else "limit"
        amount, price = str(request.quantity), str(request.limit_price) if request.limit_price else None
        if kind == "market" and request.side is OrderSide.BUY:
            params.update(self._config.market_buy_params(amount))
        for _ in range(self._config.lookup_attempts):
            self._sent.add(request.client_order_id)
            try:
                raw = await self._ex.create_order(symbol, kind, request.side.value, amount, price, params)
            except Exception as exc:
                await self._resync_clock(exc)
                if is_duplicate(exc):
                    known = await self._existing(request)
                    if known is not None:
                        return known
                reason = reject_reason(exc)
                if reason is not None and not is_duplicate(exc):
                    return self._rejected(request, reason, str(exc))
                if not is_ambiguous(exc):
                    raise translate(exc, self.name, getattr(self._ex, "last_response_headers", None)) from exc
                found = await self._lookup_after_ambiguous(request)
                if found is not None:
                    return VenueAck(found, (await self.fills_for(found)) if found.filled_quantity else ())
                continue
            return await self._ack(raw, request)
        raise translate(TimeoutError(f"order {request.client_order_id} not confirmed"), self.name)

    # -- fills ---------------------------------------------------------------------------------

    async def fills_for(self, order: VenueOrder) -> tuple[Fill, ...]:
        """Fills of one order (its trades when the venue filters by order, else its market's)."""
        batch = await self._trades(order.instrument_id, order_id=order.venue_order_id)
        return tuple(f for _, f in batch if f.client_order_id == order.client_order_id)

    async def _cid_of(self, venue_order_id: str, iid: InstrumentId) -> VenueOrder:
        cid = self._by_venue_id.get(venue_order_id)
        if cid is not None:
            known = self._known[cid]
            if known[1] == venue_order_id:
                return await self._fetch(cid, iid)
        raw = await self._call(self._ex.fetch_order, venue_order_id, self._symbols[iid])
        order = order_from_ccxt(raw, iid, str(raw.get("clientOrderId") or venue_order_id))
        self._remember(order)
        return order

    async def _fetch_trades(
        self, symbol: str, since: int | None, limit: int | None, params: dict[str, Any]
    ) -> list[Mapping[str, Any]]:
        return await self._call(self._ex.fetch_my_trades, symbol, since, limit, params)

    async def _trades(
        self,
        iid: InstrumentId,
        *,
        since_ms: int | None = None,
        after_id: int | None = None,
        order_id: str | None = None,
    ) -> list[tuple[Mapping[str, Any], Fill]]:
        """Every trade (all pages) of the market of ``iid`` since a time or id, or of one order."""
        inst = self._instruments[iid]
        assert inst.venue_symbol_override is not None
        query = TradeQuery(self._symbols[iid], since_ms, after_id, order_id)
        raw = await fetch_all_trades(self._fetch_trades, self._config.trade_paging, query)
        orders: dict[str, VenueOrder] = {}
        out: list[tuple[Mapping[str, Any], Fill]] = []
        for t in raw:
            vid = str(t.get("order"))
            if vid not in orders:
                orders[vid] = await self._cid_of(vid, iid)
            fill = fill_from_trade(t, orders[vid], inst.venue_symbol_override, inst.quote, self._clock.now())
            if fill is not None:
                out.append((t, fill))
        return out

    async def fills_since(self, since: datetime | str | None = None) -> FillBatch:
        """Fills after a cursor, at or after a time, or all of them; every page of every market.

        The cursor keeps, per market, the last trade id (exchanges paged by id) or the last trade
        time and the ids seen at it (the others), so a fill is reported once.
        """
        cursor = decode_cursor(since, self.name) if isinstance(since, str) else {}
        start = int(since.timestamp() * 1000) if isinstance(since, datetime) else None
        by_id = self._config.trade_paging.style == "from_id"
        fills: list[tuple[Mapping[str, Any], Fill]] = []
        nxt: dict[str, MarketCursor] = {}
        for inst in await self.instruments():
            mark = cursor.get(inst.id, MarketCursor(ms=start))
            read = await self._trades(inst.id, since_ms=mark.ms, after_id=mark.after_id)
            picked = [(t, f) for t, f in read if str(t["id"]) not in mark.seen]
            fills.extend(picked)
            nxt[inst.id] = mark.advance([t for t, _ in picked], by_id)
        fills.sort(key=lambda tf: (tf[1].ts, tf[1].instrument_id, trade_order_key(tf[0])))
        return FillBatch(tuple(f for _, f in fills), encode_cursor(nxt))

    async def close(self) -> None:
        """Close the ccxt session."""
        await self._ex.close()
