"""Trade paging schemes against scripted exchanges, the Binance simulator's ``myTrades`` rules, and
the ccxt venue's fills cursor."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.responses import JSONResponse

from gekko_agent.errors import InvalidInput, InvariantViolation
from gekko_agent.testing.sim.binance import select_trades
from gekko_agent.venues.ccxt.cursor import MarketCursor, decode_cursor, encode_cursor
from gekko_agent.venues.ccxt.paging import TradePaging, TradeQuery, fetch_all_trades, trade_paging

Trade = dict[str, Any]


class TimePagedExchange:
    """Answers ``fetch_my_trades`` like a generic exchange: trades at or after ``since``, oldest
    first, ``limit`` of them (its own page of 3 when no limit is sent)."""

    def __init__(self, stamps: list[int]) -> None:
        self.trades = [{"id": f"t{i:03d}", "timestamp": ms, "order": "o1"} for i, ms in enumerate(stamps)]
        self.calls: list[tuple[int | None, int | None, dict[str, Any]]] = []

    async def __call__(
        self, symbol: str, since: int | None, limit: int | None, params: dict[str, Any]
    ) -> list[Any]:
        self.calls.append((since, limit, params))
        picked = [t for t in self.trades if since is None or t["timestamp"] >= since]
        return picked[: limit or 3]


class CursorExchange:
    """Answers like ccxt's coinbase: newest first in pages of ``limit``, the next cursor in the
    ``info`` of the page's first trade."""

    def __init__(self, count: int) -> None:
        self.trades = [
            {"id": f"c{i}", "timestamp": 1000 + i, "order": "o1", "info": {}} for i in range(count)
        ]
        self.calls: list[dict[str, Any]] = []

    async def __call__(
        self, symbol: str, since: int | None, limit: int | None, params: dict[str, Any]
    ) -> list[Any]:
        self.calls.append(dict(params))
        newest_first = self.trades[::-1]
        offset = int(params.get("cursor", 0))
        size = limit or 2
        page = [dict(t, info={}) for t in newest_first[offset : offset + size]]
        if offset + size < len(newest_first) and page:
            page[0]["info"] = {"cursor": str(offset + size)}
        return sorted(page, key=lambda t: t["timestamp"])  # ccxt sorts each page by time


async def test_since_paging_reads_every_trade_and_drops_the_boundary_repeats() -> None:
    exchange = TimePagedExchange([1, 2, 2, 3, 3, 4, 5, 5, 6, 7])
    trades = await fetch_all_trades(exchange, TradePaging("since", page_size=3), TradeQuery("X/Y"))
    assert [t["id"] for t in trades] == [f"t{i:03d}" for i in range(10)]
    assert len(exchange.calls) > 3  # it had to page


async def test_since_paging_without_a_page_size_stops_when_nothing_new_comes() -> None:
    exchange = TimePagedExchange([1, 2, 3, 4, 5, 6, 7])
    trades = await fetch_all_trades(exchange, TradePaging("since"), TradeQuery("X/Y"))
    assert len(trades) == 7
    assert exchange.calls[-1][0] == 7


async def test_since_paging_raises_when_one_millisecond_overflows_a_page() -> None:
    exchange = TimePagedExchange([1, 5, 5, 5, 5, 6])
    with pytest.raises(InvariantViolation, match="cannot page by time"):
        await fetch_all_trades(exchange, TradePaging("since", page_size=3), TradeQuery("X/Y"))


async def test_cursor_paging_follows_the_cursor_to_the_last_page() -> None:
    exchange = CursorExchange(11)
    paging = TradePaging("cursor", page_size=4, start_params=lambda ms: {"start": ms})
    trades = await fetch_all_trades(exchange, paging, TradeQuery("X/Y", since_ms=99))
    assert [t["timestamp"] for t in trades] == list(range(1000, 1011))
    assert [c.get("cursor") for c in exchange.calls] == [None, "4", "8"]
    assert all(c["start"] == 99 for c in exchange.calls)  # the start goes as the exchange's parameter


async def test_from_id_paging_rejects_ids_that_are_not_numbers() -> None:
    async def fetch(symbol: str, since: int | None, limit: int | None, params: dict[str, Any]) -> list[Any]:
        return [{"id": f"x{i}", "timestamp": i} for i in range(limit or 0)]

    with pytest.raises(InvariantViolation, match="numeric"):
        await fetch_all_trades(fetch, TradePaging("from_id", page_size=2), TradeQuery("X/Y"))


def test_known_exchanges_page_their_own_way() -> None:
    assert trade_paging("binanceus").style == "from_id"
    assert trade_paging("binanceus").page_size == 1000
    assert trade_paging("coinbase").style == "cursor"
    assert trade_paging("kraken").style == "since"


# -- the Binance simulator's GET myTrades --------------------------------------------------------

ROWS = [{"id": i, "orderId": 1 + i // 600, "time": 1_000 + i} for i in range(1, 1_501)]


def _ids(params: dict[str, str]) -> list[int]:
    answer = select_trades(ROWS, params)
    assert not isinstance(answer, JSONResponse), bytes(answer.body)
    return [r["id"] for r in answer]


def _error(params: dict[str, str]) -> int:
    answer = select_trades(ROWS, params)
    assert isinstance(answer, JSONResponse)
    return int(json.loads(bytes(answer.body))["code"])


def test_my_trades_default_is_the_most_recent_500() -> None:
    assert _ids({}) == list(range(1_001, 1_501))


def test_my_trades_from_id_answers_oldest_first_from_that_id() -> None:
    assert _ids({"fromId": "700", "limit": "1000"}) == list(range(700, 1_501))[:1000]
    assert _ids({"fromId": "1400", "limit": "1000"}) == list(range(1_400, 1_501))


def test_my_trades_times_order_and_combinations() -> None:
    assert _ids({"startTime": "1100", "limit": "3"}) == [100, 101, 102]
    assert _ids({"endTime": "1100", "limit": "3"}) == [98, 99, 100]
    assert _ids({"startTime": "1100", "endTime": "1102"}) == [100, 101, 102]
    assert _ids({"orderId": "2", "fromId": "1190", "limit": "5"}) == [1_190, 1_191, 1_192, 1_193, 1_194]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "1001"}, -1100),
        ({"limit": "0"}, -1100),
        ({"fromId": "x"}, -1100),
        ({"fromId": "1", "startTime": "1"}, -1128),
        ({"orderId": "1", "startTime": "1"}, -1128),
        ({"startTime": "0", "endTime": str(86_400_001)}, -1127),
    ],
)
def test_my_trades_refuses_what_binance_refuses(params: dict[str, str], code: int) -> None:
    assert _error(params) == code


# -- the ccxt venue's fills cursor ---------------------------------------------------------------


def test_cursor_round_trips_both_kinds() -> None:
    marks = {"A@v": MarketCursor(after_id=812), "B@v": MarketCursor(ms=1_700, seen=frozenset({"x", "y"}))}
    assert decode_cursor(encode_cursor(marks), "v") == marks


def test_cursor_advances_by_id_and_by_time() -> None:
    trades = [{"id": "9", "timestamp": 5}, {"id": "12", "timestamp": 5}, {"id": "10", "timestamp": 4}]
    assert MarketCursor(after_id=3).advance(trades, by_id=True) == MarketCursor(after_id=12)
    by_time = MarketCursor(ms=5, seen=frozenset({"7"})).advance(trades, by_id=False)
    assert by_time == MarketCursor(ms=5, seen=frozenset({"7", "9", "12"}))
    assert MarketCursor(ms=2).advance([], by_id=True) == MarketCursor(ms=2)


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"A@v": {"id": "x"}}'])
def test_decode_cursor_refuses_a_foreign_cursor(raw: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(raw, "v")
