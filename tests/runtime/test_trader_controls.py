"""Runtime wiring of three risk controls: forecasts reach the snapshot (veto), cancels pass the cancel-rate
check, and ``strategies[].budget`` reaches the budget check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gekko_agent.agent.strategy import StrategyContext
from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import (
    AlertRaised,
    Bar,
    Event,
    Fill,
    InstrumentId,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Price,
    Quantity,
    RiskEvaluated,
)
from gekko_agent.errors import ConfigError, DataNotFound, UserError
from gekko_agent.market.bararray import BarArray
from gekko_agent.ops import CommandService, OpsConfig, OpsUser, Role
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.risk.outcomes import Approved, Denied, ReasonCode, Resized
from gekko_agent.risk.snapshot import ForecastQuantiles
from gekko_agent.runtime.forecasts import ForecastBook, QuantileModel, forecast_source
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, System, build_replay, risk_config

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 7, tzinfo=UTC)
IID = "BTC/USD@paper"
ACTOR = ActorAuthority().human("tom", "telegram")


def _cfg(**risk: Any) -> GekkoConfig:
    data = load_config(ROOT / "agent.yaml").model_dump(mode="json")
    for key, value in risk.items():
        data["risk"][key] = {**data["risk"].get(key, {}), **value}
    return GekkoConfig.model_validate(data)


async def _system(cfg: GekkoConfig) -> System:
    system = build_replay(cfg, MemoryJournal(), start=START, end=END)
    await run_replay(system, start=START)
    return system


def _events(system: System) -> list[Event]:
    assert isinstance(system.journal, MemoryJournal)
    return system.journal.events


def _intent(qty: str, *, strategy: str = "manual", limit: Decimal | None = None, n: int = 0) -> OrderIntent:
    return OrderIntent(
        f"i-{strategy}-{n}",
        IID,
        OrderSide.BUY,
        Quantity(Decimal(qty)),
        OrderType.LIMIT if limit is not None else OrderType.MARKET,
        Price(limit) if limit is not None else None,
        strategy=strategy,
    )


class WideModel:
    """A model whose 5 % quantile says -20 % over the next hour."""

    horizon_seconds = 3600
    min_bars = 5

    def quantiles(self, bars_window: BarArray) -> dict[Decimal, Decimal]:
        return {Decimal("0.05"): Decimal("-0.2"), Decimal("0.5"): Decimal(0), Decimal("0.95"): Decimal("0.2")}


def _wide(name: str | None, version: int | None, registry: str | None) -> tuple[QuantileModel, int]:
    return WideModel(), 60


# -- forecasts ----------------------------------------------------------------------------------


async def test_forecasts_reach_the_snapshot_and_the_veto_resizes() -> None:
    cfg = _cfg(forecast={"enabled": True, "max_loss": "100"})
    plain = await _system(cfg)
    assert not plain.trader.snapshot().forecasts
    vetoed = build_replay(cfg, MemoryJournal(), start=START, end=END)
    vetoed.trader.forecasts = forecast_source(
        cfg, vetoed.trader.brain, vetoed.journal, vetoed.clock, load=_wide
    )
    assert isinstance(vetoed.trader.forecasts, ForecastBook)
    await run_replay(vetoed, start=START)
    snap = vetoed.trader.snapshot()
    assert snap.forecasts[IID].quantiles[Decimal("0.05")] == Decimal("-0.2")
    without = await plain.trader.propose(_intent("0.1"))
    assert isinstance(without, Approved)
    outcome = await vetoed.trader.propose(_intent("0.1"))
    assert isinstance(outcome, Resized) and ReasonCode.FORECAST_VETO in outcome.reasons
    price = snap.market[IID].last
    assert price is not None
    assert outcome.intent.quantity * price * Decimal("0.2") <= Decimal(100)


def test_forecast_source_prefers_a_forecasting_brain_and_reports_a_missing_model() -> None:
    cfg = _cfg(forecast={"enabled": True})
    journal = MemoryJournal()
    system = build_replay(cfg, journal, start=START, end=START)

    class ForecastingBrain:
        name = "rules"

        def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
            return ()

        def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
            return ()

        def observe(self, bar: Bar) -> None:
            return None

        def forecasts(self, now: datetime) -> Mapping[InstrumentId, ForecastQuantiles]:
            return {}

    brain = ForecastingBrain()
    assert forecast_source(cfg, brain, journal, system.clock, load=_wide) is brain

    def missing(name: str | None, version: int | None, registry: str | None) -> tuple[QuantileModel, int]:
        raise DataNotFound("no model 'btc-5m' in models/")

    assert forecast_source(cfg, system.trader.brain, journal, system.clock, load=missing) is None
    alert = journal.events[-1]
    assert isinstance(alert, AlertRaised) and alert.source == "forecast" and "btc-5m" in alert.message
    assert forecast_source(_cfg(), system.trader.brain, journal, system.clock, load=_wide) is None


# -- cancels ------------------------------------------------------------------------------------


async def _resting(system: System, n: int) -> list[str]:
    last = system.trader.book.last(IID)
    ids: list[str] = []
    for i in range(n):
        limit = (last * Decimal("0.98")).quantize(Decimal("0.01"))
        await system.trader.propose(_intent("0.01", limit=limit, n=i))
    for order in system.trader.execution.open_orders():
        ids.append(order.client_order_id)
    assert len(ids) == n
    return ids


async def test_cancels_pass_the_cancel_rate_check_and_denials_are_journaled() -> None:
    system = await _system(_cfg(rate={"max_cancels": 1, "cancel_window_seconds": 60}))
    first, second, third = await _resting(system, 3)
    done = await system.trader.cancel(first, "ops:tom")
    assert done.decision.allowed and done.order is not None and done.order.status is OrderStatus.CANCELED
    denied = await system.trader.cancel(second, "ops:tom")
    assert not denied.decision.allowed and denied.order is None
    assert denied.decision.reason is ReasonCode.CANCEL_RATE
    assert system.trader.execution.orders[second].status is OrderStatus.ACCEPTED  # nothing was sent
    (event,) = [
        e for e in _events(system) if isinstance(e, RiskEvaluated) and e.intent_id.startswith("cancel:")
    ]
    assert event.intent_id == f"cancel:{second}" and event.reasons == ("cancel_rate",)
    assert (
        event.decision_id is None
        or event.decision_id == system.trader.execution.orders[second].intent.decision_id
    )
    assert "ops:tom" in event.explanation
    # the ops layer (chat-ops, TUI) goes through the same check
    assert system.trader.approvals is not None
    view = TraderView(system.trader, system.trader.approvals, None, "paper")
    with pytest.raises(UserError, match="risk denies the cancel"):
        await view.cancel(second, ACTOR)
    ops = OpsConfig(users=[OpsUser(name="tom", channel="telegram", user_id="42", role=Role.TRADER)])
    service = CommandService(view, ops, ActorAuthority(), system.journal.append, system.clock)
    reply = await service.run("telegram", "42", f"cancel {third}")
    assert not reply.ok and "risk denies the cancel" in reply.title
    # in HALTED, cancels always pass (exits stay possible)
    system.trader.command_state("halt", ACTOR, "stop")
    assert (await view.cancel(second, ACTOR)).status is OrderStatus.CANCELED


async def test_brain_cancels_go_through_the_same_check() -> None:
    system = await _system(_cfg(rate={"max_cancels": 1, "cancel_window_seconds": 600}))
    first, second = await _resting(system, 2)

    class CancellingBrain:
        name = "llm"

        def __init__(self) -> None:
            self.asked = [first, second]

        def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
            return ()

        def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
            return ()

        def due(self, now: datetime) -> bool:
            return bool(self.asked)

        async def run_cycle(self, now: datetime) -> list[OrderIntent]:
            return []

        def take_cancels(self) -> list[str]:
            out, self.asked = self.asked, []
            return out

    system.trader.brain = CancellingBrain()
    bar = system.feed.arrays[IID].to_bars()[-1]
    await system.trader.on_bar(bar)
    orders = system.trader.execution.orders
    assert orders[first].status is OrderStatus.CANCELED
    assert orders[second].status is OrderStatus.ACCEPTED  # over the cancel rate: denied, not sent
    denials = [
        e for e in _events(system) if isinstance(e, RiskEvaluated) and e.intent_id == f"cancel:{second}"
    ]
    assert len(denials) == 1 and "llm" in denials[0].explanation


# -- budgets ------------------------------------------------------------------------------------


def _with_budget(budget: str, risk_budgets: dict[str, str] | None = None) -> GekkoConfig:
    data = load_config(ROOT / "agent.yaml").model_dump(mode="json")
    data["strategies"][0]["budget"] = budget
    if risk_budgets is not None:
        data["risk"]["budgets"]["budgets"] = risk_budgets
    return GekkoConfig.model_validate(data)


async def test_strategy_budget_from_config_reaches_the_budget_check() -> None:
    cfg = _with_budget("1000")
    assert risk_config(cfg).budgets.budgets == {"sma_cross": Decimal(1000)}
    system = await _system(cfg)
    assert system.trader.risk.limits.budget_of("sma_cross") == Decimal(1000)
    assert system.trader.risk.limits.budget_of("other") == Decimal(40000)  # default_budget
    outcome = await system.trader.propose(_intent("0.2", strategy="sma_cross"))
    assert isinstance(outcome, Resized | Denied) and ReasonCode.STRATEGY_BUDGET in outcome.reasons
    if isinstance(outcome, Resized):
        assert outcome.intent.quantity * system.trader.book.last(IID) <= Decimal(1000)
    other = await system.trader.propose(_intent("0.2", strategy="other"))
    assert ReasonCode.STRATEGY_BUDGET not in other.reasons


def test_conflicting_budgets_are_a_config_error() -> None:
    assert risk_config(_with_budget("1000", {"sma_cross": "1000"})).budgets.budgets["sma_cross"] == 1000
    with pytest.raises(ConfigError, match=r"strategies\.sma_cross\.budget"):
        risk_config(_with_budget("1000", {"sma_cross": "2000"}))
