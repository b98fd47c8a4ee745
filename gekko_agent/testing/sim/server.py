"""Loopback HTTP harness shared by the wire-protocol simulators, and the protocol interface.

Each protocol lives in ``gekko_agent.testing.sim.<protocol>`` (``binance``, ``coinbase``,
``oanda``) and exports:

* ``NAME: str`` — the venue name its instruments carry (``binanceus``, ``coinbase``, ``oanda``);
* ``default_venue(seed: int = 0) -> PaperVenue`` — a paper venue with the protocol's usual
  instruments, balances and standing quotes (build it with :func:`market_venue`);
* ``create_app(venue: PaperVenue, faults: FaultPlan) -> ASGIApp`` — an ASGI app speaking the
  venue's REST format over ``venue``, with the faults of ``faults`` applied (wrap it in
  :class:`~gekko_agent.testing.sim.faults.FaultMiddleware`; call
  :meth:`~gekko_agent.testing.sim.faults.FaultInjector.order_fault` in the create-order route).

:class:`SimServer` runs any such app with uvicorn on ``127.0.0.1`` in a background thread (port 0
picks a free port) and returns the base URL; tests use it as a context manager and the
``gekko venue-sim`` command serves with it until Ctrl-C. The paper venue is only touched from the
server's event loop, so requests never interleave inside the engine.
"""

from __future__ import annotations

import importlib
import socket
import threading
import time
from collections.abc import Mapping
from decimal import Decimal
from types import ModuleType, TracebackType
from typing import Protocol, cast

import uvicorn

from gekko_agent.domain.clock import LiveClock
from gekko_agent.domain.instruments import Instrument
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.errors import InvalidInput
from gekko_agent.execution.ports import Quote
from gekko_agent.testing.sim.faults import ASGIApp, FaultPlan
from gekko_agent.venues.paper import (
    BookDepth,
    FeeSchedule,
    FillModel,
    NoSlippage,
    PaperVenue,
    PaperVenueConfig,
)

__all__ = ["PROTOCOLS", "SimProtocol", "SimServer", "load_protocol", "market_venue", "standing_quote"]

PROTOCOLS = ("binance", "coinbase", "oanda")
_TOUCH_SIZE = Decimal(1000)


class SimProtocol(Protocol):
    """What a simulator module exports (see the module docstring)."""

    NAME: str

    def default_venue(self, seed: int = 0) -> PaperVenue:
        """A paper venue with the protocol's instruments, balances and standing quotes."""
        ...

    def create_app(self, venue: PaperVenue, faults: FaultPlan) -> ASGIApp:
        """The ASGI app speaking the protocol over ``venue``."""
        ...


def load_protocol(name: str) -> SimProtocol:
    """Import ``gekko_agent.testing.sim.<name>``; InvalidInput for an unknown protocol."""
    if name not in PROTOCOLS:
        raise InvalidInput(f"unknown simulator protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    try:
        module: ModuleType = importlib.import_module(f"gekko_agent.testing.sim.{name}")
    except ModuleNotFoundError as exc:
        raise InvalidInput(f"simulator protocol {name!r} is not installed: {exc}") from None
    return cast(SimProtocol, module)


def standing_quote(inst: Instrument, mid: Decimal, spread_bps: Decimal = Decimal(2)) -> Quote:
    """A quote around ``mid``, on the tick, with deep size at the touch."""
    half = mid * spread_bps / Decimal(20_000)
    bid = inst.round_price(mid - half, "down")
    ask = inst.round_price(mid + half, "up")
    if ask <= bid:
        ask = Price(bid + inst.tick_size)
    size = Quantity(_TOUCH_SIZE)
    return Quote(inst.id, bid, ask, Price((bid + ask) / 2), LiveClock().now(), size, size)


def market_venue(
    name: str,
    instruments: tuple[Instrument, ...],
    balances: Mapping[str, Decimal],
    mids: Mapping[str, Decimal],
    seed: int = 0,
    fees: FeeSchedule | None = None,
) -> PaperVenue:
    """A live-clocked paper venue whose instruments have standing quotes, so market orders fill.

    The book is one level deep: the touch holds the quote's size, so a thin quote (used by the
    ``partial`` fault) fills a marketable order only partly and the rest keeps working.

    Args:
        name: venue name (instruments must carry it).
        instruments: what can be traded.
        balances: starting balance per currency.
        mids: mid price per instrument id.
        seed: the venue's seed.
        fees: maker/taker fees (default 10 bps taker, 5 bps maker).
    """
    config = PaperVenueConfig(
        name=name,
        instruments=instruments,
        balances=dict(balances),
        fees=fees or FeeSchedule(maker_bps=Decimal(5), taker_bps=Decimal(10)),
        slippage=NoSlippage(),
        fill_model=FillModel(depth=BookDepth(levels=1, level_quantity=_TOUCH_SIZE, step_bps=Decimal(0))),
        seed=seed,
    )
    venue = PaperVenue(config, LiveClock())
    for inst in instruments:
        if inst.id in mids:
            venue.on_quote(standing_quote(inst, mids[inst.id]))
    return venue


class SimServer:
    """Serves an ASGI app on loopback from a background thread.

    Args:
        app: the simulator's ASGI app.
        port: TCP port (0 picks a free one).
        host: interface; loopback by default.

    Example::

        with SimServer(binance.create_app(venue, FaultPlan())) as url:
            ...  # point a client at url
    """

    def __init__(self, app: ASGIApp, port: int = 0, host: str = "127.0.0.1") -> None:
        if not 0 <= port <= 65_535:  # the socket layer would silently take it modulo 65536
            raise InvalidInput(f"venue simulator port {port}: a TCP port is 0..65535")
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._host = host
        self._port = port
        self.base_url = ""

    def _listen(self) -> socket.socket:
        """Bind the listening socket here, so a port in use or a bad host is a one-line InvalidInput."""
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                self._host, self._port, type=socket.SOCK_STREAM
            )[0]
            sock = socket.socket(family, kind, proto)
        except (OSError, UnicodeError) as exc:
            raise InvalidInput(f"venue simulator cannot listen on {self._host}:{self._port}: {exc}") from None
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
        except OSError as exc:
            sock.close()
            reason = exc.strerror or str(exc)
            raise InvalidInput(
                f"venue simulator cannot listen on {self._host}:{self._port}: {reason}"
            ) from None
        return sock

    def start(self, timeout_s: float = 10.0) -> str:
        """Start serving and return the base URL (``http://127.0.0.1:PORT``).

        Raises:
            InvalidInput: the port is taken or the host cannot be bound, or the server did not start.
        """
        sock = self._listen()
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="gekko-venue-sim", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise InvalidInput(f"venue simulator failed to start on {self._host}")
            time.sleep(0.01)
        port = sock.getsockname()[1]
        self.base_url = f"http://{self._host}:{port}"
        return self.base_url

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop serving and wait for the thread; safe to call twice."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    @property
    def running(self) -> bool:
        """True while the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self) -> None:
        """Block until the server stops (the CLI serves with this until Ctrl-C)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
