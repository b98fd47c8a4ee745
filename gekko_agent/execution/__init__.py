"""Execution: the ports the execution engine trades through (the ``Venue`` protocol and its values)."""

from gekko_agent.execution.ports import (
    BookLevel,
    FillBatch,
    OrderBook,
    OrderRequest,
    Quote,
    RejectReason,
    Venue,
    VenueAck,
    VenueCapabilities,
    VenueOrder,
    VenuePosition,
)

__all__ = [
    "BookLevel",
    "FillBatch",
    "OrderBook",
    "OrderRequest",
    "Quote",
    "RejectReason",
    "Venue",
    "VenueAck",
    "VenueCapabilities",
    "VenueOrder",
    "VenuePosition",
]
