"""The LLM brain as the Trader sees it: bars feed its history, and every ``cycle_seconds`` of
engine time it runs one agent cycle whose intents go through the same risk path as any others.

Model replies can be recorded (``record``) or replayed (``replay``) so an agent backtest reruns
identically without a model.

The outside MCP servers named under ``mcp.servers`` in agent.yaml are connected when the brain starts
(:meth:`LlmTradingBrain.start`, or the first cycle) and closed when it stops
(:meth:`LlmTradingBrain.close`, or when the event loop shuts down). Their tools reach the model as
``<server>__<tool>`` with untrusted output. A server that fails to start or dies is journaled as an
``AlertRaised`` and logged; the cycle carries on without its tools.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gekko_agent.agent.budget import EventSink
from gekko_agent.agent.engine_context import BarHistory, TraderToolContext
from gekko_agent.agent.llm import LlmPort
from gekko_agent.agent.loop import LlmBrain
from gekko_agent.agent.strategy import StrategyContext
from gekko_agent.config import GekkoConfig
from gekko_agent.domain import AlertRaised, Bar, Clock, Fill, OrderIntent
from gekko_agent.errors import ConfigError

if TYPE_CHECKING:
    from gekko_agent.agent.mcp_client import BackgroundHub
    from gekko_agent.mcp.config import McpClientServerConfig
    from gekko_agent.runtime.trader import Trader

__all__ = ["LlmTradingBrain", "build_llm_trading_brain"]


class LlmTradingBrain:
    """Adapts :class:`LlmBrain` to the Trader's brain interface.

    Args:
        brain: the agent loop.
        cycle_seconds: engine seconds between agent cycles.
        history: bars kept for the tools.
        mcp_servers: outside MCP servers whose tools the model may call (``mcp.servers``).
    """

    name = "llm"

    def __init__(
        self,
        brain: LlmBrain,
        cycle_seconds: int,
        history: BarHistory | None = None,
        mcp_servers: Mapping[str, McpClientServerConfig] | None = None,
    ) -> None:
        self.brain = brain
        self.cycle = timedelta(seconds=cycle_seconds)
        self.history = history or BarHistory()
        self.mcp_servers = dict(mcp_servers or {})
        self.mcp: BackgroundHub | None = None
        self._clock: Clock | None = None
        self._ctx: TraderToolContext | None = None
        self._last: datetime | None = None
        self._cancels: list[str] = []

    def bind(self, trader: Trader) -> None:
        """Give the tools their read-only view of the running Trader."""
        self._ctx = TraderToolContext(trader, self.history, strategy=self.brain.settings.strategy)
        self._clock = trader.clock

    async def start(self) -> None:
        """Connect the MCP servers and offer their tools (once; failures are journaled, never raised)."""
        if self.mcp is not None or not any(s.enabled for s in self.mcp_servers.values()):
            return
        from gekko_agent.agent.mcp_client import BackgroundHub, McpToolHub

        hub = McpToolHub(self.mcp_servers, alert=self._alert, clock=self._clock)
        self.mcp = BackgroundHub(hub)
        self.brain.add_tools(await self.mcp.start())

    async def close(self) -> None:
        """Disconnect the MCP servers (stdio servers are stopped)."""
        if self.mcp is not None:
            await self.mcp.close()

    def _alert(self, event: AlertRaised) -> None:
        self.brain.journal.append(event)

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
        await self.start()
        self._last = now
        intents = await self.brain.decide(self._ctx, f"cycle at {now.isoformat()}")
        queued, cancels = self._ctx.take()
        self._cancels.extend(cancels)
        return [*intents, *queued]

    def take_cancels(self) -> list[str]:
        """Own orders the model asked to cancel since the last call (the Trader risk-checks each)."""
        out, self._cancels = self._cancels, []
        return out


def build_llm_trading_brain(
    cfg: GekkoConfig, journal: EventSink, *, record: Path | None = None, replay: Path | None = None
) -> LlmTradingBrain:
    """The LLM brain from ``brain.llm`` (litellm), optionally recording or replaying model answers.

    Its tools are the built-in ones, the research tools when ``research.sources`` lists any, and the
    tools of the servers under ``mcp.servers`` (connected when the brain starts). When ``journal`` is a
    ledger, the daily token/$ budget restores the day's spend from it, so a restart keeps the cap.
    """
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
    return LlmTradingBrain(brain, cfg.brain.cycle_seconds, mcp_servers=cfg.mcp.servers)
