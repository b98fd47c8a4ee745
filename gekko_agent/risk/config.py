"""The ``risk:`` section of agent.yaml: every limit, breaker and check, typed with its unit.

Units, everywhere in this file:

* money: ``Decimal`` in the account currency named by :attr:`RiskConfig.currency`;
* fractions: ``Decimal`` between 0 and 1 (``0.05`` is 5 %);
* durations: whole seconds;
* quantities: base units of the instrument.

The model is frozen and rejects unknown keys (a misspelt limit is an error, never silently dropped).
Every field has a safe default, so an empty ``risk:`` section gives a conservative engine. Inside the
engine the model is converted to frozen dataclasses (:mod:`gekko_agent.risk.limits`).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gekko_agent.domain import AssetClass

__all__ = [
    "AllowListConfig",
    "BreakerAction",
    "BreakersConfig",
    "BudgetConfig",
    "CashConfig",
    "DrawdownBreakerConfig",
    "ExposureConfig",
    "ForecastConfig",
    "GovernanceConfig",
    "LeverageConfig",
    "LossBreakerConfig",
    "MaintenanceWindowConfig",
    "MarketDataConfig",
    "OrderSizeConfig",
    "PositionConfig",
    "PriceBandConfig",
    "RateConfig",
    "RiskConfig",
    "SessionsConfig",
    "StressConfig",
    "StressScenarioConfig",
    "VarConfig",
    "VarMethod",
    "VenueBreakerConfig",
    "VenueHealthConfig",
]

_Fraction = Decimal
_ASSET_CLASSES = tuple(a.value for a in AssetClass)
_WEEKTIME = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):([0-5]\d)$")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BreakerAction(StrEnum):
    """The trading state a tripped breaker moves to."""

    REDUCING = "reducing"
    HALTED = "halted"


class VarMethod(StrEnum):
    """How VaR / expected shortfall is estimated."""

    HISTORICAL = "historical"
    PARAMETRIC = "parametric"
    BOTH = "both"


class AllowListConfig(_Section):
    """Which instruments may be traded at all."""

    enabled: bool = Field(default=True, description="Deny instruments that match no pattern.")
    instruments: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Instrument ids or glob patterns (`BTC/USD@binanceus`, `BTC/*@kraken`). Snapshots only "
        "carries instruments configured under `instruments:`, and anything else is denied as unknown.",
    )


class OrderSizeConfig(_Section):
    """Limits on one order."""

    enabled: bool = Field(default=True, description="Resize orders above these limits.")
    max_notional: Decimal = Field(
        default=Decimal(10_000), gt=0, description="Largest order value (account currency)."
    )
    max_quantity: dict[str, Decimal] = Field(
        default_factory=dict, description="Largest order quantity per instrument id (base units)."
    )
    default_max_quantity: Decimal | None = Field(
        default=None,
        gt=0,
        description="Largest order quantity for instruments not in `max_quantity` (none: no limit).",
    )


class PriceBandConfig(_Section):
    """Fat-finger protection: a price far from the market is a mistake until proven otherwise."""

    enabled: bool = Field(
        default=True, description="Deny limit/stop prices outside the bands and too-wide quotes."
    )
    max_deviation_from_last: _Fraction = Field(
        default=Decimal("0.05"),
        gt=0,
        lt=1,
        description="Largest distance of a limit/stop price from the last trade.",
    )
    max_deviation_from_quote: _Fraction = Field(
        default=Decimal("0.02"),
        gt=0,
        lt=1,
        description="How far a buy may bid above the ask (a sell offer below the bid), fraction.",
    )
    max_spread: _Fraction = Field(
        default=Decimal("0.01"),
        gt=0,
        lt=1,
        description="Widest bid/ask spread, fraction of the mid, at which to trade.",
    )
    market_slippage: _Fraction = Field(
        default=Decimal("0.005"),
        ge=0,
        lt=1,
        description="Price allowance for market orders (they pay the ask plus this).",
    )


class MarketDataConfig(_Section):
    """Freshness and sanity of the prices every other check relies on (fail closed)."""

    enabled: bool = Field(
        default=True, description="Deny when the last trade or quote is missing, stale or crossed."
    )
    max_trade_age_seconds: int = Field(default=120, gt=0, description="Oldest acceptable last-trade price.")
    max_quote_age_seconds: int = Field(default=30, gt=0, description="Oldest acceptable bid/ask quote.")
    require_quote: bool = Field(
        default=False, description="Deny when no bid/ask quote is known (bar-only data has none)."
    )


class PositionConfig(_Section):
    """Largest position per instrument."""

    enabled: bool = Field(
        default=True, description="Resize orders that would grow a position past these limits."
    )
    max_notional: Decimal = Field(
        default=Decimal(25_000), gt=0, description="Largest |position| value (account currency)."
    )
    max_quantity: dict[str, Decimal] = Field(
        default_factory=dict, description="Largest |position| per instrument id (base units)."
    )


class ExposureConfig(_Section):
    """Gross (sum of |value|) and net (sum of signed value) exposure, per venue and account."""

    enabled: bool = Field(
        default=True, description="Resize orders that would push exposure past these limits."
    )
    max_gross_per_venue: Decimal = Field(
        default=Decimal(50_000), gt=0, description="Per venue, account currency."
    )
    max_net_per_venue: Decimal = Field(
        default=Decimal(50_000), gt=0, description="|net| per venue, account currency."
    )
    max_gross_account: Decimal = Field(
        default=Decimal(100_000), gt=0, description="Whole account, account currency."
    )
    max_net_account: Decimal = Field(
        default=Decimal(100_000), gt=0, description="|net| whole account, account currency."
    )


class LeverageConfig(_Section):
    """Gross exposure over equity."""

    enabled: bool = Field(default=True, description="Resize orders that would push leverage past the limit.")
    max_leverage: Decimal = Field(
        default=Decimal(1), gt=0, description="Largest gross exposure / equity (1 = unlevered)."
    )


class CashConfig(_Section):
    """Can the order be paid for: quote cash for spot buys, base holdings for spot sells, margin for FX."""

    enabled: bool = Field(
        default=True, description="Resize orders to the cash, holdings or margin available."
    )
    fee_rate: _Fraction = Field(
        default=Decimal("0.001"), ge=0, lt=1, description="Fee assumed per order, fraction."
    )
    margin_buffer: _Fraction = Field(
        default=Decimal("0.1"), ge=0, lt=1, description="Share of equity kept free of FX margin as a buffer."
    )


class BudgetConfig(_Section):
    """Capital each strategy (or brain) may commit."""

    enabled: bool = Field(default=True, description="Resize orders to the strategy's remaining budget.")
    default_budget: Decimal = Field(
        default=Decimal(10_000),
        ge=0,
        description="Budget of a strategy not named in `budgets` (account currency).",
    )
    budgets: dict[str, Decimal] = Field(
        default_factory=dict, description="Budget per strategy name (account ccy)."
    )


class RateConfig(_Section):
    """Sliding-window throttles on what the engine sends to venues."""

    enabled: bool = Field(default=True, description="Deny submits/cancels beyond these rates.")
    max_submits: int = Field(default=10, gt=0, description="Most order submits per submit window.")
    submit_window_seconds: int = Field(default=60, gt=0, description="Length of the submit window.")
    max_cancels: int = Field(
        default=20, gt=0, description="Most cancels per cancel window (not applied in REDUCING/HALTED)."
    )
    cancel_window_seconds: int = Field(default=60, gt=0, description="Length of the cancel window.")


class LossBreakerConfig(_Section):
    """A loss measured as a fraction of a reference equity, with two escalation levels."""

    enabled: bool = Field(
        default=True, description="Deny new exposure and move the trading state when tripped."
    )
    reduce_at: _Fraction | None = Field(
        default=Decimal("0.03"), description="Loss fraction that moves the state to REDUCING (none: never)."
    )
    halt_at: _Fraction | None = Field(
        default=Decimal("0.05"), description="Loss fraction that moves the state to HALTED (none: never)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> LossBreakerConfig:
        for name in ("reduce_at", "halt_at"):
            v = getattr(self, name)
            if v is not None and not (0 < v < 1):
                raise ValueError(f"{name} must be a fraction between 0 and 1")
        if self.reduce_at is not None and self.halt_at is not None and self.halt_at < self.reduce_at:
            raise ValueError("halt_at must be >= reduce_at")
        return self


class DrawdownBreakerConfig(LossBreakerConfig):
    """Fall from the equity peak, as a fraction of the peak, with two escalation levels."""

    reduce_at: _Fraction | None = Field(
        default=Decimal("0.10"),
        description="Drawdown fraction that moves the state to REDUCING (none: never).",
    )
    halt_at: _Fraction | None = Field(
        default=Decimal("0.15"), description="Drawdown fraction that moves the state to HALTED (none: never)."
    )


class VenueBreakerConfig(_Section):
    """Venue circuit breaker: too many consecutive venue errors."""

    enabled: bool = Field(
        default=True, description="Deny new exposure on the venue and move the state when tripped."
    )
    max_consecutive_errors: int = Field(
        default=3, gt=0, description="Consecutive errors that trip the breaker."
    )
    action: BreakerAction = Field(default=BreakerAction.REDUCING, description="State the breaker moves to.")


class BreakersConfig(_Section):
    """Breakers that move the trading state by themselves (never back: only a human resumes)."""

    daily_loss: LossBreakerConfig = Field(
        default_factory=LossBreakerConfig,
        description="Loss since the UTC day start, fraction of day-start equity.",
    )
    drawdown: DrawdownBreakerConfig = Field(
        default_factory=DrawdownBreakerConfig, description="Fall from the equity peak, fraction of the peak."
    )
    venue: VenueBreakerConfig = Field(
        default_factory=VenueBreakerConfig, description="Venue circuit breaker."
    )


class VenueHealthConfig(_Section):
    """Reconciliation watermark: no new exposure on a venue unreconciled since its last (re)start or error."""

    enabled: bool = Field(default=True, description="Deny new exposure on venues that are not reconciled.")


class MaintenanceWindowConfig(_Section):
    """A maintenance window of one venue: a one-off (`starts_at`/`ends_at`) or weekly (`weekly_start`)."""

    venue: str = Field(description="Venue name, e.g. binanceus.")
    starts_at: datetime | None = Field(
        default=None, description="One-off window start (ISO time, UTC if no zone)."
    )
    ends_at: datetime | None = Field(default=None, description="One-off window end.")
    weekly_start: str | None = Field(
        default=None, description="Weekly start as `ddd HH:MM` UTC, e.g. `wed 02:00`."
    )
    duration_seconds: int = Field(default=3600, gt=0, description="Length of a weekly window.")

    @model_validator(mode="after")
    def _one_kind(self) -> MaintenanceWindowConfig:
        one_off = self.starts_at is not None or self.ends_at is not None
        if one_off == (self.weekly_start is not None):
            raise ValueError("give either starts_at and ends_at, or weekly_start")
        if one_off and (self.starts_at is None or self.ends_at is None or self.ends_at <= self.starts_at):
            raise ValueError("starts_at and ends_at are both needed, with ends_at after starts_at")
        if self.weekly_start is not None and not _WEEKTIME.match(self.weekly_start):
            raise ValueError("weekly_start must look like `wed 02:00`")
        return self


class SessionsConfig(_Section):
    """When venues trade: the FX weekend close and maintenance windows deny new exposure."""

    enabled: bool = Field(default=True, description="Deny new exposure while a market is closed.")
    fx_weekend_close: str = Field(default="fri 21:00", description="FX weekly close, `ddd HH:MM` UTC.")
    fx_weekend_open: str = Field(default="sun 21:00", description="FX weekly reopen, `ddd HH:MM` UTC.")
    maintenance: list[MaintenanceWindowConfig] = Field(
        default_factory=list, description="Venue maintenance windows."
    )

    @field_validator("fx_weekend_close", "fx_weekend_open")
    @classmethod
    def _weektime(cls, v: str) -> str:
        if not _WEEKTIME.match(v):
            raise ValueError("must look like `fri 21:00`")
        return v


class VarConfig(_Section):
    """Value at risk and expected shortfall of the portfolio after the order."""

    enabled: bool = Field(default=True, description="Deny orders that push VaR or ES past the limits.")
    method: VarMethod = Field(
        default=VarMethod.BOTH, description="historical, parametric or both (the larger counts)."
    )
    confidence: _Fraction = Field(
        default=Decimal("0.99"), gt=Decimal("0.5"), lt=1, description="VaR confidence level."
    )
    horizon_seconds: int = Field(
        default=86_400, gt=0, description="Horizon; scaled from the return interval by sqrt(time)."
    )
    lookback: int = Field(default=1440, ge=20, description="Most recent returns used (observations).")
    min_observations: int = Field(
        default=100, ge=20, description="Fewer returns than this: deny (not enough history)."
    )
    max_var: Decimal = Field(default=Decimal(5_000), gt=0, description="Largest VaR (account currency).")
    max_es: Decimal = Field(
        default=Decimal(7_500), gt=0, description="Largest expected shortfall (account currency)."
    )


class StressScenarioConfig(_Section):
    """One stress scenario: shocks applied together; sigma shocks are tried in both directions."""

    name: str = Field(description="Scenario name shown in reports.")
    asset_class_shocks: dict[str, Decimal] = Field(
        default_factory=dict,
        description="Price move per asset class (`crypto_spot` or `fx`; any other key is an error), "
        "fraction, e.g. -0.2.",
    )
    instrument_shocks: dict[str, Decimal] = Field(
        default_factory=dict,
        description="Price move per instrument id, fraction (overrides the class shock).",
    )
    currency_shocks: dict[str, Decimal] = Field(
        default_factory=dict,
        description="Value move of a currency against the account currency, e.g. USDC: -0.1.",
    )
    sigma_shocks: dict[str, Decimal] = Field(
        default_factory=dict,
        description="Move of N standard deviations of the instrument's returns over the VaR horizon, per "
        "asset class (`crypto_spot` or `fx`), e.g. fx: 5.",
    )

    @field_validator("asset_class_shocks", "sigma_shocks")
    @classmethod
    def _known_classes(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for key in v:
            if key not in _ASSET_CLASSES:
                known = " or ".join(_ASSET_CLASSES)
                raise ValueError(f"unknown asset class {key!r} (use {known})")
        return v

    @field_validator("asset_class_shocks", "instrument_shocks", "currency_shocks")
    @classmethod
    def _above_minus_one(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for key, shock in v.items():
            if shock <= -1:
                raise ValueError(f"shock {key}: {shock} would make a price <= 0")
        return v


def _default_scenarios() -> list[StressScenarioConfig]:
    return [
        StressScenarioConfig(name="crypto -20%", asset_class_shocks={"crypto_spot": Decimal("-0.20")}),
        StressScenarioConfig(name="fx 5 sigma", sigma_shocks={"fx": Decimal(5)}),
        StressScenarioConfig(
            name="stablecoin depeg -10%", currency_shocks={"USDC": Decimal("-0.10"), "USDT": Decimal("-0.10")}
        ),
    ]


class StressConfig(_Section):
    """Stress scenarios: the worst scenario loss of the portfolio after the order against a limit."""

    enabled: bool = Field(
        default=True, description="Resize orders whose worst scenario loss would exceed the limit."
    )
    max_loss: Decimal = Field(
        default=Decimal(20_000), gt=0, description="Largest scenario loss (account currency)."
    )
    scenarios: list[StressScenarioConfig] = Field(
        default_factory=_default_scenarios, description="The scenarios."
    )


class ForecastConfig(_Section):
    """Optional forecast veto/sizing from caller-supplied return quantiles."""

    enabled: bool = Field(
        default=False, description="Size new exposure so the forecast's adverse quantile loss fits."
    )
    quantile: _Fraction = Field(
        default=Decimal("0.05"), gt=0, lt=Decimal("0.5"), description="Adverse quantile used."
    )
    max_loss: Decimal = Field(
        default=Decimal(2_000), gt=0, description="Largest loss at that quantile (account currency)."
    )
    require_forecast: bool = Field(
        default=False, description="Deny new exposure when no forecast is supplied."
    )


class GovernanceConfig(_Section):
    """Who may change limits, and how many must agree."""

    operators: list[str] = Field(
        default_factory=list, description="People allowed to command risk (user names)."
    )
    two_approvers_to_loosen: bool = Field(
        default=True,
        description="Loosening a limit (raising it, disabling a check) needs two distinct people.",
    )


class RiskConfig(_Section):
    """Risk limits, breakers and checks (the ``risk:`` section of agent.yaml)."""

    currency: str = Field(
        default="USD", pattern=r"^[A-Z0-9]{2,10}$", description="Currency of every money limit below."
    )
    allow_list: AllowListConfig = Field(default_factory=AllowListConfig, description="Tradable instruments.")
    order: OrderSizeConfig = Field(default_factory=OrderSizeConfig, description="Per-order size limits.")
    price_band: PriceBandConfig = Field(default_factory=PriceBandConfig, description="Fat-finger bands.")
    market_data: MarketDataConfig = Field(default_factory=MarketDataConfig, description="Stale/missing data.")
    position: PositionConfig = Field(
        default_factory=PositionConfig, description="Per-instrument position limits."
    )
    exposure: ExposureConfig = Field(default_factory=ExposureConfig, description="Gross/net exposure limits.")
    leverage: LeverageConfig = Field(default_factory=LeverageConfig, description="Leverage limit.")
    cash: CashConfig = Field(default_factory=CashConfig, description="Cash, holdings and margin sufficiency.")
    budgets: BudgetConfig = Field(default_factory=BudgetConfig, description="Per-strategy budgets.")
    rate: RateConfig = Field(default_factory=RateConfig, description="Submit and cancel rates.")
    breakers: BreakersConfig = Field(default_factory=BreakersConfig, description="Automatic state breakers.")
    venue_health: VenueHealthConfig = Field(
        default_factory=VenueHealthConfig, description="Reconciliation watermark."
    )
    sessions: SessionsConfig = Field(default_factory=SessionsConfig, description="Trading sessions.")
    var: VarConfig = Field(default_factory=VarConfig, description="VaR / expected shortfall.")
    stress: StressConfig = Field(default_factory=StressConfig, description="Stress scenarios.")
    forecast: ForecastConfig = Field(default_factory=ForecastConfig, description="Forecast veto/sizing.")
    governance: GovernanceConfig = Field(
        default_factory=GovernanceConfig, description="Limit-change approvals."
    )

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v

    def unknown_instruments(self, known: set[str]) -> list[str]:
        """One line per instrument id a per-instrument limit or shock names that is not in ``known``.

        A limit keyed by an id the engine never sees would be silently ignored, so the root config (and
        the limit governor) reject it. Each line starts with the key path, e.g.
        ``risk.order.max_quantity: 'ETH/USD@paper' is not listed under `instruments```.
        """
        keyed = [
            ("risk.order.max_quantity", self.order.max_quantity),
            ("risk.position.max_quantity", self.position.max_quantity),
        ]
        keyed += [
            (f"risk.stress.scenarios[{i}].instrument_shocks", sc.instrument_shocks)
            for i, sc in enumerate(self.stress.scenarios)
        ]
        return [
            f"{path}: {iid!r} is not listed under `instruments`"
            for path, mapping in keyed
            for iid in mapping
            if iid not in known
        ]
