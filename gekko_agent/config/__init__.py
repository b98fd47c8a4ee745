"""agent.yaml: schema (pydantic, frozen, unknown keys rejected), loading and checking, secret references."""

from gekko_agent.config.loader import (
    DEFAULT_CONFIG,
    check_config,
    load_config,
    parse_config,
    shipped_config_path,
)
from gekko_agent.config.model import (
    AccountConfig,
    BrainConfig,
    CcxtVenueConfig,
    DataConfig,
    DemoConfig,
    GekkoConfig,
    InstrumentConfig,
    LedgerConfig,
    LlmConfig,
    Mode,
    OandaVenueConfig,
    PaperVenueConfig,
    StrategyConfig,
)
from gekko_agent.config.secrets import SecretRef, redact

__all__ = [
    "DEFAULT_CONFIG",
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
    "SecretRef",
    "StrategyConfig",
    "check_config",
    "load_config",
    "parse_config",
    "redact",
    "shipped_config_path",
]
