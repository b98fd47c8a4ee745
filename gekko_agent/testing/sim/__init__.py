"""Loopback simulators speaking real venue wire protocols over the paper matching engine.

``gekko venue-sim`` serves one from the command line; tests use :func:`running_simulator`::

    with running_simulator("binance", FaultPlan.parse("429=0.1,seed=7")) as sim:
        venue = CcxtVenue(CcxtVenueConfig("binanceus", base_url=sim.url, ...), clock)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gekko_agent.testing.sim.exchange import SimExchange
from gekko_agent.testing.sim.faults import ASGIApp, Fault, FaultInjector, FaultMiddleware, FaultPlan
from gekko_agent.testing.sim.server import PROTOCOLS, SimServer, load_protocol
from gekko_agent.venues.paper import PaperVenue

__all__ = [
    "PROTOCOLS",
    "Fault",
    "FaultInjector",
    "FaultPlan",
    "RunningSimulator",
    "SimExchange",
    "SimServer",
    "load_protocol",
    "running_simulator",
]


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    """A simulator serving on loopback.

    Attributes:
        url: base URL (``http://127.0.0.1:PORT``).
        venue: the paper venue behind it (the venue side's truth).
        injector: its fault injector (script faults, read what was injected).
        app: the ASGI app being served.
        exchange: the simulated exchange (counts order placements per client id), when exposed.
    """

    url: str
    venue: PaperVenue
    injector: FaultInjector
    app: ASGIApp
    exchange: SimExchange | None = None


@contextmanager
def running_simulator(
    protocol: str, faults: FaultPlan | None = None, venue: PaperVenue | None = None, port: int = 0
) -> Iterator[RunningSimulator]:
    """Serve ``protocol`` over ``venue`` (its default venue when None) until the block ends."""
    plan = faults or FaultPlan()
    module = load_protocol(protocol)
    paper = venue if venue is not None else module.default_venue(plan.seed)
    app = module.create_app(paper, plan)
    injector = app.injector if isinstance(app, FaultMiddleware) else FaultInjector(plan)
    inner = app.app if isinstance(app, FaultMiddleware) else None
    exchange = getattr(getattr(inner, "state", None), "exchange", None)
    with SimServer(app, port) as url:
        yield RunningSimulator(
            url, paper, injector, app, exchange if isinstance(exchange, SimExchange) else None
        )
