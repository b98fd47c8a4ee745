"""The agent.yaml schema. Frozen pydantic models; unknown keys are rejected, never dropped.

Every field carries a description (``gekko config schema`` prints them). Secrets appear only as
:class:`~gekko_agent.config.secrets.SecretRef` (an environment variable or a file outside the repo).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gekko_agent.config.secrets import SecretRef
from gekko_agent.execution.approvals import ApprovalConfig
from gekko_agent.mcp.config import McpConfig
from gekko_agent.ops.auth import OpsConfig
from gekko_agent.ops.chat_config import ChatopsConfig
from gekko_agent.risk.config import RiskConfig
from gekko_agent.runtime.scheduler import ScheduleConfig
from gekko_agent.tools.research import ResearchConfig

__all__ = [
    "AccountConfig",
    "BrainConfig",
    "CcxtVenueConfig",
    "DataConfig",
    "DemoConfig",
    "GekkoConfig",
    "InstrumentConfig",
    "LedgerConfig",
    "LlmConfig",
    "Mode",
    "OandaVenueConfig",
    "PaperVenueConfig",
    "StrategyConfig",
    "VenueConfig",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=False)


class Mode(StrEnum):
    """How orders are executed: simulated history, simulated now, or real money."""

    BACKTEST = "backtest"
    PAPER = "paper"
    LIVE = "live"


class AccountConfig(_Model):
    """The trading account as a whole."""

    currency: str = Field("USD", description="Currency equity, PnL and money limits are reported in.")
    starting_cash: dict[str, Decimal] = Field(
        default_factory=lambda: {"USD": Decimal(100000)},
        description="Paper/backtest starting balances per currency (ignored live: the venue is the truth).",
    )

    @field_validator("starting_cash")
    @classmethod
    def _non_negative(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for ccy, amount in v.items():
            if amount < 0:
                raise ValueError(f"starting cash in {ccy} must be >= 0")
        return {k.upper(): a for k, a in v.items()}


class InstrumentConfig(_Model):
    """One instrument Gekko may trade (anything not listed here is refused by risk)."""

    symbol: str = Field(
        description="Canonical BASE/QUOTE, e.g. BTC/USD or EUR/USD.", pattern=r"^[A-Z0-9]+/[A-Z0-9]+$"
    )
    venue: str = Field(description="Name of a venue defined under `venues`.")
    asset_class: Literal["crypto_spot", "fx"] = Field(
        "crypto_spot", description="Spot crypto or FX (margin)."
    )
    tick_size: Decimal = Field(Decimal("0.01"), gt=0, description="Smallest price increment.")
    lot_size: Decimal = Field(
        Decimal("0.00001"), gt=0, description="Smallest quantity increment (base units)."
    )
    min_notional: Decimal = Field(Decimal(0), ge=0, description="Smallest order value in the quote currency.")
    dataset: str | None = Field(
        None,
        description="Bundled dataset replayed for this instrument in paper/backtest (see `gekko data list`).",
    )


class PaperVenueConfig(_Model):
    """The in-process simulated venue used by backtest and paper mode."""

    kind: Literal["paper"] = Field(description="Selects the paper matching engine.")
    maker_fee_bps: Decimal = Field(
        Decimal(10), ge=0, description="Fee on maker fills, basis points of notional."
    )
    taker_fee_bps: Decimal = Field(
        Decimal(10), ge=0, description="Fee on taker fills, basis points of notional."
    )
    slippage_bps: Decimal = Field(
        Decimal(2), ge=0, description="Fixed slippage on market orders, basis points."
    )
    max_participation: Decimal = Field(
        Decimal("0.1"), gt=0, le=1, description="Largest share of a bar's volume one order may fill."
    )
    latency_ms: int = Field(0, ge=0, description="Simulated delay before an order reaches the book.")
    seed: int = Field(7, description="Seed for every random choice the simulator makes.")


class CcxtVenueConfig(_Model):
    """A crypto exchange reached through ccxt (coinbase, binanceus, or any ccxt id)."""

    kind: Literal["ccxt"] = Field(description="Selects the ccxt adapter.")
    exchange: str = Field(description="ccxt exchange id, e.g. binanceus or coinbase.")
    api_key: SecretRef | None = Field(None, description="API key (env or file reference).")
    secret: SecretRef | None = Field(None, description="API secret (env or file reference).")
    password: SecretRef | None = Field(None, description="API passphrase where the exchange needs one.")
    sandbox: bool = Field(False, description="Use the exchange's sandbox/testnet URLs when it has them.")
    api_url: str | None = Field(
        None, description="Override the REST base URL (e.g. a `gekko venue-sim` server)."
    )
    timeout_ms: int = Field(10000, gt=0, description="HTTP timeout per request.")


class OandaVenueConfig(_Model):
    """OANDA v20 for forex, through oandapyV20."""

    kind: Literal["oanda"] = Field(description="Selects the OANDA adapter.")
    environment: Literal["practice", "live"] = Field(
        "practice", description="OANDA practice or live servers."
    )
    account_id: SecretRef | None = Field(None, description="OANDA account id (env or file reference).")
    token: SecretRef | None = Field(None, description="OANDA API token (env or file reference).")
    api_url: str | None = Field(
        None, description="Override the REST base URL (e.g. a `gekko venue-sim` server)."
    )


def _reaches_real_money(venue: PaperVenueConfig | CcxtVenueConfig | OandaVenueConfig) -> bool:
    """Whether orders sent to ``venue`` reach the venue's production (real money) servers."""
    if isinstance(venue, CcxtVenueConfig):
        return not venue.sandbox and venue.api_url is None
    if isinstance(venue, OandaVenueConfig):
        return venue.environment == "live" and venue.api_url is None
    return False


VenueConfig = Annotated[PaperVenueConfig | CcxtVenueConfig | OandaVenueConfig, Field(discriminator="kind")]


class DataConfig(_Model):
    """Where market data comes from and is cached."""

    cache: Path = Field(
        Path("var/cache/market.duckdb"), description="DuckDB file caching loaded and fetched bars."
    )


class LedgerConfig(_Model):
    """The DuckDB journal of every decision, order and fill."""

    path: Path = Field(Path("var/gekko.duckdb"), description="Ledger file; created on first use.")


class StrategyConfig(_Model):
    """A rules strategy the rules brain runs."""

    name: str = Field(description="Strategy name: a built-in or a file in strategies/ (without .py).")
    instruments: list[str] = Field(description="Instrument ids it trades, e.g. BTC/USD@paper.", min_length=1)
    params: dict[str, Any] = Field(
        default_factory=dict, description="Strategy parameters (checked by the strategy)."
    )
    budget: Decimal | None = Field(
        None,
        gt=0,
        description="Most capital (account currency) it may commit: the risk engine's `strategy_budget` "
        "check enforces it as `risk.budgets.budgets.<name>` (entries sharing a name add up).",
    )


class LlmConfig(_Model):
    """The language model behind the LLM brain (any model string litellm accepts)."""

    model: str = Field(description="litellm model string, e.g. openai/gpt-4o or ollama/llama3.1.")
    api_base: str | None = Field(
        None, description="Base URL for a local or proxy server (vLLM, Ollama, LM Studio)."
    )
    api_key: SecretRef | None = Field(
        None, description="Provider key (env or file reference); none for local servers."
    )
    timeout_s: float = Field(60, gt=0, description="Timeout of one model request.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries with backoff on transient provider errors.")
    max_steps: int = Field(8, ge=1, le=64, description="Most tool-calling steps in one decision cycle.")
    daily_token_budget: int = Field(
        2_000_000, gt=0, description="Tokens per UTC day; the agent stops when spent."
    )
    daily_cost_budget_usd: Decimal = Field(
        Decimal(20), gt=0, description="Dollars per UTC day; stops when spent."
    )
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")


class BrainConfig(_Model):
    """Who decides: the rules (strategies + forecasts) or an LLM agent."""

    kind: Literal["rules", "llm"] = Field("rules", description="`rules` needs no key; `llm` needs `llm`.")
    llm: LlmConfig | None = Field(None, description="Model settings, required when kind is `llm`.")
    cycle_seconds: int = Field(60, gt=0, description="Seconds between decision cycles in paper/live mode.")
    shadow: bool = Field(
        False,
        description="With kind `rules`: also run the LLM brain (the `llm` section) in shadow on a "
        "separate paper account; its proposals are risk-checked and journaled with a `shadow:` marker, "
        "never sent (`gekko report regret` scores them).",
    )

    @model_validator(mode="after")
    def _llm_needs_model(self) -> BrainConfig:
        if self.kind == "llm" and self.llm is None:
            raise ValueError("kind 'llm' needs an `llm` section with at least `model`")
        if self.shadow and (self.kind != "rules" or self.llm is None):
            raise ValueError("shadow needs kind `rules` (deciding) and an `llm` section (the shadow)")
        return self


class DemoConfig(_Model):
    """`gekko demo`: paper trading over bundled real data at accelerated speed."""

    start: str = Field("2023-03-09T00:00:00+00:00", description="First bar replayed (ISO time).")
    end: str = Field("2023-03-14T00:00:00+00:00", description="Last bar replayed (ISO time).")
    speed: float = Field(3600.0, gt=0, description="Simulated seconds per real second.")


def _default_venues() -> dict[str, VenueConfig]:
    return {"paper": PaperVenueConfig(kind="paper")}


class GekkoConfig(_Model):
    """Root of agent.yaml."""

    version: Literal[1] = Field(1, description="Schema version of this file.")
    mode: Mode = Field(Mode.PAPER, description="backtest, paper or live.")
    account: AccountConfig = Field(
        default_factory=AccountConfig, description="Account currency and paper cash."
    )
    venues: dict[str, VenueConfig] = Field(
        default_factory=_default_venues,
        description="Venues by name; each instrument names one.",
    )
    instruments: list[InstrumentConfig] = Field(default_factory=list, description="What may be traded.")
    data: DataConfig = Field(default_factory=DataConfig, description="Market data cache.")
    ledger: LedgerConfig = Field(default_factory=LedgerConfig, description="Journal location.")
    risk: RiskConfig = Field(default_factory=RiskConfig, description="Risk limits, breakers and checks.")
    brain: BrainConfig = Field(default_factory=BrainConfig, description="Who decides.")
    strategies: list[StrategyConfig] = Field(default_factory=list, description="Rules strategies.")
    demo: DemoConfig = Field(default_factory=DemoConfig, description="Settings of `gekko demo`.")
    approvals: ApprovalConfig = Field(
        default_factory=ApprovalConfig, description="Orders that wait for a person."
    )
    ops: OpsConfig = Field(
        default_factory=OpsConfig, description="People allowed to command Gekko, and their roles."
    )
    chatops: ChatopsConfig | None = Field(
        None, description="Telegram, Slack and alert routing; omitted: no chat-ops."
    )
    mcp: McpConfig = Field(
        default_factory=McpConfig,
        description="MCP: Gekko's own server and the outside servers the agent uses.",
    )
    research: ResearchConfig = Field(
        default_factory=ResearchConfig, description="News sources for the research tools (untrusted text)."
    )
    schedule: ScheduleConfig = Field(
        default_factory=ScheduleConfig,
        description="Headless timetable: cycles, reconciliation, forecasts, report.",
    )

    @model_validator(mode="after")
    def _cross_refs(self) -> GekkoConfig:
        for i, inst in enumerate(self.instruments):
            if inst.venue not in self.venues:
                raise ValueError(
                    f"instruments[{i}].venue: {inst.venue!r} is not a venue defined under `venues`"
                )
        known = {f"{i.symbol}@{i.venue}" for i in self.instruments}
        for i, strat in enumerate(self.strategies):
            for iid in strat.instruments:
                if iid not in known:
                    raise ValueError(
                        f"strategies[{i}].instruments: {iid!r} is not listed under `instruments`"
                    )
        unknown = self.risk.unknown_instruments(known)
        if unknown:
            raise ValueError(unknown[0])
        if self.risk.currency != self.account.currency:
            raise ValueError(
                f"risk.currency {self.risk.currency!r} must equal account.currency {self.account.currency!r} "
                "(money limits are in the account currency)"
            )
        if self.mode is Mode.LIVE and any(isinstance(v, PaperVenueConfig) for v in self.venues.values()):
            names = [n for n, v in self.venues.items() if isinstance(v, PaperVenueConfig)]
            raise ValueError(f"mode live cannot use paper venue(s) {names}; use mode paper")
        if self.mode is not Mode.LIVE:
            for name, venue in self.venues.items():
                if _reaches_real_money(venue):
                    raise ValueError(
                        f"venues.{name}: mode {self.mode} would send orders to the venue's production "
                        "servers; set sandbox: true (ccxt), environment: practice (oanda) or api_url "
                        "(a simulator), or say mode: live"
                    )
        return self

    def secret_refs(self) -> list[tuple[str, SecretRef]]:
        """Every secret reference in use, with its key path."""
        refs: list[tuple[str, SecretRef]] = []
        for name, venue in self.venues.items():
            for field_name in ("api_key", "secret", "password", "account_id", "token"):
                ref = getattr(venue, field_name, None)
                if isinstance(ref, SecretRef):
                    refs.append((f"venues.{name}.{field_name}", ref))
        refs += self.mcp.secret_refs()
        if self.brain.llm and self.brain.llm.api_key:
            refs.append(("brain.llm.api_key", self.brain.llm.api_key))
        return refs
