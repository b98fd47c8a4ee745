"""Fixtures for the dashboard: deterministic snapshots for SVG tests and a running paper engine."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.config import load_config
from gekko_agent.domain import Order, OrderIntent, OrderSide, OrderStatus, OrderType, Price, Quantity
from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue, PendingApproval
from gekko_agent.ops import CommandService, Denial, EngineStatus, OpsConfig, PositionRow
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.dashboard import EngineSource, TeeJournal
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, System, build_replay
from gekko_agent.tui.model import BreakerRow, DecisionRow, ForecastBand, LimitRow, RiskFigures, Snapshot

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
    verdicts = ["approved", "denied", "resized", "approved", "denied", "approved"]
    decisions = [
        DecisionRow(
            NOW - timedelta(minutes=10 * n),
            f"i-{n:03d}",
            f"d-{n:03d}",
            "trend",
            f"{'buy' if n % 2 else 'sell'} 0.{n} BTC/USD@paper",
            v,
            f"fast EMA crossed slow EMA ({n})",
            "" if v == "approved" else "gross exposure would exceed the account limit",
            () if v == "approved" else ("max_gross_exposure",),
        )
        for n, v in reversed(list(enumerate(verdicts, start=1)))
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
        denials=[
            Denial(d.at, d.intent, d.verdict, d.reasons, d.explanation)
            for d in decisions
            if d.verdict != "approved"
        ],
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
class Engine:
    """A paper engine that has replayed a few hours, with its dashboard source."""

    system: System
    journal: MemoryJournal
    view: TraderView
    source: EngineSource

    def events_of(self, kind: type) -> Sequence[object]:
        return [e for e in self.journal.events if isinstance(e, kind)]


@pytest.fixture
async def engine() -> Engine:
    journal = MemoryJournal()
    tee = TeeJournal(journal)
    system = build_replay(load_config(ROOT / "agent.yaml"), tee, start=START, end=END)
    await run_replay(system, start=START)
    queue = ApprovalQueue(ApprovalConfig(), tee, system.clock)
    view = TraderView(system.trader, queue, None, "paper")
    commands = CommandService(view, OpsConfig(), ActorAuthority(), tee.append, system.clock)
    return Engine(system, journal, view, EngineSource(view, commands, tee.lines))
