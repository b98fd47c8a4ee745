"""Venue adapters implementing :class:`gekko_agent.execution.ports.Venue`: the paper venue here,
live adapters (ccxt, OANDA) in their own subpackages. Mode picks the venue at the root; nothing
branches on a venue's name."""

from gekko_agent.venues.paper import PaperVenue, PaperVenueConfig

__all__ = ["PaperVenue", "PaperVenueConfig"]
