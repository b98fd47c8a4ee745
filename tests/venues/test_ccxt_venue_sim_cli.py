"""``gekko venue-sim`` and fault SPEC parsing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import pytest

from gekko_agent.errors import InvalidInput
from gekko_agent.testing.sim import Fault, FaultInjector, FaultPlan


def test_parse_spec_reads_every_fault() -> None:
    plan = FaultPlan.parse(
        "latency=50ms,429=0.05,5xx=0.02,drop_after_accept=0.05,partial=0.3,reject=0.01,seed=7"
    )
    assert plan == FaultPlan(50, 0.05, 0.02, 0.05, 0.3, 0.01, 7)
    assert FaultPlan.parse("seed=1", seed=9).seed == 9


@pytest.mark.parametrize("spec", ["429=2", "bogus=1", "latency=fast", "partial"])
def test_parse_bad_spec_raises_invalid_input(spec: str) -> None:
    with pytest.raises(InvalidInput):
        FaultPlan.parse(spec)


def test_same_seed_draws_same_faults() -> None:
    plan = FaultPlan.parse("429=0.3,partial=0.5,seed=4")
    draws = [
        [(a.request_fault({})[0], a.order_fault({})) for _ in range(20)]
        for a in (FaultInjector(plan), FaultInjector(plan))
    ]
    assert draws[0] == draws[1]


def test_header_names_fault_and_latency() -> None:
    injector = FaultInjector()
    assert injector.request_fault({"x-gekko-fault": "429, latency=20ms"}) == (Fault.RATE_LIMIT, 20)
    assert injector.order_fault({"x-gekko-fault": "timeout"}) is Fault.DROP_AFTER_ACCEPT


@pytest.mark.slow
def test_venue_sim_prints_url_and_serves_until_interrupted() -> None:
    code = "from gekko_agent.cli.venue_sim import app; app()"
    args = [sys.executable, "-c", code, "--protocol", "binance", "--port", "0", "--seed", "3"]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            with urllib.request.urlopen(f"{url}/api/v3/exchangeInfo", timeout=30) as answer:
                symbols = {s["symbol"] for s in json.load(answer)["symbols"]}
            assert "BTCUSD" in symbols
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
