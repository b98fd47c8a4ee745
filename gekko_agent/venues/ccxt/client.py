"""Configuration of a ccxt venue and construction of its async ccxt client.

``sandbox`` switches the exchange to the testnet URLs ccxt knows for it (``set_sandbox_mode``;
Binance's spot testnet is ``testnet.binance.vision``); an exchange without them is a config error,
never a silent fall-back to production. ``base_url`` points every REST endpoint of the exchange at
another host (a proxy or a loopback simulator): the scheme and host of each URL in
``exchange.urls['api']`` are replaced and its path kept, so ``https://api.binance.us/api/v3``
becomes ``http://127.0.0.1:PORT/api/v3``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import ccxt.async_support as ccxt

from gekko_agent.errors import ConfigError
from gekko_agent.venues.ccxt.paging import TradePaging, trade_paging

__all__ = ["CcxtVenueConfig", "build_exchange"]

# How each exchange finds an order by our client id, when it can (others: list orders and match).
_CLIENT_ID_PARAMS: Mapping[str, str] = {"binance": "origClientOrderId", "binanceus": "origClientOrderId"}
# The create-order parameter carrying our client id, where ccxt does not read ``clientOrderId``
# (ccxt's coinbase makes its own ``client_order_id`` and drops ``clientOrderId``).
_SUBMIT_CLIENT_ID_PARAMS: Mapping[str, str] = {"coinbase": "client_order_id"}


def _coinbase_market_buy(amount: str) -> dict[str, Any]:
    # ccxt sizes a coinbase market buy in quote (``quote_size``) and wants a price to compute it;
    # Advanced Trade also takes ``base_size``, so send the base quantity as asked.
    return {
        "createMarketBuyOrderRequiresPrice": False,
        "order_configuration": {"market_market_ioc": {"base_size": amount}},
    }


# Extra create-order params for a market buy of ``amount`` base units, where ccxt needs them.
_MARKET_BUY_PARAMS: Mapping[str, Callable[[str], dict[str, Any]]] = {"coinbase": _coinbase_market_buy}


@dataclass(frozen=True, slots=True)
class CcxtVenueConfig:
    """A ccxt-backed venue.

    Attributes:
        exchange_id: ccxt exchange id (``binanceus``, ``coinbase``, any other ccxt id).
        name: venue name in instrument ids (defaults to ``exchange_id``).
        api_key: API key (read from the environment by the caller, never from a file).
        secret: API secret (for Coinbase: the PEM private key or the HMAC secret).
        password: passphrase, for exchanges that need one.
        base_url: replace the scheme and host of every API URL (proxy, simulator); None keeps them.
        sandbox: use the exchange's sandbox/testnet URLs (ConfigError when ccxt knows none).
        timeout_ms: per-request timeout.
        enable_rate_limit: let ccxt pace requests by the exchange's published limits.
        symbols: canonical ``BASE/QUOTE`` symbols polled for fills and used to find orders by client
            id; empty means every market the venue lists (fine for small venues and simulators).
        client_id_param: request parameter that finds an order by client id (None: list and match);
            defaults per exchange.
        lookup_attempts: after an ambiguous submit, how many times to look the order up before
            deciding it was not placed.
        lookup_delay_s: pause between those lookups.
        max_client_order_id_length: longest client order id the venue accepts.
        options: extra ccxt options merged into the exchange's.
        paging: how ``fetch_my_trades`` is paged (None: the exchange's known scheme, else by time).
    """

    exchange_id: str
    name: str = ""
    api_key: str | None = None
    secret: str | None = None
    password: str | None = None
    base_url: str | None = None
    sandbox: bool = False
    timeout_ms: int = 10_000
    enable_rate_limit: bool = True
    symbols: tuple[str, ...] = ()
    client_id_param: str | None = None
    lookup_attempts: int = 3
    lookup_delay_s: float = 0.2
    max_client_order_id_length: int = 36
    options: Mapping[str, Any] = field(default_factory=dict)
    paging: TradePaging | None = None

    @property
    def venue_name(self) -> str:
        """The name in instrument ids."""
        return (self.name or self.exchange_id).lower()

    @property
    def lookup_param(self) -> str | None:
        """The client-id lookup parameter in effect."""
        return self.client_id_param or _CLIENT_ID_PARAMS.get(self.exchange_id)

    @property
    def submit_client_id_param(self) -> str:
        """The create-order parameter that carries our client order id."""
        return _SUBMIT_CLIENT_ID_PARAMS.get(self.exchange_id, "clientOrderId")

    @property
    def trade_paging(self) -> TradePaging:
        """The ``fetch_my_trades`` paging scheme in effect."""
        return self.paging or trade_paging(self.exchange_id)

    def market_buy_params(self, amount: str) -> dict[str, Any]:
        """Extra create-order params that make a market buy take ``amount`` base units."""
        build = _MARKET_BUY_PARAMS.get(self.exchange_id)
        return build(amount) if build is not None else {}


def _rebase(urls: Any, base: str) -> Any:
    if isinstance(urls, str):
        parts = urlsplit(urls)
        return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    if isinstance(urls, dict):
        return {key: _rebase(value, base) for key, value in urls.items()}
    return urls


def build_exchange(config: CcxtVenueConfig) -> Any:
    """An async ccxt exchange for ``config``, answering numbers as decimal strings.

    Raises:
        ConfigError: unknown exchange id, or ``sandbox`` for an exchange without testnet URLs.
    """
    cls = getattr(ccxt, config.exchange_id, None)
    if cls is None:
        raise ConfigError("agent.yaml", "venue.exchange", f"ccxt has no exchange {config.exchange_id!r}")
    params: dict[str, Any] = {
        "enableRateLimit": config.enable_rate_limit,
        "timeout": config.timeout_ms,
        "options": {"fetchOpenOrders": {"warnWithoutSymbol": False}, **dict(config.options)},
    }
    for key, value in (("apiKey", config.api_key), ("secret", config.secret), ("password", config.password)):
        if value:
            params[key] = value
    exchange = cls(params)
    exchange.number = str
    if config.sandbox:
        if not exchange.urls.get("test"):  # ccxt's coinbase lists ``test: None``
            raise ConfigError(
                "agent.yaml",
                f"venues.{config.venue_name}.sandbox",
                f"ccxt knows no sandbox/testnet URLs for {config.exchange_id!r}",
            )
        exchange.set_sandbox_mode(True)
    if config.base_url:
        exchange.urls["api"] = _rebase(exchange.urls["api"], config.base_url)
    return exchange
