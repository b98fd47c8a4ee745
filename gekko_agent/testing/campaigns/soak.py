"""Soak: days of multi-venue paper trading with the LLM brain on, replayed as fast as the code allows.

Three BTC instruments on bundled Binance.US 1-minute bars, each on its own paper venue
(``BTC/USD@paper``, ``BTC/USDT@paper2``, ``BTC/USDC@paper3``), decided by the LLM brain talking
HTTP (litellm) to the scripted OpenAI server, which answers every request: mostly ``hold``, every
third cycle a small ``propose_orders`` that alternates side and instrument. Every event goes into a
file ledger.

Measured while it runs:

* memory: RSS (``/proc/self/statm``) and Python allocations (``tracemalloc``, started once the
  system is wired) sampled at every simulated day; growth is counted from the end of the first
  simulated day (after warm-up and caches) to the end, so start-up allocation is not mistaken for
  a leak;
* event-loop lag: a task sleeps ``lag_interval_s`` again and again and records how late it wakes;
  the replay yields between LLM requests and every few thousand bars, so the percentiles say how
  long the loop can be kept from other work (chat commands, a halt) in the worst case;
* ledger size: events journaled and bytes of the DuckDB file.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import AgentDecided, Bar, OrderFilled, OrderSubmitted
from gekko_agent.ledger import Ledger, events
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import build_replay
from gekko_agent.testing.openai_server import Reply, ScriptedOpenAIServer, hold, propose

__all__ = ["SOAK_START", "SoakFigures", "run_soak"]

SOAK_START = datetime(2023, 3, 9, tzinfo=UTC)
_ROOT = Path(__file__).resolve().parents[3]
_VENUES = {"BTC/USD": "paper", "BTC/USDT": "paper2", "BTC/USDC": "paper3"}
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class SoakFigures:
    """What one soak saw.

    Attributes:
        simulated_days: simulated time traded.
        bars: bars replayed (warm-up included).
        llm_requests: chat completions the scripted server answered.
        decisions: agent decisions journaled.
        orders: orders submitted.
        fills: fills journaled.
        ledger_events: events in the ledger.
        ledger_bytes: size of the ledger file.
        rss_mb: RSS at the end of each simulated day, in MiB.
        traced_mb: Python allocations alive at the end of each simulated day, in MiB.
        rss_growth_mb: RSS growth from the end of day 1 to the end.
        traced_growth_mb: traced growth from the end of day 1 to the end.
        lag_ms: event-loop lag percentiles (p50, p90, p99, max), milliseconds.
        top_growth: the source lines whose live allocations grew most from day 1 to the end.
        wall_s: wall-clock seconds.
    """

    simulated_days: float = 0.0
    bars: int = 0
    llm_requests: int = 0
    decisions: int = 0
    orders: int = 0
    fills: int = 0
    ledger_events: int = 0
    ledger_bytes: int = 0
    rss_mb: list[float] = field(default_factory=list)
    traced_mb: list[float] = field(default_factory=list)
    rss_growth_mb: float = 0.0
    traced_growth_mb: float = 0.0
    lag_ms: dict[str, float] = field(default_factory=dict)
    top_growth: list[str] = field(default_factory=list)
    wall_s: float = 0.0


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return 0.0


def _script() -> Any:
    """Answers for the scripted server: hold twice, then a small proposal alternating side and venue."""
    turn = itertools.count()
    iids = [f"{s}@{v}" for s, v in _VENUES.items()]

    def answer(_body: dict[str, Any]) -> Reply:
        n = next(turn)
        if n % 3 != 2:
            return hold("soak: nothing new")
        k = n // 3
        order = {
            "instrument_id": iids[k % len(iids)],
            "side": "buy" if (k // len(iids)) % 2 == 0 else "sell",
            "quantity": "0.01",
            "rationale": "soak",
            "confidence": 0.5,
        }
        return propose(order)

    return answer


def soak_config(api_base: str, cycle_seconds: int) -> GekkoConfig:
    """agent.yaml as shipped, with one paper venue per instrument and the LLM brain on ``api_base``."""
    data = load_config(_ROOT / "agent.yaml").model_dump(mode="python")
    paper = data["venues"]["paper"]
    data["venues"] = {name: dict(paper) for name in _VENUES.values()}
    for inst in data["instruments"]:
        inst["venue"] = _VENUES[inst["symbol"]]
    data["brain"] = {
        "kind": "llm",
        "cycle_seconds": cycle_seconds,
        "llm": {"model": "openai/scripted", "api_base": api_base},
    }
    data["strategies"] = []
    return GekkoConfig.model_validate(data)


def _percentiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": max(samples, default=0.0)}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 2),
        "p90": round(cuts[89], 2),
        "p99": round(cuts[98], 2),
        "max": round(max(samples), 2),
    }


def _drain(server: ScriptedOpenAIServer, figures: SoakFigures) -> None:
    """Count and forget the request bodies the test server keeps (they are the harness's, not Gekko's)."""
    kept = server.requests
    served = len(kept)
    del kept[:served]
    figures.llm_requests += served


async def _lag_probe(interval_s: float, samples: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + interval_s
        await asyncio.sleep(interval_s)
        samples.append(max(0.0, loop.time() - due) * 1000)


async def _run(
    cfg: GekkoConfig,
    ledger: Ledger,
    server: ScriptedOpenAIServer,
    days: float,
    lag_interval_s: float,
    warmup: int,
    figures: SoakFigures,
) -> int:
    end = SOAK_START + timedelta(days=days)
    system = build_replay(cfg, ledger, start=SOAK_START, end=end, warmup_minutes=warmup)
    tracemalloc.start()  # after wiring: the model client's imports are start-up, not growth
    next_day = [SOAK_START + timedelta(days=1)]
    first: list[tracemalloc.Snapshot] = []

    def on_bar(bar: Bar) -> None:
        close = bar.ts + timedelta(seconds=bar.interval)
        if close >= next_day[0]:
            next_day[0] += timedelta(days=1)
            _drain(server, figures)
            figures.rss_mb.append(round(_rss_mb(), 1))
            figures.traced_mb.append(round(tracemalloc.get_traced_memory()[0] / 2**20, 1))
            if not first:
                first.append(tracemalloc.take_snapshot())

    samples: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(_lag_probe(lag_interval_s, samples, stop))
    try:
        bars = await run_replay(system, start=SOAK_START, on_bar=on_bar)
    finally:
        stop.set()
        await probe
    _drain(server, figures)
    figures.rss_mb.append(round(_rss_mb(), 1))
    figures.traced_mb.append(round(tracemalloc.get_traced_memory()[0] / 2**20, 1))
    figures.lag_ms = _percentiles(samples)
    if first:
        diff = tracemalloc.take_snapshot().compare_to(first[0], "lineno")
        figures.top_growth = [
            f"{d.traceback[0].filename.rpartition('site-packages/')[2].rpartition('/main/')[2]}:"
            f"{d.traceback[0].lineno} +{d.size_diff / 2**20:.1f} MiB"
            for d in diff[:5]
        ]
    return bars


def run_soak(
    days: float = 7.0,
    cycle_seconds: int = 900,
    lag_interval_s: float = 0.01,
    ledger_dir: Path | None = None,
    warmup_minutes: int = 1500,
) -> SoakFigures:
    """Replay ``days`` simulated days from 2023-03-09 with the LLM brain deciding every ``cycle_seconds``.

    Args:
        days: simulated days to trade (the bundled data covers 2023-03-01 to 2023-03-21).
        cycle_seconds: simulated seconds between LLM decision cycles.
        lag_interval_s: period of the event-loop lag probe.
        ledger_dir: where the ledger file goes (a temporary folder when None).
        warmup_minutes: bars replayed before the first simulated day without trading.

    Returns:
        The figures (see :class:`SoakFigures`).
    """
    figures = SoakFigures(simulated_days=days)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="gekko-soak-") as tmp, ScriptedOpenAIServer() as server:
            answer = _script()
            server.push(*[answer for _ in range(int(days * 86400 / cycle_seconds) * 4 + 64)])
            path = (ledger_dir or Path(tmp)) / "soak.duckdb"
            with Ledger(path) as ledger:
                cfg = soak_config(server.api_base, cycle_seconds)
                run = _run(cfg, ledger, server, days, lag_interval_s, warmup_minutes, figures)
                figures.bars = asyncio.run(run)
                figures.ledger_events = ledger.last_seq
                kinds = [
                    s.event
                    for s in events(ledger, kinds=("agent_decided", "order_submitted", "order_filled"))
                ]
                figures.decisions = sum(isinstance(e, AgentDecided) for e in kinds)
                figures.orders = sum(isinstance(e, OrderSubmitted) for e in kinds)
                figures.fills = sum(isinstance(e, OrderFilled) for e in kinds)
            figures.ledger_bytes = path.stat().st_size
    finally:
        tracemalloc.stop()
    if len(figures.rss_mb) >= 2:
        figures.rss_growth_mb = round(figures.rss_mb[-1] - figures.rss_mb[0], 1)
        figures.traced_growth_mb = round(figures.traced_mb[-1] - figures.traced_mb[0], 1)
    figures.wall_s = round(time.monotonic() - started, 1)
    return figures
