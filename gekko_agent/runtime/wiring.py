"""The composition root: turn agent.yaml into a running system.

The mode decides only *which* clock, feed and venue are built here. The Trader, RiskEngine and
ExecutionEngine are the same objects in backtest, paper and live.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from gekko_agent.agent.rules import RulesBrain
from gekko_agent.agent.strategy import load_strategy
from gekko_agent.config import GekkoConfig, PaperVenueConfig
from gekko_agent.domain import AssetClass, Event, Instrument, InstrumentId, Portfolio, SimClock
from gekko_agent.errors import ConfigError
from gekko_agent.execution.approvals import ApprovalQueue
from gekko_agent.execution.engine import EventSink, ExecutionEngine
from gekko_agent.execution.ports import Venue
from gekko_agent.market.bararray import BarArray
from gekko_agent.market.loader import load_bars
from gekko_agent.risk.config import RiskConfig
from gekko_agent.risk.engine import RiskEngine
from gekko_agent.runtime.brain import Brain
from gekko_agent.runtime.feed import ReplayFeed
from gekko_agent.runtime.forecasts import forecast_source
from gekko_agent.runtime.marks import MarketBook
from gekko_agent.runtime.trader import Trader
from gekko_agent.venues.paper import FeeSchedule, FillModel, FixedBpsSlippage, PaperVenue
from gekko_agent.venues.paper import PaperVenueConfig as PaperSettings

if TYPE_CHECKING:
    from gekko_agent.ledger import Ledger
    from gekko_agent.tools.context import ToolContext

__all__ = [
    "MemoryJournal",
    "System",
    "build_instruments",
    "build_replay",
    "mcp_tool_context",
    "risk_config",
    "risk_engine",
]


class MemoryJournal:
    """An in-memory event sink (backtests that do not keep a ledger, and tests)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def append(self, event: Event) -> int:
        """Keep ``event``; returns its 1-based sequence number."""
        self.events.append(event)
        return len(self.events)


@dataclass(slots=True)
class System:
    """Everything one run needs, wired.

    Attributes:
        config: the validated agent.yaml.
        clock: the engine clock.
        trader: the loop.
        venues: venues by name (paper venues are fed by the replay).
        feed: the replay feed (paper/backtest on bundled data).
        journal: the ledger or an in-memory sink.
    """

    config: GekkoConfig
    clock: SimClock
    trader: Trader
    venues: dict[str, Venue]
    feed: ReplayFeed
    journal: EventSink

    @property
    def paper_venues(self) -> list[PaperVenue]:
        """Venues fed by the replay."""
        return [v for v in self.venues.values() if isinstance(v, PaperVenue)]


def build_instruments(cfg: GekkoConfig) -> dict[InstrumentId, Instrument]:
    """Instruments from agent.yaml."""
    out: dict[InstrumentId, Instrument] = {}
    for ic in cfg.instruments:
        inst = Instrument(
            symbol=ic.symbol,
            venue=ic.venue,
            asset_class=AssetClass(ic.asset_class),
            tick_size=ic.tick_size,
            lot_size=ic.lot_size,
            min_notional=ic.min_notional,
        )
        out[inst.id] = inst
    return out


def risk_config(cfg: GekkoConfig) -> RiskConfig:
    """``risk:`` with each strategy's ``budget`` (``strategies[].budget``) added to ``risk.budgets``.

    Strategies that share a name share one budget (their intents carry the same strategy name), so
    their budgets add up.

    Raises:
        ConfigError: a strategy's budget and ``risk.budgets.budgets`` disagree about the same name.
    """
    configured: dict[str, Decimal] = {}
    for strat in cfg.strategies:
        if strat.budget is not None:
            configured[strat.name] = configured.get(strat.name, Decimal(0)) + strat.budget
    if not configured:
        return cfg.risk
    budgets = dict(cfg.risk.budgets.budgets)
    for name, budget in configured.items():
        if name in budgets and budgets[name] != budget:
            raise ConfigError(
                "agent.yaml",
                f"strategies.{name}.budget",
                f"{budget} disagrees with risk.budgets.budgets.{name} = {budgets[name]}; give it once",
            )
        budgets[name] = budget
    section = cfg.risk.budgets.model_copy(update={"budgets": budgets})
    return cfg.risk.model_copy(update={"budgets": section})


def risk_engine(cfg: GekkoConfig) -> RiskEngine:
    """The RiskEngine of ``cfg`` (every mode builds it here, so budgets are wired alike)."""
    return RiskEngine(risk_config(cfg))


def _paper_venue(
    name: str,
    vc: PaperVenueConfig,
    cfg: GekkoConfig,
    instruments: list[Instrument],
    clock: SimClock,
    session: str | None,
) -> PaperVenue:
    settings = PaperSettings(
        name=name,
        instruments=tuple(instruments),
        balances=dict(cfg.account.starting_cash),
        fees=FeeSchedule(maker_bps=vc.maker_fee_bps, taker_bps=vc.taker_fee_bps),
        slippage=FixedBpsSlippage(fixed_bps=vc.slippage_bps),
        fill_model=FillModel(max_participation=vc.max_participation),
        latency_ms=vc.latency_ms,
        seed=vc.seed,
        session=session,
    )
    return PaperVenue(settings, clock)


def build_replay(
    cfg: GekkoConfig,
    journal: EventSink,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    warmup_minutes: int = 1500,
    bars: Mapping[InstrumentId, BarArray] | None = None,
    progress: Callable[[int, int], None] | None = None,
    record: Path | None = None,
    replay: Path | None = None,
    venue_session: str | None = None,
) -> System:
    """Wire a paper/backtest run that replays bundled (or given) bars through paper venues.

    Args:
        cfg: validated config; every instrument needs a ``dataset`` unless ``bars`` has it.
        journal: ledger or in-memory sink.
        start: first bar that may trade (earlier bars warm up indicators and VaR).
        end: stop before this time.
        warmup_minutes: history replayed before ``start`` without trading.
        bars: bar arrays to use instead of the bundled datasets (``gekko backtest --csv``).
        progress: called while data files load cold.
        record: with the LLM brain, store every model exchange in this folder.
        replay: with the LLM brain, answer from recorded exchanges instead of a model.
        venue_session: the session part of paper order and fill ids. A run that journals into a ledger
            which may already hold fills passes :func:`ledger_session` so its ids cannot collide with
            an earlier run's; None derives it from the seed and start (repeatable backtests).
    """
    instruments = build_instruments(cfg)
    if not instruments:
        raise ConfigError("agent.yaml", "instruments", "no instruments to trade")
    arrays: dict[InstrumentId, BarArray] = {}
    for ic in cfg.instruments:
        iid = f"{ic.symbol}@{ic.venue}"
        if bars is not None and iid in bars:
            arrays[iid] = bars[iid]
            continue
        if ic.dataset is None:
            raise ConfigError(
                "agent.yaml", f"instruments.{iid}.dataset", "paper replay needs a dataset for each instrument"
            )
        lo = (start - timedelta(minutes=warmup_minutes)) if start else None
        arrays[iid] = load_bars(ic.dataset, lo, end, cache=cfg.data.cache, progress=progress)
    feed = ReplayFeed(arrays)
    first = feed.start
    clock = SimClock(first or datetime.now().astimezone())
    venues: dict[str, Venue] = {}
    for name, vc in cfg.venues.items():
        members = [i for i in instruments.values() if i.venue == name]
        if not members:
            continue
        if not isinstance(vc, PaperVenueConfig):
            raise ConfigError(
                "agent.yaml", f"venues.{name}.kind", f"replay runs need paper venues, not {vc.kind}"
            )
        venues[name] = _paper_venue(name, vc, cfg, members, clock, venue_session)
    portfolio = Portfolio(cfg.account.currency, dict(cfg.account.starting_cash))
    execution = ExecutionEngine(venues, instruments, portfolio, journal, clock)
    for name in venues:
        execution.mark_reconciled(name)  # a fresh paper venue agrees with a fresh portfolio
    brain: Brain
    if cfg.brain.kind == "llm":
        from gekko_agent.agent.llm_trading import build_llm_trading_brain

        llm_brain = build_llm_trading_brain(cfg, journal, record=record, replay=replay)
        brain = llm_brain
    else:
        strategies = [load_strategy(s.name, s.instruments, s.params) for s in cfg.strategies]
        brain = RulesBrain(strategies, journal)
    book = MarketBook(
        instruments,
        cfg.account.currency,
        return_interval=max((a.interval for a in arrays.values()), default=60),
        lookback=cfg.risk.var.lookback,
    )
    trader = Trader(brain, risk_engine(cfg), execution, journal, clock, book, instruments)
    trader.approvals = ApprovalQueue(cfg.approvals, journal, clock)
    trader.forecasts = forecast_source(cfg, brain, journal, clock)
    if cfg.brain.kind == "llm":
        llm_brain.bind(trader)
    return System(cfg, clock, trader, venues, feed, journal)


def ledger_session(ledger: Ledger) -> str:
    """A paper venue session for a run journaling into ``ledger``: ``r<last seq>``.

    Repeatable for the same ledger contents, and different for every run that journaled anything,
    so fill ids of two runs in one ledger never collide (the ledger keeps one fill per id).
    """
    return f"r{ledger.last_seq}"


def mcp_tool_context(config_path: Path | None) -> ToolContext:
    """The ToolContext standalone ``gekko mcp serve`` offers: a snapshot, not a running engine.

    Read tools answer from the paper engine warmed up to ``demo.start`` and frozen there (the server
    says so in its instructions and tool descriptions); trading tools refuse, since nothing would take
    their proposals (see :mod:`gekko_agent.mcp.snapshot`). To trade over MCP, ``gekko run`` with
    ``mcp.serve.beside_engine`` attaches the server to the live engine.
    """
    import asyncio

    from gekko_agent.agent.engine_context import BarHistory
    from gekko_agent.config import load_config
    from gekko_agent.mcp.snapshot import ReplaySnapshotContext
    from gekko_agent.runtime.replay import run_replay

    cfg = load_config(config_path)
    start = datetime.fromisoformat(cfg.demo.start)
    system = build_replay(cfg, MemoryJournal(), start=start, end=start)
    history = BarHistory()
    asyncio.run(run_replay(system, start=start, on_bar=history.on_bar))
    where = f"a paper replay frozen at {start.isoformat()} (demo.start)"
    return ReplaySnapshotContext(system.trader, history, snapshot_of=where)
