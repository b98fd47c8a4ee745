"""Gekko's MCP server attached to a running engine (``gekko run`` with ``mcp.serve.beside_engine``).

Read tools answer from the live :class:`~gekko_agent.runtime.trader.Trader`. Trading tools (when
``enabled_trading``) only put proposals on the :class:`McpDesk`; the engine drains the desk and runs
each proposal through :meth:`Trader.propose` (risk engine, approval queue, journal: the one path every
order takes) and each cancel through :meth:`Trader.cancel` (risk-checked). Proposals carry the caller
as their strategy, ``mcp:<client name>``, and a client may cancel only its own orders.

A tool's answer says only what has happened: ``propose_orders`` answers *queued for the engine's next
step* with proposal ids, never "placed"; ``get_proposal`` tells later what risk decided (approved,
resized, denied with reasons), whether a person must approve it, and which order was sent to the
venue. Fills show in ``get_portfolio`` once the venue confirms them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections import OrderedDict, deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

import uvicorn
from pydantic import Field

from gekko_agent.agent.engine_context import BarHistory, TraderToolContext
from gekko_agent.domain import OrderIntent, new_id
from gekko_agent.errors import ConfigError, DataNotFound, GekkoError, HaltError, InvalidInput
from gekko_agent.mcp.server import build_server, http_app, server_registry
from gekko_agent.risk import Denied
from gekko_agent.risk.outcomes import outcome_name
from gekko_agent.tools.context import ToolContext
from gekko_agent.tools.orders import OrderRequest, build_intent
from gekko_agent.tools.registry import Tool, tool

if TYPE_CHECKING:
    from gekko_agent.mcp.config import McpServerConfig
    from gekko_agent.runtime.trader import Trader
    from gekko_agent.tools.research import ResearchService

__all__ = ["DeskToolContext", "McpAttachment", "McpDesk", "ProposalStatus", "desk_tools"]

State = Literal["queued", "denied", "awaiting_approval", "sent_to_venue", "cancel_sent", "failed"]
_KEEP = 1000  # statuses remembered for get_proposal
_MAX_QUEUED = 100  # proposals and cancels waiting for the engine at once


@dataclass(frozen=True, slots=True)
class ProposalStatus:
    """What became of one proposal or cancel an MCP client made.

    Attributes:
        proposal_id: the intent id (``cancel:<order id>`` for a cancel).
        caller: the strategy it carries, ``mcp:<client name>``.
        state: ``queued`` until the engine takes it; then ``denied``, ``awaiting_approval``
            (a person must approve), ``sent_to_venue`` (an order was submitted; not yet a fill),
            ``cancel_sent`` or ``failed``.
        risk_outcome: ``approved``, ``resized`` or ``denied`` once checked.
        quantity: the quantity risk allowed, once checked.
        reasons: risk's reasons (or the failure).
        explanation: risk's explanation.
        order_ids: orders the engine sent for it.
    """

    proposal_id: str
    caller: str
    state: State
    risk_outcome: str | None = None
    quantity: Decimal | None = None
    reasons: tuple[str, ...] = ()
    explanation: str = ""
    order_ids: tuple[str, ...] = ()


def caller_strategy(client_name: str) -> str:
    """``mcp:<client name>`` with only letters, digits, ``._-`` (at most 40 characters of name)."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", client_name).strip("-")[:40]
    return f"mcp:{clean or 'client'}"


class McpDesk:
    """Proposals and cancels from MCP clients, waiting for the engine, and what became of them.

    Args:
        trader: the running Trader.
        history: the bars the engine has seen (for ``get_bars``).
    """

    def __init__(self, trader: Trader, history: BarHistory) -> None:
        self.trader = trader
        self.history = history
        self._queue: deque[tuple[str, OrderIntent | str]] = deque()
        self._status: OrderedDict[str, ProposalStatus] = OrderedDict()
        self._contexts: dict[str, DeskToolContext] = {}
        self._wake = asyncio.Event()

    def context_for(self, client_name: str) -> DeskToolContext:
        """The tool view of one caller (proposals stamped ``mcp:<client name>``)."""
        strategy = caller_strategy(client_name)
        ctx = self._contexts.get(strategy)
        if ctx is None:
            ctx = self._contexts[strategy] = DeskToolContext(self, strategy)
        return ctx

    def _room(self, n: int) -> None:
        if len(self._queue) + n > _MAX_QUEUED:
            raise InvalidInput(f"{len(self._queue)} proposals already wait for the engine; try again later")

    def _remember(self, status: ProposalStatus) -> None:
        self._status[status.proposal_id] = status
        self._status.move_to_end(status.proposal_id)
        while len(self._status) > _KEEP:
            self._status.popitem(last=False)

    def put_intents(self, strategy: str, intents: Sequence[OrderIntent]) -> list[str]:
        """Queue intents for the engine's next step; returns their proposal ids."""
        self._room(len(intents))
        for intent in intents:
            self._queue.append((strategy, intent))
            self._remember(ProposalStatus(intent.intent_id, strategy, "queued"))
        self._wake.set()
        return [i.intent_id for i in intents]

    def put_cancel(self, strategy: str, order_id: str) -> str:
        """Queue a cancel of ``order_id``; returns its proposal id ``cancel:<order id>``."""
        self._room(1)
        self._queue.append((strategy, order_id))
        pid = f"cancel:{order_id}"
        self._remember(ProposalStatus(pid, strategy, "queued"))
        self._wake.set()
        return pid

    def status(self, proposal_id: str) -> ProposalStatus:
        """What became of ``proposal_id``.

        Raises:
            DataNotFound: no such proposal (or it is too old to be remembered).
        """
        found = self._status.get(proposal_id)
        if found is None:
            raise DataNotFound(f"no proposal {proposal_id!r} on this server")
        return found

    @property
    def pending(self) -> int:
        """Proposals and cancels waiting for the engine."""
        return len(self._queue)

    async def drain(self) -> int:
        """Run every queued proposal through the Trader's one path; returns how many were taken.

        Raises:
            HaltError: the engine must stop (e.g. the ledger cannot be written).
        """
        taken = 0
        while self._queue:
            strategy, item = self._queue.popleft()
            taken += 1
            if isinstance(item, str):
                await self._cancel(strategy, item)
            else:
                await self._propose(strategy, item)
        return taken

    async def _propose(self, strategy: str, intent: OrderIntent) -> None:
        trader, pid = self.trader, intent.intent_id
        before = set(trader.execution.orders)
        try:
            outcome = await trader.propose(intent)
        except HaltError as exc:
            self._remember(ProposalStatus(pid, strategy, "failed", reasons=(str(exc),)))
            raise
        except GekkoError as exc:
            self._remember(ProposalStatus(pid, strategy, "failed", reasons=(str(exc),)))
            return
        sent = tuple(
            cid
            for cid, o in trader.execution.orders.items()
            if cid not in before and o.intent.strategy == strategy
        )
        state: State = (
            "denied" if isinstance(outcome, Denied) else "sent_to_venue" if sent else "awaiting_approval"
        )
        allowed = Decimal(0) if isinstance(outcome, Denied) else outcome.intent.quantity
        self._remember(
            ProposalStatus(
                pid,
                strategy,
                state,
                outcome_name(outcome),
                allowed,
                tuple(str(r) for r in outcome.reasons),
                outcome.explanation,
                sent,
            )
        )

    async def _cancel(self, strategy: str, order_id: str) -> None:
        pid = f"cancel:{order_id}"
        try:
            result = await self.trader.cancel(order_id, strategy)
        except HaltError as exc:
            self._remember(ProposalStatus(pid, strategy, "failed", reasons=(str(exc),)))
            raise
        except GekkoError as exc:
            self._remember(ProposalStatus(pid, strategy, "failed", reasons=(str(exc),)))
            return
        decision = result.decision
        if decision.allowed:
            self._remember(ProposalStatus(pid, strategy, "cancel_sent", order_ids=(order_id,)))
        else:
            why = (str(decision.reason),) if decision.reason else ()
            self._remember(ProposalStatus(pid, strategy, "denied", "denied", None, why, decision.explanation))

    async def run(self, on_error: Callable[[BaseException], None]) -> None:
        """Drain whenever something is queued, until cancelled; a failure goes to ``on_error``."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.drain()
            except Exception as exc:  # reported (a HaltError stops the run); the desk keeps serving
                on_error(exc)

    def abandon(self, why: str) -> None:
        """Mark every queued proposal ``failed`` with ``why`` (the engine stopped before taking it)."""
        while self._queue:
            strategy, item = self._queue.popleft()
            pid = f"cancel:{item}" if isinstance(item, str) else item.intent_id
            self._remember(ProposalStatus(pid, strategy, "failed", reasons=(why,)))


class DeskToolContext(TraderToolContext):
    """One MCP caller's view of the running Trader; its actions go on the :class:`McpDesk`.

    Args:
        desk: the desk the engine drains.
        strategy: ``mcp:<client name>``.
    """

    def __init__(self, desk: McpDesk, strategy: str) -> None:
        super().__init__(desk.trader, desk.history, strategy=strategy)
        self.desk = desk

    def propose(self, intents: Sequence[OrderIntent]) -> list[str]:
        """Queue intents for the engine's next step; returns their proposal ids."""
        return self.desk.put_intents(self.strategy, intents)

    def cancel_own(self, order_id: str) -> bool:
        """Queue a cancel when ``order_id`` is one of this caller's open orders."""
        if not any(o.order_id == order_id for o in self.open_orders()):
            return False
        self.desk.put_cancel(self.strategy, order_id)
        return True


def _desk(ctx: ToolContext) -> DeskToolContext:
    if not isinstance(ctx, DeskToolContext):
        raise InvalidInput("this server is not attached to an engine")
    return ctx


_NOT_PLACED = "not placed: the risk engine and the approval policy decide at the engine's next step"


@tool(read_only=False, group="orders", name="propose_orders")
def propose_orders_to_engine(
    ctx: ToolContext, orders: Annotated[list[OrderRequest], Field(min_length=1, max_length=10)]
) -> dict[str, Any]:
    """Queue orders for Gekko's engine. At its next step the risk engine checks each one (it may resize or
    deny it) and the approval policy may hold it for a person. Nothing is placed or filled by this call:
    look each proposal id up with get_proposal.

    Args:
        orders: one to ten orders, each with a rationale and a confidence.
    """
    view = _desk(ctx)
    intents = [
        build_intent(o, strategy=view.strategy, now=view.now, decision_id=new_id("mcp")) for o in orders
    ]
    ids = view.propose(intents)
    return {"status": "queued", "proposal_ids": ids, "note": _NOT_PLACED, "look_up_with": "get_proposal"}


@tool(read_only=False, group="orders", name="cancel_order")
def cancel_order_via_engine(ctx: ToolContext, order_id: str) -> dict[str, Any]:
    """Queue a cancel of one of your own open orders; the engine risk-checks and sends it at its next
    step (look it up with get_proposal as cancel:<order_id>; the venue confirms later).

    Args:
        order_id: the order's id as list_open_orders shows it.
    """
    if not _desk(ctx).cancel_own(order_id):
        raise DataNotFound(f"{order_id!r} is not one of your open orders (see list_open_orders)")
    return {"status": "queued", "proposal_id": f"cancel:{order_id}", "look_up_with": "get_proposal"}


@tool(group="orders")
def get_proposal(ctx: ToolContext, proposal_id: str) -> dict[str, Any]:
    """What became of a proposal or cancel you queued: still queued, denied or resized by risk (with
    reasons), awaiting a person's approval, or sent to the venue (not yet a fill).

    Args:
        proposal_id: an id propose_orders or cancel_order returned.
    """
    s = _desk(ctx).desk.status(proposal_id)
    return {
        "proposal_id": s.proposal_id,
        "proposer": s.caller,
        "state": s.state,
        "risk_outcome": s.risk_outcome,
        "quantity": s.quantity,
        "reasons": list(s.reasons),
        "explanation": s.explanation,
        "order_ids": list(s.order_ids),
    }


def desk_tools() -> tuple[Tool, ...]:
    """The attached server's order tools (they replace the registry's propose/cancel)."""
    return (propose_orders_to_engine, cancel_order_via_engine, get_proposal)


class _EngineUvicorn(uvicorn.Server):
    """uvicorn that leaves SIGTERM/SIGINT to the engine's scheduler (which stops it)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class McpAttachment:
    """Gekko's MCP server over HTTP beside a running engine, and the desk the engine drains.

    Args:
        trader: the running Trader.
        config: ``mcp.serve`` (host, port, path, trading tools).
        token: the bearer token clients must send.
        history: bars the engine has seen (fed by the engine).
        research: the research service, when agent.yaml lists news sources.
    """

    def __init__(
        self,
        trader: Trader,
        config: McpServerConfig,
        token: str,
        *,
        history: BarHistory | None = None,
        research: ResearchService | None = None,
    ) -> None:
        self.config = config
        self.history = history if history is not None else BarHistory()
        self.desk = McpDesk(trader, self.history)
        registry = server_registry(research)
        if config.enabled_trading:
            for t in desk_tools():
                registry.add(t, replace=True)
        server = build_server(
            registry,
            lambda: self.desk.context_for("client"),
            enable_trading=config.enabled_trading,
            caller_context=self.desk.context_for,
        )
        self._app = http_app(server, config, token)
        self._uvicorn: _EngineUvicorn | None = None
        self._serving: asyncio.Task[None] | None = None
        self._draining: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The MCP endpoint."""
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.config.port}{self.config.path}"

    async def start(self, on_error: Callable[[BaseException], None]) -> None:
        """Bind the port, serve HTTP and drain the desk (failures of the drain go to ``on_error``).

        Raises:
            ConfigError: the port cannot be bound.
        """
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.config.host, self.config.port))
        except OSError as exc:
            sock.close()
            raise ConfigError("agent.yaml", "mcp.serve.port", f"cannot bind: {exc}") from None
        sock.set_inheritable(True)
        uv_config = uvicorn.Config(self._app, log_level="warning", lifespan="on")
        self._uvicorn = _EngineUvicorn(uv_config)
        self._serving = asyncio.create_task(self._uvicorn.serve(sockets=[sock]))
        self._draining = asyncio.create_task(self.desk.run(on_error))
        while not self._uvicorn.started and not self._serving.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.01)
        if self._serving.done():
            await self.stop()
            raise ConfigError("agent.yaml", "mcp.serve", "the MCP HTTP server did not start")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop serving; proposals still queued are marked failed (the engine stopped)."""
        if self._draining is not None:
            self._draining.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._draining
            self._draining = None
        serving, self._serving = self._serving, None
        if serving is not None and self._uvicorn is not None:
            self._uvicorn.should_exit = True
            _done, pending = await asyncio.wait([serving], timeout=grace)
            if pending:
                self._uvicorn.force_exit = True
                await asyncio.wait([serving], timeout=grace)
            if not serving.done():
                serving.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await serving
        self.desk.abandon("the engine stopped before taking it")
