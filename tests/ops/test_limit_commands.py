"""Governed limit changes through the one command layer over a running paper engine: `limits`, `limit`,
`limit-approve`, `limit-reject`, the confirmation step, the audit trail and the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from gekko_agent.config import load_config
from gekko_agent.domain import (
    CommandIssued,
    Event,
    LimitChanged,
    LimitChangeDecided,
    LimitChangeProposed,
    OrderIntent,
    OrderSide,
    Quantity,
)
from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue
from gekko_agent.ledger import Ledger, describe, events
from gekko_agent.ops import CommandService, OpsConfig, OpsUser, Reply, Role
from gekko_agent.ops.render import confirmation_prompt
from gekko_agent.risk import Approved, LimitGovernor, RiskConfig
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, build_replay

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 8, tzinfo=UTC)
ALICE, TOM, BOB = ("slack", "U1"), ("telegram", "42"), ("telegram", "43")
OPS = OpsConfig(
    users=[
        OpsUser(name="alice", channel="slack", user_id="U1", role=Role.TRADER),
        OpsUser(name="tom", channel="telegram", user_id="42", role=Role.TRADER),
        OpsUser(name="bob", channel="telegram", user_id="43", role=Role.VIEWER),
    ]
)
KEY = "order.max_notional"  # agent.yaml: 15000
E = TypeVar("E", bound=Event)


@dataclass
class Desk:
    service: CommandService
    view: TraderView
    journal: MemoryJournal

    async def run(self, who: tuple[str, str], text: str) -> Reply:
        return await self.service.run(who[0], who[1], text)

    def limit(self) -> Decimal:
        return self.view.trader.risk.limits.order_max_notional

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.journal.events if isinstance(e, kind)]


@pytest.fixture
async def desk() -> Desk:
    journal = MemoryJournal()
    system = build_replay(load_config(ROOT / "agent.yaml"), journal, start=START, end=END)
    await run_replay(system, start=START)
    view = TraderView(system.trader, ApprovalQueue(ApprovalConfig(), journal, system.clock), None, "paper")
    authority = ActorAuthority(["alice", "tom", "bob"])
    return Desk(CommandService(view, OPS, authority, journal.append, system.clock), view, journal)


def _buy(quantity: str) -> OrderIntent:
    return OrderIntent(
        "i-lim", "BTC/USD@paper", OrderSide.BUY, Quantity(Decimal(quantity)), strategy="manual", rationale="t"
    )


async def test_tightening_applies_at_once_and_the_next_risk_check_uses_it(desk: Desk) -> None:
    trader = desk.view.trader
    assert isinstance(trader.risk.check(_buy("0.1"), trader.snapshot()), Approved)  # ~2,000 USD
    reply = await desk.run(ALICE, f"limit {KEY} 1000 calmer markets")
    assert reply.ok and reply.title == f"limit {KEY}: 15000 → 1000, in force now"
    assert desk.limit() == Decimal(1000)
    after = trader.risk.check(_buy("0.1"), trader.snapshot())
    assert not isinstance(after, Approved) and "order_notional" in after.reasons
    [changed] = desk.of(LimitChanged)
    assert changed == LimitChanged(
        ts=changed.ts, key=KEY, old="15000", new="1000", actor="alice@slack", reason="calmer markets"
    )
    [audit] = desk.of(CommandIssued)
    assert (audit.actor, audit.channel, audit.outcome) == ("alice", "slack", reply.title)
    assert desk.of(LimitChangeProposed) == []  # nothing waited


async def test_loosening_needs_a_second_different_trader(desk: Desk) -> None:
    asked = await desk.run(ALICE, f"limit {KEY} 50000 big day")
    assert asked.ok and "waits for a second trader (lim-1)" in asked.title
    assert desk.limit() == Decimal(15000)
    own = await desk.run(ALICE, "limit-approve lim-1")
    assert not own.ok and own.title.startswith("limit-approve: alice already approved lim-1")
    assert desk.limit() == Decimal(15000)
    done = await desk.run(TOM, "/limit_approve lim-1")  # Telegram spells it with `_`
    assert done.ok and done.title == f"limit-approve lim-1: {KEY} 15000 → 50000, in force now"
    assert desk.limit() == Decimal(50000)
    assert desk.view.pending_limits() == []
    [proposed], [decided], [changed] = (
        desk.of(LimitChangeProposed),
        desk.of(LimitChangeDecided),
        desk.of(LimitChanged),
    )
    assert (proposed.actor, proposed.old, proposed.new, proposed.needs) == (
        "alice@slack",
        "15000",
        "50000",
        2,
    )
    assert (decided.actor, decided.decision, decided.approvals) == (
        "tom@telegram",
        "approved",
        ("alice@slack", "tom@telegram"),
    )
    assert (changed.actor, changed.old, changed.new) == ("alice@slack+tom@telegram", "15000", "50000")


async def test_loosening_applies_at_once_when_one_approver_is_configured(desk: Desk) -> None:
    trader = desk.view.trader
    config = trader.risk.limits.config.model_copy(
        update={
            "governance": RiskConfig.model_validate(
                {"governance": {"two_approvers_to_loosen": False}}
            ).governance
        }
    )
    trader.governor = LimitGovernor(config, instruments=trader.instruments)
    reply = await desk.run(ALICE, f"limit {KEY} 50000")
    assert reply.ok and reply.title.endswith("in force now")
    assert desk.limit() == Decimal(50000)


async def test_viewer_is_refused_and_audited(desk: Desk) -> None:
    await desk.run(ALICE, f"limit {KEY} 50000")
    for text in (f"limit {KEY} 100", "limit-approve lim-1", "limit-reject lim-1", "limit_approve lim-1"):
        reply = await desk.run(BOB, text)
        assert not reply.ok and "bob is a viewer" in reply.title and "trader" in reply.title
    assert desk.limit() == Decimal(15000)
    assert [p.proposal_id for p in desk.view.pending_limits()] == ["lim-1"]
    audit = [e for e in desk.of(CommandIssued) if e.actor == "bob"]
    assert len(audit) == 4 and all(e.outcome.startswith("refused") for e in audit)
    assert desk.of(LimitChanged) == [] and desk.of(LimitChangeDecided) == []
    assert (await desk.run(BOB, "limits order")).ok  # reading is for viewers too


async def test_reject_drops_the_change_and_is_journaled(desk: Desk) -> None:
    await desk.run(ALICE, f"limit {KEY} 50000")
    reply = await desk.run(TOM, "limit-reject lim-1 not today")
    assert reply.ok and reply.title == f"limit-reject lim-1: dropped; {KEY} stays 15000"
    [decided] = desk.of(LimitChangeDecided)
    assert (decided.actor, decided.decision, decided.reason) == ("tom@telegram", "rejected", "not today")
    again = await desk.run(TOM, "limit-approve lim-1")
    assert not again.ok and "no pending limit change 'lim-1'" in again.title
    assert desk.limit() == Decimal(15000)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("limit order.max_notionl 5000", "'order.max_notionl'"),
        (f"limit {KEY} -5", f"risk.{KEY}"),
        (f"limit {KEY} plenty", f"risk.{KEY}"),
        ("limit position.max_quantity '{ETH/USD@paper: 1}'", "risk.position.max_quantity"),
        ("limit var 5", "risk.var is a section"),
        ("limit currency EUR", "risk.currency"),
        (f"limit {KEY}", "usage: limit <key> <value>"),
        ("limit-approve", "usage: limit-approve"),
        ("limit-approve lim-9", "'lim-9'"),
    ],
)
async def test_bad_key_or_value_gets_one_line_naming_it(desk: Desk, text: str, names: str) -> None:
    reply = await desk.run(ALICE, text)
    assert not reply.ok and names in reply.title and reply.lines == ()
    assert "\n" not in reply.title
    assert desk.limit() == Decimal(15000) and desk.view.pending_limits() == []
    assert desk.of(LimitChanged) == [] and desk.of(LimitChangeProposed) == []
    assert desk.of(CommandIssued)[-1].outcome == reply.title


async def test_limits_lists_key_paths_and_waiting_changes(desk: Desk) -> None:
    await desk.run(ALICE, f"limit {KEY} 50000 big day")
    listed = await desk.run(BOB, "limits")
    text = listed.to_text()
    assert listed.lines[0] == "currency = USD"
    assert f"{KEY} = 15000" in listed.lines and "var.max_var = 20000" in listed.lines
    assert "governance" not in text
    assert "lim-1: order.max_notional 15000 → 50000 (loosens; 1 of 2 approvals) by alice@slack" in text
    assert [b.command for b in listed.buttons] == ["limit-approve lim-1", "limit-reject lim-1"]
    assert listed.buttons[0].confirm
    only = await desk.run(BOB, "limits breakers.daily_loss")
    assert [line.split(" = ")[0] for line in only.lines[:3]] == [
        "breakers.daily_loss.enabled",
        "breakers.daily_loss.reduce_at",
        "breakers.daily_loss.halt_at",
    ]
    waiting = await desk.run(BOB, "approvals")
    assert waiting.title == "1 limit change(s) waiting" and "lim-1" in waiting.lines[0]


async def test_loosening_asks_for_confirmation_and_tightening_does_not(desk: Desk) -> None:
    view = desk.view
    loosen = confirmation_prompt(f"limit {KEY} 50000", view, None)
    assert loosen == f"Loosen risk limit {KEY}: 15000 → 50000 (a second trader must approve it)?"
    assert confirmation_prompt(f"limit {KEY} 5000", view, None) is None
    assert confirmation_prompt("limit nope 1", view, None) is None  # it runs and says why
    await desk.run(ALICE, f"limit {KEY} 50000")
    assert confirmation_prompt("/limit_approve lim-1", view, None) == (
        f"Approve lim-1: loosen risk limit {KEY} 15000 → 50000?"
    )
    assert desk.of(LimitChanged) == []  # asking changes nothing


async def test_ledger_holds_who_old_and_new(desk: Desk, tmp_path: Path) -> None:
    await desk.run(ALICE, f"limit {KEY} 50000 big day")
    await desk.run(TOM, "limit-approve lim-1")
    await desk.run(TOM, "limit var.max_var 10000 tighter")
    limit_events = [
        e
        for e in desk.journal.events
        if isinstance(e, LimitChangeProposed | LimitChangeDecided | LimitChanged)
    ]
    with Ledger(tmp_path / "gekko.duckdb") as ledger:
        for e in limit_events:
            ledger.append(e)
        stored = [s.event for s in events(ledger)]
    assert stored == limit_events
    assert [describe(e) for e in stored] == [
        "alice@slack proposed limit order.max_notional 15000 → 50000 (lim-1, loosening, 1 of 2 approvals)"
        ": big day",
        "tom@telegram approved limit order.max_notional 15000 → 50000 (lim-1, 2 of 2 approvals)",
        "limit order.max_notional 15000 → 50000 by alice@slack+tom@telegram: big day [lim-1]",
        "limit var.max_var 20000 → 10000 by tom@telegram: tighter",
    ]


async def test_configured_operators_bind_limit_commands(desk: Desk) -> None:
    desk.service.authority = ActorAuthority(["alice"])
    reply = await desk.run(TOM, f"limit {KEY} 100")
    assert not reply.ok and "'tom' is not a configured risk operator" in reply.title
    assert desk.limit() == Decimal(15000)
