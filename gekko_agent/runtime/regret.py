"""Gate regret: what the risk limits cost or saved, scored from the journal and the bars after it.

For every ``RiskEvaluated`` that denied or resized an intent, the *blocked* quantity (denied: the
whole intent; resized: proposed − approved) is traded counterfactually: entered at the open of the
first bar opening at or after the decision, exited at the close of the last bar closing at or
before ``decision + horizon``, with the taker fee paid on both legs::

    pnl = side.sign × blocked × (exit − entry) − fee_rate × blocked × (entry + exit)

A positive sum means the limits cost money (the blocked trades would have made it); a negative sum
means the limits saved money. Proposals with no bar to enter or exit on within the data are counted
but left unscored. Money stays :class:`~decimal.Decimal` (in the instrument's quote currency); numpy
only locates bars.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from gekko_agent.domain import AgentDecided, Event, IntentProposed, OrderIntent, OrderSide, RiskEvaluated
from gekko_agent.domain.instruments import InstrumentId, split_instrument_id
from gekko_agent.market.bararray import BarArray, to_ns

__all__ = [
    "DEFAULT_HORIZON",
    "BlockedProposal",
    "RegretReport",
    "RegretRow",
    "ScoredProposal",
    "blocked_proposals",
    "score_regret",
]

DEFAULT_HORIZON = timedelta(minutes=60)
"""How long a blocked trade is held counterfactually unless told otherwise."""

_BPS = Decimal(10_000)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class BlockedProposal:
    """The part of one intent that risk did not let through.

    Attributes:
        ts: when risk answered (the engine clock, a bar close).
        intent: the intent as proposed.
        outcome: ``denied`` or ``resized``.
        reasons: the risk engine's reason codes.
        blocked: base quantity kept from the market (> 0).
        brain: who decided (``rules``, ``llm``, ``shadow:llm`` …), from the decision's ``AgentDecided``.
    """

    ts: datetime
    intent: OrderIntent
    outcome: str
    reasons: tuple[str, ...]
    blocked: Decimal
    brain: str


@dataclass(frozen=True, slots=True)
class ScoredProposal:
    """A blocked proposal with its counterfactual result.

    Attributes:
        proposal: what was blocked.
        entry: price it would have filled at (next bar open); None when no bar follows.
        exit: price at the horizon; None when the data ends before it.
        fees: fees of both legs (0 when unscored).
        pnl: counterfactual PnL after fees, quote currency; None when unscored.
    """

    proposal: BlockedProposal
    entry: Decimal | None
    exit: Decimal | None
    fees: Decimal
    pnl: Decimal | None

    @property
    def currency(self) -> str:
        """Quote currency of the instrument (the PnL's currency)."""
        return _quote(self.proposal.intent.instrument_id)

    @property
    def notional(self) -> Decimal:
        """Blocked quantity × entry price (0 when unscored)."""
        return self.proposal.blocked * self.entry if self.entry is not None else _ZERO


@dataclass(frozen=True, slots=True)
class RegretRow:
    """One line of the report: the blocked proposals sharing a key, in one currency.

    Attributes:
        key: the reason code, strategy or brain.
        currency: the quote currency the amounts are in.
        count: blocked proposals.
        scored: of those, how many had bars to score them.
        blocked_notional: sum of blocked quantity × entry price.
        pnl: sum of counterfactual PnL after fees.
    """

    key: str
    currency: str
    count: int
    scored: int
    blocked_notional: Decimal
    pnl: Decimal

    @property
    def verdict(self) -> str:
        """``cost`` (the limits cost money), ``saved`` (they saved money) or ``even``."""
        return "cost" if self.pnl > 0 else "saved" if self.pnl < 0 else "even"


@dataclass(frozen=True, slots=True)
class RegretReport:
    """Every blocked proposal scored, and the sums per reason, strategy and brain.

    Attributes:
        horizon: how long each blocked trade was held.
        proposals: every blocked proposal, oldest first.
        by_reason: one row per reason code (a proposal with several reasons counts under each).
        by_strategy: one row per strategy.
        by_brain: one row per brain.
        totals: one row per currency over all proposals.
    """

    horizon: timedelta
    proposals: tuple[ScoredProposal, ...]
    by_reason: tuple[RegretRow, ...]
    by_strategy: tuple[RegretRow, ...]
    by_brain: tuple[RegretRow, ...]
    totals: tuple[RegretRow, ...]

    def verdict(self) -> str:
        """One line: whether the limits cost or saved money, per currency."""
        if not self.proposals:
            return "No denied or resized proposals: the limits neither cost nor saved anything."
        parts = []
        for row in self.totals:
            word = {"cost": "cost", "saved": "saved", "even": "changed"}[row.verdict]
            amount = "nothing" if row.verdict == "even" else f"{abs(row.pnl):,.2f} {row.currency}"
            parts.append(f"{word} {amount}")
        minutes = int(self.horizon.total_seconds() // 60)
        scored = sum(1 for p in self.proposals if p.pnl is not None)
        return (
            f"The limits {' and '.join(parts)} over {len(self.proposals)} blocked proposals "
            f"({scored} scored, {minutes}m horizon, fees included)."
        )


def _quote(iid: InstrumentId) -> str:
    symbol, _venue = split_instrument_id(iid)
    return symbol.rpartition("/")[2] or symbol


def blocked_proposals(events: Iterable[Event]) -> list[BlockedProposal]:
    """Denied and resized proposals of a journal, joined to their intents and deciding brains.

    Args:
        events: journal events in order (any kinds; only decisions, intents and risk answers count).
    """
    intents: dict[str, OrderIntent] = {}
    brains: dict[str, str] = {}
    out: list[BlockedProposal] = []
    for event in events:
        if isinstance(event, AgentDecided) and event.decision_id is not None:
            brains[event.decision_id] = event.brain
        elif isinstance(event, IntentProposed):
            intents[event.intent.intent_id] = event.intent
        elif isinstance(event, RiskEvaluated) and event.outcome in ("denied", "resized"):
            intent = intents.get(event.intent_id)
            if intent is None:
                continue
            blocked = intent.quantity - (event.approved_quantity if event.outcome == "resized" else _ZERO)
            if blocked <= 0:
                continue
            decision = event.decision_id or intent.decision_id
            brain = brains.get(decision, "") if decision else ""
            out.append(
                BlockedProposal(
                    ts=event.ts,
                    intent=intent,
                    outcome=event.outcome,
                    reasons=event.reasons or ("unspecified",),
                    blocked=Decimal(blocked),
                    brain=brain or "unknown",
                )
            )
    return out


def _price(bars: BarArray, value: float) -> Decimal:
    return Decimal(f"{value:.{bars.price_decimals}f}")


def _score_one(
    blocked: BlockedProposal, bars: BarArray | None, horizon: timedelta, fee_bps: Decimal
) -> ScoredProposal:
    if bars is None or not len(bars):
        return ScoredProposal(blocked, None, None, _ZERO, None)
    t = to_ns(blocked.ts.astimezone(UTC))
    step = bars.interval * 1_000_000_000
    first = int(np.searchsorted(bars.ts, t, side="left"))
    last = int(np.searchsorted(bars.ts + step, t + int(horizon.total_seconds()) * 1_000_000_000, "right")) - 1
    if first >= len(bars.ts):
        return ScoredProposal(blocked, None, None, _ZERO, None)
    entry = _price(bars, float(bars.open[first]))
    if last < first or bars.ts[-1] + step < t + int(horizon.total_seconds()) * 1_000_000_000:
        return ScoredProposal(blocked, entry, None, _ZERO, None)
    exit_ = _price(bars, float(bars.close[last]))
    qty = blocked.blocked
    fees = fee_bps / _BPS * qty * (entry + exit_)
    sign = Decimal(OrderSide(blocked.intent.side).sign)
    return ScoredProposal(blocked, entry, exit_, fees, sign * qty * (exit_ - entry) - fees)


def _rows(items: Iterable[tuple[str, ScoredProposal]]) -> tuple[RegretRow, ...]:
    acc: dict[tuple[str, str], list[ScoredProposal]] = {}
    for key, scored in items:
        acc.setdefault((key, scored.currency), []).append(scored)
    rows = [
        RegretRow(
            key=key,
            currency=ccy,
            count=len(group),
            scored=sum(1 for s in group if s.pnl is not None),
            blocked_notional=sum((s.notional for s in group), _ZERO),
            pnl=sum((s.pnl for s in group if s.pnl is not None), _ZERO),
        )
        for (key, ccy), group in acc.items()
    ]
    return tuple(sorted(rows, key=lambda r: (-r.count, r.key, r.currency)))


def score_regret(
    blocked: Iterable[BlockedProposal],
    bars: Mapping[InstrumentId, BarArray],
    *,
    horizon: timedelta = DEFAULT_HORIZON,
    fee_bps: Mapping[InstrumentId, Decimal] | None = None,
) -> RegretReport:
    """Score each blocked proposal over ``horizon`` and sum the results.

    Args:
        blocked: from :func:`blocked_proposals`.
        bars: bars per traded instrument id, covering the decisions and ``horizon`` after them.
        horizon: how long each blocked trade is held.
        fee_bps: taker fee per instrument, basis points of notional per leg (missing: 0).
    """
    fees = fee_bps or {}
    scored = tuple(
        _score_one(b, bars.get(b.intent.instrument_id), horizon, fees.get(b.intent.instrument_id, _ZERO))
        for b in blocked
    )
    return RegretReport(
        horizon=horizon,
        proposals=scored,
        by_reason=_rows((r, s) for s in scored for r in s.proposal.reasons),
        by_strategy=_rows((s.proposal.intent.strategy, s) for s in scored),
        by_brain=_rows((s.proposal.brain, s) for s in scored),
        totals=_rows(("all", s) for s in scored),
    )
