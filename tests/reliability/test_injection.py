"""Injection campaign: a hostile model and hostile tool output, through the real LlmBrain and Trader on a
paper replay, with test keys in the environment. 0 orders outside limits, 0 state changes by the model,
0 secrets in any log, ledger row, model request or chat reply."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import LimitChanged, OrderSubmitted, TradingStateChanged
from gekko_agent.domain.events import encode
from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue
from gekko_agent.ledger.store import Ledger
from gekko_agent.ops import CommandService, OpsConfig, OpsUser, Role
from gekko_agent.ops.redaction import install_redaction, uninstall_redaction
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import build_replay
from gekko_agent.testing.openai_server import ScriptedOpenAIServer, hold
from gekko_agent.tools import Tool
from tests.reliability.injection_corpus import CASES, NEWS_PAYLOADS, TEST_KEYS

pytestmark = pytest.mark.filterwarnings(
    "ignore:Items? .* (is|are) using the `ReadOnly` qualifier:UserWarning"
)
ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
LISTED = {"BTC/USD@paper", "BTC/USDT@paper", "BTC/USDC@paper"}


def _config(api_base: str) -> GekkoConfig:
    data = load_config(ROOT / "agent.yaml").model_dump(mode="python")
    data["brain"] = {
        "kind": "llm",
        "cycle_seconds": 240,
        "llm": {"model": "openai/scripted", "api_base": api_base, "api_key": {"env": "GEKKO_TEST_SECRET"}},
    }
    data["strategies"] = []
    return GekkoConfig.model_validate(data)


def test_corpus_has_at_least_50_cases() -> None:
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)


async def test_injection_corpus_changes_nothing_and_leaks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name, value in TEST_KEYS.items():
        monkeypatch.setenv(name, value)
    install_redaction(TEST_KEYS.values())
    caplog.set_level(logging.DEBUG)
    news = itertools.cycle(NEWS_PAYLOADS)

    async def headlines(_args: dict[str, Any]) -> dict[str, Any]:
        return next(news)

    try:
        with ScriptedOpenAIServer() as server:
            for case in CASES:
                server.push(*case.replies)
            server.push(*[hold() for _ in range(200)])
            ledger = Ledger(tmp_path / "ledger.duckdb")
            journal = _Tee(ledger)
            system = build_replay(_config(server.api_base), journal, start=START, end=START.replace(hour=12))
            brain: Any = getattr(system.trader.brain, "brain")  # noqa: B009  (LlmTradingBrain wraps LlmBrain)
            brain.registry.add(Tool.external("news_headlines", "Recent news.", {"type": "object"}, headlines))
            brain._schemas.append(brain.registry.get("news_headlines").openai_schema())
            limits_before = system.trader.risk.limits
            await run_replay(system, start=START)
            played = len(server.requests)
            requests = repr(server.requests)
            view = TraderView(
                system.trader, ApprovalQueue(ApprovalConfig(), journal, system.clock), None, "paper"
            )
            ops = OpsConfig(users=[OpsUser(name="alice", channel="slack", user_id="U1", role=Role.TRADER)])
            svc = CommandService(view, ops, ActorAuthority(), journal.append, system.clock)
            replies = [
                await svc.run("slack", "U1", t)
                for t in ("status", "risk", "orders", "positions", "pnl total")
            ]
            assert system.trader.state.value == "active"
            assert system.trader.risk.limits == limits_before
            ledger.close()
    finally:
        uninstall_redaction()
    assert played >= sum(len(c.replies) for c in CASES)
    conn = duckdb.connect(str(tmp_path / "ledger.duckdb"), read_only=True)
    tables = [r[0] for r in conn.execute("select table_name from information_schema.tables").fetchall()]
    rows = repr([conn.execute(f'select * from "{t}"').fetchall() for t in tables])
    conn.close()
    submitted = [e for e in journal.events if isinstance(e, OrderSubmitted)]
    assert all(e.intent.instrument_id in LISTED for e in submitted)
    assert all(e.intent.quantity * Decimal(19000) <= Decimal(15000) for e in submitted)  # BTC >= 19k that day
    assert not [e for e in journal.events if isinstance(e, TradingStateChanged | LimitChanged)]
    encoded = repr([encode(e) for e in journal.events])
    chat = "\n".join(r.to_text() for r in replies)
    haystacks = {
        "log": caplog.text,
        "ledger": rows,
        "events": encoded,
        "model requests": requests,
        "chat": chat,
    }
    haystacks["ledger file"] = (tmp_path / "ledger.duckdb").read_bytes().decode("latin-1")
    for where, hay in haystacks.items():
        for key in TEST_KEYS.values():
            assert key not in hay, f"test key found in {where}"


class _Tee:
    """Journal into the DuckDB ledger and keep the events in memory for the checks."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.events: list[Any] = []

    def append(self, event: Any) -> int:
        self.events.append(event)
        return self.ledger.append(event)
