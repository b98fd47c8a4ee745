"""Reading every trade of a market through ``fetch_my_trades``, page by page, as each exchange pages.

One ``fetch_my_trades`` call answers one page: Binance at most 1000 trades (500 by default),
Coinbase Advanced Trade a page and a ``cursor`` to the next. A single call therefore loses every
trade past the first page. :func:`fetch_all_trades` follows the exchange's own scheme to the end:

* ``from_id`` (Binance, Binance.US): ``GET /api/v3/myTrades`` with ``fromId`` (trades with an id
  at or above it, oldest first); the next page starts at the last id + 1. Without a start id the
  first page asks ``fromId=0`` (Binance answers the *most recent* trades when no ``fromId`` is
  sent); a start time is used for the first page only, then ids take over.
* ``cursor`` (Coinbase Advanced Trade): ``orders/historical/fills`` answers newest first with a
  ``cursor``; it is sent back until the answer's cursor is empty. ccxt hands the cursor over in
  the ``info`` of one trade of the page. The start time goes as the exchange's own parameter, so
  ccxt does not drop trades whose trade time precedes their sequence time.
* ``since`` (any other exchange): ``since`` moves to the newest timestamp seen; trades at that
  millisecond are asked again and dropped by id. A full page that brings nothing new (a page's
  worth of trades in one millisecond) cannot be paged past: that raises, it is never cut short.

Trades come back once each (deduplicated by trade id) in a deterministic order: by time, then id
(numerically where ids are numbers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from gekko_agent.errors import InvariantViolation

__all__ = ["TradePaging", "TradeQuery", "fetch_all_trades", "trade_order_key", "trade_paging"]

Trade = Mapping[str, Any]
# ``fetch_my_trades(symbol, since, limit, params)``, errors already translated.
FetchTrades = Callable[[str, int | None, int | None, dict[str, Any]], Awaitable[list[Trade]]]


def _coinbase_start(since_ms: int) -> dict[str, Any]:
    ts = datetime.fromtimestamp(since_ms / 1000, UTC)
    return {"start_sequence_timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"}


@dataclass(frozen=True, slots=True)
class TradePaging:
    """How one exchange pages ``fetch_my_trades``.

    Attributes:
        style: ``from_id`` (numeric trade ids, ``fromId``-style), ``cursor`` (an opaque cursor in
            each answer) or ``since`` (by timestamp).
        page_size: trades asked per page (the exchange's maximum); None sends no limit (``since``
            then pages until a page brings nothing new).
        id_param: the request parameter of the first trade id (``from_id``).
        cursor_param: the request parameter and ``info`` key of the cursor (``cursor``).
        order_param: the request parameter that narrows the list to one order's trades (None:
            the market's trades are read and filtered here).
        start_params: the exchange's own start-time parameters for a millisecond time, sent
            instead of ccxt's ``since`` (``cursor``).
        max_pages: a guard against an exchange that never stops answering full pages.
    """

    style: Literal["from_id", "cursor", "since"] = "since"
    page_size: int | None = None
    id_param: str = "fromId"
    cursor_param: str = "cursor"
    order_param: str | None = None
    start_params: Callable[[int], dict[str, Any]] | None = field(default=None, compare=False)
    max_pages: int = 100_000


_BINANCE = TradePaging("from_id", page_size=1000, order_param="orderId")
_KNOWN: Mapping[str, TradePaging] = {
    "binance": _BINANCE,
    "binanceus": _BINANCE,
    "coinbase": TradePaging("cursor", page_size=250, order_param="order_ids", start_params=_coinbase_start),
}


def trade_paging(exchange_id: str) -> TradePaging:
    """The paging scheme of ``exchange_id`` (by time for exchanges without a known one)."""
    return _KNOWN.get(exchange_id, TradePaging())


@dataclass(frozen=True, slots=True)
class TradeQuery:
    """Which trades of one market to read.

    Attributes:
        symbol: the ccxt unified symbol.
        since_ms: only trades at or after this time (milliseconds).
        after_id: only trades with a larger numeric id (``from_id`` exchanges).
        order_id: only the trades of this venue order.
    """

    symbol: str
    since_ms: int | None = None
    after_id: int | None = None
    order_id: str | None = None


def _id_key(trade_id: str) -> tuple[int, int, str]:
    return (0, int(trade_id), "") if trade_id.isdigit() else (1, 0, trade_id)


def trade_order_key(trade: Trade) -> tuple[int, tuple[int, int, str]]:
    """Sort key of a trade: time, then id."""
    return int(trade.get("timestamp") or 0), _id_key(str(trade.get("id")))


def _numeric_id(trade: Trade) -> int:
    raw = str(trade.get("id"))
    if not raw.isdigit():
        raise InvariantViolation(f"fromId paging needs numeric trade ids, got {raw!r}")
    return int(raw)


class _Collector:
    """Trades gathered over pages, once per id."""

    def __init__(self, order_id: str | None, filter_order: bool) -> None:
        self.by_id: dict[str, Trade] = {}
        self._order_id = order_id if filter_order else None

    def add(self, page: list[Trade]) -> int:
        """Keep the new trades of ``page``; returns how many were new."""
        new = 0
        for trade in page:
            tid = trade.get("id")
            if tid is None or str(tid) in self.by_id:
                continue
            if self._order_id is not None and str(trade.get("order")) != self._order_id:
                continue
            self.by_id[str(tid)] = trade
            new += 1
        return new

    def result(self) -> list[Trade]:
        return sorted(self.by_id.values(), key=trade_order_key)


def _too_many(paging: TradePaging, query: TradeQuery) -> InvariantViolation:
    return InvariantViolation(
        f"{query.symbol}: trades still coming after {paging.max_pages} pages of {paging.page_size}"
    )


async def _from_id(fetch: FetchTrades, paging: TradePaging, query: TradeQuery, out: _Collector) -> None:
    params: dict[str, Any] = {}
    if query.order_id is not None and paging.order_param:
        params[paging.order_param] = query.order_id
    since = query.since_ms if query.after_id is None and query.order_id is None else None
    next_id = 0 if query.after_id is None else query.after_id + 1
    for _ in range(paging.max_pages):
        ask = dict(params) if since is not None else {**params, paging.id_param: next_id}
        page = await fetch(query.symbol, since, paging.page_size, ask)
        out.add(page)
        if not page or (paging.page_size is not None and len(page) < paging.page_size):
            return
        next_id = max(next_id, *(_numeric_id(t) + 1 for t in page))
        since = None
    raise _too_many(paging, query)


async def _cursor(fetch: FetchTrades, paging: TradePaging, query: TradeQuery, out: _Collector) -> None:
    params: dict[str, Any] = {}
    if query.order_id is not None and paging.order_param:
        params[paging.order_param] = query.order_id
    since = query.since_ms
    if since is not None and paging.start_params is not None:
        params.update(paging.start_params(since))
        since = None
    cursor: str | None = None
    for _ in range(paging.max_pages):
        ask = {**params, paging.cursor_param: cursor} if cursor else dict(params)
        page = await fetch(query.symbol, since, paging.page_size, ask)
        out.add(page)
        found = (str((t.get("info") or {}).get(paging.cursor_param) or "") for t in page)
        cursor = next((c for c in found if c), None)
        if not page or not cursor:
            return
    raise _too_many(paging, query)


async def _since(fetch: FetchTrades, paging: TradePaging, query: TradeQuery, out: _Collector) -> None:
    since = query.since_ms
    for _ in range(paging.max_pages):
        page = await fetch(query.symbol, since, paging.page_size, {})
        new = out.add(page)
        full = paging.page_size is not None and len(page) >= paging.page_size
        if not page or (not full and (paging.page_size is not None or new == 0)):
            return
        newest = max(int(t.get("timestamp") or 0) for t in page)
        if new == 0:  # a full page of trades already seen: stuck inside one millisecond
            raise InvariantViolation(
                f"{query.symbol}: a page of {len(page)} trades all at {newest} ms; cannot page by time"
            )
        since = newest
    raise _too_many(paging, query)


async def fetch_all_trades(fetch: FetchTrades, paging: TradePaging, query: TradeQuery) -> list[Trade]:
    """Every trade ``query`` names, read page by page until the exchange has no more.

    Args:
        fetch: ``fetch_my_trades`` of the exchange (errors translated by the caller).
        paging: the exchange's paging scheme.
        query: market, start and order.

    Returns:
        The trades, once each, ordered by time then id.

    Raises:
        InvariantViolation: the trades cannot all be read (see the module docstring).
    """
    out = _Collector(query.order_id, filter_order=query.order_id is not None)
    if paging.style == "from_id":
        await _from_id(fetch, paging, query, out)
    elif paging.style == "cursor":
        await _cursor(fetch, paging, query, out)
    else:
        await _since(fetch, paging, query, out)
    return out.result()
