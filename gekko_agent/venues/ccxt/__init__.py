"""Venues reached through ccxt (coinbase, binanceus, any ccxt exchange id).

``import ccxt`` happens only inside this package; everything it returns is parsed into Gekko's
domain values and every ccxt exception is translated into :mod:`gekko_agent.errors` here.
"""

from gekko_agent.venues.ccxt.client import CcxtVenueConfig, build_exchange
from gekko_agent.venues.ccxt.paging import TradePaging
from gekko_agent.venues.ccxt.venue import CcxtVenue

__all__ = ["CcxtVenue", "CcxtVenueConfig", "TradePaging", "build_exchange"]
