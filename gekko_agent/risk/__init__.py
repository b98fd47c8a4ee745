"""Deterministic risk: limits, pure pre-trade checks, trading state and breakers, VaR/ES, stress, governance.

Entry point: ``RiskEngine(limits).check(intent, snapshot) -> Approved | Resized | Denied``. The engine does
no I/O, calls no model and reads no clock; the caller builds a :class:`RiskSnapshot` and journals the
outcome (:func:`to_event`) and the state/limit events the state machine and governor return.
"""

from gekko_agent.risk.config import RiskConfig
from gekko_agent.risk.engine import CHECK_NAMES, CancelDecision, RiskEngine
from gekko_agent.risk.governance import (
    ActorAuthority,
    HumanActor,
    LimitGovernor,
    LimitProposal,
    ProposalStatus,
)
from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.outcomes import (
    Approved,
    CheckResult,
    Denied,
    ReasonCode,
    Resized,
    RiskOutcome,
    Verdict,
    to_event,
)
from gekko_agent.risk.reports import LimitUsage, limit_usage, stress_report, var_report
from gekko_agent.risk.snapshot import (
    ForecastQuantiles,
    MarketData,
    OpenOrder,
    ReturnWindow,
    RiskSnapshot,
    TradingState,
    VenueHealth,
    snapshot_from_portfolio,
)
from gekko_agent.risk.state import BreakerTrip, EquityTracker, TradingStateMachine, breaker_trips
from gekko_agent.risk.var import RollingReturns, VarResult

__all__ = [
    "CHECK_NAMES",
    "ActorAuthority",
    "Approved",
    "BreakerTrip",
    "CancelDecision",
    "CheckResult",
    "Denied",
    "EquityTracker",
    "ForecastQuantiles",
    "HumanActor",
    "LimitGovernor",
    "LimitProposal",
    "LimitUsage",
    "MarketData",
    "OpenOrder",
    "ProposalStatus",
    "ReasonCode",
    "Resized",
    "ReturnWindow",
    "RiskConfig",
    "RiskEngine",
    "RiskLimits",
    "RiskOutcome",
    "RiskSnapshot",
    "RollingReturns",
    "TradingState",
    "TradingStateMachine",
    "VarResult",
    "VenueHealth",
    "Verdict",
    "breaker_trips",
    "limit_usage",
    "snapshot_from_portfolio",
    "stress_report",
    "to_event",
    "var_report",
]
