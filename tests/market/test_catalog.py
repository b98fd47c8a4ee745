"""The bundled datasets: catalog facts, exact values from the source files, a real-data sanity check."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.market import DATASETS, BarCache, Dataset, data_dir, get_dataset, list_datasets, load_bars

FIRST_LAST_CLOSE = {
    "binanceus-btcusd-1m": ("23143.72", "28194.93"),
    "binanceus-btcusdt-1m": ("23142.31", "28110.26"),
    "binanceus-btcusdc-1m": ("23152.65", "28181.27"),
    "kraken-btcusdc-1m": ("16522.66", "28485.09"),
    "oanda-eurusd-1h": ("1.05227", "1.20075"),
}


def test_list_datasets_returns_every_bundled_file() -> None:
    names = [d.name for d in list_datasets()]
    assert names == list(FIRST_LAST_CLOSE)
    assert {d.instrument_id for d in DATASETS} == {
        "BTC/USD@binanceus",
        "BTC/USDT@binanceus",
        "BTC/USDC@binanceus",
        "BTC/USDC@kraken",
        "EUR/USD@oanda",
    }
    assert all(d.path.is_file() and d.source and d.terms for d in DATASETS)


def test_data_dir_resolves_through_package_resources() -> None:
    assert data_dir() == Path(str(resources.files("gekko_agent") / "data"))
    assert (data_dir() / "README.md").read_text().count("cl8550-crypto/iaqf_analysis") >= 1


def test_bundled_files_total_under_eight_megabytes() -> None:
    assert sum(d.path.stat().st_size for d in DATASETS) < 8 * 1024 * 1024


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_load_bars_matches_documented_rows_and_range(dataset: Dataset, market_cache: BarCache) -> None:
    bars = load_bars(dataset.name, cache=market_cache)
    assert len(bars) == dataset.rows
    assert (bars.start, bars.end) == (dataset.start, dataset.end)
    assert bars.instrument_id == dataset.instrument_id
    assert bars.interval == dataset.interval


@pytest.mark.parametrize(("name", "closes"), FIRST_LAST_CLOSE.items())
def test_load_bars_first_and_last_close_equal_source_text(
    name: str, closes: tuple[str, str], market_cache: BarCache
) -> None:
    bars = load_bars(name, cache=market_cache)
    assert (bars[0].close, bars[-1].close) == (Decimal(closes[0]), Decimal(closes[1]))


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_to_bars_equals_decimal_of_source_text_on_every_row(
    dataset: Dataset, market_cache: BarCache, source_rows: Callable[[Dataset], list[list[str]]]
) -> None:
    bars = load_bars(dataset.name, cache=market_cache).to_bars()
    rows = source_rows(dataset)
    assert len(rows) == len(bars)
    for bar, row in zip(bars, rows, strict=True):
        expected = tuple(Decimal(text) for text in row[1:6])
        assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == expected, row


def test_load_bars_window_includes_start_and_excludes_end(market_cache: BarCache) -> None:
    bars = load_bars("binanceus-btcusd-1m", start="2023-03-10", end="2023-03-11", cache=market_cache)
    assert len(bars) == 1440
    assert str(bars.start) == "2023-03-10 00:00:00+00:00"
    assert str(bars.end) == "2023-03-10 23:59:00+00:00"


def test_load_bars_end_before_start_raises_invalid_input(market_cache: BarCache) -> None:
    with pytest.raises(InvalidInput, match="before start"):
        load_bars("binanceus-btcusd-1m", start="2023-03-11", end="2023-03-10", cache=market_cache)


def test_load_bars_unknown_name_raises_data_not_found() -> None:
    with pytest.raises(DataNotFound, match="binanceus-btcusd-1m"):
        load_bars("binance-dogeusd-1m", cache=None)
    with pytest.raises(DataNotFound):
        get_dataset("")


def test_usdc_depeg_shows_btc_usdc_over_btc_usd_by_three_percent(market_cache: BarCache) -> None:
    usd = load_bars("binanceus-btcusd-1m", "2023-03-11", "2023-03-12", cache=market_cache)
    usdc = load_bars("binanceus-btcusdc-1m", "2023-03-11", "2023-03-12", cache=market_cache)
    assert np.array_equal(usd.ts, usdc.ts)
    premium = usdc.close / usd.close - 1
    assert premium.max() > 0.03
    # and a calm day before it shows no such gap
    calm_usd = load_bars("binanceus-btcusd-1m", "2023-03-02", "2023-03-03", cache=market_cache)
    calm_usdc = load_bars("binanceus-btcusdc-1m", "2023-03-02", "2023-03-03", cache=market_cache)
    gap = calm_usdc.close / calm_usd.close
    assert np.median(np.abs(gap - 1)) < 0.002
