"""``PaperVenue``: the :class:`~gekko_agent.execution.ports.Venue` used by backtests and paper mode.

It validates and prices orders like a real exchange (lot, tick, minimums, funds, post-only), keeps
its own Decimal balances, and matches against the market data it is fed — closed bars through
:meth:`PaperVenue.on_bar` (or :meth:`PaperVenue.on_bar_row` for numpy rows) and quotes through
:meth:`PaperVenue.on_quote`. With a live quote and no latency an arriving order executes at once;
otherwise it waits for the next event after it becomes active. The clock is injected, randomness
comes from one ``random.Random(seed)``, ids are sequential: the same inputs give the same fills.

Ids carry a session so two runs journaled into one ledger never share a fill id (the ledger
drops a fill whose ``(venue, fill_id)`` it already holds): ``paper-s1a2b3c4d-o1`` and
``paper-s1a2b3c4d-t1``. The session is given by the caller (a paper session resuming a ledger
passes a fresh one) or derived from the seed and the clock's time when the venue is built — the
same for a backtest repeated on the same data, different for venues started at different times.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.clock import Clock
from gekko_agent.domain.instruments import AssetClass, Instrument, InstrumentId
from gekko_agent.domain.money import Currency, Money
from gekko_agent.domain.orders import Fill, OrderSide, OrderType, TimeInForce
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
from gekko_agent.venues.paper.account import PaperAccount
from gekko_agent.venues.paper.book import MarketState
from gekko_agent.venues.paper.costs import FeeSchedule, FixedBpsSlippage, SlippageModel
from gekko_agent.venues.paper.matching import FillModel, MatchingEngine
from gekko_agent.venues.paper.orders import WorkingOrder

if TYPE_CHECKING:
    from gekko_agent.market.bararray import BarArray

__all__ = ["PaperVenue", "PaperVenueConfig", "derive_session"]

_ALL_TYPES = frozenset(OrderType)
_ALL_TIF = frozenset(TimeInForce)
_IMMEDIATE = (TimeInForce.IOC, TimeInForce.FOK)
_NEEDS_LIMIT = (OrderType.LIMIT, OrderType.STOP_LIMIT)
_NEEDS_STOP = (OrderType.STOP, OrderType.STOP_LIMIT)
# enum members read through module globals: ``OrderSide.BUY`` costs ~0.1 us per read
_BUY, _LIMIT = OrderSide.BUY, OrderType.LIMIT


@dataclass(frozen=True, slots=True)
class PaperVenueConfig:
    """Everything that shapes the paper venue's behaviour.

    Attributes:
        name: venue name in instrument ids and id prefixes.
        instruments: what can be traded (their ``venue`` must equal ``name``).
        balances: starting balance per currency.
        fees: maker/taker fee schedule.
        slippage: slippage model for taker fills.
        fill_model: bar participation, touch fills, synthetic depth.
        latency_ms: simulated delay before an order starts matching.
        latency_jitter_ms: up to this much more, drawn from the seeded generator.
        seed: seed of the venue's only random generator.
        reserve_buffer_bps: extra quote reserved for market and stop buys.
        max_client_order_id_length: longest client order id accepted.
        session: the part of order and fill ids that tells runs apart (letters, digits, ``_``);
            None derives ``s`` + 8 hex digits from ``seed`` and the clock's time at construction;
            '' leaves ids unprefixed (``paper-o1``), for callers that know ids cannot meet.
    """

    name: str = "paper"
    instruments: tuple[Instrument, ...] = ()
    balances: Mapping[Currency, Decimal] = field(default_factory=dict)
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    slippage: SlippageModel = field(default_factory=FixedBpsSlippage)
    fill_model: FillModel = field(default_factory=FillModel)
    latency_ms: int = 0
    latency_jitter_ms: int = 0
    seed: int = 0
    reserve_buffer_bps: Decimal = Decimal(100)
    max_client_order_id_length: int = 36
    session: str | None = None

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise InvalidInput("paper venue: latency must be >= 0 ms")
        if self.session and not self.session.replace("_", "").isalnum():
            raise InvalidInput(f"paper venue: session {self.session!r} must be letters, digits or '_'")
        for inst in self.instruments:
            if inst.venue != self.name:
                raise InvalidInput(
                    f"paper venue {self.name!r}: instrument {inst.id} belongs to {inst.venue!r}"
                )


def derive_session(seed: int, clock: Clock) -> str:
    """``s`` + 8 hex digits from ``seed`` and the clock's time: repeatable on a SimClock at the same
    start, different for venues built at different wall-clock times."""
    digest = hashlib.sha256(f"{seed}|{clock.now().isoformat()}".encode()).hexdigest()
    return f"s{digest[:8]}"


class PaperVenue:
    """An in-process venue over the paper matching engine.

    Args:
        config: instruments, balances, costs, fill model, latency and seed.
        clock: the clock orders are stamped with (a SimClock in backtests).
    """

    def __init__(self, config: PaperVenueConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._rng = random.Random(config.seed)
        self._session = config.session if config.session is not None else derive_session(config.seed, clock)
        self._id_prefix = f"{config.name}-{self._session}" if self._session else config.name
        self._instruments = {i.id: i for i in config.instruments}
        self._markets = {iid: MarketState(inst) for iid, inst in self._instruments.items()}
        self._account = PaperAccount(
            self._id_prefix, self._instruments, config.fees, config.balances, config.reserve_buffer_bps
        )
        lots = {iid: inst.lot_size for iid, inst in self._instruments.items()}
        self._engine = MatchingEngine(self._account, lots, config.fill_model, config.slippage, self._rng)
        self._orders: dict[str, WorkingOrder] = {}
        self._order_seq = 0
        self._closed = False
        margin = any(i.asset_class is AssetClass.FX for i in config.instruments)
        self._capabilities = VenueCapabilities(
            order_types=_ALL_TYPES,
            time_in_force=_ALL_TIF,
            reduce_only=True,
            post_only=True,
            fractional=True,
            shorting=margin,
            margin=margin,
            max_client_order_id_length=config.max_client_order_id_length,
        )

    @property
    def name(self) -> str:
        """The venue's name."""
        return self._config.name

    @property
    def session(self) -> str:
        """The session in this venue's order and fill ids ('' when they carry none)."""
        return self._session

    @property
    def capabilities(self) -> VenueCapabilities:
        """All order types and times in force; reduce-only and post-only; shorting only on margin (FX)."""
        return self._capabilities

    def _check_open(self) -> None:
        if self._closed:
            raise VenueUnavailable(f"paper venue {self.name!r} is closed")

    def _market(self, iid: InstrumentId) -> MarketState:
        try:
            return self._markets[iid]
        except KeyError:
            raise DataNotFound(f"paper venue {self.name!r} has no instrument {iid!r}") from None

    # -- market data in ------------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> list[Fill]:
        """Match working orders against a closed bar, then record it; returns the fills."""
        iid = bar.instrument_id
        market = self._markets.get(iid) or self._market(iid)
        fills: list[Fill] = []
        if self._engine.has_working(iid):  # else the engine has nothing to do: skip building its inputs
            end = bar.ts + timedelta(seconds=bar.interval)
            fills = self._engine.on_bar(iid, bar.ts, end, bar.open, bar.high, bar.low, bar.volume)
        market.on_bar(bar)
        return fills

    def has_working(self, iid: InstrumentId) -> bool:
        """True when an order works on ``iid``; while False, :meth:`skip_bars` may replace :meth:`on_bar`."""
        return self._engine.has_working(iid)

    def skip_bars(self, iid: InstrumentId, bars: BarArray, lo: int, hi: int) -> None:
        """Record rows ``lo..hi-1`` of ``bars`` as closed bars of ``iid``, in O(1) whatever ``hi - lo``.

        Leaves the venue exactly as :meth:`on_bar` would for each row (built as the replay feed builds
        bars, labelled ``iid``): last price, quote and time from row ``hi - 1``, the rows in the
        history. Only valid while no order works on ``iid``, so that no row could fill anything.

        Raises:
            DataNotFound: ``iid`` is not traded here.
            InvalidInput: an order works on ``iid``, or ``lo..hi`` is not a non-empty range of rows.
        """
        market = self._market(iid)
        if not 0 <= lo < hi <= len(bars):
            raise InvalidInput(f"paper venue: rows {lo}..{hi} are not a non-empty range of {len(bars)} bars")
        if self._engine.has_working(iid):
            raise InvalidInput(f"paper venue: orders work on {iid}; its bars must go through on_bar")
        market.skip(bars, lo, hi)

    def on_bar_row(
        self,
        iid: InstrumentId,
        ts: datetime,
        row: tuple[float, float, float, float, float],
        interval: int = 60,
    ) -> list[Fill]:
        """Fast path for numpy rows ``(open, high, low, close, volume)``, parsed into Decimals here."""
        o, h, lo, c, v = (Decimal(repr(float(x))) for x in row)
        return self.on_bar(Bar(iid, ts, o, h, lo, c, v, interval))

    def on_quote(self, quote: Quote) -> list[Fill]:
        """Record a quote and match working orders against it; returns the fills."""
        market = self._market(quote.instrument_id)
        market.on_quote(quote)
        return self._engine.on_quote(quote, market.instrument.tick_size)

    # -- reads -----------------------------------------------------------------------------------

    async def instruments(self) -> tuple[Instrument, ...]:
        """The configured instruments."""
        self._check_open()
        return tuple(self._instruments.values())

    async def balances(self) -> Mapping[Currency, Money]:
        """Total balance per currency."""
        self._check_open()
        return self._account.balances()

    async def positions(self) -> tuple[VenuePosition, ...]:
        """Open margin (FX) positions; spot holdings show in balances, as on a spot exchange."""
        self._check_open()
        return tuple(
            VenuePosition(p.instrument_id, p.quantity, p.avg_price) for p in self._account.positions()
        )

    async def quote(self, iid: InstrumentId) -> Quote:
        """The last quote (a bar's close stands in for one); DataNotFound before any data."""
        self._check_open()
        q = self._market(iid).quote
        if q is None:
            raise DataNotFound(f"no market data yet for {iid}")
        return q

    async def order_book(self, iid: InstrumentId, depth: int = 10) -> OrderBook:
        """The synthetic book around the last quote."""
        self._check_open()
        book = self._market(iid).book(self._config.fill_model.depth, depth)
        if book is None:
            raise DataNotFound(f"no market data yet for {iid}")
        return book

    async def ohlcv(
        self, iid: InstrumentId, interval: int, since: datetime | None = None, limit: int = 500
    ) -> tuple[Bar, ...]:
        """Bars this venue has been fed."""
        self._check_open()
        return self._market(iid).history(interval, since, limit)

    async def order_status(self, client_order_id: str) -> VenueOrder:
        """The order by client id; OrderNotFound when unknown."""
        self._check_open()
        return self._order(client_order_id).snapshot()

    async def open_orders(self, iid: InstrumentId | None = None) -> tuple[VenueOrder, ...]:
        """Working orders in time priority."""
        self._check_open()
        return tuple(o.snapshot() for o in self._engine.working(iid))

    async def fills_since(self, since: datetime | str | None = None) -> FillBatch:
        """Fills after a cursor, at or after a time, or all of them."""
        self._check_open()
        fills = self._account.fills
        if isinstance(since, str):
            if not since.isdigit() or int(since) > len(fills):
                raise InvalidInput(f"paper venue: bad fills cursor {since!r}")
            picked = fills[int(since) :]
        elif isinstance(since, datetime):
            picked = [f for f in fills if f.ts >= since]
        else:
            picked = list(fills)
        return FillBatch(tuple(picked), str(len(fills)))

    def orders(self) -> tuple[VenueOrder, ...]:
        """Every order this venue has seen (rejected ones included), oldest first."""
        self._check_open()
        return tuple(o.snapshot() for o in self._orders.values())

    def free(self, currency: Currency) -> Decimal:
        """The balance of ``currency`` not reserved by open orders."""
        self._check_open()
        return self._account.free(currency)

    def _order(self, client_order_id: str) -> WorkingOrder:
        try:
            return self._orders[client_order_id]
        except KeyError:
            raise OrderNotFound(f"paper venue {self.name!r}: no order {client_order_id!r}") from None

    # -- orders ----------------------------------------------------------------------------------

    async def submit(self, request: OrderRequest) -> VenueAck:
        """Validate, reserve and place an order; a known client id returns the existing order."""
        self._check_open()
        cid = request.client_order_id
        known = self._orders.get(cid)
        if known is not None:
            mine = tuple(f for f in self._account.fills if f.client_order_id == known.client_order_id)
            return VenueAck(known.snapshot(), mine, duplicate=True)
        now = self._clock.now()
        delay = self._config.latency_ms
        if self._config.latency_jitter_ms:
            delay += self._rng.randrange(self._config.latency_jitter_ms + 1)
        order = WorkingOrder(request, None, now, now + timedelta(milliseconds=delay) if delay else now)
        self._orders[cid] = order
        problem = self._validate(order)
        if problem is not None:
            order.reject(*problem)
            return VenueAck(order.snapshot())
        self._order_seq += 1
        order.venue_order_id = f"{self._id_prefix}-o{self._order_seq}"
        self._engine.add(order)
        market = self._markets[order.instrument_id]
        if market.matchable and delay == 0:
            quote = market.quote
            if quote is not None:
                now_quote = dataclasses.replace(quote, ts=now)
                fills = self._engine.on_quote(now_quote, market.instrument.tick_size, only=order)
                return VenueAck(order.snapshot(), tuple(fills))
        return VenueAck(order.snapshot())

    def _validate(self, order: WorkingOrder) -> tuple[RejectReason, str] | None:
        """Exchange-side checks in the order a real venue applies them, then funds."""
        iid = order.instrument_id
        inst = self._instruments.get(iid)
        if inst is None:
            return RejectReason.UNKNOWN_INSTRUMENT, f"unknown instrument {iid!r}"
        cid = order.client_order_id
        if not cid or len(cid) > self._config.max_client_order_id_length:
            return RejectReason.INVALID_CLIENT_ORDER_ID, f"client order id {cid!r} is empty or too long"
        unsupported = self._unsupported(order)
        if unsupported:
            return RejectReason.UNSUPPORTED_ORDER, unsupported
        qty = order.quantity
        if qty <= 0 or not inst.is_on_lot(qty):
            return RejectReason.BAD_LOT, f"quantity {qty} is not a multiple of the lot {inst.lot_size}"
        if qty < inst.min_quantity:
            return RejectReason.BELOW_MIN_QUANTITY, f"quantity {qty} < minimum {inst.min_quantity}"
        limit, stop = order.limit_price, order.stop_price
        if limit is not None or stop is not None:
            for price in (limit, stop):
                if price is not None and (price <= 0 or not inst.is_on_tick(price)):
                    return (
                        RejectReason.BAD_TICK,
                        f"price {price} is not a multiple of the tick {inst.tick_size}",
                    )
        market = self._markets[iid]  # instruments are keyed by their id
        ref = limit or stop or market.reference_price(order.side)
        if ref is None:
            return RejectReason.NO_MARKET_DATA, f"no price yet for {iid}; cannot check a market order"
        if qty * ref < inst.min_notional:
            return RejectReason.BELOW_MIN_NOTIONAL, f"notional {qty * ref} < minimum {inst.min_notional}"
        touch = market.reference_price(order.side) if order.post_only and market.matchable else None
        if touch is not None and limit is not None:  # only a post-only order has a touch here
            crosses = touch <= limit if order.side is _BUY else touch >= limit
            if crosses:
                return (
                    RejectReason.POST_ONLY_WOULD_TAKE,
                    f"post-only limit {order.limit_price} would take at {touch}",
                )
        return self._account.check(order, ref)

    def _unsupported(self, order: WorkingOrder) -> str:
        kind, tif = order.order_type, order.tif
        if not self._capabilities.supports(kind, tif):
            return f"{kind}/{tif} is not supported"
        needs_limit = kind in _NEEDS_LIMIT
        needs_stop = kind in _NEEDS_STOP
        if needs_limit != (order.limit_price is not None) or needs_stop != (order.stop_price is not None):
            return f"a {kind} order needs exactly its limit/stop prices"
        if needs_stop and tif in _IMMEDIATE:
            return f"{tif} applies to market and limit orders only"
        if order.post_only and (kind is not _LIMIT or tif in _IMMEDIATE):
            return "post-only needs a resting limit order"
        return ""

    async def cancel(self, client_order_id: str) -> VenueOrder:
        """Cancel a working order; a terminal one comes back unchanged."""
        self._check_open()
        order = self._order(client_order_id)
        if order.snapshot().is_terminal:
            return order.snapshot()
        self._engine.cancel(order, self._clock.now())
        return order.snapshot()

    async def close(self) -> None:
        """Mark the venue closed; later calls raise VenueUnavailable."""
        self._closed = True
