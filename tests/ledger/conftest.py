"""Builders of real domain events for the ledger tests (no fakes needed: DuckDB runs in-process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.domain import (
    AgentDecided,
    AlertRaised,
    ApprovalDecided,
    ApprovalRequested,
    BalancesObserved,
    CommandIssued,
    Event,
    Fill,
    IntentProposed,
    LimitChanged,
    LimitChangeDecided,
    LimitChangeProposed,
    Liquidity,
    Money,
    OrderFilled,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    OrderUpdated,
    Price,
    Quantity,
    ReconciliationCompleted,
    RiskEvaluated,
    TradingStateChanged,
)

T0 = datetime(2023, 3, 1, 12, 0, tzinfo=UTC)
D = Decimal


@dataclass
class Samples:
    """Builds consistent events: one decision, its intent, risk answer, order and fills."""

    t0: datetime = T0

    def at(self, minutes: int) -> datetime:
        return self.t0 + timedelta(minutes=minutes)

    def intent(
        self,
        intent_id: str = "int-1",
        decision_id: str | None = "dec-1",
        iid: str = "BTC/USD@paper",
        side: OrderSide = OrderSide.BUY,
        qty: str = "0.5",
    ) -> OrderIntent:
        return OrderIntent(
            intent_id,
            iid,
            side,
            Quantity(D(qty)),
            order_type=OrderType.LIMIT,
            limit_price=Price(D("20000.50")),
            strategy="sma_cross",
            rationale="fast SMA crossed above slow",
            confidence=D("0.7"),
            decision_id=decision_id,
            created_at=self.t0,
        )

    def fill(
        self,
        fill_id: str,
        qty: str,
        price: str,
        coid: str = "gk-1",
        iid: str = "BTC/USD@paper",
        side: OrderSide = OrderSide.BUY,
        fee: str = "1.25",
    ) -> Fill:
        quote = iid.split("@")[0].split("/")[1]
        return Fill(
            fill_id,
            coid,
            "v-1",
            iid,
            side,
            Quantity(D(qty)),
            Price(D(price)),
            Money.of(fee, quote),
            Liquidity.TAKER,
            self.at(3),
        )

    def order_story(
        self, decision_id: str = "dec-1", coid: str = "gk-1", intent_id: str = "int-1"
    ) -> list[Event]:
        """A decision whose buy of 0.5 BTC fills in two parts."""
        intent = self.intent(intent_id, decision_id)
        return [
            AgentDecided(
                ts=self.at(0),
                decision_id=decision_id,
                brain="rules",
                action="propose_orders",
                summary="buy the crossover",
                prompt_hash="abc123",
                detail={"tool_calls": [{"name": "get_bars", "args": {"n": 50}}], "note": "x"},
            ),
            IntentProposed(ts=self.at(0), decision_id=decision_id, intent=intent),
            RiskEvaluated(
                ts=self.at(1),
                intent_id=intent_id,
                outcome="approved",
                reasons=("ok",),
                explanation="within every limit",
                approved_quantity=D("0.5"),
            ),
            OrderSubmitted(ts=self.at(2), client_order_id=coid, venue="paper", intent=intent),
            OrderUpdated(
                ts=self.at(2), client_order_id=coid, status=OrderStatus.ACCEPTED, venue_order_id="v-1"
            ),
            OrderFilled(ts=self.at(3), fill=self.fill(f"{coid}-f1", "0.2", "20000.00", coid)),
            OrderFilled(ts=self.at(4), fill=self.fill(f"{coid}-f2", "0.3", "20010.00", coid)),
        ]

    def every_kind(self) -> list[Event]:
        """At least one event of every kind in EVENT_TYPES."""
        return [
            *self.order_story(),
            BalancesObserved(
                ts=self.at(5), venue="paper", balances=(Money.of("9000.75", "USD"), Money.of("0.5", "BTC"))
            ),
            AlertRaised(ts=self.at(5), level="warning", source="risk", message="drawdown 3%"),
            TradingStateChanged(ts=self.at(6), old="active", new="halted", reason="operator", actor="ana"),
            LimitChanged(ts=self.at(6), key="risk.max_order_notional", old="1000", new="500", actor="ana"),
            LimitChangeProposed(
                ts=self.at(6),
                proposal_id="lim-1",
                key="var.max_var",
                old="5000",
                new="9000",
                actor="agent:llm",
                reason="room",
                needs=2,
            ),
            LimitChangeDecided(
                ts=self.at(6),
                proposal_id="lim-1",
                key="var.max_var",
                old="5000",
                new="9000",
                decision="approved",
                actor="ana@slack",
                approvals=("ana@slack",),
                needs=2,
            ),
            ReconciliationCompleted(ts=self.at(7), venue="paper", differences=("missing fill x",)),
            CommandIssued(ts=self.at(7), actor="ana", channel="slack", command="halt", outcome="ok"),
            ApprovalRequested(
                ts=self.at(8),
                approval_id="ap-1",
                intent=self.intent("in-ap", "dc-ap"),
                reason="notional above the approval threshold",
                expires_at=self.at(9),
            ),
            ApprovalDecided(ts=self.at(9), approval_id="ap-1", decision="approved", actor="ana@slack"),
        ]


@pytest.fixture
def samples() -> Samples:
    return Samples()


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "gekko.duckdb"
