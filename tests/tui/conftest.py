"""Fixtures for the dashboard: deterministic snapshots for SVG tests and a running paper engine."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.config import load_config
from gekko_agent.domain import (
    Event,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Price,
    Quantity,
)
from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue, PendingApproval
from gekko_agent.ledger import Ledger
from gekko_agent.ops import CommandService, Denial, EngineStatus, OpsConfig, PositionRow
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.dashboard import EngineSource, TeeJournal
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, System, build_replay
from gekko_agent.tui.model import (
    BreakerRow,
    DecisionRow,
    ForecastBand,
    IntentRow,
    LimitRow,
    RiskFigures,
    Snapshot,
    ToolCallRow,
)

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 12, tzinfo=UTC)
NOW = datetime(2023, 3, 10, 14, 30, tzinfo=UTC)


def _intent(n: int, side: OrderSide, qty: str, limit: str | None = None, why: str = "") -> OrderIntent:
    return OrderIntent(
        f"i-{n:03d}",
        "BTC/USD@paper",
        side,
        Quantity(Decimal(qty)),
        order_type=OrderType.LIMIT if limit else OrderType.MARKET,
        limit_price=Price(Decimal(limit)) if limit else None,
        strategy="trend",
        rationale=why or f"fast EMA crossed slow EMA ({n})",
        decision_id=f"d-{n:03d}",
        created_at=NOW - timedelta(minutes=10 * n),
    )


def _decided(n: int, *intents: tuple[str, str, str]) -> tuple[IntentRow, ...]:
    """Intents of decision ``n``: (text, verdict, reason code) each."""
    return tuple(
        IntentRow(
            f"i-{n:03d}{k}",
            text,
            verdict,
            f"fast EMA crossed slow EMA ({n})",
            "" if verdict == "approved" else "gross exposure would exceed the account limit",
            () if not code else (code,),
            f"sent as gk-{n:04d}" if verdict != "denied" else "",
            f"gk-{n:04d}" if verdict != "denied" else "",
        )
        for k, (text, verdict, code) in enumerate(intents)
    )


def fixed_decisions() -> list[DecisionRow]:
    """Rules and LLM decisions, holds and tool-only cycles included, oldest first."""
    quote = ToolCallRow("get_quote", True, '{"instrument_id": "BTC/USD@paper"}')
    broken = ToolCallRow("get_forecast", False, "no forecast model is loaded")
    seen = "cycle 03-10 14:00 · equity 100,412.55 USD · state active · 1 position · BTC/USD 22104.10"
    rows = [
        DecisionRow(
            NOW - timedelta(minutes=10 * n),
            f"d-{n:03d}",
            "rules",
            "propose",
            f"trend: {'buy' if n % 2 else 'sell'} 0.{n} BTC/USD@paper — fast EMA crossed slow EMA ({n})",
            f"bar BTC/USD@paper 03-10 {13 - n // 6:02d}:{50 - 10 * (n % 6):02d}",
            (),
            _decided(n, (f"{'buy' if n % 2 else 'sell'} 0.{n} BTC/USD@paper", verdict, code)),
        )
        for n, verdict, code in (
            (6, "approved", ""),
            (5, "denied", "max_gross_exposure"),
            (4, "resized", "max_order_notional"),
        )
    ]
    rows.append(
        DecisionRow(
            NOW - timedelta(minutes=30),
            "d-003",
            "llm",
            "hold",
            "momentum is fading and the forecast is unavailable",
            seen,
            (quote, broken, ToolCallRow("hold", None, '{"reason": "momentum is fading"}')),
            (),
            "openai/gpt-4o-mini",
            3,
        )
    )
    rows.append(
        DecisionRow(
            NOW - timedelta(minutes=20),
            "d-002",
            "llm",
            "propose",
            "buy 0.2 BTC/USD@paper; sell 2 ETH/USD@paper",
            seen,
            (quote, ToolCallRow("propose_orders", None, '{"orders": [...]}')),
            _decided(
                2,
                ("buy 0.2 BTC/USD@paper", "approved", ""),
                ("sell 2 ETH/USD@paper", "denied", "max_gross_exposure"),
            ),
            "openai/gpt-4o-mini",
            2,
        )
    )
    rows.append(
        DecisionRow(
            NOW - timedelta(minutes=10),
            "d-001",
            "rules",
            "propose",
            "trend: buy 0.1 BTC/USD@paper — fast EMA crossed slow EMA (1)",
            "bar BTC/USD@paper 03-10 14:19",
            (),
            _decided(1, ("buy 0.1 BTC/USD@paper", "approved", "")),
        )
    )
    return rows


def fixed_snapshot(*, forecasts: bool = True, state: str = "active") -> Snapshot:
    """A snapshot with every panel filled by fixed values (no clocks, no random ids)."""
    curve = [
        (NOW - timedelta(minutes=15 * (199 - i)), Decimal(f"{100_000 + 900 * math.sin(i / 17) + 6 * i:.2f}"))
        for i in range(200)
    ]
    status = EngineStatus(
        now=NOW,
        mode="paper",
        brain="rules",
        state=state,
        account_currency="USD",
        equity=curve[-1][1],
        pnl_today=Decimal("-312.40"),
        pnl_total=curve[-1][1] - curve[0][1],
        drawdown=Decimal("0.0123"),
        gross_exposure=Decimal("24850.00"),
        venues=(("paper", "ok"),),
        open_orders=2,
        pending_approvals=1,
        intents=42,
        denied=5,
        fills=31,
    )
    orders = [
        Order("gk-0001", _intent(1, OrderSide.BUY, "0.25", "19500.00"), status=OrderStatus.ACCEPTED),
        Order("gk-0002", _intent(2, OrderSide.SELL, "0.10", "23900.00"), status=OrderStatus.ACCEPTED),
    ]
    approval = PendingApproval(
        "ap-0001",
        _intent(3, OrderSide.BUY, "0.5", why="breakout above the 4h range"),
        Decimal("10600.00"),
        "notional 10,600.00 is above the approval threshold 10,000.00",
        "rules",
        NOW - timedelta(minutes=2),
        NOW + timedelta(minutes=13),
    )
    decisions = fixed_decisions()
    denials = [
        Denial(
            NOW - timedelta(minutes=10 * n),
            f"{'buy' if n % 2 else 'sell'} 0.{n} BTC/USD@paper",
            verdict,
            ("max_gross_exposure",),
            "gross exposure would exceed the account limit",
        )
        for n, verdict in ((5, "denied"), (3, "resized"), (2, "denied"))
    ]
    return Snapshot(
        status=status,
        positions=[
            PositionRow(
                "BTC/USD@paper",
                Decimal("1.05"),
                Decimal("21980.50"),
                Decimal("22104.10"),
                Decimal("129.78"),
                Decimal("-41.20"),
            ),
            PositionRow(
                "ETH/USD@paper",
                Decimal("-2.0"),
                Decimal("1560.00"),
                Decimal("1549.00"),
                Decimal("22.00"),
                Decimal("0"),
            ),
        ],
        orders=orders,
        approvals=[approval],
        curve=curve,
        limits=[
            LimitRow("gross exposure (account)", Decimal("24850"), Decimal("50000"), "USD"),
            LimitRow("net exposure (account)", Decimal("21000"), Decimal("25000"), "USD"),
            LimitRow("leverage", Decimal("0.25"), Decimal("1"), "x"),
            LimitRow("open orders", Decimal("2"), Decimal("20"), "count"),
            LimitRow("orders per minute", None, Decimal("30"), "count"),
        ],
        breakers=[
            BreakerRow("daily loss", Decimal("0.0031"), Decimal("0.03"), Decimal("0.05"), "ok"),
            BreakerRow("drawdown", Decimal("0.0123"), Decimal("0.08"), Decimal("0.12"), "ok"),
            BreakerRow("venue paper", Decimal(0), None, Decimal(5), "ok"),
        ],
        risk=RiskFigures(
            Decimal("812.40"), Decimal("1104.90"), Decimal("2500"), Decimal("3500"), Decimal("0.99")
        ),
        denials=denials,
        decisions=decisions,
        forecasts=[
            ForecastBand(
                "BTC/USD@binanceus",
                "1h",
                Decimal("22104.10"),
                tuple(
                    (Decimal(q), Decimal(r))
                    for q, r in (
                        ("0.05", "-0.0121"),
                        ("0.25", "-0.0040"),
                        ("0.5", "0.0004"),
                        ("0.75", "0.0046"),
                        ("0.95", "0.0132"),
                    )
                ),
                "quantile-mlp v3",
            )
        ]
        if forecasts
        else None,
        log=[
            f"{NOW - timedelta(minutes=30):%m-%d %H:%M} order_filled: buy 0.25 BTC/USD@paper at 21,980.50",
            f"{NOW - timedelta(minutes=20):%m-%d %H:%M} risk_evaluated: denied i-002 (max_gross_exposure)",
            f"{NOW - timedelta(minutes=2):%m-%d %H:%M} approval_requested: ap-0001 buy 0.5 BTC/USD@paper",
        ],
    )


@dataclass
class FixedSource:
    """A read-only source that always returns the same snapshot."""

    snap: Snapshot = field(default_factory=fixed_snapshot)
    commands: CommandService | None = None
    refresh_hz: float = 8.0
    calls: int = 0

    def snapshot(self) -> Snapshot:
        self.calls += 1
        return self.snap

    def trail(self, ident: str) -> list[str]:
        return [f"03-10 13:20 agent_decided: {ident} trend says buy", "03-10 13:20 risk_evaluated: approved"]


@dataclass
class Both:
    """An event sink that journals into the ledger and keeps every event in memory for assertions."""

    ledger: Ledger
    memory: MemoryJournal

    def append(self, event: Event) -> int:
        self.memory.append(event)
        return self.ledger.append(event)


@dataclass
class Engine:
    """A paper engine that has replayed a few hours into a real ledger, with its dashboard source."""

    system: System
    journal: MemoryJournal
    view: TraderView
    source: EngineSource
    ledger: Ledger

    def events_of(self, kind: type) -> Sequence[object]:
        return [e for e in self.journal.events if isinstance(e, kind)]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    journal = MemoryJournal()
    with Ledger(tmp_path / "engine.duckdb") as ledger:
        tee = TeeJournal(Both(ledger, journal))
        system = build_replay(load_config(ROOT / "agent.yaml"), tee, start=START, end=END)
        await run_replay(system, start=START)
        queue = ApprovalQueue(ApprovalConfig(), tee, system.clock)
        view = TraderView(system.trader, queue, ledger, "paper")
        commands = CommandService(view, OpsConfig(), ActorAuthority(), tee.append, system.clock)
        yield Engine(system, journal, view, EngineSource(view, commands, tee), ledger)
