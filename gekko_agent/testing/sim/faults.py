"""Fault injection for the wire-protocol simulators.

A :class:`FaultPlan` is parsed from a SPEC string (``gekko venue-sim --faults SPEC``)::

    latency=50ms,429=0.05,5xx=0.02,drop_after_accept=0.05,partial=0.3,reject=0.01,seed=7

and a :class:`FaultInjector` draws from it with its own seeded generator, so the same requests
in the same order meet the same faults. Faults act at two points:

* **every request** (:class:`FaultMiddleware`): ``latency`` delays the answer; ``429`` answers
  ``429 Too Many Requests`` with a ``Retry-After`` header; ``5xx`` answers ``503``. Nothing is
  done in the engine, so a retry is always safe.
* **order placement** (:meth:`FaultInjector.order_fault`, called by each protocol's create-order
  route): ``reject`` refuses the order with the venue's own error; ``partial`` fills only part of
  a marketable order now, the rest on the next request; ``drop_after_accept`` places the order in
  the engine and then never answers (the connection stays silent until the client gives up), the
  case that tempts a client to submit twice.

For deterministic tests a request may name its faults in the ``X-Gekko-Fault`` header
(``429``, ``5xx``, ``drop_after_accept``, ``partial``, ``reject``, ``latency=20ms``; comma
separated), and in-process tests may queue faults with :meth:`FaultInjector.script`.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from gekko_agent.errors import InvalidInput

__all__ = [
    "FAULT_HEADER",
    "ASGIApp",
    "Fault",
    "FaultInjector",
    "FaultMiddleware",
    "FaultPlan",
    "hold_until_disconnect",
]

FAULT_HEADER = "x-gekko-fault"
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
    "drop": "drop_after_accept",
    "partial": "partial",
    "reject": "reject",
    "seed": "seed",
    "retry_after": "retry_after_s",
}


class Fault(StrEnum):
    """One injected fault."""

    RATE_LIMIT = "429"
    SERVER_ERROR = "5xx"
    DROP_AFTER_ACCEPT = "drop_after_accept"
    PARTIAL = "partial"
    REJECT = "reject"


_ORDER_FAULTS = (Fault.DROP_AFTER_ACCEPT, Fault.PARTIAL, Fault.REJECT)
_REQUEST_FAULTS = (Fault.RATE_LIMIT, Fault.SERVER_ERROR)


def _ms(raw: str) -> int:
    text = raw.strip().lower()
    scale = 1000 if text.endswith("s") and not text.endswith("ms") else 1
    value = int(float(text.removesuffix("ms").removesuffix("s")) * scale)
    if value < 0:
        raise InvalidInput(f"fault latency {raw!r} must be >= 0")
    return value


def _rate(key: str, raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(f"fault {key}={raw}: a probability must be within 0..1")
    return value


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """How often each fault happens.

    Attributes:
        latency_ms: delay added to every answer.
        rate_limit: probability that a request is answered 429 (with ``Retry-After``).
        server_error: probability that a request is answered 503.
        drop_after_accept: probability that an order is placed and its answer never sent.
        partial: probability that a marketable order fills only partly at first.
        reject: probability that an order is refused by the venue.
        seed: seed of the injector's generator.
        retry_after_s: the ``Retry-After`` value sent with a 429, in seconds.
    """

    latency_ms: int = 0
    rate_limit: float = 0.0
    server_error: float = 0.0
    drop_after_accept: float = 0.0
    partial: float = 0.0
    reject: float = 0.0
    seed: int = 0
    retry_after_s: int = 1

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
                if name == "latency_ms":
                    values[name] = _ms(raw)
                elif name in ("seed", "retry_after_s"):
                    values[name] = int(raw)
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
        """Faults and latency (ms) named in an ``X-Gekko-Fault`` header value."""
        raw = str(headers.get(FAULT_HEADER, "") or "")
        named: set[Fault] = set()
        latency: int | None = None
        for part in raw.split(","):
            item = part.strip().lower()
            if item.startswith("latency="):
                latency = _ms(item.partition("=")[2])
            elif item in ("500", "502", "503", "504"):
                named.add(Fault.SERVER_ERROR)
            elif item in ("drop", "timeout"):
                named.add(Fault.DROP_AFTER_ACCEPT)
            elif item in {f.value for f in Fault}:
                named.add(Fault(item))
        return named, latency

    def _draw(self, kinds: tuple[Fault, ...], named: set[Fault]) -> Fault | None:
        for kind in kinds:
            if kind in named:
                return self._record(kind)
        scripted = self._take_scripted(kinds)
        if scripted is not None:
            return self._record(scripted)
        for kind in kinds:
            if self._rng.random() < self._probability(kind):
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
        }[fault]

    def request_fault(self, headers: Any) -> tuple[Fault | None, int]:
        """The fault (429 or 5xx, or None) and the latency in ms for any request."""
        named, latency = self.header_faults(headers)
        return self._draw(_REQUEST_FAULTS, named), self.plan.latency_ms if latency is None else latency

    def order_fault(self, headers: Any) -> Fault | None:
        """The fault (drop, partial, reject, or None) for a request that places an order."""
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


class FaultMiddleware:
    """ASGI middleware applying latency, 429 and 5xx before the wrapped app sees a request.

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
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        fault, latency = self.injector.request_fault(headers)
        if latency:
            await asyncio.sleep(latency / 1000)
        if fault is None:
            await self.app(scope, receive, send)
            return
        status, body = self._bodies[fault]
        out = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if fault is Fault.RATE_LIMIT:
            out.append((b"retry-after", str(self.injector.plan.retry_after_s).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})
