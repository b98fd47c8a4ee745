"""Injection campaign: a hostile model and hostile tool output, through the real LlmBrain and Trader on a
paper replay, with test keys in the environment. 0 orders outside limits, 0 state changes by the model,
0 secrets in any log, ledger row, model request, console output or chat reply — also when the provider,
the model or a tool echoes the key back.

The key reaches Gekko the real way (``brain.llm.api_key: {env: ...}``, resolved from the environment);
the test installs no redaction of its own."""

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
from gekko_agent.domain import AgentDecided, AlertRaised, LimitChanged, OrderSubmitted, TradingStateChanged
from gekko_agent.domain.events import encode
from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue
from gekko_agent.ledger import describe, events
from gekko_agent.ledger.store import Ledger
from gekko_agent.ops import CommandService, OpsConfig, OpsUser, Role
from gekko_agent.ops.redaction import uninstall_redaction
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import build_replay
from gekko_agent.secrets import MASK, register_secret
from gekko_agent.testing.openai_server import ScriptedOpenAIServer, hold
from gekko_agent.tools import Tool
from tests.reliability.injection_corpus import CASES, KEY, LEAK_PAYLOAD, LEAK_TOPIC, NEWS_PAYLOADS, TEST_KEYS

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
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    for name, value in TEST_KEYS.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    news = itertools.cycle(NEWS_PAYLOADS)

    async def headlines(args: dict[str, Any]) -> dict[str, Any]:
        return LEAK_PAYLOAD if args.get("topic") == LEAK_TOPIC else next(news)

    try:
        with ScriptedOpenAIServer() as server:
            for case in CASES:
                server.push(*case.replies)
            server.push(*[hold() for _ in range(200)])
            ledger = Ledger(tmp_path / "ledger.duckdb")
            journal = _Tee(ledger)
            system = build_replay(_config(server.api_base), journal, start=START, end=START.replace(hour=12))
            brain: Any = getattr(system.trader.brain, "brain")  # noqa: B009  (LlmTradingBrain wraps LlmBrain)
            brain.add_tools([Tool.external("news_headlines", "Recent news.", {"type": "object"}, headlines)])
            limits_before = system.trader.risk.limits
            await run_replay(system, start=START)
            played = len(server.requests)
            requests = repr(server.requests)
            view = TraderView(
                system.trader, ApprovalQueue(ApprovalConfig(), journal, system.clock), ledger, "paper"
            )
            ops = OpsConfig(users=[OpsUser(name="alice", channel="slack", user_id="U1", role=Role.TRADER)])
            svc = CommandService(view, ops, ActorAuthority(), journal.append, system.clock)
            masked = [
                e.decision_id for e in journal.events if isinstance(e, AgentDecided) and MASK in repr(e)
            ]
            commands = ["status", "risk", "orders", "positions", "pnl total", *(f"why {d}" for d in masked)]
            replies = [await svc.run("slack", "U1", t) for t in commands]
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
    # every way the key was echoed back got in, and came out masked (the cases ran, the chat shows them)
    reasons = " ".join(e.detail["reason"] for e in journal.events if isinstance(e, AgentDecided))
    assert "Incorrect API key provided: ***" in reasons and "verify key ***" in reasons
    assert f"OPENAI_API_KEY={MASK}" in rows and "auth ***" in encoded
    assert len(masked) >= 4 and chat.count(MASK) >= 4
    console = capfd.readouterr()
    haystacks = {
        "log": caplog.text,
        "ledger": rows,
        "events": encoded,
        "model requests": requests,
        "chat": chat,
        "console": console.out + console.err,
    }
    haystacks["ledger file"] = (tmp_path / "ledger.duckdb").read_bytes().decode("latin-1")
    for where, hay in haystacks.items():
        for key in TEST_KEYS.values():
            assert key not in hay, f"test key found in {where}"


def test_any_event_is_masked_on_its_way_into_the_ledger_and_journal_lines(tmp_path: Path) -> None:
    quoted = 'pw-"quoted"\\slash-0042'  # a secret JSON has to escape
    alert = AlertRaised(
        ts=START, level="warning", source="venue", message=f"auth failed for {KEY} / {quoted}"
    )
    try:
        register_secret(quoted)
        register_secret(KEY)
        with Ledger(tmp_path / "l.duckdb") as ledger:
            ledger.append(alert)
            raw = repr(ledger.fetch("select * from events"))
            stored = events(ledger)[0].event
        line = describe(alert)
    finally:
        uninstall_redaction()
    assert KEY not in raw and quoted not in raw and '\\"quoted\\"' not in raw
    assert isinstance(stored, AlertRaised) and stored.message == f"auth failed for {MASK} / {MASK}"
    assert line == f"WARNING alert from venue: auth failed for {MASK} / {MASK}"


class _Tee:
    """Journal into the DuckDB ledger and keep the events in memory for the checks."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.events: list[Any] = []

    def append(self, event: Any) -> int:
        self.events.append(event)
        return self.ledger.append(event)
