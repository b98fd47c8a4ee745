"""What the dashboard shows: one immutable :class:`Snapshot` of a running Gekko, and where it comes from.

The dashboard never reaches into the engine. A :class:`DashboardSource` built at the composition root
(:mod:`gekko_agent.runtime.dashboard` for an engine in this process, :mod:`.ledger_source` for a
ledger another process writes) turns the engine's read-mostly views into a :class:`Snapshot`; actions
go through the ops :class:`~gekko_agent.ops.CommandService` like every other transport. Snapshots are
plain frozen values, so tests build them by hand and screens render them without side effects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from gekko_agent.domain import Order
from gekko_agent.execution.approvals import PendingApproval
from gekko_agent.ops import CommandService, Denial, EngineStatus, PositionRow

__all__ = [
    "BreakerRow",
    "DashboardSource",
    "DecisionRow",
    "ForecastBand",
    "IntentRow",
    "LimitRow",
    "RiskFigures",
    "Snapshot",
    "ToolCallRow",
    "money",
    "short_id",
    "thin_curve",
]


def money(value: Decimal | None, places: int = 2) -> str:
    """``1,234.56`` or an em dash for an unknown amount."""
    return "—" if value is None else f"{value:,.{places}f}"


def thin_curve(
    curve: Sequence[tuple[datetime, Decimal]], points: int = 600
) -> list[tuple[datetime, Decimal]]:
    """At most ``points`` evenly spaced samples of ``curve`` (the last one kept), for charts."""
    if len(curve) <= points:
        return list(curve)
    step = len(curve) / points
    return [*(curve[int(i * step)] for i in range(points - 1)), curve[-1]]


def short_id(instrument_id: str) -> str:
    """``BTC/USD`` for ``BTC/USD@paper``."""
    return instrument_id.split("@")[0]


@dataclass(frozen=True, slots=True)
class LimitRow:
    """One risk limit and how much of it is used.

    Attributes:
        name: the limit, as people say it.
        used: current value (None: cannot be measured now).
        limit: the configured limit.
        unit: account currency, ``fraction``, ``x`` or ``count``.
    """

    name: str
    used: Decimal | None
    limit: Decimal
    unit: str

    @property
    def share(self) -> float | None:
        """Used / limit between 0 and 1 and beyond (None when unknown)."""
        if self.used is None or not self.limit:
            return None
        return float(self.used / self.limit)


@dataclass(frozen=True, slots=True)
class BreakerRow:
    """One circuit breaker: how close it is and what it would do.

    Attributes:
        name: ``daily loss``, ``drawdown`` or ``venue <name>``.
        value: the measured loss fraction or error count (None: unknown).
        reduce_at: the level that moves trading to REDUCING (None: not configured).
        halt_at: the level that halts trading (None: not configured).
        state: ``ok``, ``reducing`` or ``halted`` — what the breaker demands now.
    """

    name: str
    value: Decimal | None
    reduce_at: Decimal | None
    halt_at: Decimal | None
    state: str


@dataclass(frozen=True, slots=True)
class RiskFigures:
    """Value at risk now.

    Attributes:
        var: value at risk, account currency.
        es: expected shortfall, account currency.
        max_var: the VaR limit.
        max_es: the ES limit.
        confidence: e.g. 0.99.
    """

    var: Decimal
    es: Decimal
    max_var: Decimal
    max_es: Decimal
    confidence: Decimal


@dataclass(frozen=True, slots=True)
class ToolCallRow:
    """One tool the brain called during a decision.

    Attributes:
        name: the tool (``get_quote``, ``propose_orders``…).
        ok: True or False for an information tool's result; None for the final answer (``hold``,
            ``propose_orders``), which is judged by risk rather than by the tool.
        detail: the error, or the arguments in short.
    """

    name: str
    ok: bool | None
    detail: str = ""

    @property
    def label(self) -> str:
        """``get_quote ok``, ``news error`` or ``hold``."""
        if self.ok is None:
            return self.name
        return f"{self.name} {'ok' if self.ok else 'error'}"


@dataclass(frozen=True, slots=True)
class IntentRow:
    """One intent of a decision and what became of it.

    Attributes:
        intent_id: the intent's id.
        text: ``buy 0.5 BTC/USD@paper`` (empty while only its id is known).
        verdict: ``approved``, ``resized`` or ``denied`` (risk's answer); ``pending`` while risk has
            not answered; ``not proposed`` when the brain produced it but it never reached risk
            (warm-up, trading paused).
        rationale: the proposer's why.
        explanation: the risk engine's sentence.
        reasons: machine-readable reason codes.
        note: what happened next (``sent as gk-…``, ``waits for a person``…).
        order_id: the client order id it was sent as (empty until sent).
    """

    intent_id: str
    text: str
    verdict: str
    rationale: str = ""
    explanation: str = ""
    reasons: tuple[str, ...] = ()
    note: str = ""
    order_id: str = ""


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One brain cycle: what it saw, which tools it called, what it decided and what risk said.

    A decision that only called tools or held has no intents; an intent proposed without a journaled
    decision (a manual order) is a decision of its own, keyed by the intent id.

    Attributes:
        at: when the cycle ended.
        key: the decision id (or the intent id of an intent without one); stable across snapshots.
        brain: ``rules``, ``llm`` or the strategy that proposed a lone intent.
        action: ``propose`` or ``hold``.
        reason: the brain's why (the hold reason, or the intents' rationale).
        observation: what the brain was looking at, in one line (trigger, equity, prices).
        tool_calls: the tools called, in order, the final answer last.
        intents: the intents proposed, each with its risk outcome.
        model: the model that answered (LLM brains).
        steps: model turns taken (LLM brains).
    """

    at: datetime | None
    key: str
    brain: str
    action: str
    reason: str
    observation: str = ""
    tool_calls: tuple[ToolCallRow, ...] = ()
    intents: tuple[IntentRow, ...] = ()
    model: str = ""
    steps: int = 0

    @property
    def outcome(self) -> str:
        """``hold``, ``2 approved``, ``1 approved 1 denied``, ``not proposed``…"""
        if not self.intents:
            return "hold" if self.action == "hold" else "—"
        counts: dict[str, int] = {}
        for i in self.intents:
            counts[i.verdict] = counts.get(i.verdict, 0) + 1
        return " ".join(f"{n} {verdict}" for verdict, n in counts.items())

    @property
    def worst(self) -> str:
        """The most serious verdict among the intents (for colour): denied, resized, approved…"""
        verdicts = {i.verdict for i in self.intents}
        for verdict in ("denied", "resized", "pending", "not proposed", "approved"):
            if verdict in verdicts:
                return verdict
        return self.action


@dataclass(frozen=True, slots=True)
class ForecastBand:
    """Return quantiles of one instrument over a horizon.

    Attributes:
        instrument_id: what is forecast.
        horizon: ``1h``, ``15m``…
        last: the last close the forecast starts from.
        quantiles: level (0..1) to simple return, lowest level first.
        model: the model name and version.
    """

    instrument_id: str
    horizon: str
    last: Decimal
    quantiles: tuple[tuple[Decimal, Decimal], ...]
    model: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything every screen shows, frozen at one instant.

    Attributes:
        status: headline facts from the ops view.
        positions: open positions.
        orders: open orders.
        approvals: orders waiting for a person.
        curve: sampled equity, oldest first (already thinned for display).
        limits: each limit with its usage.
        breakers: each breaker's distance to its levels.
        risk: VaR and ES (None: not enough history yet).
        denials: latest denied or resized intents, newest last.
        decisions: latest brain decisions with their tool calls and intents' verdicts, newest last.
        forecasts: bands per instrument, or None when no forecaster is available.
        log: recent journal lines worth a person's attention, newest last.
        source: where the data comes from, for the header (``engine``, ``ledger snapshot``…).
        read_only: True when no command channel is attached.
    """

    status: EngineStatus
    positions: Sequence[PositionRow] = ()
    orders: Sequence[Order] = ()
    approvals: Sequence[PendingApproval] = ()
    curve: Sequence[tuple[datetime, Decimal]] = ()
    limits: Sequence[LimitRow] = ()
    breakers: Sequence[BreakerRow] = ()
    risk: RiskFigures | None = None
    denials: Sequence[Denial] = ()
    decisions: Sequence[DecisionRow] = ()
    forecasts: Sequence[ForecastBand] | None = None
    log: Sequence[str] = ()
    source: str = "engine"
    read_only: bool = False


class DashboardSource(Protocol):
    """Where the dashboard gets its data and sends its commands.

    Attributes:
        commands: the ops command layer (None: read-only, e.g. a ledger another process writes).
        refresh_hz: how often at most the screens redraw.
    """

    commands: CommandService | None
    refresh_hz: float

    def snapshot(self) -> Snapshot:
        """Everything the screens show, now. Must be cheap enough to call ``refresh_hz`` times a second."""
        ...

    def trail(self, ident: str) -> list[str]:
        """Journal lines explaining a decision or an order (drill-down)."""
        ...
