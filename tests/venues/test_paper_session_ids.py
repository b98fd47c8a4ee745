"""Paper order and fill ids carry a session, so runs journaled into one ledger never collide."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gekko_agent.domain.clock import SimClock
from gekko_agent.domain.events import OrderFilled
from gekko_agent.domain.orders import Fill, OrderSide
from gekko_agent.errors import InvalidInput
from gekko_agent.ledger import Ledger
from gekko_agent.ledger.queries import events
from gekko_agent.venues.paper import PaperVenue

from .helpers import T0, bar, make_venue, minutes, request


async def _trade(venue: PaperVenue, clock: SimClock, rounds: int = 3) -> list[Fill]:
    """The same few market orders and bars, whatever the venue's session."""
    fills: list[Fill] = []
    venue.on_bar(bar("100", "101", "99", "100"))
    for i in range(rounds):
        side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
        await venue.submit(request(f"cid-{i}", side, "0.5"))
        clock.advance_to(T0 + minutes(i + 1))
        fills += venue.on_bar(bar("100", "101", "99", "100", ts=T0 + minutes(i + 1)))
    return fills


async def test_two_sessions_produce_disjoint_order_and_fill_ids() -> None:
    runs = []
    for session in ("r0", "r57"):
        clock = SimClock(T0)
        venue = make_venue(clock, session=session)
        fills = await _trade(venue, clock)
        runs.append((fills, {o.venue_order_id for o in venue.orders()}))
    (fills_a, orders_a), (fills_b, orders_b) = runs
    assert len(fills_a) == len(fills_b) == 3
    assert not {f.fill_id for f in fills_a} & {f.fill_id for f in fills_b}
    assert not orders_a & orders_b
    assert fills_a[0].fill_id == "paper-r0-t1"
    assert [f.quantity for f in fills_a] == [f.quantity for f in fills_b]  # only the ids differ


async def test_second_session_on_one_ledger_keeps_all_its_fills(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.duckdb") as ledger:
        for session in ("r0", f"r{ledger.last_seq + 1}"):
            clock = SimClock(T0)
            for fill in await _trade(make_venue(clock, session=session), clock):
                ledger.append(OrderFilled(ts=fill.ts, fill=fill))
        assert len(events(ledger, kinds="order_filled")) == 6


async def test_default_session_repeats_for_a_backtest_and_differs_by_start() -> None:
    same = [make_venue(SimClock(T0), seed=7).session for _ in range(2)]
    later = make_venue(SimClock(T0 + timedelta(seconds=1)), seed=7).session
    other_seed = make_venue(SimClock(T0), seed=8).session
    assert same[0] == same[1]
    assert same[0].startswith("s") and len(same[0]) == 9
    assert len({same[0], later, other_seed}) == 3
    clock = SimClock(T0)
    venue = make_venue(clock, seed=7)
    fills = await _trade(venue, clock)
    assert fills[0].fill_id == f"paper-{same[0]}-t1"
    assert next(iter(venue.orders())).venue_order_id == f"paper-{same[0]}-o1"


async def test_empty_session_keeps_plain_ids() -> None:
    clock = SimClock(T0)
    fills = await _trade(make_venue(clock, session=""), clock, rounds=1)
    assert fills[0].fill_id == "paper-t1"


@pytest.mark.parametrize("session", ["r-1", "a b", "x/y"])
def test_session_with_separators_is_refused(session: str) -> None:
    with pytest.raises(InvalidInput, match="session"):
        make_venue(session=session)
