"""Named kill points for crash tests: a process SIGKILLs itself at the Nth pass of a named point.

The crash campaign starts the trading process with ``GEKKO_KILL_AT=NAME:N`` (for example
``submit_acked:3``). The Nth time that process calls ``kill_point("submit_acked")`` it writes one
line, ``gekko-kill-point NAME N DETAIL``, to stderr and sends itself ``SIGKILL``: no ``finally``, no
``atexit``, no flush of anything else, as with a power cut or the OOM killer. The parent reads the
line to report where the kill landed.

Unset (every real run), :func:`kill_point` is one global read and a comparison: the variable is read
once, at import. Where the points sit today (all in ``tests/reliability/crash_worker.py``, at the
ports the engine calls, so no product code changes):

========================  ===========================================================================
``submit_sent``           the create-order request is written to the venue's socket, its answer not
                          yet read (an aiohttp trace hook on the ccxt session)
``submit_acked``          the venue's answer to a submit is in hand, the ack and fills not journaled
``fill_received``         a poll read new fills from the venue, none journaled yet
``ledger_append``         inside ``Ledger.append``: the event's INSERT ran (auto-committed), the
                          call has not returned its seq to the engine
========================  ===========================================================================

Product code may call :func:`kill_point` directly where a finer point is wanted (see RELIABILITY.md,
"Kill points", for the exact lines).
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["ENV", "KillTarget", "kill_point", "parse_target"]

ENV = "GEKKO_KILL_AT"

KillTarget = tuple[str, int]


def parse_target(spec: str | None) -> KillTarget | None:
    """``NAME:N`` (N >= 1; ``NAME`` alone means N = 1) as a target; None when empty or malformed."""
    if not spec or not spec.strip():
        return None
    name, _, count = spec.strip().partition(":")
    try:
        nth = int(count) if count else 1
    except ValueError:
        return None
    return (name, nth) if name and nth >= 1 else None


_TARGET = parse_target(os.environ.get(ENV))
_passes = 0


def kill_point(name: str, detail: str = "") -> None:
    """SIGKILL this process if ``name`` is the armed point and this is its Nth pass; else nothing.

    Args:
        name: the point (``submit_sent``, ``submit_acked``, ``fill_received``, ``ledger_append``…).
        detail: what was in flight (a client order id, an event kind), written with the kill line.
    """
    if _TARGET is None or name != _TARGET[0]:
        return
    global _passes
    _passes += 1
    if _passes < _TARGET[1]:
        return
    sys.stderr.write(f"gekko-kill-point {name} {_passes} {detail}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
