"""Risk outcomes: values, never exceptions. ``Approved``, ``Resized`` or ``Denied``, each with the trace.

Every outcome carries machine-readable :class:`ReasonCode` values, one sentence for humans, and the per-check
trace (name, verdict, reason, detail) that ``gekko risk check`` and the TUI show. The caller journals it
with :func:`to_event`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from gekko_agent.domain import OrderIntent, RiskEvaluated

__all__ = [
    "Approved",
    "CheckResult",
    "Denied",
    "ReasonCode",
    "Resized",
    "RiskOutcome",
    "Verdict",
    "to_event",
]


class ReasonCode(StrEnum):
    """Why a check resized or denied an order (stable strings: they are journaled and alerted on)."""

    INVALID_INTENT = "invalid_intent"
    ARITHMETIC_ERROR = "arithmetic_error"
    INSTRUMENT_NOT_ALLOWED = "instrument_not_allowed"
    INSTRUMENT_UNKNOWN = "instrument_unknown"
    TRADING_HALTED = "trading_halted"
    TRADING_REDUCING = "trading_reducing"
    REDUCE_ONLY = "reduce_only"
    PRICE_MISSING = "price_missing"
    PRICE_STALE = "price_stale"
    QUOTE_MISSING = "quote_missing"
    QUOTE_STALE = "quote_stale"
    QUOTE_CROSSED = "quote_crossed"
    SPREAD_TOO_WIDE = "spread_too_wide"
    RATE_MISSING = "rate_missing"
    PORTFOLIO_UNVALUED = "portfolio_unvalued"
    OFF_TICK = "off_tick"
    PRICE_BAND_LAST = "price_band_last"
    PRICE_BAND_QUOTE = "price_band_quote"
    VENUE_SESSION_CLOSED = "venue_session_closed"
    VENUE_MAINTENANCE = "venue_maintenance"
    VENUE_CIRCUIT_OPEN = "venue_circuit_open"
    VENUE_NOT_RECONCILED = "venue_not_reconciled"
    SUBMIT_RATE = "submit_rate"
    CANCEL_RATE = "cancel_rate"
    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"
    ORDER_NOTIONAL = "order_notional"
    ORDER_QUANTITY = "order_quantity"
    LOT_SIZE = "lot_size"
    MIN_QUANTITY = "min_quantity"
    MIN_NOTIONAL = "min_notional"
    POSITION_LIMIT = "position_limit"
    GROSS_EXPOSURE_VENUE = "gross_exposure_venue"
    NET_EXPOSURE_VENUE = "net_exposure_venue"
    GROSS_EXPOSURE_ACCOUNT = "gross_exposure_account"
    NET_EXPOSURE_ACCOUNT = "net_exposure_account"
    LEVERAGE = "leverage"
    INSUFFICIENT_CASH = "insufficient_cash"
    INSUFFICIENT_HOLDINGS = "insufficient_holdings"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    STRATEGY_BUDGET = "strategy_budget"
    VAR_LIMIT = "var_limit"
    ES_LIMIT = "es_limit"
    VAR_DATA_MISSING = "var_data_missing"
    STRESS_LOSS = "stress_loss"
    STRESS_DATA_MISSING = "stress_data_missing"
    FORECAST_VETO = "forecast_veto"
    FORECAST_MISSING = "forecast_missing"


class Verdict(StrEnum):
    """What one check said."""

    PASS = "pass"  # noqa: S105
    RESIZE = "resize"
    DENY = "deny"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the trace.

    Attributes:
        name: the check (e.g. ``order_notional``).
        verdict: pass, resize, deny or skip (disabled, or not reached after a fatal denial).
        reason: the reason code when it resized or denied.
        detail: a short human sentence when it resized or denied.
        cap: the largest quantity the check allows, when it limits one.
    """

    name: str
    verdict: Verdict
    reason: ReasonCode | None = None
    detail: str = ""
    cap: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Approved:
    """The order passes unchanged."""

    intent: OrderIntent
    trace: tuple[CheckResult, ...]
    explanation: str = "Approved: every enabled check passed."

    @property
    def reasons(self) -> tuple[ReasonCode, ...]:
        """No reasons: nothing was changed."""
        return ()

    @property
    def quantity(self) -> Decimal:
        """The approved quantity."""
        return self.intent.quantity


@dataclass(frozen=True, slots=True)
class Resized:
    """The order passes with a smaller quantity (same side, same prices)."""

    intent: OrderIntent
    original: OrderIntent
    reasons: tuple[ReasonCode, ...]
    explanation: str
    trace: tuple[CheckResult, ...]

    @property
    def quantity(self) -> Decimal:
        """The approved (reduced) quantity."""
        return self.intent.quantity


@dataclass(frozen=True, slots=True)
class Denied:
    """The order must not be sent."""

    intent: OrderIntent
    reasons: tuple[ReasonCode, ...]
    explanation: str
    trace: tuple[CheckResult, ...]

    @property
    def quantity(self) -> Decimal:
        """Nothing is approved."""
        return Decimal(0)


RiskOutcome = Approved | Resized | Denied


def outcome_name(outcome: RiskOutcome) -> str:
    """``approved``, ``resized`` or ``denied``."""
    return type(outcome).__name__.lower()


def to_event(outcome: RiskOutcome, ts: datetime) -> RiskEvaluated:
    """The journal event for ``outcome`` at ``ts``."""
    intent = outcome.intent if not isinstance(outcome, Resized) else outcome.original
    return RiskEvaluated(
        ts=ts,
        decision_id=intent.decision_id,
        intent_id=intent.intent_id,
        outcome=outcome_name(outcome),
        reasons=tuple(str(r) for r in outcome.reasons),
        explanation=outcome.explanation,
        approved_quantity=outcome.quantity,
    )
