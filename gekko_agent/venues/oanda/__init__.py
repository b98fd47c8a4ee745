"""The OANDA v20 venue (oandapyV20 over REST): FX on margin, units signed by side.

Only this package imports ``oandapyV20``; everything leaving it is a domain value or an error
from :mod:`gekko_agent.errors`.
"""

from gekko_agent.venues.oanda.client import OandaClient, OandaConfig, OandaRequestError
from gekko_agent.venues.oanda.venue import OandaVenue

__all__ = ["OandaClient", "OandaConfig", "OandaRequestError", "OandaVenue"]
