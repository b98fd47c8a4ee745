"""The paper venue: an in-process matching engine with fees, slippage, partial fills and latency.

Used by backtests (fed bars on a SimClock) and paper mode (fed live quotes on a LiveClock).
"""

from gekko_agent.venues.paper.account import PaperAccount
from gekko_agent.venues.paper.book import BookDepth, MarketState
from gekko_agent.venues.paper.costs import (
    FeeSchedule,
    FixedBpsSlippage,
    NoSlippage,
    SlippageModel,
    VolumeShareSlippage,
)
from gekko_agent.venues.paper.matching import FillModel, MatchingEngine, Settlement
from gekko_agent.venues.paper.orders import WorkingOrder
from gekko_agent.venues.paper.venue import PaperVenue, PaperVenueConfig, derive_session

__all__ = [
    "BookDepth",
    "FeeSchedule",
    "FillModel",
    "FixedBpsSlippage",
    "MarketState",
    "MatchingEngine",
    "NoSlippage",
    "PaperAccount",
    "PaperVenue",
    "PaperVenueConfig",
    "Settlement",
    "SlippageModel",
    "VolumeShareSlippage",
    "WorkingOrder",
    "derive_session",
]
