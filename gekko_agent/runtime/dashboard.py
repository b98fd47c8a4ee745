"""``gekko demo`` with the Textual dashboard: the replay and the UI share one asyncio loop.

:class:`EngineSource` is the dashboard's :class:`~gekko_agent.tui.model.DashboardSource` over a Trader
in this process: it reads through the ops :class:`~gekko_agent.runtime.ops_port.TraderView` and the
risk reports, and commands go through the ops :class:`~gekko_agent.ops.CommandService` on channel
``tui``. :class:`TeeJournal` passes every event to the ledger and keeps one line per notable event for
the Logs screen. :func:`run_dashboard_demo` wires both, runs the replay as a worker of the app and
tells the app after every bar (:meth:`GekkoApp.engine_changed` only counts and queues one message;
redraws are coalesced to ``refresh_hz``), so the engine never waits for the screen.

``gekko_agent`` never imports the dashboard at module level: :mod:`gekko_agent.tui` is imported inside
the functions here, as the CLI does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gekko_agent.config import GekkoConfig
from gekko_agent.domain import (
    AlertRaised,
    ApprovalRequested,
    Bar,
    CommandIssued,
    Event,
    OrderFilled,
    RiskEvaluated,
    TradingStateChanged,
)
from gekko_agent.errors import DataNotFound, GekkoError
from gekko_agent.execution.approvals import ApprovalQueue
from gekko_agent.execution.engine import EventSink
from gekko_agent.ledger import Ledger, describe
from gekko_agent.ops import CommandService
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.trader import Trader
from gekko_agent.runtime.wiring import System, build_replay

if TYPE_CHECKING:
    from gekko_agent.tui.decisions import DecisionFeed
    from gekko_agent.tui.model import BreakerRow, ForecastBand, Snapshot

__all__ = ["EngineSource", "TeeJournal", "run_dashboard_demo"]

_log = logging.getLogger(__name__)
_NOTABLE = (TradingStateChanged, AlertRaised, OrderFilled, ApprovalRequested, CommandIssued)
CURVE_POINTS = 600


class TeeJournal:
    """An event sink that writes to ``sink``, remembers notable events as log lines and folds every
    event into the Agent screen's decisions (the same :class:`~gekko_agent.tui.decisions.DecisionFeed`
    the ledger source uses, so a decision reads the same in both).

    Args:
        sink: the ledger (or any event sink).
        keep: lines kept for the Logs screen.
    """

    def __init__(self, sink: EventSink, keep: int = 400) -> None:
        from gekko_agent.tui.decisions import DecisionFeed

        self.sink = sink
        self.lines: deque[str] = deque(maxlen=keep)
        self.decisions: DecisionFeed = DecisionFeed()

    def append(self, event: Event) -> int:
        """Write ``event``; remember it when a person would want to see it."""
        seq = self.sink.append(event)
        self.decisions.add(event)
        if isinstance(event, _NOTABLE) or (isinstance(event, RiskEvaluated) and event.outcome != "approved"):
            self.lines.append(f"{event.ts:%m-%d %H:%M} {event.kind}: {describe(event)}")
        return seq


class EngineSource:
    """Snapshots of a Trader in this process, and the command layer to act on it.

    Args:
        view: the ops view of the Trader.
        commands: the ops command layer (channel ``tui``).
        journal: the tee every engine event passes (log lines and decisions); None: neither is shown.
        refresh_hz: redraws per second at most.
        forecasts: returns bands per instrument, or None when no model is available.
    """

    def __init__(
        self,
        view: TraderView,
        commands: CommandService | None,
        journal: TeeJournal | None = None,
        refresh_hz: float = 8.0,
        forecasts: ForecastProvider | None = None,
    ) -> None:
        self.view = view
        self.commands = commands
        self.refresh_hz = refresh_hz
        self._log: deque[str] = journal.lines if journal is not None else deque()
        self._decisions: DecisionFeed | None = journal.decisions if journal is not None else None
        self._forecasts = forecasts

    @property
    def trader(self) -> Trader:
        """The Trader the view reads."""
        return self.view.trader

    def snapshot(self) -> Snapshot:
        """Everything the screens show, now."""
        from gekko_agent.tui.model import Snapshot, thin_curve
        from gekko_agent.tui.risk_state import limit_rows, risk_figures

        t, view = self.trader, self.view
        snap = t.snapshot()
        limits = t.risk.limits
        return Snapshot(
            status=view.status(),
            positions=view.positions(),
            orders=view.open_orders(),
            approvals=view.pending_approvals(),
            curve=thin_curve(view.equity_curve(), CURVE_POINTS),
            limits=limit_rows(snap, limits),
            breakers=self._breakers(),
            risk=risk_figures(snap, limits),
            denials=view.recent_denials(30),
            decisions=[] if self._decisions is None else self._decisions.rows(),
            forecasts=None if self._forecasts is None else self._forecasts(t.clock.now()),
            log=list(self._log),
            source="engine",
            read_only=self.commands is None,
        )

    def _breakers(self) -> list[BreakerRow]:
        from gekko_agent.tui.risk_state import breaker_rows

        t = self.trader
        eq = t.equity
        errors = {venue: s.consecutive_errors for venue, s in t.execution.stats.items()}
        return breaker_rows(t.risk.limits, eq.now, eq.day_start, eq.peak, errors)

    def trail(self, ident: str) -> list[str]:
        """Journal lines of a decision or an order (the ledger's trails; empty without a ledger)."""
        from gekko_agent.tui.ledger_source import journal_trail

        ledger = self.view.ledger
        if ledger is None:
            return []
        try:
            return journal_trail(ledger, ident)
        except GekkoError:
            return []


class ForecastProvider:
    """Bands from the latest trained model, recomputed once per simulated bar interval at most.

    Args:
        registry: the model registry folder.
        name: model name.
    """

    def __init__(self, registry: Path, name: str) -> None:
        from gekko_agent.forecast import Forecaster
        from gekko_agent.market import load_bars

        self.forecaster = Forecaster.from_registry(name, None, registry)
        meta = self.forecaster.meta
        self.bars = self.forecaster.align(load_bars(meta.dataset))
        self._cache: tuple[int, list[ForecastBand]] | None = None

    def __call__(self, now: datetime) -> list[ForecastBand]:
        """Bands from the bars closed by ``now``."""
        from gekko_agent.market import format_interval, to_ns
        from gekko_agent.tui.model import ForecastBand

        meta, bars = self.forecaster.meta, self.bars
        window = bars.between(None, to_ns(now) - bars.interval * 1_000_000_000 + 1)
        key = len(window)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        bands: list[ForecastBand] = []
        if key >= self.forecaster.min_bars:
            q = self.forecaster.quantiles(window)
            last = window.decimal(float(window.close[-1]))
            bands.append(
                ForecastBand(
                    meta.instrument_id,
                    format_interval(meta.horizon_seconds),
                    last,
                    tuple(sorted(q.items())),
                    f"{meta.name} v{meta.version}",
                )
            )
        self._cache = (key, bands)
        return bands


def load_forecasts(registry: Path = Path("var/models")) -> ForecastProvider | None:
    """The latest model's provider, or None when none was trained (the screen says how)."""
    if not registry.is_dir():
        return None
    try:
        from gekko_agent.forecast import DEFAULT_MODEL, ModelRegistry

        if DEFAULT_MODEL not in ModelRegistry(registry).names():
            return None
        return ForecastProvider(registry, DEFAULT_MODEL)
    except (GekkoError, DataNotFound, OSError) as exc:
        _log.warning("forecasts unavailable: %s", exc)
        return None


async def replay_responsive(
    system: System,
    tick: Callable[[], None],
    *,
    start: datetime | None,
    speed: float | None,
    slice_s: float = 0.02,
    ui_share_s: float = 0.002,
) -> int:
    """:func:`run_replay` in small slices, so the event loop serves the UI at least every ``slice_s``.

    ``run_replay`` yields only while it waits to keep pace (and every 2048 bars otherwise); warming up
    or at a high speed it could hold the loop for a second and freeze the screen. Here the feed goes to
    ``run_replay`` a few bars at a time (as many as about 5 ms of the pace covers, up to 32) and the
    pacing to ``speed`` simulated seconds per wall second is done between slices. When the engine
    cannot keep pace it still steps aside for ``ui_share_s`` after every ``slice_s``: a bare
    ``sleep(0)`` gave the UI one pass of the loop, while a redraw or a key press takes several
    (message, timer, compositor), so the screen froze whenever the engine ran flat out.

    Args:
        system: the wired replay.
        tick: called after every bar (the app's ``engine_changed``).
        start: bars closing before this only warm up.
        speed: simulated seconds per wall second (None: as fast as possible).
        slice_s: the longest stretch of wall time without a turn for the UI.
        ui_share_s: how long the UI's turn lasts at least when the engine is behind its pace.

    Returns:
        The number of bars processed.
    """
    count = 0
    bars = iter(system.feed)
    turn = time.monotonic()
    pace: tuple[datetime, float] | None = None
    on_bar: Callable[[Bar], None] = lambda _bar: tick()  # noqa: E731
    per_sim_second = max(len(system.feed.arrays), 1) / 60  # one-minute bars of every instrument
    size = 32 if not speed else max(1, min(32, int(speed * 0.005 * per_sim_second)))
    while chunk := list(itertools.islice(bars, size)):
        part = dataclasses.replace(system, feed=chunk)  # type: ignore[arg-type]
        count += await run_replay(part, start=start, on_bar=on_bar)
        now = system.clock.now()
        wait = 0.0
        if speed and (start is None or now > start):
            if pace is None:
                pace = (now, time.monotonic())
            wait = (now - pace[0]).total_seconds() / speed - (time.monotonic() - pace[1])
        if wait > 0.002:
            await asyncio.sleep(wait)
            turn = time.monotonic()
        elif time.monotonic() - turn >= slice_s:
            await asyncio.sleep(ui_share_s)
            turn = time.monotonic()
    return count


def run_dashboard_demo(
    cfg: GekkoConfig, ledger_path: Path, start: datetime | None, end: datetime | None, speed: float
) -> None:
    """Replay the configured datasets through the paper venue under the dashboard, journaling into
    ``ledger_path``; returns when the person quits (the replay may finish earlier; the UI stays)."""
    from gekko_agent.tui.app import GekkoApp

    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    with Ledger(ledger_path) as ledger:
        tee = TeeJournal(ledger)
        system = build_replay(cfg, tee, start=start, end=end)
        approvals = system.trader.approvals or ApprovalQueue(cfg.approvals, tee, system.clock)
        view = TraderView(system.trader, approvals, ledger, "paper")
        commands = CommandService(
            view,
            cfg.ops,
            ActorAuthority(system.trader.governor.config.governance.operators),
            tee.append,
            system.clock,
            confirm_above=cfg.approvals.confirm_above_notional,
        )
        source = EngineSource(view, commands, tee, forecasts=load_forecasts())
        app: GekkoApp | None = None

        async def engine() -> int:
            assert app is not None
            return await replay_responsive(system, app.engine_changed, start=start, speed=speed)

        app = GekkoApp(source, engine)
        app.run()
