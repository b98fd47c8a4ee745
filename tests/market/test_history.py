"""History download through the real ccxt and oandapyV20 clients against the wire simulators.

The simulators serve the bundled real bars (BTC/USD 1m March 2023, EUR/USD 1h 2017), so what lands
in the store is compared bar for bar, Decimal for Decimal, with the bundled source.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gekko_agent.cli.main import app
from gekko_agent.domain.bars import Bar
from gekko_agent.domain.clock import LiveClock, SimClock
from gekko_agent.errors import InvalidInput
from gekko_agent.market import FetchedBarStore, fetch_history, load_bars, load_fetched, to_ns
from gekko_agent.market.history import missing_windows
from gekko_agent.testing.sim import RunningSimulator, running_simulator
from gekko_agent.testing.sim import binance as binance_sim
from gekko_agent.testing.sim import oanda as oanda_sim
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig
from gekko_agent.venues.oanda import OandaConfig, OandaVenue

BTC, EUR = "BTC/USD@binanceus", "EUR/USD@oanda"
T0 = datetime(2023, 3, 10, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture(scope="module")
def binance() -> Iterator[RunningSimulator]:
    with running_simulator("binance") as running:
        yield running


@pytest.fixture
async def ccxt_venue(binance: RunningSimulator) -> AsyncIterator[CcxtVenue]:
    config = CcxtVenueConfig(
        "binanceus",
        api_key=binance_sim.API_KEY,
        secret=binance_sim.API_SECRET,
        base_url=binance.url,
        timeout_ms=5_000,
        enable_rate_limit=False,
        symbols=("BTC/USD",),
    )
    venue = CcxtVenue(config, LiveClock())
    yield venue
    await venue.close()


@pytest.fixture
def store(tmp_path: Path) -> FetchedBarStore:
    return FetchedBarStore(tmp_path / "market.duckdb")


def source(name: str, start: datetime, end: datetime) -> list[Bar]:
    return load_bars(name, start, end, cache=None).to_bars()


async def test_first_fetch_stores_source_bars_decimal_exact(
    ccxt_venue: CcxtVenue, store: FetchedBarStore
) -> None:
    end = T0 + timedelta(days=2)
    report = await fetch_history(ccxt_venue, BTC, 60, T0, end, store, page_limit=1000)
    expected = source("binanceus-btcusd-1m", T0, end)
    assert report.stored == report.received == len(expected) == 2880
    assert report.gaps == ()
    assert list(store.bars(BTC, 60)) == expected
    assert load_fetched(BTC, 60, T0, end, store=store).to_bars() == expected
    again = await fetch_history(ccxt_venue, BTC, 60, T0, end, store, page_limit=1000)
    assert (again.windows, again.requests, again.stored) == ((), 0, 0)


async def test_later_end_fetches_only_the_tail(ccxt_venue: CcxtVenue, store: FetchedBarStore) -> None:
    await fetch_history(ccxt_venue, BTC, 60, T0, T0 + 6 * H, store)
    report = await fetch_history(ccxt_venue, BTC, 60, T0, T0 + 8 * H, store)
    assert report.windows == ((to_ns(T0 + 6 * H), to_ns(T0 + 8 * H)),)
    assert report.stored == report.received == 120
    assert list(store.bars(BTC, 60)) == source("binanceus-btcusd-1m", T0, T0 + 8 * H)


async def test_hole_in_store_is_detected_and_filled_once(
    ccxt_venue: CcxtVenue, store: FetchedBarStore
) -> None:
    await fetch_history(ccxt_venue, BTC, 60, T0, T0 + 4 * H, store)
    assert store.delete(BTC, 60, T0 + H, T0 + H + timedelta(minutes=30)) == 30
    report = await fetch_history(ccxt_venue, BTC, 60, T0, T0 + 4 * H, store)
    assert report.holes == 1
    assert report.windows == ((to_ns(T0 + H), to_ns(T0 + H + timedelta(minutes=30))),)
    assert report.stored == 30
    assert report.gaps == ()
    assert list(store.bars(BTC, 60)) == source("binanceus-btcusd-1m", T0, T0 + 4 * H)


async def test_small_page_limit_pages_through_the_window(
    ccxt_venue: CcxtVenue, store: FetchedBarStore
) -> None:
    seen: list[tuple[int, int]] = []
    end = T0 + timedelta(minutes=100)
    report = await fetch_history(
        ccxt_venue, BTC, 60, T0, end, store, page_limit=7, progress=lambda d, t: seen.append((d, t))
    )
    assert report.requests == 15  # ceil(100 / 7)
    assert report.stored == 100
    assert list(store.bars(BTC, 60)) == source("binanceus-btcusd-1m", T0, end)
    assert seen[-1] == (100, 100)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_forming_bars_are_not_stored(ccxt_venue: CcxtVenue, store: FetchedBarStore) -> None:
    clock = SimClock(T0 + timedelta(minutes=30, seconds=20))
    report = await fetch_history(ccxt_venue, BTC, 60, T0, T0 + H, store, clock=clock)
    assert report.stored == 30
    assert report.end == T0 + timedelta(minutes=29, seconds=20)  # the last complete bar's open, + ε


async def test_instrument_of_another_venue_raises_invalid_input(
    ccxt_venue: CcxtVenue, store: FetchedBarStore
) -> None:
    with pytest.raises(InvalidInput):
        await fetch_history(ccxt_venue, EUR, 60, T0, T0 + H, store)


async def test_oanda_candles_weekend_is_recorded_as_known_gap(tmp_path: Path) -> None:
    store = FetchedBarStore(tmp_path / "fx.duckdb")
    start, end = datetime(2017, 3, 6, tzinfo=UTC), datetime(2017, 3, 20, tzinfo=UTC)
    with running_simulator("oanda") as sim:
        venue = OandaVenue(OandaConfig(oanda_sim.ACCOUNT_ID, "sim-token", api_url=sim.url, timeout_s=5.0))
        try:
            report = await fetch_history(venue, EUR, 3600, start, end, store, page_limit=100)
            again = await fetch_history(venue, EUR, 3600, start, end, store, page_limit=100)
        finally:
            await venue.close()
    expected = source("oanda-eurusd-1h", start, end)
    got = store.bars(EUR, 3600)
    assert report.stored == len(expected) == len(got)
    assert [(b.ts, b.open, b.high, b.low, b.close) for b in got] == [
        (b.ts, b.open, b.high, b.low, b.close) for b in expected
    ]
    assert [b.volume for b in got] == [int(b.volume) for b in expected]  # OANDA volumes are tick counts
    assert len(report.gaps) == 2  # the two weekends between the first and the last candle
    assert all(b - a >= to_ns(start + 40 * H) - to_ns(start) for a, b in report.gaps)
    assert (again.requests, again.stored) == (0, 0)


def test_missing_windows_skip_known_gaps_and_count_holes() -> None:
    step = 10
    times = [100, 110, 150, 160]
    wanted, holes = missing_windows(times, [(120, 140)], 80, 200, step)
    assert wanted == [(80, 100), (140, 150), (170, 200)]
    assert holes == 1
    assert missing_windows([], [(0, 50)], 0, 100, step) == ([(50, 100)], 0)


def test_cli_fetch_downloads_and_never_prints_secrets(
    binance: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIM_KEY", binance_sim.API_KEY)
    monkeypatch.setenv("SIM_SECRET", binance_sim.API_SECRET)
    venue = {"kind": "ccxt", "exchange": "binanceus", "api_key": {"env": "SIM_KEY"},
             "secret": {"env": "SIM_SECRET"}, "api_url": binance.url, "timeout_ms": 5000}  # fmt: skip
    cfg = {"mode": "live", "venues": {"binanceus": venue}, "ledger": {"path": str(tmp_path / "l.duckdb")},
           "data": {"cache": str(tmp_path / "cli.duckdb")}}  # fmt: skip
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(cfg))
    args = ["data", "fetch", "--config", str(path), "--instrument", BTC, "--interval", "1m",
            "--from", "2023-03-10", "--to", "2023-03-10T03:00"]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "180 new bars" in first.output
    assert binance_sim.API_SECRET not in first.output and binance_sim.API_KEY not in first.output
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "nothing to fetch" in second.output
    assert len(load_fetched(BTC, 60, store=tmp_path / "cli.duckdb")) == 180
    bad = CliRunner().invoke(app, [*args[:5], "BTC/USD", *args[6:]])
    assert bad.exit_code == 2
    assert "SYMBOL@venue" in bad.output
