"""Read-only reports on a snapshot: VaR/ES by method, stress losses per leg, and usage of each limit.

Used by ``gekko risk status|var|stress``, the TUI and chat-ops; they compute from the same
:class:`~gekko_agent.risk.view.PortfolioView` the checks use, so reports and decisions agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gekko_agent.risk.checks.exposure_gates import daily_loss_fraction, drawdown_fraction
from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.snapshot import RiskSnapshot
from gekko_agent.risk.var import VarResult, historical_var_es, parametric_var_es, to_money_up
from gekko_agent.risk.view import PortfolioView

__all__ = ["LimitUsage", "limit_usage", "stress_report", "var_report"]


@dataclass(frozen=True, slots=True)
class LimitUsage:
    """How much of one limit is used.

    Attributes:
        name: the limit.
        used: current value (None when it cannot be measured).
        limit: the limit (None when disabled or unlimited).
        unit: currency, ``fraction``, ``x`` or ``count``.
    """

    name: str
    used: Decimal | None
    limit: Decimal | None
    unit: str


def var_report(
    snapshot: RiskSnapshot, limits: RiskLimits, view: PortfolioView | None = None
) -> VarResult | None:
    """VaR and ES of the portfolio by both methods, or None when history is missing."""
    view = view or PortfolioView(snapshot, limits)
    base = view.var_base()
    if base is None:
        return None
    conf = float(limits.var_confidence)
    hv, he = historical_var_es(base.pnl, conf, base.scale)
    pv, pe = parametric_var_es(base.variance, conf, base.scale)
    return VarResult((to_money_up(hv), to_money_up(he)), (to_money_up(pv), to_money_up(pe)))


def stress_report(
    snapshot: RiskSnapshot, limits: RiskLimits, view: PortfolioView | None = None
) -> list[tuple[str, Decimal]] | None:
    """Loss of the portfolio in each stress leg (account currency), or None when an input is missing."""
    view = view or PortfolioView(snapshot, limits)
    legs = view.stress_legs()
    return None if legs is None else [(leg.name, leg.loss) for leg in legs]


def limit_usage(
    snapshot: RiskSnapshot, limits: RiskLimits, view: PortfolioView | None = None
) -> list[LimitUsage]:
    """Usage of every account-level limit now."""
    view = view or PortfolioView(snapshot, limits)
    ccy = limits.currency
    rows = [
        LimitUsage(
            "gross exposure (account)",
            view.gross,
            limits.max_gross_account if limits.exposure_enabled else None,
            ccy,
        ),
        LimitUsage(
            "|net exposure| (account)",
            abs(view.net),
            limits.max_net_account if limits.exposure_enabled else None,
            ccy,
        ),
    ]
    for venue in sorted(view.gross_venue):
        rows.append(
            LimitUsage(f"gross exposure ({venue})", view.gross_venue[venue], limits.max_gross_venue, ccy)
        )
    lev = view.gross / view.equity if view.equity else None
    rows.append(LimitUsage("leverage", lev, limits.max_leverage if limits.leverage_enabled else None, "x"))
    dl = daily_loss_fraction(view.equity, snapshot.equity_day_start)
    dd = drawdown_fraction(view.equity, snapshot.equity_peak)
    rows.append(LimitUsage("daily loss", dl, limits.daily_loss.first_level, "fraction"))
    rows.append(LimitUsage("drawdown", dd, limits.drawdown.first_level, "fraction"))
    rows.append(LimitUsage("submits in window", Decimal(view.submits), Decimal(limits.max_submits), "count"))
    legs = view.stress_legs()
    worst = max((leg.loss for leg in legs), default=Decimal(0)) if legs is not None else None
    rows.append(
        LimitUsage("worst stress loss", worst, limits.stress_max_loss if limits.stress_enabled else None, ccy)
    )
    base = view.var_base()
    rows.append(
        LimitUsage("VaR", base.var if base else None, limits.max_var if limits.var_enabled else None, ccy)
    )
    rows.append(
        LimitUsage(
            "expected shortfall",
            base.es if base else None,
            limits.max_es if limits.var_enabled else None,
            ccy,
        )
    )
    for strategy, used in sorted(snapshot.strategy_usage.items()):
        rows.append(LimitUsage(f"budget {strategy}", used, limits.budget_of(strategy), ccy))
    return rows
