"""Instruments: what can be traded, where, in which increments.

An :class:`Instrument` is identified by ``SYMBOL@VENUE`` (``BTC/USD@binanceus``, ``EUR/USD@oanda``).
The canonical symbol is ``BASE/QUOTE``; each venue spells it its own way (``BTCUSD``, ``BTC-USD``,
``EUR_USD``) and :func:`venue_symbol` / :func:`canonical_symbol` translate at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from gekko_agent.domain.money import Price, Quantity, round_to_step
from gekko_agent.errors import InvalidInput

__all__ = [
    "AssetClass",
    "Instrument",
    "InstrumentId",
    "SymbolStyle",
    "canonical_symbol",
    "instrument_id",
    "split_instrument_id",
    "venue_symbol",
]

InstrumentId = str


class AssetClass(StrEnum):
    """How an instrument settles: spot moves both balances, FX (CFD/margin) books PnL."""

    CRYPTO_SPOT = "crypto_spot"
    FX = "fx"


class SymbolStyle(StrEnum):
    """How a venue writes ``BASE/QUOTE``."""

    CONCAT = "concat"  # BTCUSD (Binance)
    DASH = "dash"  # BTC-USD (Coinbase)
    UNDERSCORE = "underscore"  # EUR_USD (OANDA)
    SLASH = "slash"  # BTC/USD (ccxt unified, paper)


_VENUE_STYLES: dict[str, SymbolStyle] = {
    "binanceus": SymbolStyle.CONCAT,
    "binance": SymbolStyle.CONCAT,
    "kraken": SymbolStyle.CONCAT,
    "coinbase": SymbolStyle.DASH,
    "oanda": SymbolStyle.UNDERSCORE,
}
_KNOWN_QUOTES = ("USDT", "USDC", "BUSD", "USD", "EUR", "GBP", "JPY", "CHF", "BTC", "ETH")


def instrument_id(symbol: str, venue: str) -> InstrumentId:
    """``BTC/USD`` + ``binanceus`` → ``BTC/USD@binanceus``."""
    return f"{symbol.upper()}@{venue.lower()}"


def split_instrument_id(iid: InstrumentId) -> tuple[str, str]:
    """Inverse of :func:`instrument_id`; raises InvalidInput when malformed."""
    symbol, sep, venue = iid.partition("@")
    if not sep or "/" not in symbol or not venue:
        raise InvalidInput(f"instrument {iid!r} is not of the form BASE/QUOTE@venue (e.g. BTC/USD@binanceus)")
    return symbol.upper(), venue.lower()


def venue_symbol(symbol: str, venue: str) -> str:
    """Spell canonical ``BASE/QUOTE`` the way ``venue`` does (unknown venues keep the slash)."""
    base, _, quote = symbol.upper().partition("/")
    style = _VENUE_STYLES.get(venue.lower(), SymbolStyle.SLASH)
    sep = {SymbolStyle.CONCAT: "", SymbolStyle.DASH: "-", SymbolStyle.UNDERSCORE: "_", SymbolStyle.SLASH: "/"}
    return f"{base}{sep[style]}{quote}"


def canonical_symbol(raw: str, venue: str) -> str:
    """Parse a venue's spelling back into ``BASE/QUOTE``."""
    s = raw.upper().strip()
    for sep in ("/", "-", "_"):
        if sep in s:
            base, _, quote = s.partition(sep)
            return f"{base}/{quote}"
    for quote in _KNOWN_QUOTES:
        if s.endswith(quote) and len(s) > len(quote):
            return f"{s[: -len(quote)]}/{quote}"
    raise InvalidInput(f"{venue}: cannot tell base from quote in symbol {raw!r}")


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument on one venue.

    Attributes:
        symbol: canonical ``BASE/QUOTE``.
        venue: venue name (``binanceus``, ``coinbase``, ``oanda``, ``paper``…).
        asset_class: spot crypto or FX.
        tick_size: smallest price increment.
        lot_size: smallest quantity increment.
        min_quantity: smallest order quantity the venue accepts.
        min_notional: smallest order value (quote currency) the venue accepts.
        max_leverage: 1 for spot; the venue's margin allowance for FX.
        venue_symbol_override: the venue's own spelling when it is not the default style.
    """

    symbol: str
    venue: str
    asset_class: AssetClass
    tick_size: Decimal
    lot_size: Decimal
    min_quantity: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)
    max_leverage: Decimal = Decimal(1)
    venue_symbol_override: str | None = None

    def __post_init__(self) -> None:
        if "/" not in self.symbol:
            raise InvalidInput(f"instrument symbol {self.symbol!r} must be BASE/QUOTE")
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise InvalidInput(f"{self.id}: tick_size and lot_size must be > 0")

    @property
    def id(self) -> InstrumentId:
        """``SYMBOL@venue``."""
        return instrument_id(self.symbol, self.venue)

    @property
    def base(self) -> str:
        """Base currency (what is bought)."""
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        """Quote currency (what prices are in)."""
        return self.symbol.split("/")[1]

    @property
    def venue_symbol(self) -> str:
        """The venue's own spelling of the symbol."""
        return self.venue_symbol_override or venue_symbol(self.symbol, self.venue)

    def round_quantity(self, qty: Decimal) -> Quantity:
        """Round down to the lot size (never trade more than asked)."""
        return Quantity(round_to_step(qty, self.lot_size, "down"))

    def round_price(self, price: Decimal, mode: str = "nearest") -> Price:
        """Round to the tick size (``down``/``up`` to stay passive, ``nearest`` otherwise)."""
        return Price(round_to_step(price, self.tick_size, mode))

    def is_on_tick(self, price: Decimal) -> bool:
        """True when ``price`` is a multiple of the tick size."""
        return (price % self.tick_size) == 0

    def is_on_lot(self, qty: Decimal) -> bool:
        """True when ``qty`` is a multiple of the lot size."""
        return (qty % self.lot_size) == 0
