"""The LLM brain as the Trader sees it: bars feed its history, and every ``cycle_seconds`` of
engine time it runs one agent cycle whose intents go through the same risk path as any others.

Model replies can be recorded (``record``) or replayed (``replay``) so an agent backtest reruns
identically without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gekko_agent.agent.budget import EventSink
from gekko_agent.agent.engine_context import BarHistory, TraderToolContext
from gekko_agent.agent.llm import LlmPort
from gekko_agent.agent.loop import LlmBrain
from gekko_agent.agent.strategy import StrategyContext
from gekko_agent.config import GekkoConfig
from gekko_agent.domain import Bar, Fill, OrderIntent
from gekko_agent.errors import ConfigError

if TYPE_CHECKING:
    from gekko_agent.runtime.trader import Trader

__all__ = ["LlmTradingBrain", "build_llm_trading_brain"]


class LlmTradingBrain:
    """Adapts :class:`LlmBrain` to the Trader's brain interface.

    Args:
        brain: the agent loop.
        cycle_seconds: engine seconds between agent cycles.
        history: bars kept for the tools.
    """

    name = "llm"

    def __init__(self, brain: LlmBrain, cycle_seconds: int, history: BarHistory | None = None) -> None:
        self.brain = brain
        self.cycle = timedelta(seconds=cycle_seconds)
        self.history = history or BarHistory()
        self._ctx: TraderToolContext | None = None
        self._last: datetime | None = None

    def bind(self, trader: Trader) -> None:
        """Give the tools their read-only view of the running Trader."""
        self._ctx = TraderToolContext(trader, self.history, strategy=self.brain.settings.strategy)

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Remember the bar; decisions happen in :meth:`run_cycle`."""
        self.history.on_bar(bar)
        return ()

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Fills show up in the next observation."""
        return ()

    def due(self, now: datetime) -> bool:
        """True when a cycle should run at ``now``."""
        return self._last is None or now - self._last >= self.cycle

    async def run_cycle(self, now: datetime) -> list[OrderIntent]:
        """One agent cycle; returns its intents plus any proposed through tools (e.g. over MCP)."""
        if self._ctx is None:
            raise ConfigError("agent.yaml", "brain", "the LLM brain was not bound to a trader")
        self._last = now
        intents = await self.brain.decide(self._ctx, f"cycle at {now.isoformat()}")
        queued, _cancels = self._ctx.take()
        return [*intents, *queued]


def build_llm_trading_brain(
    cfg: GekkoConfig, journal: EventSink, *, record: Path | None = None, replay: Path | None = None
) -> LlmTradingBrain:
    """The LLM brain from ``brain.llm`` (litellm), optionally recording or replaying model answers."""
    from gekko_agent.agent.litellm_provider import LiteLlmProvider
    from gekko_agent.agent.record import RecordingLlm, ReplayLlm
    from gekko_agent.agent.settings import AgentSettings
    from gekko_agent.tools import builtin_registry

    llm_cfg = cfg.brain.llm
    if llm_cfg is None:
        raise ConfigError("agent.yaml", "brain.llm", "kind llm needs an `llm` section")
    llm: LlmPort = ReplayLlm(replay, llm_cfg.model) if replay else LiteLlmProvider.from_config(llm_cfg)
    if record is not None:
        llm = RecordingLlm(llm, record)
    registry = builtin_registry()
    if cfg.research.sources:  # news text reaches the model only inside the untrusted envelope
        from gekko_agent.tools.research import ResearchService, research_tools

        registry.extend(research_tools(ResearchService(cfg.research)))
    brain = LlmBrain(llm, registry, journal, AgentSettings.from_llm_config(llm_cfg))
    return LlmTradingBrain(brain, cfg.brain.cycle_seconds)
