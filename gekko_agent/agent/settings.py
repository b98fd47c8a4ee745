"""Settings of the LLM brain beyond agent.yaml's ``brain.llm`` section (defaults work as shipped).

:class:`AgentSettings` is a frozen pydantic model that rejects unknown keys, like the rest of the
configuration. The CLI builds it from flags; :meth:`AgentSettings.from_llm_config` fills the fields that
``LlmConfig`` already carries.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AgentSettings", "TokenPrice"]


class TokenPrice(BaseModel):
    """Price per million tokens, for models litellm has no price for (local servers are usually free)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: Decimal = Field(Decimal(0), ge=0, description="USD per million prompt tokens.")
    output_per_mtok: Decimal = Field(Decimal(0), ge=0, description="USD per million completion tokens.")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """USD cost of a request."""
        million = Decimal(1_000_000)
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / million


class AgentSettings(BaseModel):
    """How the LLM brain runs one cycle.

    Attributes mirror the fields below; every one has a default.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_steps: int = Field(8, ge=1, le=64, description="Most model turns in one decision cycle.")
    max_invalid_answers: int = Field(
        2, ge=0, le=10, description="Malformed final answers sent back as tool errors before holding."
    )
    daily_token_budget: int = Field(
        2_000_000, gt=0, description="Tokens per UTC day; the agent stops when spent."
    )
    daily_cost_budget_usd: Decimal = Field(
        Decimal(20), gt=0, description="USD per UTC day; stops when spent."
    )
    observation_bars: int = Field(
        30, ge=5, le=500, description="Recent bars per instrument in the observation."
    )
    max_tool_output_chars: int = Field(
        8000, ge=200, le=200_000, description="Tool output longer than this is cut before the model sees it."
    )
    strategy: str = Field("llm", pattern=r"^[a-z_][a-z0-9_]*$", description="Strategy name on the intents.")
    prompts_dir: Path | None = Field(None, description="Prompt templates (default: the bundled prompts/).")
    backoff_s: float = Field(0.5, ge=0, le=30, description="First retry delay; doubles per retry.")
    price: TokenPrice | None = Field(None, description="Token price for models litellm cannot price.")

    @classmethod
    def from_llm_config(cls, llm: Any, **overrides: Any) -> AgentSettings:
        """Settings taking ``max_steps`` and the daily budgets from an ``LlmConfig``.

        Args:
            llm: the ``brain.llm`` section of agent.yaml.
            overrides: any other field.
        """
        base = {
            "max_steps": llm.max_steps,
            "daily_token_budget": llm.daily_token_budget,
            "daily_cost_budget_usd": llm.daily_cost_budget_usd,
        }
        return cls(**{**base, **overrides})
