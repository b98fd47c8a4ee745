"""The LLM brain as the Trader sees it: bars feed its history, and every ``cycle_seconds`` of
engine time it runs one agent cycle whose intents go through the same risk path as any others.

Model replies can be recorded (``record``) or replayed (``replay``) so an agent backtest reruns
identically without a model.

The outside MCP servers named under ``mcp.servers`` in agent.yaml are connected when the brain starts
(:meth:`LlmTradingBrain.start`, or the first cycle) and closed when it stops
(:meth:`LlmTradingBrain.close`, or when the event loop shuts down). Their tools reach the model as
``<server>__<tool>`` with untrusted output. A server that fails to start or dies is journaled as an
``AlertRaised`` and logged; the cycle carries on without its tools.

With ``research.sources`` configured, each cycle first refreshes the news cache (sources past their TTL
are fetched; none when replaying) and the observation carries a lexicon sentiment summary of the cached
headlines. The ``sentiment_score`` tool asks the same model (:class:`LlmSentimentScorer`), spending
from the brain's daily budget and falling back to the lexicon when it cannot.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gekko_agent.agent.budget import DailyBudget, EventSink
from gekko_agent.agent.engine_context import BarHistory, TraderToolContext
from gekko_agent.agent.llm import LlmPort
from gekko_agent.agent.loop import LlmBrain
from gekko_agent.agent.strategy import StrategyContext
from gekko_agent.config import GekkoConfig
from gekko_agent.domain import AlertRaised, Bar, Clock, Fill, OrderIntent
from gekko_agent.errors import ConfigError

if TYPE_CHECKING:
    from gekko_agent.agent.mcp_client import BackgroundHub
    from gekko_agent.config.model import LlmConfig
    from gekko_agent.mcp.config import McpClientServerConfig
    from gekko_agent.runtime.trader import Trader
    from gekko_agent.tools.research import ResearchService
    from gekko_agent.tools.sentiment import LlmSentimentScorer

__all__ = ["LlmTradingBrain", "NewsToolContext", "build_llm_trading_brain", "build_sentiment_scorer"]

log = logging.getLogger(__name__)


class NewsToolContext(TraderToolContext):
    """The Trader's tool view plus the cached headlines (a :class:`~gekko_agent.agent.observation.NewsView`).

    Args:
        trader: the running Trader.
        history: bars the engine has seen.
        research: the research service whose on-disk cache is read (never the network).
        strategy: the strategy name proposals carry.
    """

    def __init__(
        self, trader: Trader, history: BarHistory, research: ResearchService, *, strategy: str = "llm"
    ) -> None:
        super().__init__(trader, history, strategy=strategy)
        self.research = research

    def cached_headlines(self) -> list[dict[str, Any]]:
        """Headlines already in the research cache that were published by the engine's now.

        A headline with no publication time, or one published after the engine clock (a backtest or
        paper replay of past bars reading today's cache), is left out: the observation must not
        know what had not happened yet.
        """
        now = self.trader.clock.now()
        out = []
        for item in self.research.cached_headlines():
            published = item.get("published")
            if not published:
                continue
            at = datetime.fromisoformat(str(published))
            if (at if at.tzinfo else at.replace(tzinfo=UTC)) <= now:
                out.append(item)
        return out


class LlmTradingBrain:
    """Adapts :class:`LlmBrain` to the Trader's brain interface.

    Args:
        brain: the agent loop.
        cycle_seconds: engine seconds between agent cycles.
        history: bars kept for the tools.
        mcp_servers: outside MCP servers whose tools the model may call (``mcp.servers``).
        research: the news sources; their cached headlines feed the observation's sentiment summary.
        refresh_news: fetch stale sources before each cycle (False when replaying: cache only).
        scorer: the model sentiment scorer; it takes the Trader's clock when bound.
    """

    name = "llm"

    def __init__(
        self,
        brain: LlmBrain,
        cycle_seconds: int,
        history: BarHistory | None = None,
        mcp_servers: Mapping[str, McpClientServerConfig] | None = None,
        *,
        research: ResearchService | None = None,
        refresh_news: bool = True,
        scorer: LlmSentimentScorer | None = None,
    ) -> None:
        self.brain = brain
        self.cycle = timedelta(seconds=cycle_seconds)
        self.history = history or BarHistory()
        self.mcp_servers = dict(mcp_servers or {})
        self.research = research
        self.refresh_news = refresh_news
        self.scorer = scorer
        self.mcp: BackgroundHub | None = None
        self._clock: Clock | None = None
        self._ctx: TraderToolContext | None = None
        self._last: datetime | None = None
        self._cancels: list[str] = []

    def bind(self, trader: Trader) -> None:
        """Give the tools their read-only view of the running Trader."""
        strategy = self.brain.settings.strategy
        self._ctx = (
            NewsToolContext(trader, self.history, self.research, strategy=strategy)
            if self.research is not None
            else TraderToolContext(trader, self.history, strategy=strategy)
        )
        self._clock = trader.clock
        if self.scorer is not None:
            self.scorer.clock = trader.clock.now  # the budget's UTC day is engine time

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
        if self.research is not None and self.refresh_news:
            failed = await self.research.refresh()  # what failed keeps its older cached copy
            for name, why in sorted(failed.items()):
                log.warning("news source %s not refreshed: %s", name, why)
        intents = await self.brain.decide(self._ctx, f"cycle at {now.isoformat()}")
        queued, cancels = self._ctx.take()
        self._cancels.extend(cancels)
        return [*intents, *queued]

    def take_cancels(self) -> list[str]:
        """Own orders the model asked to cancel since the last call (the Trader risk-checks each)."""
        out, self._cancels = self._cancels, []
        return out


def build_sentiment_scorer(
    llm_cfg: LlmConfig,
    *,
    llm: LlmPort | None = None,
    budget: DailyBudget | None = None,
    journal: EventSink | None = None,
) -> LlmSentimentScorer:
    """The model sentiment scorer of ``brain.llm`` (also what ``gekko mcp serve`` offers).

    Args:
        llm_cfg: the ``brain.llm`` section.
        llm: the model port to use (default: a litellm provider from ``llm_cfg``).
        budget: the daily budget it spends from (default: a fresh one with ``llm_cfg``'s limits whose
            alert goes to ``journal``, or to the log when there is none).
        journal: where the default budget's alert is journaled.

    Raises:
        ConfigError: the api_key reference cannot be resolved.
    """
    from gekko_agent.tools.sentiment import LlmSentimentScorer

    if llm is None:
        from gekko_agent.agent.litellm_provider import LiteLlmProvider

        llm = LiteLlmProvider.from_config(llm_cfg)
    if budget is None:
        sink = journal if journal is not None else _LogSink()
        budget = DailyBudget(llm_cfg.daily_token_budget, llm_cfg.daily_cost_budget_usd, sink)
    return LlmSentimentScorer(llm, budget=budget)


class _LogSink:
    """An event sink that logs (the budget alert of a scorer with no journal)."""

    def append(self, event: Any) -> int:
        log.warning("%s", getattr(event, "message", event))
        return 0


def build_llm_trading_brain(
    cfg: GekkoConfig, journal: EventSink, *, record: Path | None = None, replay: Path | None = None
) -> LlmTradingBrain:
    """The LLM brain from ``brain.llm`` (litellm), optionally recording or replaying model answers.

    Its tools are the built-in ones (with ``sentiment_score`` asking the same model, charged to the
    brain's budget), the research tools when ``research.sources`` lists any, and the tools of the
    servers under ``mcp.servers`` (connected when the brain starts). When ``journal`` is a ledger, the
    daily token/$ budget restores the day's spend from it, so a restart keeps the cap.
    """
    from gekko_agent.agent.litellm_provider import LiteLlmProvider
    from gekko_agent.agent.record import RecordingLlm, ReplayLlm
    from gekko_agent.agent.settings import AgentSettings
    from gekko_agent.tools import builtin_registry
    from gekko_agent.tools.sentiment import sentiment_tools

    llm_cfg = cfg.brain.llm
    if llm_cfg is None:
        raise ConfigError("agent.yaml", "brain.llm", "kind llm needs an `llm` section")
    llm: LlmPort = ReplayLlm(replay, llm_cfg.model) if replay else LiteLlmProvider.from_config(llm_cfg)
    if record is not None:
        llm = RecordingLlm(llm, record)
    settings = AgentSettings.from_llm_config(llm_cfg)
    budget = DailyBudget.for_journal(
        settings.daily_token_budget, settings.daily_cost_budget_usd, journal, LlmBrain.name
    )
    scorer = build_sentiment_scorer(llm_cfg, llm=llm, budget=budget)
    registry = builtin_registry()
    for t in sentiment_tools(scorer):
        registry.add(t, replace=True)
    research: ResearchService | None = None
    if cfg.research.sources:  # news text reaches the model only inside the untrusted envelope
        from gekko_agent.tools.research import ResearchService, research_tools

        research = ResearchService(cfg.research)
        registry.extend(research_tools(research))
    brain = LlmBrain(llm, registry, journal, settings, budget)
    return LlmTradingBrain(
        brain,
        cfg.brain.cycle_seconds,
        mcp_servers=cfg.mcp.servers,
        research=research,
        refresh_news=replay is None,
        scorer=scorer,
    )
