"""``sandbox: true`` reaches ccxt: the exchange's API URLs become its testnet ones (no network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gekko_agent.errors import ConfigError
from gekko_agent.venues.ccxt import CcxtVenueConfig, build_exchange


def _urls(tree: Any) -> Iterator[str]:
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from _urls(value)


@pytest.mark.parametrize("exchange_id", ["binance", "binanceus"])
async def test_sandbox_points_spot_api_at_the_binance_testnet(exchange_id: str) -> None:
    exchange = build_exchange(CcxtVenueConfig(exchange_id, sandbox=True))
    try:
        api = exchange.urls["api"]
        assert api["public"].startswith("https://testnet.binance.vision/")
        assert api["private"].startswith("https://testnet.binance.vision/")
        assert not [u for u in _urls(api) if "api.binance.com" in u or "api.binance.us" in u]
    finally:
        await exchange.close()


async def test_without_sandbox_binanceus_stays_on_production() -> None:
    exchange = build_exchange(CcxtVenueConfig("binanceus"))
    try:
        assert exchange.urls["api"]["public"].startswith("https://api.binance.us/")
    finally:
        await exchange.close()


async def test_sandbox_then_base_url_rebases_the_testnet_paths() -> None:
    exchange = build_exchange(CcxtVenueConfig("binanceus", sandbox=True, base_url="http://127.0.0.1:9"))
    try:
        assert exchange.urls["api"]["public"] == "http://127.0.0.1:9/api/v3"
    finally:
        await exchange.close()


def test_sandbox_on_an_exchange_without_testnet_urls_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        build_exchange(CcxtVenueConfig("coinbase", name="cb", sandbox=True))
    message = str(info.value)
    assert "\n" not in message
    assert "venues.cb.sandbox" in message and "coinbase" in message
