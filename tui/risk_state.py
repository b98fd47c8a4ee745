"""The Risk screen's figures from a :class:`~gekko_agent.risk.snapshot.RiskSnapshot`, for both sources.

The engine in this process and the ledger rebuild (:mod:`.ledger_book`) both hand a snapshot and the
limits in force to these functions, which call the same reports the CLI and chat-ops use
(:func:`~gekko_agent.risk.reports.limit_usage`, :func:`~gekko_agent.risk.reports.var_report`), so the
screen shows what the risk engine would compute.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.reports import limit_usage, var_report
from gekko_agent.risk.snapshot import RiskSnapshot
from gekko_agent.tui.model import BreakerRow, LimitRow, RiskFigures

__all__ = ["breaker_rows", "limit_rows", "risk_figures"]


def limit_rows(snapshot: RiskSnapshot, limits: RiskLimits) -> list[LimitRow]:
    """Every enabled limit with its usage now."""
    return [
        LimitRow(u.name, u.used, u.limit, u.unit)
        for u in limit_usage(snapshot, limits)
        if u.limit is not None
    ]


def risk_figures(snapshot: RiskSnapshot, limits: RiskLimits) -> RiskFigures | None:
    """VaR and ES against their limits (None until the return window has enough history)."""
    var = var_report(snapshot, limits)
    if var is None:
        return None
    return RiskFigures(var.var, var.es, limits.max_var, limits.max_es, limits.var_confidence)


def _level(frac: Decimal | None, reduce_at: Decimal | None, halt_at: Decimal | None) -> str:
    if frac is None:
        return "ok"
    if halt_at is not None and frac >= halt_at:
        return "halted"
    if reduce_at is not None and frac >= reduce_at:
        return "reducing"
    return "ok"


def breaker_rows(
    limits: RiskLimits,
    equity: Decimal | None,
    day_start: Decimal | None,
    peak: Decimal | None,
    venue_errors: Mapping[str, int | None],
    tripped: Mapping[str, str] | None = None,
) -> list[BreakerRow]:
    """Daily loss and drawdown measured on equity, then each venue's error breaker.

    Args:
        limits: the limits in force.
        equity: equity now (None: unknown, every loss fraction is unknown).
        day_start: equity at the first mark of the UTC day.
        peak: highest equity seen.
        venue_errors: consecutive errors per venue (None: not known, e.g. from a ledger).
        tripped: venue breakers known to be tripped (venue to state), for venues whose count is unknown.
    """
    out: list[BreakerRow] = []
    for name, br, ref in (("daily loss", limits.daily_loss, day_start), ("drawdown", limits.drawdown, peak)):
        if not br.enabled:
            continue
        frac = (ref - equity) / ref if ref and equity is not None else None
        out.append(BreakerRow(name, frac, br.reduce_at, br.halt_at, _level(frac, br.reduce_at, br.halt_at)))
    if limits.venue_breaker_enabled:
        cap = Decimal(limits.venue_max_errors)
        for venue, errors in sorted(venue_errors.items()):
            if errors is None:
                state = (tripped or {}).get(venue, "ok")
                out.append(BreakerRow(f"venue {venue}", None, None, cap, state))
                continue
            state = str(limits.venue_breaker_action.value) if errors >= cap else "ok"
            out.append(BreakerRow(f"venue {venue}", Decimal(errors), None, cap, state))
    return out
