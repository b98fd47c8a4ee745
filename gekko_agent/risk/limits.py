"""Frozen dataclasses the engine works with, converted once from :class:`~gekko_agent.risk.config.RiskConfig`.

Pydantic stays at the edge: :func:`RiskLimits.from_config` parses derived values once (glob patterns,
week times, the normal quantile of the VaR confidence) so ``check()`` does no parsing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from statistics import NormalDist
from types import MappingProxyType

from gekko_agent.risk.config import BreakerAction, LossBreakerConfig, RiskConfig, VarMethod

__all__ = [
    "LossBreaker",
    "MaintenanceWindow",
    "RiskLimits",
    "StressScenario",
    "minute_of_week",
    "parse_weektime",
]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEK_MINUTES = 7 * 24 * 60


def parse_weektime(text: str) -> int:
    """``"fri 21:00"`` → minutes since Monday 00:00 UTC."""
    day, hhmm = text.split()
    hours, minutes = hhmm.split(":")
    return _DAYS.index(day) * 1440 + int(hours) * 60 + int(minutes)


def minute_of_week(ts: datetime) -> int:
    """Minutes since Monday 00:00 UTC of the week containing ``ts``."""
    ts = ts.astimezone(UTC)
    return ts.weekday() * 1440 + ts.hour * 60 + ts.minute


def in_week_interval(now_minute: int, start: int, end: int) -> bool:
    """True when ``now_minute`` is within [start, end) on the weekly circle (wraps past Sunday)."""
    if start <= end:
        return start <= now_minute < end
    return now_minute >= start or now_minute < end


@dataclass(frozen=True, slots=True)
class LossBreaker:
    """A loss breaker: fractions at which to reduce and halt (``None``: never)."""

    enabled: bool
    reduce_at: Decimal | None
    halt_at: Decimal | None
    first_level: Decimal | None = field(init=False, repr=False, compare=False)
    """The lowest level that trips anything (new exposure is denied from there); derived."""

    def __post_init__(self) -> None:
        levels = [x for x in (self.reduce_at, self.halt_at) if x is not None]
        object.__setattr__(self, "first_level", min(levels) if levels and self.enabled else None)

    @classmethod
    def from_config(cls, c: LossBreakerConfig) -> LossBreaker:
        """Convert the config section."""
        return cls(c.enabled, c.reduce_at, c.halt_at)


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A venue maintenance window: absolute (``starts_at``/``ends_at``) or weekly (minutes of week)."""

    venue: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekly_start: int | None = None
    weekly_end: int | None = None

    def covers(self, venue: str, now: datetime) -> bool:
        """True when ``venue`` is in maintenance at ``now``."""
        if venue != self.venue:
            return False
        if self.starts_at is not None and self.ends_at is not None:
            return self.starts_at <= now < self.ends_at
        if self.weekly_start is not None and self.weekly_end is not None:
            return in_week_interval(minute_of_week(now), self.weekly_start, self.weekly_end)
        return False


@dataclass(frozen=True, slots=True)
class StressScenario:
    """Shocks of one scenario (fractions; sigma shocks in standard deviations)."""

    name: str
    asset_class_shocks: Mapping[str, Decimal]
    instrument_shocks: Mapping[str, Decimal]
    currency_shocks: Mapping[str, Decimal]
    sigma_shocks: Mapping[str, Decimal]


def _ro(d: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    return MappingProxyType(dict(d))


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Every limit, flattened for fast access by the checks. Build with :meth:`from_config`."""

    config: RiskConfig
    currency: str
    allow_enabled: bool
    allow_exact: frozenset[str]
    allow_patterns: tuple[str, ...]
    allow_all: bool
    order_enabled: bool
    order_max_notional: Decimal
    order_max_quantity: Mapping[str, Decimal]
    order_default_max_quantity: Decimal | None
    band_enabled: bool
    band_last: Decimal
    band_quote: Decimal
    band_spread: Decimal
    market_slippage: Decimal
    data_enabled: bool
    max_trade_age_s: float
    max_quote_age_s: float
    require_quote: bool
    position_enabled: bool
    position_max_notional: Decimal
    position_max_quantity: Mapping[str, Decimal]
    exposure_enabled: bool
    max_gross_venue: Decimal
    max_net_venue: Decimal
    max_gross_account: Decimal
    max_net_account: Decimal
    leverage_enabled: bool
    max_leverage: Decimal
    cash_enabled: bool
    fee_rate: Decimal
    margin_buffer: Decimal
    budget_enabled: bool
    default_budget: Decimal
    budgets: Mapping[str, Decimal]
    rate_enabled: bool
    max_submits: int
    submit_window_s: float
    max_cancels: int
    cancel_window_s: float
    daily_loss: LossBreaker
    drawdown: LossBreaker
    venue_breaker_enabled: bool
    venue_max_errors: int
    venue_breaker_action: BreakerAction
    reconcile_enabled: bool
    sessions_enabled: bool
    fx_close: int
    fx_open: int
    maintenance: tuple[MaintenanceWindow, ...]
    var_enabled: bool
    var_method: VarMethod
    var_confidence: Decimal
    var_z: float
    var_horizon_s: int
    var_lookback: int
    var_min_obs: int
    max_var: Decimal
    max_es: Decimal
    stress_enabled: bool
    stress_max_loss: Decimal
    scenarios: tuple[StressScenario, ...]
    forecast_enabled: bool
    forecast_quantile: Decimal
    forecast_max_loss: Decimal
    forecast_required: bool
    two_approvers_to_loosen: bool
    operators: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_config(cls, c: RiskConfig) -> RiskLimits:
        """Convert a validated :class:`RiskConfig`."""
        pats = tuple(p for p in c.allow_list.instruments if any(ch in p for ch in "*?["))
        windows = []
        for w in c.sessions.maintenance:
            if w.weekly_start is not None:
                start = parse_weektime(w.weekly_start)
                end = (start + w.duration_seconds // 60) % _WEEK_MINUTES
                windows.append(MaintenanceWindow(w.venue, weekly_start=start, weekly_end=end))
            else:
                assert w.starts_at is not None
                assert w.ends_at is not None
                windows.append(MaintenanceWindow(w.venue, _utc(w.starts_at), _utc(w.ends_at)))
        b = c.breakers
        return cls(
            config=c,
            currency=c.currency,
            allow_enabled=c.allow_list.enabled,
            allow_exact=frozenset(p for p in c.allow_list.instruments if p not in pats),
            allow_patterns=pats,
            allow_all="*" in c.allow_list.instruments,
            order_enabled=c.order.enabled,
            order_max_notional=c.order.max_notional,
            order_max_quantity=_ro(c.order.max_quantity),
            order_default_max_quantity=c.order.default_max_quantity,
            band_enabled=c.price_band.enabled,
            band_last=c.price_band.max_deviation_from_last,
            band_quote=c.price_band.max_deviation_from_quote,
            band_spread=c.price_band.max_spread,
            market_slippage=c.price_band.market_slippage,
            data_enabled=c.market_data.enabled,
            max_trade_age_s=float(c.market_data.max_trade_age_seconds),
            max_quote_age_s=float(c.market_data.max_quote_age_seconds),
            require_quote=c.market_data.require_quote,
            position_enabled=c.position.enabled,
            position_max_notional=c.position.max_notional,
            position_max_quantity=_ro(c.position.max_quantity),
            exposure_enabled=c.exposure.enabled,
            max_gross_venue=c.exposure.max_gross_per_venue,
            max_net_venue=c.exposure.max_net_per_venue,
            max_gross_account=c.exposure.max_gross_account,
            max_net_account=c.exposure.max_net_account,
            leverage_enabled=c.leverage.enabled,
            max_leverage=c.leverage.max_leverage,
            cash_enabled=c.cash.enabled,
            fee_rate=c.cash.fee_rate,
            margin_buffer=c.cash.margin_buffer,
            budget_enabled=c.budgets.enabled,
            default_budget=c.budgets.default_budget,
            budgets=_ro(c.budgets.budgets),
            rate_enabled=c.rate.enabled,
            max_submits=c.rate.max_submits,
            submit_window_s=float(c.rate.submit_window_seconds),
            max_cancels=c.rate.max_cancels,
            cancel_window_s=float(c.rate.cancel_window_seconds),
            daily_loss=LossBreaker.from_config(b.daily_loss),
            drawdown=LossBreaker.from_config(b.drawdown),
            venue_breaker_enabled=b.venue.enabled,
            venue_max_errors=b.venue.max_consecutive_errors,
            venue_breaker_action=b.venue.action,
            reconcile_enabled=c.venue_health.enabled,
            sessions_enabled=c.sessions.enabled,
            fx_close=parse_weektime(c.sessions.fx_weekend_close),
            fx_open=parse_weektime(c.sessions.fx_weekend_open),
            maintenance=tuple(windows),
            var_enabled=c.var.enabled,
            var_method=c.var.method,
            var_confidence=c.var.confidence,
            var_z=NormalDist().inv_cdf(float(c.var.confidence)),
            var_horizon_s=c.var.horizon_seconds,
            var_lookback=c.var.lookback,
            var_min_obs=c.var.min_observations,
            max_var=c.var.max_var,
            max_es=c.var.max_es,
            stress_enabled=c.stress.enabled,
            stress_max_loss=c.stress.max_loss,
            scenarios=tuple(
                StressScenario(
                    s.name,
                    _ro(s.asset_class_shocks),
                    _ro(s.instrument_shocks),
                    _ro({k.upper(): v for k, v in s.currency_shocks.items()}),
                    _ro(s.sigma_shocks),
                )
                for s in c.stress.scenarios
            ),
            forecast_enabled=c.forecast.enabled,
            forecast_quantile=c.forecast.quantile,
            forecast_max_loss=c.forecast.max_loss,
            forecast_required=c.forecast.require_forecast,
            two_approvers_to_loosen=c.governance.two_approvers_to_loosen,
            operators=frozenset(c.governance.operators),
        )

    def allows(self, instrument_id: str) -> bool:
        """True when the allow-list admits ``instrument_id``."""
        if self.allow_all or instrument_id in self.allow_exact:
            return True
        return any(fnmatch.fnmatchcase(instrument_id, p) for p in self.allow_patterns)

    def budget_of(self, strategy: str) -> Decimal:
        """The budget of ``strategy`` (account currency)."""
        return self.budgets.get(strategy, self.default_budget)

    def order_max_qty(self, instrument_id: str) -> Decimal | None:
        """Largest order quantity for ``instrument_id``, if limited."""
        return self.order_max_quantity.get(instrument_id, self.order_default_max_quantity)


def default_limits() -> RiskLimits:
    """Limits from an empty ``risk:`` section."""
    return RiskLimits.from_config(RiskConfig())
