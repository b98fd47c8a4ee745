"""Dashboard benchmark: launch to the first full frame, and key-press-to-paint latency while the engine
changes state at 1,000 and 10,000 events a second.

Run: ``.venv/bin/python benchmarks/bench_tui.py [--seconds 3] [--rates 1000,10000]``.

* **First full frame**: from constructing the app to the first paint of the Overview with a snapshot
  rendered in it; (a) over an engine in this process (``gekko demo``, after its warm-up) and (b) over
  the ledger of a five-day headless paper run (``gekko tui``: every screen rebuilt from the ledger).
* **Input latency**: a person presses a screen key every 50 ms, cycling all seven screens (each was
  visited once before, so none is composed during the run). Latency runs from posting the key to the
  paint of the new screen: the compositor's update for it, encoded into the bytes a terminal would
  receive (headless Textual skips that encoding; this benchmark does it, in the paint hook).
* **Engines**, each calling the app's ``engine_changed`` per event, as the demo does:
  ``replay``: the paper replay of bundled data, paced to R bars a second (each bar moves marks and
  equity; decisions, orders and fills follow), journaling in memory so that the figure is the engine
  and the dashboard; it delivers what the machine allows, and the delivered rate is printed.
  ``replay+ledger``: the same, journaling into a DuckDB ledger as ``gekko demo`` does (every append is
  durable when it returns, in the loop the dashboard shares). ``synthetic``: exactly R events a
  second, each changing the snapshot (clock, equity and its curve); every 50th adds a log line and
  every 100th a decision (about the replay's own mix of bars, fills and decisions, made busier).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import RenderableType
from textual._compositor import CompositorUpdate
from textual.screen import Screen

from gekko_agent.cli.tui import ledger_source
from gekko_agent.config import load_config
from gekko_agent.domain import Event
from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue
from gekko_agent.execution.engine import EventSink
from gekko_agent.ledger import Ledger
from gekko_agent.ops import CommandService, OpsConfig
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.dashboard import EngineSource, TeeJournal, replay_responsive
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, System, build_replay
from gekko_agent.tui import app as app_module
from gekko_agent.tui.app import SCREENS_BY_KEY, GekkoApp
from gekko_agent.tui.model import DashboardSource, DecisionRow, Snapshot

ROOT = Path(__file__).resolve().parents[1]
CFG = load_config(ROOT / "agent.yaml")
START = datetime(2023, 3, 9, tzinfo=UTC)
SIZE = (120, 40)
BUDGET_MS = 100.0
PRESS_EVERY_S = 0.05


class TimedApp(GekkoApp):
    """The dashboard, noting the time of every paint (and encoding it as a terminal would)."""

    CSS_PATH = str(Path(app_module.__file__).with_name("gekko.tcss"))  # the dashboard's own styles

    def __init__(
        self, source: DashboardSource, engine: Callable[[], Awaitable[object]] | None = None
    ) -> None:
        super().__init__(source, engine)
        self.first_full: float | None = None
        self.full = asyncio.Event()
        self.painted = 0
        self._want: tuple[str, asyncio.Future[float]] | None = None

    def _display(self, screen: Screen[object], renderable: RenderableType | None) -> None:
        super()._display(screen, renderable)
        if renderable is None:
            return
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(self.console)
        now = time.perf_counter()
        self.painted += 1
        if self.first_full is None and self.frames >= 1:
            self.first_full = now
            self.full.set()
        want = self._want
        if want is not None and self.current_mode == want[0] and screen is self.screen and not want[1].done():
            want[1].set_result(now)

    async def press_and_paint(self, key: str, mode: str) -> float:
        """Milliseconds from posting ``key`` to the paint of ``mode``'s screen."""
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._want = (mode, done)
        t0 = time.perf_counter()
        self.simulate_key(key)
        painted = await asyncio.wait_for(done, timeout=5)
        self._want = None
        return (painted - t0) * 1000


class Counting:
    """An event sink that counts what passes to the journal behind it."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.count = 0

    def append(self, event: Event) -> int:
        self.count += 1
        return self.sink.append(event)


def _engine_source(system: System, tee: TeeJournal, ledger: Ledger | None) -> EngineSource:
    queue = system.trader.approvals or ApprovalQueue(ApprovalConfig(), tee, system.clock)
    view = TraderView(system.trader, queue, ledger, "paper")
    commands = CommandService(view, OpsConfig(), ActorAuthority(), tee.append, system.clock)
    return EngineSource(view, commands, tee, refresh_hz=8)


async def first_frame(source: DashboardSource) -> float:
    """Milliseconds from constructing the app to its first full paint of the Overview."""
    t0 = time.perf_counter()
    app = TimedApp(source)
    async with app.run_test(size=SIZE):
        await asyncio.wait_for(app.full.wait(), 120)
        assert app.first_full is not None
        return (app.first_full - t0) * 1000


async def _presses(app: TimedApp, seconds: float) -> list[float]:
    modes = list(SCREENS_BY_KEY.items())
    samples: list[float] = []
    stop = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < stop:
        key, (mode, _label) = modes[(n + 1) % len(modes)]
        samples.append(await app.press_and_paint(key, mode))
        n += 1
        await asyncio.sleep(PRESS_EVERY_S)
    return samples


async def _visit_all(app: TimedApp) -> None:
    for key, (mode, _label) in SCREENS_BY_KEY.items():
        await app.press_and_paint(key, mode)
    await app.press_and_paint("1", "overview")


async def replay_run(rate: int, seconds: float, ledger: Ledger | None) -> dict[str, float]:
    """Latency while the paper replay runs paced to ``rate`` bars a second (journaling into ``ledger``,
    or in memory)."""
    sink = Counting(ledger if ledger is not None else MemoryJournal())
    tee = TeeJournal(sink)
    system = build_replay(CFG, tee, start=START, end=START + timedelta(days=12))
    source = _engine_source(system, tee, ledger)
    app: TimedApp | None = None
    trading = asyncio.Event()  # set once the warm-up (replayed unpaced) is over

    def tick() -> None:
        assert app is not None
        app.engine_changed()
        if not trading.is_set() and system.clock.now() > START:
            trading.set()

    async def engine() -> int:
        return await replay_responsive(system, tick, start=START, speed=rate * 20.0)

    app = TimedApp(source, engine)
    async with app.run_test(size=SIZE):
        await asyncio.wait_for(trading.wait(), 120)
        await _visit_all(app)
        events, journaled, frames, t0 = app.events, sink.count, app.frames, time.perf_counter()
        seen_from = system.clock.now()
        samples = await _presses(app, seconds)
        wall = time.perf_counter() - t0
        stats = _stats(samples, (app.events - events) / wall, (app.frames - frames) / wall)
        stats["journaled/s"] = (sink.count - journaled) / wall
        stats["sim h"] = (system.clock.now() - seen_from).total_seconds() / 3600
        app.exit()
    return stats


class SyntheticSource:
    """A snapshot that changes with every event (clock, equity, curve, decisions, log).

    Args:
        base: a real snapshot to start from.
    """

    def __init__(self, base: Snapshot) -> None:
        self.base = base
        self.commands: CommandService | None = None
        self.refresh_hz = 8.0
        self.n = 0
        self.now = base.status.now
        self.equity = base.status.equity or Decimal(100_000)
        self.curve: deque[tuple[datetime, Decimal]] = deque(base.curve, maxlen=600)
        self.decisions: deque[DecisionRow] = deque(base.decisions, maxlen=200)
        self.log: deque[str] = deque(base.log, maxlen=400)

    def tick(self) -> None:
        """One engine event."""
        self.n += 1
        self.now += timedelta(seconds=1)
        self.equity += Decimal((self.n * 7919) % 201 - 100) / 10
        self.curve.append((self.now, self.equity))
        if self.n % 100 == 0:
            self.decisions.append(DecisionRow(self.now, f"syn-{self.n}", "llm", "hold", f"event {self.n}"))
        if self.n % 50 == 0:
            self.log.append(f"{self.now:%m-%d %H:%M} synthetic: event {self.n} equity {self.equity}")

    def snapshot(self) -> Snapshot:
        status = dataclasses.replace(self.base.status, now=self.now, equity=self.equity, intents=self.n)
        return dataclasses.replace(
            self.base,
            status=status,
            curve=list(self.curve),
            decisions=list(self.decisions),
            log=list(self.log),
        )

    def trail(self, ident: str) -> list[str]:
        return []


async def synthetic_run(base: Snapshot, rate: int, seconds: float) -> dict[str, float]:
    """Latency while exactly ``rate`` snapshot-changing events a second arrive."""
    source = SyntheticSource(base)
    app = TimedApp(source)
    async with app.run_test(size=SIZE):
        await _visit_all(app)
        stop = time.perf_counter() + seconds + 60

        async def emit() -> None:
            start, sent = time.perf_counter(), 0
            while (now := time.perf_counter()) < stop:
                due = int((now - start) * rate)
                for _ in range(due - sent):
                    source.tick()
                    app.engine_changed()
                sent = due
                await asyncio.sleep(0.001)

        task = asyncio.create_task(emit())
        events, frames, t0 = app.events, app.frames, time.perf_counter()
        samples = await _presses(app, seconds)
        wall = time.perf_counter() - t0
        stats = _stats(samples, (app.events - events) / wall, (app.frames - frames) / wall)
        task.cancel()
        app.exit()
    return stats


def _stats(samples: list[float], events: float, frames: float) -> dict[str, float]:
    return {
        "presses": len(samples),
        "p50": statistics.median(samples),
        "p95": statistics.quantiles(samples, n=20, method="inclusive")[-1],
        "max": max(samples),
        "events/s": events,
        "frames/s": frames,
    }


def _line(name: str, rate: int, s: dict[str, float]) -> str:
    verdict = "OK" if s["p95"] < BUDGET_MS else "over budget"
    extra = f", {s['journaled/s']:,.0f} journaled/s, {s['sim h']:.1f} sim h" if "sim h" in s else ""
    return (
        f"{name:<13} {rate:>6,}/s target: {s['events/s']:>7,.0f} events/s delivered{extra}; "
        f"{s['frames/s']:.1f} frames/s; key→paint p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms, "
        f"max {s['max']:.1f} ms over {s['presses']:.0f} presses — {verdict}"
    )


async def main(rates: list[int], seconds: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        folder = Path(tmp)
        path = folder / "headless.duckdb"
        t0 = time.perf_counter()
        with Ledger(path) as ledger:
            tee = TeeJournal(ledger)
            system = build_replay(CFG, tee, start=START, end=START + timedelta(days=5))
            await run_replay(system, start=START)
            base = _engine_source(system, tee, ledger).snapshot()
            print(f"setup: five-day headless paper run journaled in {time.perf_counter() - t0:.1f} s")
            ms = await first_frame(_engine_source(system, tee, ledger))
            print(f"launch to first full frame, engine in process: {ms:.0f} ms")
        ms = await first_frame(ledger_source(CFG, path))
        print(f"launch to first full frame, ledger of the headless run (full rebuild): {ms:.0f} ms")
        for rate in rates:
            print(_line("replay", rate, await replay_run(rate, seconds, None)))
        with Ledger(folder / "replay.duckdb") as ledger:
            print(_line("replay+ledger", rates[0], await replay_run(rates[0], seconds, ledger)))
        for rate in rates:
            print(_line("synthetic", rate, await synthetic_run(base, rate, seconds)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per rate")
    parser.add_argument("--rates", default="1000,10000", help="events per second, comma separated")
    args = parser.parse_args()
    asyncio.run(main([int(r) for r in args.rates.split(",")], args.seconds))
