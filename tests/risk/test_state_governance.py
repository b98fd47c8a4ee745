"""Trading state machine, breakers, the flatten flow, governed limit changes and the human capability."""

from __future__ import annotations

import dataclasses
import pathlib
from datetime import timedelta

import pytest

from gekko_agent.domain import (
    Event,
    LimitChanged,
    LimitChangeDecided,
    LimitChangeProposed,
    OrderSide,
    TradingStateChanged,
    encode,
)
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.risk import (
    ActorAuthority,
    Approved,
    Denied,
    HumanActor,
    LimitGovernor,
    ProposalStatus,
    ReasonCode,
    RiskConfig,
    RiskEngine,
    TradingState,
    TradingStateMachine,
    VenueHealth,
    to_event,
)
from gekko_agent.risk.governance import is_loosening

from .helpers import BTC, NOW, D, intent, loose, snapshot, with_equity_marks

OPS = ActorAuthority(["alice", "bob"])
ALICE = OPS.human("alice", "cli")
BOB = OPS.human("bob", "slack")


def _losing(loss_fraction: str, positions: dict[str, D] | None = None):  # type: ignore[no-untyped-def,valid-type]
    eng = RiskEngine(loose())
    snap = with_equity_marks(snapshot(positions), eng)
    eq = eng.view(snap).equity
    assert eq is not None
    start = eq / (1 - D(loss_fraction))
    return eng, dataclasses.replace(snap, equity_day_start=start, equity_peak=start)


def test_human_actor_cannot_be_minted_without_authority() -> None:
    with pytest.raises(InvalidInput):
        HumanActor("mallory", "mcp")
    with pytest.raises(InvalidInput):
        OPS.human("mallory", "slack")


def test_agent_facing_packages_do_not_import_the_authority() -> None:
    root = pathlib.Path(__file__).resolve().parents[2]
    for pkg in ("tools", "gekko_agent/agent", "gekko_agent/tools", "strategies", "prompts"):
        for path in (root / pkg).rglob("*.py") if (root / pkg).exists() else []:
            text = path.read_text()
            assert "ActorAuthority" not in text, path
            assert "_CAPABILITY" not in text, path


def test_daily_loss_breaker_moves_to_reducing_then_halted() -> None:
    machine = TradingStateMachine()
    eng, snap = _losing("0.035")
    events = machine.evaluate(snap, eng.limits)
    assert [e.new for e in events] == ["reducing"]
    assert events[0].actor == "breaker:daily_loss"
    eng, snap = _losing("0.06")
    assert [e.new for e in machine.evaluate(snap, eng.limits)] == ["halted"]
    assert machine.evaluate(snap, eng.limits) == []


def test_drawdown_breaker_halts_directly_past_halt_level() -> None:
    machine = TradingStateMachine()
    eng, snap = _losing("0.02")
    snap = dataclasses.replace(snap, equity_peak=snap.equity_peak * 2)  # type: ignore[operator]
    events = machine.evaluate(snap, eng.limits)
    assert [(e.new, e.actor) for e in events] == [("halted", "breaker:drawdown")]


def test_venue_circuit_breaker_moves_to_reducing() -> None:
    eng = RiskEngine(loose())
    snap = with_equity_marks(snapshot(venues={"binanceus": VenueHealth(5, NOW, NOW, NOW)}), eng)
    events = TradingStateMachine().evaluate(snap, eng.limits)
    assert [(e.new, e.actor) for e in events] == [("reducing", "breaker:venue:binanceus")]


def test_breakers_never_de_escalate() -> None:
    machine = TradingStateMachine(TradingState.HALTED)
    eng, snap = _losing("0.0")
    assert machine.evaluate(snap, eng.limits) == []
    assert machine.state is TradingState.HALTED


def test_operator_flow_halted_reducing_flat_halted_then_resume() -> None:
    machine = TradingStateMachine()
    eng, snap = _losing("0.06", {BTC: D(1)})
    assert machine.evaluate(snap, eng.limits)[-1].new == "halted"
    snap_halted = dataclasses.replace(snap, trading_state=machine.state)
    assert isinstance(eng.check(intent("1", OrderSide.SELL), snap_halted), Denied)
    assert eng.check_cancel(snap_halted).allowed
    ev = machine.begin_flatten(ALICE, "close out after the loss", NOW)
    assert (ev.old, ev.new, ev.actor) == ("halted", "reducing", "alice@cli")
    assert machine.evaluate(snap, eng.limits) == []  # the acknowledged breach does not re-halt
    snap_reducing = dataclasses.replace(snap, trading_state=machine.state)
    assert isinstance(eng.check(intent("1", OrderSide.SELL), snap_reducing), Approved)
    assert eng.check(intent("0.1"), snap_reducing).reasons[0] is ReasonCode.TRADING_REDUCING
    sold = {"USD": snap.cash["USD"] + D(20_000), "USDC": D(0)}  # the sell filled at the mark
    flat = dataclasses.replace(snap, positions={}, cash=sold, trading_state=machine.state)
    ev2 = machine.evaluate(flat, eng.limits)
    assert [(e.old, e.new, e.actor) for e in ev2] == [("reducing", "halted", "system")]
    resumed = machine.resume(BOB, "reviewed", NOW + timedelta(hours=1))
    assert isinstance(resumed, TradingStateChanged)
    assert (resumed.new, resumed.actor) == ("active", "bob@slack")


def test_state_change_requires_a_human_actor() -> None:
    with pytest.raises(InvalidInput):
        TradingStateMachine(TradingState.HALTED).resume("agent", "let me trade", NOW)  # type: ignore[arg-type]


def test_tightening_by_a_human_applies_at_once() -> None:
    gov = LimitGovernor(RiskConfig())
    p, events = gov.change("order.max_notional", "5000", ALICE, "calmer", NOW)
    assert p.status is ProposalStatus.APPLIED
    assert events == [
        LimitChanged(
            ts=NOW, key="order.max_notional", old="10000", new="5000", actor="alice@cli", reason="calmer"
        )
    ]
    assert gov.limits.order_max_notional == D(5000)


def test_loosening_needs_two_distinct_approvers() -> None:
    gov = LimitGovernor(RiskConfig())
    p, events = gov.change("order.max_notional", "50000", ALICE, "bigger", NOW)
    assert (p.status, p.loosening, p.needs) == (ProposalStatus.PENDING, True, 2)
    [asked] = events
    assert isinstance(asked, LimitChangeProposed) and asked.actor == "alice@cli"
    with pytest.raises(InvalidInput, match="someone else"):
        gov.approve(p.proposal_id, ALICE, NOW)
    assert gov.limits.order_max_notional == D(10000)
    p2, events = gov.approve(p.proposal_id, BOB, NOW)
    assert p2.status is ProposalStatus.APPLIED
    decided, changed = events
    assert isinstance(decided, LimitChangeDecided) and decided.approvals == ("alice@cli", "bob@slack")
    assert isinstance(changed, LimitChanged)
    assert (changed.actor, changed.old, changed.new) == ("alice@cli+bob@slack", "10000", "50000")
    assert changed.reason == "bigger [lim-1]"
    assert gov.limits.order_max_notional == D(50000)


def test_agent_proposal_waits_for_approval() -> None:
    gov = LimitGovernor(RiskConfig.model_validate({"governance": {"two_approvers_to_loosen": False}}))
    p, events = gov.propose("var.max_var", "9000", "agent:llm", "more room", NOW)
    assert p.status is ProposalStatus.PENDING and p.approvals == ()
    assert encode(events[0])["actor"] == "agent:llm" and events[0].kind == "limit_change_proposed"
    assert gov.limits.max_var == D(5000)
    assert gov.pending() == [p]
    applied, events = gov.approve(p.proposal_id, ALICE, NOW)
    assert applied.status is ProposalStatus.APPLIED
    assert encode(events[-1])["new"] == "9000" and encode(events[-1])["actor"] == "alice@cli"


def test_agent_loosening_needs_two_humans_when_configured() -> None:
    gov = LimitGovernor(RiskConfig())
    p, _ = gov.propose("var.max_var", "9000", "agent:llm", "more room", NOW)
    once, events = gov.approve(p.proposal_id, ALICE, NOW)
    assert once.status is ProposalStatus.PENDING and [e.kind for e in events] == ["limit_change_decided"]
    assert gov.limits.max_var == D(5000)
    done, events = gov.approve(p.proposal_id, BOB, NOW)
    assert done.status is ProposalStatus.APPLIED and events[-1].kind == "limit_changed"


def test_approval_judges_direction_against_the_value_in_force_now() -> None:
    gov = LimitGovernor(RiskConfig())
    p, _ = gov.propose("order.max_notional", "8000", "agent:llm", "a bit less", NOW)
    assert (p.loosening, p.needs) == (False, 1)
    gov.change("order.max_notional", "5000", ALICE, "much less", NOW)
    again, _ = gov.approve(p.proposal_id, BOB, NOW)  # 5000 → 8000 loosens now: one is not enough
    assert (again.status, again.loosening, again.needs) == (ProposalStatus.PENDING, True, 2)
    assert gov.limits.order_max_notional == D(5000)


def test_rejected_proposal_cannot_be_approved() -> None:
    gov = LimitGovernor(RiskConfig())
    p, _ = gov.propose("breakers.daily_loss.enabled", "false", "agent:llm", "", NOW)
    assert p.loosening
    rejected, [event] = gov.reject(p.proposal_id, ALICE, NOW, "no")
    assert rejected.status is ProposalStatus.REJECTED
    assert isinstance(event, LimitChangeDecided)
    assert (event.decision, event.actor, event.old, event.new) == ("rejected", "alice@cli", "true", "false")
    with pytest.raises(DataNotFound):
        gov.approve(p.proposal_id, BOB, NOW)
    assert gov.pending() == []


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "order.max_notionl",
            "1",
            r"unknown risk limit 'order.max_notionl' \(did you mean order.max_notional\?",
        ),
        ("order", "1", r"risk.order is a section"),
        ("order.max_notional", "-5", r"^risk.order.max_notional: .*greater than 0"),
        ("order.max_notional", "lots", r"^risk.order.max_notional: "),
        ("order.max_notional", "{a: [", r"^risk.order.max_notional: cannot read"),
        ("order.max_notional", "10000", r"^risk.order.max_notional is already 10000"),
        ("currency", "EUR", r"^risk.currency is changed in agent.yaml only"),
        (
            "governance.two_approvers_to_loosen",
            "false",
            r"^risk.governance.two_approvers_to_loosen is changed",
        ),
    ],
)
def test_invalid_or_unknown_limit_change_is_refused_in_one_line_naming_the_key(
    key: str, value: str, message: str
) -> None:
    gov = LimitGovernor(RiskConfig())
    for attempt in (
        lambda: gov.propose(key, value, "agent:llm", "", NOW),
        lambda: gov.change(key, value, ALICE, "", NOW),
        lambda: gov.diff(key, value),
    ):
        with pytest.raises(InvalidInput, match=message) as info:
            attempt()
        assert "\n" not in str(info.value)
    assert gov.pending() == [] and gov.config == RiskConfig()


def test_entries_list_every_changeable_limit_by_key_path() -> None:
    gov = LimitGovernor(RiskConfig())
    entries = dict(gov.entries())
    assert next(iter(entries)) == "currency"
    assert entries["order.max_notional"] == "10000"
    assert entries["breakers.daily_loss.enabled"] == "true"
    assert not [k for k in entries if k.startswith("governance")]
    assert [k for k, _ in gov.entries("risk.var")] == [k for k in entries if k.startswith("var.")]
    for key in entries:
        if key != "currency":
            assert gov.current(key) is not None or entries[key] == "null"


def test_loosening_direction_follows_the_field() -> None:
    assert is_loosening("var.confidence", D("0.99"), D("0.95"))
    assert not is_loosening("var.confidence", D("0.95"), D("0.99"))
    assert is_loosening("order.max_notional", D(1), D(2))
    assert is_loosening("order.default_max_quantity", D(1), None)
    assert is_loosening("allow_list.instruments", ["a"], ["a", "b"])
    assert not is_loosening("market_data.require_quote", False, True)


def test_to_event_carries_reasons_and_quantity() -> None:
    eng = RiskEngine(loose(order={"max_notional": 2000}))
    it = intent("1", price="20000.00")
    out = eng.check(it, with_equity_marks(snapshot(), eng))
    ev = to_event(out, NOW)
    assert (ev.outcome, ev.reasons, ev.approved_quantity, ev.intent_id) == (
        "resized",
        ("order_notional",),
        D("0.1"),
        "i-1",
    )


@pytest.mark.parametrize(
    ("key", "wide", "narrow"),
    [
        ("rate.submit_window_seconds", 60, 30),  # a shorter window counts fewer submits
        ("rate.cancel_window_seconds", 60, 10),
        ("var.horizon_seconds", 86_400, 3_600),  # a shorter horizon gives a smaller VaR
    ],
)
def test_is_loosening_when_a_window_or_horizon_shrinks(key: str, wide: int, narrow: int) -> None:
    assert is_loosening(key, wide, narrow)
    assert not is_loosening(key, narrow, wide)


@pytest.mark.parametrize("new", [720, 1439, 1441, 10_000])
def test_is_loosening_on_any_lookback_change(new: int) -> None:
    assert is_loosening("var.lookback", 1440, new)
    assert not is_loosening("var.lookback", 1440, 1440)


@pytest.mark.parametrize(
    ("key", "value", "loosening"),
    [
        ("rate.submit_window_seconds", "30", True),
        ("rate.submit_window_seconds", "120", False),
        ("rate.cancel_window_seconds", "5", True),
        ("var.horizon_seconds", "3600", True),
        ("var.horizon_seconds", "172800", False),
        ("var.lookback", "720", True),
        ("var.lookback", "2880", True),
    ],
)
def test_change_of_window_horizon_or_lookback_follows_the_two_approver_rule(
    key: str, value: str, loosening: bool
) -> None:
    gov = LimitGovernor(RiskConfig())
    before = gov.current(key)
    p, events = gov.change(key, value, ALICE, "tune", NOW)
    assert p.loosening is loosening
    if loosening:
        assert (p.status, p.needs, [e.kind for e in events]) == (
            ProposalStatus.PENDING,
            2,
            ["limit_change_proposed"],
        )
        assert gov.current(key) == before
        applied, events = gov.approve(p.proposal_id, BOB, NOW)
        assert applied.status is ProposalStatus.APPLIED
    else:
        assert p.status is ProposalStatus.APPLIED
    assert gov.current(key) == int(value)
    assert encode(events[-1])["key"] == key


def test_governor_refuses_a_limit_keyed_by_an_unconfigured_instrument() -> None:
    gov = LimitGovernor(RiskConfig(), instruments=["BTC/USD@paper"])
    with pytest.raises(InvalidInput, match=r"risk.order.max_quantity: 'ETH/USD@paper' is not listed"):
        gov.change("order.max_quantity", "{ETH/USD@paper: 1}", ALICE, "", NOW)
    p, _ = gov.change("order.max_quantity", "{BTC/USD@paper: 1}", ALICE, "", NOW)
    assert p.proposal_id == "lim-1"


def test_restart_puts_back_the_limit_changes_still_waiting_with_their_approvals() -> None:
    first = LimitGovernor(RiskConfig())
    journal: list[LimitChangeProposed | LimitChangeDecided] = []

    def keep(events: list[Event]) -> None:
        journal.extend(e for e in events if isinstance(e, LimitChangeProposed | LimitChangeDecided))

    waits, events = first.change("order.max_notional", "50000", ALICE, "bigger", NOW)  # 1 of 2
    keep(events)
    agent, events = first.propose("var.max_var", "9000", "agent:llm", "more room", NOW)
    keep(events)
    keep(first.approve(agent.proposal_id, BOB, NOW)[1])  # 1 of 2
    done, events = first.propose("var.max_var", "4000", "agent:llm", "less", NOW)
    keep(events)
    keep(first.approve(done.proposal_id, BOB, NOW)[1])  # tightening: applied
    no, events = first.propose("order.max_notional", "60000", "agent:llm", "", NOW)
    keep(events)
    keep(first.reject(no.proposal_id, ALICE, NOW)[1])
    stale, events = first.propose("position.max_notional", "20000", "agent:llm", "", NOW)
    keep(events)

    edited = RiskConfig.model_validate({"position": {"max_notional": "20000"}})  # agent.yaml since
    second = LimitGovernor(edited)
    restored, dropped = second.restore_pending(journal)
    assert [p.proposal_id for p in restored] == [waits.proposal_id, agent.proposal_id]
    assert [(p.approvals, p.approved_by, p.needs) for p in restored] == [
        (("alice",), ("alice@cli",), 2),
        (("bob",), ("bob@slack",), 2),
    ]
    assert second.pending() == restored
    assert len(dropped) == 1 and dropped[0].startswith(f"{stale.proposal_id} (position.max_notional")
    assert "already 20000" in dropped[0]
    with pytest.raises(InvalidInput, match="someone else"):
        second.approve(waits.proposal_id, ALICE, NOW)  # the approval from before the restart counts
    applied, _ = second.approve(waits.proposal_id, BOB, NOW)
    assert applied.status is ProposalStatus.APPLIED and second.limits.order_max_notional == D(50000)
    with pytest.raises(DataNotFound):
        second.approve(no.proposal_id, BOB, NOW)  # rejected before the restart
    fresh, _ = second.propose("var.max_var", "3000", "agent:llm", "", NOW)
    assert fresh.proposal_id == "lim-6"  # after every id in the journal, never reusing one
