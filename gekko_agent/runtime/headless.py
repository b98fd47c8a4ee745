"""``gekko run``: the engine in the mode agent.yaml says, driven by the headless scheduler.

:func:`run_configured` is the composition root of a running agent, shared by ``gekko run`` and
``gekko chatops serve``:

1. open the DuckDB ledger (``ledger.path``) and, when chat-ops are on, wrap it in an
   :class:`~gekko_agent.runtime.journal.ObservedLedger` that feeds the alert router;
2. build the engine: a :class:`VenueEngine` over a :class:`~gekko_agent.runtime.live.LiveSession`
   when a venue is ccxt or OANDA, else a :class:`ReplayEngine` that replays the bundled datasets
   through paper venues at ``--speed``; both resume the trading state from the ledger;
3. attach chat-ops (:class:`~gekko_agent.runtime.chatops.ChatopsHub`) to the engine's Trader, and,
   when ``mcp.serve.beside_engine``, Gekko's MCP server over HTTP
   (:class:`~gekko_agent.mcp.attached.McpAttachment`): read tools answer from the live Trader, and
   proposals from its trading tools are drained by the engine through ``Trader.propose``;
4. :func:`run_headless`: the :class:`~gekko_agent.runtime.scheduler.HeadlessScheduler` runs the
   ``schedule:`` jobs of agent.yaml: ``agent_cycle`` (poll bars and fills; the brain decides; every
   ``brain.cycle_seconds`` unless ``schedule.agent_cycle`` is given) and
   ``reconcile`` for venue sessions, ``forecast_refresh`` when forecasts are wired, and
   ``daily_report`` always. A replay is fed by its data (decisions follow simulated time) and ends with
   it, unless asked to linger (chat-ops stay up).

Shutdown on SIGTERM or SIGINT (or the end of the data, or ``stop``): no new jobs; a running job may
finish within ``schedule.shutdown_grace_seconds``; the replay stops at its next bar; the breakers'
references and a ``stopped`` alert are journaled; chat-ops send what is queued and stop; venue
sessions close; the MCP server stops (proposals still queued are marked failed). Every event was
durable when it was appended; the ledger is closed by its owner.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gekko_agent.config import GekkoConfig, Mode, PaperVenueConfig
from gekko_agent.domain import AlertRaised, Bar
from gekko_agent.errors import HaltError, InvalidInput
from gekko_agent.execution.engine import EventSink
from gekko_agent.ledger import Ledger
from gekko_agent.runtime.chatops import ChatopsHub, ChatopsSelection
from gekko_agent.runtime.forecasts import ForecastBook
from gekko_agent.runtime.journal import ObservedLedger
from gekko_agent.runtime.live import LiveSession
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.restore import restore_trader
from gekko_agent.runtime.scheduler import HeadlessScheduler, JobSchedule, ScheduleConfig
from gekko_agent.runtime.trader import Trader
from gekko_agent.runtime.wiring import System, build_replay, ledger_session

if TYPE_CHECKING:
    from gekko_agent.agent.engine_context import BarHistory
    from gekko_agent.mcp.attached import McpAttachment

__all__ = [
    "HeadlessEngine",
    "ReplayEngine",
    "VenueEngine",
    "daily_report_lines",
    "effective_schedule",
    "run_configured",
    "run_headless",
]

Job = Callable[[], Awaitable[None]]
Echo = Callable[[str], None]


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def status_text(trader: Trader) -> str:
    """One status line: engine time, state, equity, counters."""
    s = trader.stats
    return (
        f"{trader.clock.now():%Y-%m-%d %H:%M:%S} state={trader.state.value} "
        f"equity={_money(trader.equity.now)} intents={s.intents} denied={s.denied} orders={s.orders} "
        f"fills={trader.execution.fill_count}"
    )


class HeadlessEngine(Protocol):
    """What :func:`run_headless` drives."""

    @property
    def trader(self) -> Trader:
        """The running Trader."""
        ...

    @property
    def mode(self) -> str:
        """``paper`` or ``live``, for display."""
        ...

    @property
    def finite(self) -> bool:
        """True when :meth:`feed` ends by itself (a replay); False when jobs drive it (venues)."""
        ...

    async def start(self) -> None:
        """Before the first job (a venue session reconciles and takes its first step)."""
        ...

    def jobs(self) -> dict[str, Job]:
        """The engine's own scheduler jobs by name (``agent_cycle``, ``reconcile``)."""
        ...

    async def feed(self, should_stop: Callable[[], bool]) -> None:
        """Feed the Trader until the data ends or ``should_stop`` (a no-op when not :attr:`finite`)."""
        ...

    async def close(self) -> None:
        """Close venue sessions and the brain's outside connections."""
        ...


class ReplayEngine:
    """A paper replay of the configured datasets at ``speed`` (paper mode on bundled data).

    Args:
        system: from :func:`~gekko_agent.runtime.wiring.build_replay`.
        start: bars closing before this only warm up.
        speed: simulated seconds per wall second (None: as fast as possible).
        echo: where the hourly (simulated time) status line goes.
        shadow: the shadow system, when ``brain.shadow`` is on.
        observers: called with every bar the engine sees (e.g. the MCP server's bar history).
    """

    mode = "paper"
    finite = True

    def __init__(
        self,
        system: System,
        *,
        start: datetime | None,
        speed: float | None,
        echo: Echo,
        shadow: System | None = None,
        observers: Sequence[Callable[[Bar], None]] = (),
    ) -> None:
        self.system = system
        self.observers = list(observers)
        self.start_at = start
        self.speed = speed
        self.echo = echo
        self.shadow = shadow
        self._last_line: datetime | None = None

    @property
    def trader(self) -> Trader:
        """The deciding Trader."""
        return self.system.trader

    async def start(self) -> None:
        """Nothing to do: paper venues start reconciled with a fresh paper account."""

    def jobs(self) -> dict[str, Job]:
        """None: bars drive the decisions in simulated time."""
        return {}

    def _on_bar(self, bar: Bar) -> None:
        for observe in self.observers:
            observe(bar)
        now = self.trader.clock.now()
        if self.start_at is not None and now <= self.start_at:
            return
        if self._last_line is None or now - self._last_line >= timedelta(hours=1):
            self._last_line = now
            self.echo(status_text(self.trader))

    async def feed(self, should_stop: Callable[[], bool]) -> None:
        """Replay every bar (with the shadow beside it, unpaced, when there is one)."""
        if self.shadow is not None:
            from gekko_agent.runtime.shadow import run_with_shadow

            await run_with_shadow(
                self.system, self.shadow, start=self.start_at, on_bar=self._on_bar, should_stop=should_stop
            )
            return
        await run_replay(
            self.system, start=self.start_at, speed=self.speed, on_bar=self._on_bar, should_stop=should_stop
        )

    async def close(self) -> None:
        """Close the brains' outside connections (MCP servers of an LLM brain)."""
        for system in (self.system, self.shadow):
            close = getattr(system.trader.brain, "close", None) if system is not None else None
            if close is not None:
                await close()


class VenueEngine:
    """A :class:`~gekko_agent.runtime.live.LiveSession` as the scheduler drives it.

    Args:
        session: the venue-backed session.
        echo: where a status line goes after each agent cycle.
    """

    finite = False

    def __init__(self, session: LiveSession, echo: Echo) -> None:
        self.session = session
        self.echo = echo

    @property
    def trader(self) -> Trader:
        """The session's Trader."""
        return self.session.trader

    @property
    def mode(self) -> str:
        """The configured mode (paper against a sandbox or simulator, or live)."""
        return self.session.cfg.mode.value

    async def start(self) -> None:
        """Reconcile every venue, then take the first step."""
        await self.session.reconcile()
        await self.step()

    async def step(self) -> None:
        """The ``agent_cycle`` job: poll bars and fills (the brain decides), then print a status line."""
        await self.session.step()
        self.echo(status_text(self.trader))

    async def reconcile(self) -> None:
        """The ``reconcile`` job."""
        await self.session.reconcile()

    def jobs(self) -> dict[str, Job]:
        """``agent_cycle`` and ``reconcile``."""
        return {"agent_cycle": self.step, "reconcile": self.reconcile}

    async def feed(self, should_stop: Callable[[], bool]) -> None:
        """Not used: jobs drive a venue session."""

    async def close(self) -> None:
        """Close the session (venues, brain connections)."""
        await self.session.close()


def daily_report_lines(trader: Trader) -> list[str]:
    """The daily report: state, equity, PnL today, drawdown, and what the engine did."""
    eq, s = trader.equity, trader.stats
    ccy = trader.execution.portfolio.account_currency
    pnl = eq.now - eq.day_start if eq.now is not None and eq.day_start is not None else None
    dd = (eq.peak - eq.now) / eq.peak if eq.peak and eq.now is not None else None
    return [
        f"state {trader.state.value.upper()} · brain {trader.brain.name}",
        f"equity {_money(eq.now)} {ccy} · today {_money(pnl)} · drawdown "
        + ("—" if dd is None else f"{dd:.2%}"),
        f"intents {s.intents} · approved {s.approved} · resized {s.resized} · denied {s.denied} · "
        f"orders {s.orders} · fills {trader.execution.fill_count}",
    ]


async def _when_set(event: asyncio.Event, then: Callable[[], None]) -> None:
    await event.wait()
    then()


async def run_headless(
    engine: HeadlessEngine,
    schedule: ScheduleConfig,
    journal: EventSink,
    *,
    echo: Echo,
    chatops: ChatopsHub | None = None,
    stop: asyncio.Event | None = None,
    install_signals: bool = True,
    linger: bool = False,
    mcp: McpAttachment | None = None,
) -> None:
    """Run ``engine`` on ``schedule`` until a signal, ``stop``, or (unless ``linger``) the end of its data.

    Args:
        engine: the wired engine.
        schedule: the ``schedule:`` section of agent.yaml.
        journal: the ledger (the daily report, job failures and the stop are journaled).
        echo: where status lines and the daily report go.
        chatops: chat-ops attached to the engine's Trader, started and stopped here.
        stop: set to stop (besides SIGTERM/SIGINT).
        install_signals: handle SIGTERM and SIGINT (main thread only).
        linger: keep serving (jobs, chat-ops) after a replay's data ends, until stopped.
        mcp: Gekko's MCP server attached to the engine, started after the engine and stopped before it
            closes; a failure draining its proposals is handled like a job's.

    Raises:
        ConfigError: the MCP server's port cannot be bound.
        HaltError: a job or the replay hit an error that must stop trading (re-raised after shutdown).
    """
    trader = engine.trader
    fatal: list[BaseException] = []
    reason = ["stopped"]
    stop_feed = False
    feed_task: asyncio.Task[None] | None = None

    async def daily_report() -> None:
        lines = daily_report_lines(trader)
        echo("daily report: " + " | ".join(lines))
        journal.append(
            AlertRaised(ts=trader.clock.now(), level="info", source="report", message=" · ".join(lines))
        )

    jobs = {**engine.jobs(), "daily_report": daily_report}
    book = trader.forecasts
    if isinstance(book, ForecastBook):

        async def forecast_refresh() -> None:
            book.refresh()

        jobs["forecast_refresh"] = forecast_refresh

    async def shutdown() -> None:
        nonlocal stop_feed
        stop_feed = True
        if feed_task is not None:  # it stops at its next bar; a paced replay may be waiting for it
            _done, pending = await asyncio.wait([feed_task], timeout=schedule.shutdown_grace_seconds)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            trader.mark_equity()
            journal.append(
                AlertRaised(
                    ts=trader.clock.now(),
                    level="info",
                    source="runtime",
                    message=f"gekko {engine.mode} {reason[0]}: {status_text(trader)}",
                )
            )
        except HaltError as exc:  # an unwritable ledger: still close everything, then raise
            fatal.append(exc)
        finally:
            if mcp is not None:
                await mcp.stop(schedule.shutdown_grace_seconds)
            if chatops is not None:
                await chatops.stop()
            await engine.close()

    def on_error(name: str, exc: BaseException) -> None:
        echo(f"{name} failed: {exc}")
        if isinstance(exc, HaltError):
            fatal.append(exc)
            reason[0] = f"stopped by an error in {name}"
            scheduler.stop()
        with contextlib.suppress(HaltError):
            journal.append(
                AlertRaised(
                    ts=trader.clock.now(), level="error", source=f"scheduler:{name}", message=str(exc)
                )
            )

    scheduler = HeadlessScheduler(schedule, jobs, on_shutdown=shutdown, on_error=on_error)
    try:
        await engine.start()
        if chatops is not None:
            await chatops.start()
        if mcp is not None:
            await mcp.start(lambda exc: on_error("mcp", exc))
    except BaseException:
        if mcp is not None:
            await mcp.stop()
        if chatops is not None:
            await chatops.stop()
        await engine.close()
        raise

    async def feed() -> None:
        try:
            await engine.feed(lambda: stop_feed)
            if not stop_feed:
                reason[0] = "reached the end of its data"
        except Exception as exc:  # the run stops; the error is raised after a clean shutdown
            fatal.append(exc)
            reason[0] = f"stopped by an error: {exc}"
        if fatal or not linger:
            scheduler.stop()

    if engine.finite:
        feed_task = asyncio.create_task(feed())
    watcher = asyncio.create_task(_when_set(stop, scheduler.stop)) if stop is not None else None
    try:
        await scheduler.run(install_signals=install_signals)
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    if fatal:
        raise fatal[0]


def effective_schedule(cfg: GekkoConfig) -> ScheduleConfig:
    """``schedule:``, with the agent cycle every ``brain.cycle_seconds`` unless ``schedule`` names one."""
    if "agent_cycle" in cfg.schedule.model_fields_set:
        return cfg.schedule
    cycle = JobSchedule(every_seconds=cfg.brain.cycle_seconds)
    return cfg.schedule.model_copy(update={"agent_cycle": cycle})


async def run_configured(
    cfg: GekkoConfig,
    *,
    start: datetime | None,
    end: datetime | None,
    speed: float | None,
    chatops: ChatopsSelection | None = None,
    ledger_path: Path | None = None,
    stop: asyncio.Event | None = None,
    install_signals: bool = True,
    linger: bool = False,
    environ: Mapping[str, str] | None = None,
    echo: Echo = print,
) -> None:
    """Wire and run the agent as agent.yaml says (see the module docstring).

    Args:
        cfg: the validated config.
        start: a replay's first bar that may trade.
        end: a replay stops before this time.
        speed: a replay's simulated seconds per wall second.
        chatops: the chat-ops to run beside the engine (None: none).
        ledger_path: the ledger (default ``ledger.path``).
        stop: set to stop.
        install_signals: handle SIGTERM and SIGINT.
        linger: keep serving after a replay's data ends.
        environ: where secrets are read (default: the process environment).
        echo: where status lines go.

    Raises:
        InvalidInput: mode backtest (use ``gekko backtest``).
        ConfigError: a venue, secret or dataset the config names cannot be used.
    """
    is_venue = any(not isinstance(v, PaperVenueConfig) for v in cfg.venues.values())
    if not is_venue and cfg.mode is not Mode.PAPER:
        raise InvalidInput(
            f"gekko run: mode {cfg.mode} is not wired in this build yet "
            "(paper is; use `gekko backtest` for backtests)"
        )
    hub = ChatopsHub(chatops) if chatops is not None else None
    path = ledger_path or cfg.ledger.path
    path.parent.mkdir(parents=True, exist_ok=True)
    with Ledger(path) as ledger:
        journal = ObservedLedger(ledger, [hub.on_event] if hub is not None else [])
        engine: HeadlessEngine
        history = _bar_history(cfg)
        if is_venue:
            engine = VenueEngine(LiveSession(cfg, journal, environ=environ), echo)
        else:
            system = build_replay(cfg, journal, start=start, end=end, venue_session=ledger_session(ledger))
            restore_trader(system.trader, journal, marks=False)
            shadow = None
            if cfg.brain.shadow:
                from gekko_agent.runtime.shadow import build_shadow

                shadow = build_shadow(system, cfg, start=start, end=end)
            observers = [history.on_bar] if history is not None else []
            engine = ReplayEngine(
                system, start=start, speed=speed, echo=echo, shadow=shadow, observers=observers
            )
        if hub is not None:
            hub.attach(engine.trader, journal, mode=engine.mode, environ=environ, llm=cfg.brain.llm)
        t = engine.trader
        mcp = _mcp_attachment(cfg, t, history, environ) if history is not None else None
        chat = f"; chat-ops on {chatops.names}" if chatops is not None else ""
        served = ""
        if mcp is not None:
            trading = "with trading tools" if cfg.mcp.serve.enabled_trading else "read tools only"
            served = f"; MCP on {mcp.url} ({trading})"
        echo(
            f"Gekko · {engine.mode} · brain {t.brain.name} · {', '.join(t.instruments)} · "
            f"state {t.state.value.upper()} · ledger {path}{chat}{served}; SIGTERM or Ctrl-C stops"
        )
        await run_headless(
            engine,
            effective_schedule(cfg),
            journal,
            echo=echo,
            chatops=hub,
            stop=stop,
            install_signals=install_signals,
            linger=linger,
            mcp=mcp,
        )


def _bar_history(cfg: GekkoConfig) -> BarHistory | None:
    """The bars the MCP server's ``get_bars`` shows, when ``mcp.serve.beside_engine`` (else None)."""
    if not cfg.mcp.serve.beside_engine:
        return None
    from gekko_agent.agent.engine_context import BarHistory

    return BarHistory()


def _mcp_attachment(
    cfg: GekkoConfig, trader: Trader, history: BarHistory, environ: Mapping[str, str] | None
) -> McpAttachment:
    """Gekko's MCP server over HTTP attached to ``trader`` (``mcp.serve``).

    Raises:
        ConfigError: no bearer token is configured, or it cannot be read.
    """
    from gekko_agent.mcp.attached import McpAttachment
    from gekko_agent.mcp.serve import resolve_token
    from gekko_agent.tools.research import ResearchService

    serve = cfg.mcp.serve
    token = resolve_token(serve, "agent.yaml", environ)
    research = ResearchService(cfg.research) if cfg.research.sources else None
    return McpAttachment(trader, serve, token, history=history, research=research)
