"""Property tests of the engine's invariants (hypothesis, thousands of examples each)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal, localcontext
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gekko_agent.domain import OrderIntent, OrderSide, OrderType, Price, Quantity, round_to_step
from gekko_agent.risk import (
    Approved,
    Denied,
    OpenOrder,
    Resized,
    RiskEngine,
    RiskOutcome,
    RiskSnapshot,
    TradingState,
)
from gekko_agent.risk.context import cap_abs_linear, div_floor

from .helpers import (
    BTC,
    BTCUSDC,
    ETH,
    EURUSD,
    INSTRUMENTS,
    PRICES,
    D,
    loose,
    market,
    returns_window,
    snapshot,
)
from .oracle import portfolio_var, violations

EXAMPLES = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WINDOW = returns_window(rows=240)
SCENARIOS = [
    {"name": "crypto -20%", "asset_class_shocks": {"crypto_spot": "-0.2"}},
    {"name": "depeg", "currency_shocks": {"USDC": "-0.1"}},
    {"name": "fx", "instrument_shocks": {EURUSD: "0.03"}},
]
CONFIGS = [
    loose(stress={"scenarios": SCENARIOS}),
    loose(
        order={"max_notional": 15000},
        position={"max_notional": 30000},
        exposure={
            "max_gross_per_venue": 60000,
            "max_net_per_venue": 50000,
            "max_gross_account": 90000,
            "max_net_account": 80000,
        },
        leverage={"max_leverage": "1.5"},
        budgets={"default_budget": 12000},
        stress={"max_loss": 9000, "scenarios": SCENARIOS},
        var={"max_var": 6000, "max_es": 8000, "min_observations": 100, "lookback": 240},
    ),
    loose(
        order={"max_notional": 4000, "max_quantity": {EURUSD: 50000}},
        position={"max_notional": 9000},
        exposure={
            "max_gross_per_venue": 20000,
            "max_net_per_venue": 15000,
            "max_gross_account": 30000,
            "max_net_account": 25000,
        },
        cash={"fee_rate": "0.0025"},
        stress={"max_loss": 3000, "scenarios": SCENARIOS},
        var={"max_var": 1500, "max_es": 2500, "min_observations": 100, "lookback": 240},
    ),
]
ENGINES = [RiskEngine(c) for c in CONFIGS]
IIDS = [BTC, ETH, BTCUSDC, EURUSD]
LOTS = {iid: INSTRUMENTS[iid].lot_size for iid in IIDS}


@st.composite
def cases(draw: Any, states: list[TradingState] | None = None) -> tuple[int, RiskSnapshot, OrderIntent]:
    positions = {
        BTC: D(draw(st.integers(0, 150_000))) * LOTS[BTC],
        ETH: D(draw(st.integers(0, 100_000))) * LOTS[ETH],
        BTCUSDC: D(draw(st.integers(0, 100_000))) * LOTS[BTCUSDC],
        EURUSD: D(draw(st.integers(-60_000, 60_000))),
    }
    prices = {
        iid: PRICES[iid] + draw(st.integers(-300, 300)) * INSTRUMENTS[iid].tick_size * 10 for iid in IIDS
    }
    opens = []
    for n in range(draw(st.integers(0, 2))):
        iid = draw(st.sampled_from(IIDS))
        side = draw(st.sampled_from(list(OrderSide)))
        opens.append(OpenOrder(f"o{n}", iid, side, D(draw(st.integers(1, 20_000))) * LOTS[iid], prices[iid]))
    state = draw(st.sampled_from(states or list(TradingState)))
    snap = snapshot(
        {k: v for k, v in positions.items() if v},
        cash={"USD": D(draw(st.integers(0, 150_000))), "USDC": D(draw(st.integers(0, 40_000)))},
        market={
            iid: market(p, spread=INSTRUMENTS[iid].tick_size * 4 if draw(st.booleans()) else None)
            for iid, p in prices.items()
        },
        open_orders=tuple(opens),
        trading_state=state,
        strategy_usage={"manual": D(draw(st.integers(0, 15_000)))},
        returns=WINDOW,
    )
    k = draw(st.integers(0, len(ENGINES) - 1))
    eq = ENGINES[k].view(snap).equity or D(1)
    snap = dataclasses.replace(
        snap,
        equity_day_start=eq * (1 + D(draw(st.integers(-20, 60))) / 1000),
        equity_peak=eq * (1 + D(draw(st.integers(0, 160))) / 1000),
    )
    iid = draw(st.sampled_from(IIDS))
    side = draw(st.sampled_from(list(OrderSide)))
    qty = D(draw(st.integers(1, 400_000))) * LOTS[iid] / (10 if draw(st.booleans()) else 1)
    limit = None
    if draw(st.booleans()):
        limit = Price(prices[iid] + draw(st.integers(-600, 600)) * INSTRUMENTS[iid].tick_size * 10)
    it = OrderIntent(
        "p-1",
        iid,
        side,
        Quantity(qty),
        OrderType.LIMIT if limit is not None else OrderType.MARKET,
        limit_price=limit,
        reduce_only=draw(st.integers(0, 9)) == 0,
    )
    return k, snap, it


def _worst_case(snap: RiskSnapshot, it: OrderIntent) -> Decimal:
    pos = snap.positions[it.instrument_id].quantity if it.instrument_id in snap.positions else D(0)
    pending = sum(
        (o.remaining for o in snap.open_orders if o.instrument_id == it.instrument_id and o.side is it.side),
        D(0),
    )
    return pos + it.side.sign * pending


def _approved_quantity(out: RiskOutcome) -> Decimal:
    return out.intent.quantity if isinstance(out, Approved | Resized) else D(0)


@EXAMPLES
@given(cases())
def test_check_approved_or_resized_never_breaches_a_limit(
    case: tuple[int, RiskSnapshot, OrderIntent],
) -> None:
    k, snap, it = case
    eng = ENGINES[k]
    out = eng.check(it, snap)
    if isinstance(out, Denied):
        assert out.reasons
        return
    q = _approved_quantity(out)
    assert violations(snap, eng.limits, it, q) == []
    lim = eng.limits
    if lim.var_enabled:
        inst = INSTRUMENTS[it.instrument_id]
        dq = float(q) * it.side.sign
        extra = {it.instrument_id: dq * float(snap.market[it.instrument_id].last)}  # type: ignore[arg-type]
        before, after = (
            portfolio_var(snap, lim, {}),
            portfolio_var(snap, lim, extra if inst.quote == "USD" else {}),
        )
        if inst.quote == "USD":
            assert after <= max(float(lim.max_var), before) + 0.02


@EXAMPLES
@given(cases(states=[TradingState.HALTED]))
def test_check_in_halted_approves_nothing(case: tuple[int, RiskSnapshot, OrderIntent]) -> None:
    k, snap, it = case
    assert isinstance(ENGINES[k].check(it, snap), Denied)


@EXAMPLES
@given(cases(states=[TradingState.REDUCING]))
def test_check_in_reducing_never_grows_exposure(case: tuple[int, RiskSnapshot, OrderIntent]) -> None:
    k, snap, it = case
    out = ENGINES[k].check(it, snap)
    eff = _worst_case(snap, it)
    after = eff + it.side.sign * _approved_quantity(out)
    assert abs(after) <= abs(eff)
    assert after * eff >= 0


@EXAMPLES
@given(cases(states=[TradingState.ACTIVE]))
def test_resize_never_increases_quantity_or_flips_side(case: tuple[int, RiskSnapshot, OrderIntent]) -> None:
    k, snap, it = case
    out = ENGINES[k].check(it, snap)
    if isinstance(out, Resized):
        assert 0 < out.intent.quantity < it.quantity
        assert out.intent.side is it.side
        assert out.intent.limit_price == it.limit_price
        assert out.intent.quantity % INSTRUMENTS[it.instrument_id].lot_size == 0
    if isinstance(out, Approved):
        assert out.intent is it


@EXAMPLES
@given(cases())
def test_check_is_deterministic(case: tuple[int, RiskSnapshot, OrderIntent]) -> None:
    k, snap, it = case
    first = ENGINES[k].check(it, snap)
    assert ENGINES[k].check(it, snap) == first
    assert RiskEngine(CONFIGS[k]).check(it, dataclasses.replace(snap)) == first


@EXAMPLES
@given(
    a=st.decimals(-(10**9), 10**9, places=9),
    b=st.decimals(-(10**6), 10**6, places=9).filter(lambda x: x != 0),
    bound=st.decimals(0, 10**9, places=9),
    q0=st.decimals("0.000000001", 10**6, places=9),
    lot=st.sampled_from([D("0.00001"), D("0.001"), D(1), D("0.1")]),
)
def test_cap_rounded_down_never_exceeds_the_limit(
    a: Decimal, b: Decimal, bound: Decimal, q0: Decimal, lot: Decimal
) -> None:
    cap = cap_abs_linear(a, b, bound, q0)
    q = round_to_step(cap, lot, "down")
    with localcontext() as ctx:
        ctx.prec = 120
        room = max(bound, abs(a))
        assert 0 <= q <= cap <= q0
        assert abs(a + b * cap) <= room
        assert abs(a + b * q) <= room
        assert div_floor(bound, abs(b)) * abs(b) <= bound
