"""Crash tests: a real writer process is SIGKILLed at a random moment; nothing acknowledged is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gekko_agent.ledger import Ledger, events, fills, open_reader

pytestmark = pytest.mark.slow

# Appends forever, mixing single appends, batches and replayed fills; prints "seq kind tag" for
# every acknowledged event, after append()/append_many() returned.
WRITER = """
import sys
from datetime import UTC, datetime
from decimal import Decimal
from gekko_agent.domain import AlertRaised, Fill, Liquidity, Money, OrderFilled, OrderSide
from gekko_agent.ledger import Ledger

ledger = Ledger(sys.argv[1])
run = sys.argv[2]
out = sys.stdout
out.write("ready\\n")
out.flush()
i = 0
while True:
    i += 1
    now = datetime.now(UTC)
    tag = f"{run}-{i}"
    if i % 4 == 0:
        batch = [AlertRaised(ts=now, level="info", source="crash", message=f"{tag}.{k}") for k in range(8)]
        acks = list(zip(ledger.append_many(batch), [a.message for a in batch]))
    elif i % 4 == 1:
        fill = Fill(tag, "gk-1", None, "BTC/USD@paper", OrderSide.BUY, Decimal("0.001"), Decimal("20000.01"),
                    Money(Decimal("0.02"), "USD"), Liquidity.TAKER, now)
        first = ledger.append(OrderFilled(ts=now, fill=fill))
        again = ledger.append(OrderFilled(ts=now, fill=fill))
        assert first == again
        acks = [(first, tag)]
    else:
        acks = [(ledger.append(AlertRaised(ts=now, level="info", source="crash", message=tag)), tag)]
    out.write("".join(f"{seq} {msg}\\n" for seq, msg in acks))
    out.flush()
"""


class _Writer:
    """The writer subprocess plus a thread that collects its acknowledgements."""

    def __init__(self, path: Path, run: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), run],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        assert first == "ready\n", self.proc.stderr.read() if self.proc.stderr else first
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def acked(self) -> dict[int, str]:
        """seq -> message for every complete line so far."""
        done = [ln for ln in list(self.lines) if ln.endswith("\n")]
        return {int(seq): msg for seq, msg in (ln.rstrip("\n").split(" ", 1) for ln in done)}

    def kill(self) -> dict[int, str]:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        return self.acked()


def _journaled(path: Path) -> dict[int, str]:
    with Ledger(path) as ledger:
        stored = events(ledger)
        assert [s.seq for s in stored] == list(range(1, ledger.last_seq + 1))
        assert len({f.fill_id for f in fills(ledger)}) == len(fills(ledger))
    out: dict[int, str] = {}
    for s in stored:
        fill = getattr(s.event, "fill", None)
        out[s.seq] = str(getattr(s.event, "message", None) or getattr(fill, "fill_id", ""))
    return out


def test_sigkill_at_random_moment_loses_no_acknowledged_event(ledger_path: Path) -> None:
    rng = random.Random()
    seed = rng.randrange(1_000_000)
    rng.seed(seed)
    for run in ("a", "b"):  # crash, recover, crash again on the recovered file
        writer = _Writer(ledger_path, run)
        time.sleep(rng.uniform(0.2, 1.2))
        acked = writer.kill()
        assert len(acked) > 5, f"seed {seed}: the writer acknowledged too little to test"
        journaled = _journaled(ledger_path)
        lost = {seq: msg for seq, msg in acked.items() if journaled.get(seq) != msg}
        assert not lost, f"seed {seed}: acknowledged but missing after SIGKILL: {sorted(lost)[:10]}"


def test_reader_snapshot_sees_every_event_acked_before_it_opened(ledger_path: Path) -> None:
    writer = _Writer(ledger_path, "r")
    try:
        time.sleep(0.4)
        before = writer.acked()
        with open_reader(ledger_path) as reader:
            assert reader.source == "snapshot"
            seen = {s.seq for s in events(reader)}
            assert reader.query("SELECT count(*) FROM fills").rows[0][0] >= 1
    finally:
        writer.kill()
    assert set(before) <= seen
    assert not list(ledger_path.parent.glob("gekko-ledger-*"))
