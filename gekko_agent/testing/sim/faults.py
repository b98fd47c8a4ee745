"""Fault injection for the wire-protocol simulators.

A :class:`FaultPlan` is parsed from a SPEC string (``gekko venue-sim --faults SPEC``)::

    latency=50ms,429=0.05,5xx=0.02,drop=0.01,drop_after_accept=0.05,drop_accepted=0.02,
    partial=0.3,reject=0.01,skew=-1500ms,seed=7

and a :class:`FaultInjector` draws from it with its own seeded generator, so the same requests
in the same order meet the same faults. Faults act at three points:

* **every request** (:class:`FaultMiddleware`): ``latency`` delays the answer; ``429`` answers
  ``429 Too Many Requests`` with a ``Retry-After`` header; ``5xx`` answers ``503``; ``drop``
  resets the TCP connection (RST) without any answer. Nothing is done in the engine, so a retry
  is always safe.
* **order placement** (:meth:`FaultInjector.order_fault`, called by each protocol's create-order
  route): ``reject`` refuses the order with the venue's own error; ``partial`` fills only part of
  a marketable order now, the rest on the next request; ``drop_after_accept`` (alias
  ``timeout_after_accept``) places the order in the engine and then never answers (the connection
  stays silent until the client's timeout); ``drop_accepted`` places the order and at once resets
  the connection without an answer. The last two are the cases that tempt a client to submit twice.
* **the venue's clock**: ``skew`` (milliseconds, may be negative) sets the venue's clock that far
  from the real one. Protocols that sign requests with a time check it against the skewed clock
  as the real venue does (Binance: ``timestamp`` outside ``recvWindow`` or over 1 s ahead is
  ``-1021``; Coinbase: JWT ``nbf``/``exp`` and the HMAC timestamp), and the venue's own times
  (server time, order, fill and transaction times where the protocol builds them) are shifted.

For deterministic tests a request may name its faults in the ``X-Gekko-Fault`` header
(``429``, ``5xx``, ``drop`` or ``reset``, ``drop_after_accept`` or ``timeout``, ``drop_accepted``,
``partial``, ``reject``, ``latency=20ms``, ``skew=-2s``; comma separated), and in-process tests
may queue faults with :meth:`FaultInjector.script`.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from starlette.responses import Response

from gekko_agent.errors import InvalidInput

__all__ = [
    "FAULT_HEADER",
    "ASGIApp",
    "DroppedAnswer",
    "Fault",
    "FaultInjector",
    "FaultMiddleware",
    "FaultPlan",
    "hold_until_disconnect",
    "reset_connection",
]

FAULT_HEADER = "x-gekko-fault"
RAW_SEND = "gekko.sim.raw_send"  # scope key: the server's own ``send``, set by FaultMiddleware
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_KEYS = {
    "latency": "latency_ms",
    "429": "rate_limit",
    "5xx": "server_error",
    "drop_after_accept": "drop_after_accept",
    "timeout_after_accept": "drop_after_accept",
    "drop": "drop",
    "drop_accepted": "drop_accepted",
    "partial": "partial",
    "reject": "reject",
    "seed": "seed",
    "retry_after": "retry_after_s",
    "skew": "skew_ms",
}
_MAX_SKEW_MS = 7 * 86_400_000  # a week: beyond it a "skew" is a typo, not a clock


class Fault(StrEnum):
    """One injected fault."""

    RATE_LIMIT = "429"
    SERVER_ERROR = "5xx"
    DROP_AFTER_ACCEPT = "drop_after_accept"
    PARTIAL = "partial"
    REJECT = "reject"
    DROP = "drop"
    DROP_ACCEPTED = "drop_accepted"


# Drawn in this order; the kinds added later come last and draw only when their probability is set,
# so a seeded plan without them meets the same faults as before they existed.
_ORDER_FAULTS = (Fault.DROP_AFTER_ACCEPT, Fault.PARTIAL, Fault.REJECT, Fault.DROP_ACCEPTED)
_REQUEST_FAULTS = (Fault.RATE_LIMIT, Fault.SERVER_ERROR, Fault.DROP)
_OPTIONAL = frozenset({Fault.DROP, Fault.DROP_ACCEPTED})
_HEADER_ALIASES = {
    "500": Fault.SERVER_ERROR,
    "502": Fault.SERVER_ERROR,
    "503": Fault.SERVER_ERROR,
    "504": Fault.SERVER_ERROR,
    "reset": Fault.DROP,
    "timeout": Fault.DROP_AFTER_ACCEPT,
    "timeout_after_accept": Fault.DROP_AFTER_ACCEPT,
}


def _ms(raw: str, signed: bool = False) -> int:
    """``50ms``, ``2s``, ``-1.5s``, ``300`` (ms) as milliseconds; ValueError when not a number."""
    text = raw.strip().lower()
    scale = 1000 if text.endswith("s") and not text.endswith("ms") else 1
    number = float(text.removesuffix("ms").removesuffix("s"))
    if number != number or abs(number * scale) > _MAX_SKEW_MS:  # NaN, inf, absurd
        raise InvalidInput(f"fault time {raw!r} must be a finite number of ms within a week")
    value = int(number * scale)
    if value < 0 and not signed:
        raise InvalidInput(f"fault latency {raw!r} must be >= 0")
    return value


def _rate(key: str, raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(f"fault {key}={raw}: a probability must be within 0..1")
    return value


def _header_ms(raw: str, signed: bool) -> int | None:
    try:
        return _ms(raw, signed)
    except (ValueError, InvalidInput):
        return None


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """How often each fault happens.

    Attributes:
        latency_ms: delay added to every answer.
        rate_limit: probability that a request is answered 429 (with ``Retry-After``).
        server_error: probability that a request is answered 503.
        drop_after_accept: probability that an order is placed and its answer never sent (the
            connection stays open and silent until the client times out).
        partial: probability that a marketable order fills only partly at first.
        reject: probability that an order is refused by the venue.
        seed: seed of the injector's generator.
        retry_after_s: the ``Retry-After`` value sent with a 429, in seconds.
        drop: probability that a request's TCP connection is reset before the venue sees it.
        drop_accepted: probability that an order is placed and the connection then reset at once,
            without an answer.
        skew_ms: how far the venue's clock is from the real one, in ms (negative: behind).
    """

    latency_ms: int = 0
    rate_limit: float = 0.0
    server_error: float = 0.0
    drop_after_accept: float = 0.0
    partial: float = 0.0
    reject: float = 0.0
    seed: int = 0
    retry_after_s: int = 1
    drop: float = 0.0
    drop_accepted: float = 0.0
    skew_ms: int = 0

    @classmethod
    def parse(cls, spec: str | None, seed: int | None = None) -> FaultPlan:
        """Parse ``key=value,...``; an explicit ``seed`` wins over the spec's. Raises InvalidInput."""
        values: dict[str, Any] = {}
        for part in (spec or "").split(","):
            if not part.strip():
                continue
            key, sep, raw = part.partition("=")
            name = _KEYS.get(key.strip().lower())
            if not sep or name is None:
                known = ", ".join(sorted(_KEYS))
                raise InvalidInput(
                    f"fault spec item {part.strip()!r}: expected key=value with key in {known}"
                )
            try:
                if name in ("latency_ms", "skew_ms"):
                    values[name] = _ms(raw, signed=name == "skew_ms")
                elif name in ("seed", "retry_after_s"):
                    values[name] = int(raw)
                    if name == "retry_after_s" and values[name] < 0:
                        raise InvalidInput(f"fault spec item {part.strip()!r}: must be >= 0")
                else:
                    values[name] = _rate(key, raw)
            except ValueError:
                raise InvalidInput(f"fault spec item {part.strip()!r}: {raw!r} is not a number") from None
        if seed is not None:
            values["seed"] = seed
        return cls(**values)

    def describe(self) -> str:
        """The plan as a SPEC string (only the non-default items)."""
        default = FaultPlan()
        items = [
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return ",".join(items) or "none"


class FaultInjector:
    """Draws faults for requests from a :class:`FaultPlan`, a header, or a script.

    Args:
        plan: the probabilities and the seed.
    """

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self.plan = plan or FaultPlan()
        self._rng = random.Random(self.plan.seed)
        self._scripted: deque[Fault] = deque()
        self.injected: list[Fault] = []

    def script(self, *faults: Fault) -> None:
        """Queue faults for the next requests they apply to (request faults first come, first used)."""
        self._scripted.extend(faults)

    def _take_scripted(self, kinds: tuple[Fault, ...]) -> Fault | None:
        for fault in self._scripted:
            if fault in kinds:
                self._scripted.remove(fault)
                return fault
        return None

    @staticmethod
    def header_faults(headers: MutableMapping[str, str] | Any) -> tuple[set[Fault], int | None]:
        """Faults and latency (ms) named in an ``X-Gekko-Fault`` header value (junk is ignored)."""
        raw = str(headers.get(FAULT_HEADER, "") or "")
        named: set[Fault] = set()
        latency: int | None = None
        for part in raw.split(","):
            item = part.strip().lower()
            if item.startswith("latency="):
                latency = _header_ms(item.partition("=")[2], signed=False)
            elif item in _HEADER_ALIASES:
                named.add(_HEADER_ALIASES[item])
            elif item in {f.value for f in Fault}:
                named.add(Fault(item))
        return named, latency

    def skew_ms(self, headers: MutableMapping[str, str] | Any = None) -> int:
        """The venue clock's offset for a request: ``skew=`` in its header, else the plan's."""
        raw = str((headers or {}).get(FAULT_HEADER, "") or "")
        for part in raw.split(","):
            key, _, value = part.strip().lower().partition("=")
            if key == "skew" and (parsed := _header_ms(value, signed=True)) is not None:
                return parsed
        return self.plan.skew_ms

    def _draw(self, kinds: tuple[Fault, ...], named: set[Fault]) -> Fault | None:
        for kind in kinds:
            if kind in named:
                return self._record(kind)
        scripted = self._take_scripted(kinds)
        if scripted is not None:
            return self._record(scripted)
        for kind in kinds:
            chance = self._probability(kind)
            if kind in _OPTIONAL and not chance:
                continue
            if self._rng.random() < chance:
                return self._record(kind)
        return None

    def _record(self, fault: Fault) -> Fault:
        self.injected.append(fault)
        return fault

    def _probability(self, fault: Fault) -> float:
        plan = self.plan
        return {
            Fault.RATE_LIMIT: plan.rate_limit,
            Fault.SERVER_ERROR: plan.server_error,
            Fault.DROP_AFTER_ACCEPT: plan.drop_after_accept,
            Fault.PARTIAL: plan.partial,
            Fault.REJECT: plan.reject,
            Fault.DROP: plan.drop,
            Fault.DROP_ACCEPTED: plan.drop_accepted,
        }[fault]

    def request_fault(self, headers: Any) -> tuple[Fault | None, int]:
        """The fault (429, 5xx, drop, or None) and the latency in ms for any request."""
        named, latency = self.header_faults(headers)
        return self._draw(_REQUEST_FAULTS, named), self.plan.latency_ms if latency is None else latency

    def order_fault(self, headers: Any) -> Fault | None:
        """The fault (drop after accept, drop accepted, partial, reject, or None) for an order."""
        named, _ = self.header_faults(headers)
        return self._draw(_ORDER_FAULTS, named)


async def hold_until_disconnect(receive: Receive, limit_s: float = 30.0) -> None:
    """Wait, answering nothing, until the client closes the connection (or ``limit_s`` passes)."""

    async def wait() -> None:
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                return

    try:
        await asyncio.wait_for(wait(), limit_s)
    except TimeoutError:
        return


async def reset_connection(send: Send) -> None:
    """Reset the request's TCP connection (RST) without answering anything.

    Works under uvicorn's h11 server (which :class:`~gekko_agent.testing.sim.server.SimServer`
    uses): ``send`` is bound to the request cycle that holds the transport. Elsewhere it falls
    back to an answer cut short (headers promising a body that never comes), which the client
    also sees as a broken connection.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        head = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise ConnectionResetError("connection dropped by an injected fault")
    sock = transport.get_extra_info("socket")
    if sock is not None:  # linger 0: close with RST, as a crashed proxy or a load balancer does
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    for _ in range(3):  # let the server see the connection lost, so it does not answer 500 itself
        await asyncio.sleep(0)
    if cycle is not None and hasattr(cycle, "disconnected"):
        cycle.disconnected = True


class DroppedAnswer(Response):
    """What a route returns to reset the connection instead of answering (``drop_accepted``).

    The app's middleware wraps ``send``; the server's own one, which holds the connection, is in
    the scope under :data:`RAW_SEND` (put there by :class:`FaultMiddleware`).
    """

    def __init__(self) -> None:
        super().__init__(status_code=502)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Reset the connection; nothing is sent."""
        await reset_connection(scope.get(RAW_SEND, send))


class FaultMiddleware:
    """ASGI middleware applying latency, 429, 5xx and drop before the wrapped app sees a request.

    Args:
        app: the protocol's ASGI app.
        injector: where the faults come from.
        rate_limit_body: the JSON body of a 429 in the venue's own error format.
        server_error_body: the JSON body of a 503.
    """

    def __init__(
        self,
        app: ASGIApp,
        injector: FaultInjector,
        rate_limit_body: bytes = b'{"message":"Too many requests"}',
        server_error_body: bytes = b'{"message":"Service unavailable"}',
    ) -> None:
        self.app = app
        self.injector = injector
        self._bodies = {
            Fault.RATE_LIMIT: (429, rate_limit_body),
            Fault.SERVER_ERROR: (503, server_error_body),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Delay, maybe answer with a fault, else pass the request on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[RAW_SEND] = send
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        fault, latency = self.injector.request_fault(headers)
        if latency:
            await asyncio.sleep(latency / 1000)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault is Fault.DROP:
            await reset_connection(send)
            return
        status, body = self._bodies[fault]
        out = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if fault is Fault.RATE_LIMIT:
            out.append((b"retry-after", str(self.injector.plan.retry_after_s).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})
