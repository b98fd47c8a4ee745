"""Benchmark of ``RiskEngine.check()`` with every check on (forecast included), for 1, 10 and 100 positions.

Prints µs per check (median, p99), checks per second, the once-per-snapshot cost of building the
cached portfolio view (valuation, exposure sums, VaR vectors over 1,440 returns, stress legs), and the
median of each intent's *first* check on that view (``cold``: it also fills the per-instrument caches).

The first table uses far limits, where the VaR/ES check is settled by its O(1) upper bound; the second
sets ``max_var`` / ``max_es`` 1 % above today's figures, so most orders need the exact tail search. Both
check many intents against one snapshot (the warm cache).

The third table is what live and paper runs pay: every bar brings a new snapshot, so each check also
pays for one bar's return row (``RollingReturns.push`` and ``window()``), the frozen snapshot, and the
engine's portfolio view of it (valuation, exposure sums, gates, the VaR base over 1,440 returns, stress
legs, the per-side caches). One check per bar, far limits; ``snapshot µs`` and ``check µs`` split the
median into building the snapshot and checking against it.

    .venv/bin/python benchmarks/bench_risk.py
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from gekko_agent.domain import (
    AssetClass,
    Instrument,
    OrderIntent,
    OrderSide,
    OrderType,
    Position,
    Price,
    Quantity,
)
from gekko_agent.risk import (
    ForecastQuantiles,
    MarketData,
    RiskConfig,
    RiskEngine,
    RiskSnapshot,
    RollingReturns,
    VenueHealth,
)

NOW = datetime(2023, 3, 8, 12, tzinfo=UTC)
CALLS = 20_000

EXPOSURE_KEYS = ("max_gross_per_venue", "max_net_per_venue", "max_gross_account", "max_net_account")


def build(
    n: int, var_near: bool = False
) -> tuple[RiskEngine, RiskSnapshot, list[OrderIntent], RollingReturns]:
    """An engine with every check on, a snapshot holding ``n`` positions, intents, and the return window.

    ``var_near``: VaR and ES limits 1 % above the portfolio's figures (instead of far away).
    """
    rng = np.random.default_rng(n)
    iids = [f"C{i}/USD@binanceus" for i in range(n)]
    instruments = {
        iid: Instrument(
            iid.split("@")[0], "binanceus", AssetClass.CRYPTO_SPOT, Decimal("0.01"), Decimal("0.001")
        )
        for iid in iids
    }
    prices = {iid: Decimal(int(rng.integers(1_000, 50_000))) for iid in iids}
    positions = {
        iid: Position(iid, "USD", AssetClass.CRYPTO_SPOT, Decimal("0.05"), prices[iid]) for iid in iids
    }
    window = RollingReturns(iids, 1440, 60)
    for row in rng.standard_normal((1440, n)) * 0.001:
        window.push(row)
    cfg = RiskConfig.model_validate(
        {
            "order": {"max_notional": 1_000_000},
            "position": {"max_notional": 1_000_000},
            "exposure": dict.fromkeys(
                ("max_gross_per_venue", "max_net_per_venue", "max_gross_account", "max_net_account"), 10**9
            ),
            "leverage": {"max_leverage": 10},
            "budgets": {"default_budget": 10**9},
            "stress": {"max_loss": 10**9},
            "var": {"max_var": 10**9, "max_es": 10**9},
            "forecast": {"enabled": True, "max_loss": 10**9},
            "sessions": {"maintenance": [{"venue": "binanceus", "weekly_start": "sun 02:00"}]},
        }
    )
    snap = RiskSnapshot(
        now=NOW,
        account_currency="USD",
        cash={"USD": Decimal(10_000_000)},
        positions=positions,
        instruments=instruments,
        market={iid: MarketData(p, NOW, p - 1, p + 1, NOW) for iid, p in prices.items()},
        equity_day_start=Decimal(10_000_000),
        equity_peak=Decimal(10_000_000),
        submit_times=tuple(NOW - timedelta(seconds=s * 30) for s in range(5)),
        venues={"binanceus": VenueHealth(0, NOW - timedelta(hours=1), None, NOW - timedelta(minutes=5))},
        returns=window.window(),
        forecasts={
            iid: ForecastQuantiles({Decimal("0.05"): Decimal("-0.02"), Decimal("0.95"): Decimal("0.02")})
            for iid in iids
        },
    )
    intents = []
    for k in range(64):
        iid = iids[k % n]
        side = OrderSide.BUY if k % 2 == 0 else OrderSide.SELL
        limit = k % 3 == 0
        intents.append(
            OrderIntent(
                f"b{k}",
                iid,
                side,
                Quantity(Decimal("0.01") * (1 + k % 5)),
                OrderType.LIMIT if limit else OrderType.MARKET,
                limit_price=Price(prices[iid]) if limit else None,
            )
        )
    engine = RiskEngine(cfg)
    if var_near:
        base = engine.view(snap).var_base()
        assert base is not None
        near = {"max_var": base.var * Decimal("1.01"), "max_es": base.es * Decimal("1.01")}
        engine = RiskEngine(cfg.model_copy(update={"var": cfg.var.model_copy(update=near)}))
    return engine, snap, intents, window


def run(n: int, var_near: bool = False) -> tuple[float, float, float, float, float, dict[str, int]]:
    """(median µs, p99 µs, checks/s, view build µs, cold µs, outcome counts) for ``n`` positions."""
    engine, snap, intents, _ = build(n, var_near)
    t0 = time.perf_counter_ns()
    engine.view(snap).var_base()
    engine.view(snap).stress_legs()
    view_us = (time.perf_counter_ns() - t0) / 1000
    counts: dict[str, int] = {}
    cold = []
    for it in intents:
        t = time.perf_counter_ns()
        name = type(engine.check(it, snap)).__name__
        cold.append(time.perf_counter_ns() - t)
        counts[name] = counts.get(name, 0) + 1
    samples = []
    clock = time.perf_counter_ns
    check = engine.check
    m = len(intents)
    start = clock()
    for i in range(CALLS):
        it = intents[i % m]
        t = clock()
        check(it, snap)
        samples.append(clock() - t)
    total_s = (clock() - start) / 1e9
    samples.sort()
    median = statistics.median(samples) / 1000
    p99 = samples[int(len(samples) * 0.99)] / 1000
    return median, p99, CALLS / total_s, view_us, statistics.median(cold) / 1000, counts


def run_per_bar(n: int, bars: int) -> tuple[float, float, float, float, float, dict[str, int]]:
    """(median µs, p99 µs, checks/s, median snapshot µs, median check µs, outcomes) with a new snapshot
    (one new return row, new prices and time) before every check, as each bar of a live run brings."""
    engine, snap, intents, window = build(n)
    rng = np.random.default_rng(100 + n)
    rows = rng.standard_normal((bars, n)) * 0.001
    marks = {iid: md.last for iid, md in snap.market.items() if md.last is not None}
    clock = time.perf_counter_ns
    totals: list[int] = []
    snaps: list[int] = []
    checks: list[int] = []
    counts: dict[str, int] = {}
    start = clock()
    for b in range(bars):
        t0 = clock()
        now = NOW + timedelta(minutes=b + 1)
        window.push(rows[b])
        market = {iid: MarketData(p, now, p - 1, p + 1, now) for iid, p in marks.items()}
        bar_snap = dataclasses.replace(snap, now=now, market=market, returns=window.window())
        t1 = clock()
        out = engine.check(intents[b % len(intents)], bar_snap)
        t2 = clock()
        totals.append(t2 - t0)
        snaps.append(t1 - t0)
        checks.append(t2 - t1)
        counts[type(out).__name__] = counts.get(type(out).__name__, 0) + 1
    total_s = (clock() - start) / 1e9
    totals.sort()
    p99 = totals[min(len(totals) - 1, int(len(totals) * 0.99))] / 1000
    return (
        statistics.median(totals) / 1000,
        p99,
        bars / total_s,
        statistics.median(snaps) / 1000,
        statistics.median(checks) / 1000,
        counts,
    )


def main() -> None:
    """Print the tables."""
    for var_near in (False, True):
        limits = "VaR/ES limits 1 % above today's" if var_near else "far limits"
        print(f"RiskEngine.check(), all checks on, {limits}, {CALLS:,} calls per row, VaR over 1,440 returns")
        print(
            f"{'positions':>9} | {'median µs':>9} | {'p99 µs':>8} | {'checks/s':>9} | {'view µs':>9} |"
            f" {'cold µs':>7} | outcomes"
        )
        print("-" * 96)
        for n in (1, 10, 100):
            median, p99, rate, view_us, cold_us, counts = run(n, var_near)
            print(
                f"{n:>9} | {median:>9.1f} | {p99:>8.1f} | {rate:>9,.0f} | {view_us:>9,.0f} |"
                f" {cold_us:>7.1f} | {counts}"
            )
        print()
    print(
        "RiskEngine.check() with a new snapshot per check (per-bar: return row, snapshot, view), far limits"
    )
    print(
        f"{'positions':>9} | {'bars':>5} | {'median µs':>9} | {'p99 µs':>8} | {'checks/s':>8} |"
        f" {'snapshot µs':>11} | {'check µs':>8} | outcomes"
    )
    print("-" * 96)
    for n, bars in ((1, 2_000), (10, 1_000), (100, 300)):
        median, p99, rate, snap_us, check_us, counts = run_per_bar(n, bars)
        print(
            f"{n:>9} | {bars:>5} | {median:>9,.0f} | {p99:>8,.0f} | {rate:>8,.0f} | {snap_us:>11,.0f} |"
            f" {check_us:>8,.0f} | {counts}"
        )


if __name__ == "__main__":
    main()
