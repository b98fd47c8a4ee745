"""The lazy, tiered VaR base gives the verdicts, rooms and figures of the straightforward computation.

``var_reference`` computes every snapshot from scratch (P&L rows, one argsort, today's figures); the
engine's base bounds today's figures first and searches the tail only when a bound cannot settle the
order. These tests drive random books and growing return windows through both.
"""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np

from gekko_agent.domain import OrderIntent, OrderSide, OrderType, Price, Quantity
from gekko_agent.risk import OpenOrder, RiskEngine, RiskLimits, RollingReturns
from gekko_agent.risk.config import VarMethod
from gekko_agent.risk.snapshot import ReturnWindow
from gekko_agent.risk.var import to_money_up
from gekko_agent.risk.var_cache import build_var_base, normal_constants, var_after

from . import var_reference as ref
from .helpers import BTC, BTCUSDC, ETH, EURUSD, INSTRUMENTS, PRICES, D, loose, market, snapshot

FACTORS = ("A", "B", "C", "D")


def _verdict(var: float, es: float, var_room: float, es_room: float) -> str:
    if var > var_room:
        return f"var {to_money_up(var)}"
    if es > es_room:
        return f"es {to_money_up(es)}"
    return "pass"


def _window(rnd: random.Random, rng: np.random.Generator, n: int) -> tuple[RollingReturns, int]:
    lookback = rnd.choice([20, 60, 150])
    rr = RollingReturns(FACTORS[:n], lookback + rnd.choice([0, 0, 40]), 60)
    quantized = rnd.random() < 0.4  # ties between rows
    for _ in range(rnd.randint(lookback, 3 * lookback)):
        row = rng.standard_normal(n) * 0.01
        if quantized:
            row = np.round(row, 3)
        if rnd.random() < 0.05:
            row[:] = 0.0
        rr.push(row)
    return rr, lookback


def _limits(rnd: random.Random, lookback: int, var: float, es: float) -> RiskLimits:
    scale = rnd.choice([0.5, 0.99, 1.0, 1.01, 1.2, 10.0])
    near_var = Decimal(repr(max(var * scale, 0.01))).quantize(Decimal("0.01"))
    near_es = Decimal(repr(max(es * scale, 0.01))).quantize(Decimal("0.01"))
    cfg = loose(
        var={
            "max_var": near_var,
            "max_es": near_es,
            "lookback": lookback,
            "min_observations": 20,
            "method": rnd.choice(list(VarMethod)).value,
            "confidence": rnd.choice(["0.95", "0.975", "0.99"]),
        }
    )
    return RiskLimits.from_config(cfg)


def test_var_after_matches_reference_on_random_books() -> None:
    rnd, rng = random.Random(11), np.random.default_rng(11)
    tiers = {"pass": 0, "deny": 0}
    for _ in range(400):
        n = rnd.choice([1, 1, 1, 2, 4])
        rr, lookback = _window(rnd, rng, n)
        window = rr.window()
        w = np.array([rnd.choice([0.0, 1.0, -1.0, 3.5]) * rnd.choice([10.0, 1e4, 1e6]) for _ in range(n)])
        probe = ref.build(window, w, loose_limits(lookback))
        lim = _limits(rnd, lookback, float(probe.var), float(probe.es))
        base, expected = build_var_base(window, w, lim), ref.build(window, w, lim)
        assert (base.var_room, base.es_room) == (expected.var_room, expected.es_room)
        assert (str(base.var), str(base.es)) == (str(expected.var), str(expected.es))
        assert base.variance == expected.variance
        z, _, es_factor = normal_constants(float(lim.var_confidence))
        for _ in range(6):
            legs = rnd.sample(range(n), min(n, rnd.choice([1, 2])))
            deltas = [rnd.choice([-1.0, 1.0]) * rnd.choice([0.0, 5.0, 1e3, 1e5, 3e6]) for _ in legs]
            got = var_after(base, legs, deltas, lim.var_method, z, es_factor)
            want = ref.var_after(expected, legs, deltas, lim.var_method, z, es_factor)
            v1 = _verdict(*got, base.var_room, base.es_room)
            v2 = _verdict(*want, expected.var_room, expected.es_room)
            assert v1 == v2
            tiers["pass" if v1 == "pass" else "deny"] += 1
    assert min(tiers.values()) > 100  # both verdicts are exercised


def loose_limits(lookback: int) -> RiskLimits:
    """Far limits with the given lookback (to measure today's figures)."""
    return RiskLimits.from_config(loose(var={"lookback": lookback, "min_observations": 20}))


def test_single_factor_variance_has_the_bits_numpy_gives() -> None:
    rnd = random.Random(5)
    specials = [0.0, -0.0, 5e-324, -5e-324, 1e-310, 3.3e-7, -2.2e-8, 1.0, -1.0]
    lim = loose_limits(20)
    for _ in range(300):
        c = (
            abs(rnd.choice(specials))
            if rnd.random() < 0.3
            else rnd.uniform(0, 1) * 10 ** rnd.randint(-300, 0)
        )
        w0 = rnd.choice(specials) if rnd.random() < 0.3 else rnd.uniform(-1, 1) * 10 ** rnd.randint(-300, 5)
        rows = np.zeros((20, 1))
        rows[0, 0] = 1e-3
        window = ReturnWindow(("A",), rows, 60, np.array([[c]]), 0)
        base = build_var_base(window, np.array([w0]), lim)
        sigma_w = np.array([[c]]) @ np.array([w0])
        variance = float(np.array([w0]) @ sigma_w)
        assert base.variance == variance
        assert np.signbit(base.variance) == np.signbit(variance)
        assert base.sigma_w_list == sigma_w.tolist()
        assert np.signbit(base.sigma_w_list[0]) == np.signbit(sigma_w[0])


def test_engine_over_growing_windows_matches_a_fresh_engine_per_check() -> None:
    """A backtest's pattern: every check sees a new snapshot whose window gained a few rows."""
    rnd, rng = random.Random(3), np.random.default_rng(3)
    factors = (BTC, ETH, BTCUSDC, EURUSD, "USDC")
    vols = np.array([0.002, 0.003, 0.002, 0.0002, 0.0001])
    iids = [BTC, ETH, BTCUSDC, EURUSD]
    outcomes: dict[str, int] = {}
    for case in range(6):
        rr = RollingReturns(factors, 240, 60)
        for _ in range(120):
            rr.push(rng.standard_normal(5) * vols)
        var = {"max_var": [800, 3000, 10**9][case % 3], "max_es": [1000, 3500, 10**9][case % 3]}
        method = ["both", "historical", "parametric"][case // 2 % 3]
        limits = RiskLimits.from_config(
            loose(
                var={**var, "lookback": 200, "min_observations": 100, "method": method},
                stress={
                    "max_loss": 4000,
                    "scenarios": [
                        {"name": "crypto", "asset_class_shocks": {"crypto_spot": "-0.2"}},
                        {"name": "fx", "sigma_shocks": {"fx": "5"}},
                        {"name": "depeg", "currency_shocks": {"USDC": "-0.1"}},
                    ],
                },
            )
        )
        engine = RiskEngine(limits)
        pos = dict.fromkeys(iids, D(0))
        for step in range(60):
            for _ in range(rnd.choice([0, 1, 5, 20, 40])):
                rr.push(rng.standard_normal(5) * vols)
            iid = rnd.choice(iids)
            lot = INSTRUMENTS[iid].lot_size * (1000 if iid == EURUSD else 100)
            pos[iid] += D(rnd.randint(-20, 20)) * lot
            prices = {i: PRICES[i] + rnd.randint(-50, 50) * INSTRUMENTS[i].tick_size for i in iids}
            opens = (OpenOrder("o", iid, OrderSide.SELL, lot, None),) if step % 7 == 0 else ()
            snap = snapshot(
                {i: q for i, q in pos.items() if q},
                cash={"USD": D(150_000), "USDC": D(rnd.choice([0, 2000]))},
                market={i: market(p, spread=INSTRUMENTS[i].tick_size * 4) for i, p in prices.items()},
                returns=rr.window(),
                open_orders=opens,
            )
            for _ in range(rnd.choice([1, 2])):
                i = rnd.choice(iids)
                side = rnd.choice(list(OrderSide))
                q = D(rnd.randint(1, 60)) * INSTRUMENTS[i].lot_size * (1000 if i == EURUSD else 100)
                limit = Price(prices[i]) if rnd.random() < 0.4 else None
                order_type = OrderType.LIMIT if limit is not None else OrderType.MARKET
                it = OrderIntent("t", i, side, Quantity(q), order_type, limit_price=limit)
                got = engine.check(it, snap)
                assert repr(got) == repr(RiskEngine(limits).check(it, snap))
                name = type(got).__name__ + ("+var" if "var_limit" in str(got.reasons) else "")
                outcomes[name] = outcomes.get(name, 0) + 1
    assert {"Approved", "Denied", "Resized", "Denied+var"} <= set(outcomes)
