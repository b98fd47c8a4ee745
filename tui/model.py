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
    "LimitRow",
    "RiskFigures",
    "Snapshot",
    "money",
    "short_id",
]


def money(value: Decimal | None, places: int = 2) -> str:
    """``1,234.56`` or an em dash for an unknown amount."""
    return "—" if value is None else f"{value:,.{places}f}"


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
class DecisionRow:
    """One intent the brain proposed and what risk said about it.

    Attributes:
        at: when it was proposed.
        intent_id: the intent's id.
        decision_id: the agent decision it came from (None for some rule intents).
        brain: the strategy or brain that proposed it.
        intent: ``buy 0.1 BTC/USD@paper``.
        verdict: ``approved``, ``resized`` or ``denied``.
        rationale: the proposer's why.
        explanation: the risk engine's sentence.
        reasons: machine-readable reason codes.
    """

    at: datetime | None
    intent_id: str
    decision_id: str | None
    brain: str
    intent: str
    verdict: str
    rationale: str
    explanation: str
    reasons: tuple[str, ...] = ()


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
        decisions: latest intents and verdicts, newest last.
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
