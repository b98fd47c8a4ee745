"""The per-order context every check reads, and the exact arithmetic of caps.

A *cap* is the largest quantity a check allows (``None``: no limit from this check, ``0``: denied). The
engine takes the smallest cap, rounds it down to the lot size, and re-checks minimum size, so an approved
quantity satisfies every cap at once. Caps are computed with a floor-rounding context: a Decimal division
never rounds a quantity up past a limit.

"Worst case" position: the current position plus every open order on the new order's side, as if they all
filled. *Reducible* is how much of the order only shrinks that worst-case position toward zero; the gates
that forbid new exposure (REDUCING, breakers, closed sessions, unhealthy venues) cap the order at it.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Context, Decimal

from gekko_agent.domain import ZERO, Instrument, OrderIntent, OrderSide, OrderType
from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.outcomes import CheckResult, ReasonCode, Verdict
from gekko_agent.risk.snapshot import MarketData, RiskSnapshot
from gekko_agent.risk.view import PortfolioView

__all__ = [
    "OrderContext",
    "add_floor",
    "cap_abs_linear",
    "deny",
    "div_floor",
    "limit_to",
    "passed",
    "skipped",
]

_FLOOR = Context(prec=40, rounding=ROUND_FLOOR)
_ONE = Decimal(1)
_PASS: dict[str, CheckResult] = {}
_SKIP: dict[str, CheckResult] = {}


def div_floor(a: Decimal, b: Decimal) -> Decimal:
    """``a / b`` rounded toward minus infinity."""
    return _FLOOR.divide(a, b)


def sub_floor(a: Decimal, b: Decimal) -> Decimal:
    """``a - b`` rounded toward minus infinity."""
    return _FLOOR.subtract(a, b)


def add_floor(a: Decimal, b: Decimal) -> Decimal:
    """``a + b`` rounded toward minus infinity."""
    return _FLOOR.add(a, b)


def cap_abs_linear(a: Decimal, b: Decimal, bound: Decimal, q0: Decimal) -> Decimal:
    """Largest ``q`` in ``[0, q0]`` with ``|a + b·q| <= max(bound, |a|)`` (never worse than now).

    The feasible set is an interval containing 0, so the caps of several checks combine by ``min``.
    """
    if b == 0:
        return q0
    room = max(bound, abs(a))
    cap = div_floor(sub_floor(room, a), b) if b > 0 else div_floor(_FLOOR.add(room, a), -b)
    if cap >= q0:
        return q0
    return cap if cap > 0 else ZERO


def passed(name: str) -> CheckResult:
    """The (shared) pass result of check ``name``."""
    r = _PASS.get(name)
    if r is None:
        r = _PASS[name] = CheckResult(name, Verdict.PASS)
    return r


def skipped(name: str) -> CheckResult:
    """The (shared) skip result of check ``name`` (disabled or not reached)."""
    r = _SKIP.get(name)
    if r is None:
        r = _SKIP[name] = CheckResult(name, Verdict.SKIP)
    return r


def deny(name: str, reason: ReasonCode, detail: str) -> CheckResult:
    """A denial by check ``name``."""
    return CheckResult(name, Verdict.DENY, reason, detail, ZERO)


def limit_to(name: str, cap: Decimal, q0: Decimal, reason: ReasonCode, detail: str) -> CheckResult:
    """Pass when ``cap >= q0``, else resize to ``cap`` (or deny when ``cap`` is 0)."""
    if cap >= q0:
        return passed(name)
    if cap <= 0:
        return CheckResult(name, Verdict.DENY, reason, detail, ZERO)
    return CheckResult(name, Verdict.RESIZE, reason, detail, cap)


class OrderContext:
    """What the checks know about one order against one snapshot.

    Built in two steps: the constructor (identity, instrument, market data) runs before the fatal gates;
    :meth:`prepare` (prices, rates, positions) only once they passed.
    """

    __slots__ = (
        "cpu",
        "eff",
        "exec_price",
        "iid",
        "inst",
        "intent",
        "lim",
        "mark",
        "md",
        "pos",
        "q0",
        "rate",
        "reducible",
        "side",
        "sign",
        "snap",
        "view",
        "vpu",
    )

    def __init__(self, intent: OrderIntent, snap: RiskSnapshot, view: PortfolioView, lim: RiskLimits) -> None:
        self.intent = intent
        self.snap = snap
        self.view = view
        self.lim = lim
        self.iid = intent.instrument_id
        self.inst: Instrument | None = snap.instruments.get(self.iid)
        self.md: MarketData | None = snap.market.get(self.iid)
        self.side = intent.side
        self.sign = 1 if intent.side is OrderSide.BUY else -1
        self.q0: Decimal = intent.quantity
        self.mark = ZERO
        self.rate = ZERO
        self.exec_price = ZERO
        self.vpu = ZERO
        self.cpu = ZERO
        self.pos = ZERO
        self.eff = ZERO
        self.reducible = ZERO

    def prepare(self, mark: Decimal, rate: Decimal) -> None:
        """Fill in prices, values per unit and the worst-case position (after the data gates passed)."""
        intent, lim, md = self.intent, self.lim, self.md
        self.mark, self.rate = mark, rate
        if intent.order_type is OrderType.MARKET:
            touch = (md.ask if self.sign > 0 else md.bid) if md is not None else None
            ref = touch if touch is not None else mark
            self.exec_price = ref * (_ONE + lim.market_slippage * self.sign)
        elif intent.order_type is OrderType.STOP:
            assert intent.stop_price is not None
            self.exec_price = intent.stop_price * (_ONE + lim.market_slippage * self.sign)
        else:
            assert intent.limit_price is not None
            self.exec_price = intent.limit_price
        self.vpu = mark * rate
        self.cpu = max(self.exec_price, mark) * rate
        pos = self.snap.positions.get(self.iid)
        self.pos = pos.quantity if pos is not None else ZERO
        pending = self.view.open_qty.get((self.iid, self.side), ZERO)
        self.eff = self.pos + pending * self.sign
        self.reducible = min(self.q0, abs(self.eff)) if self.eff * self.sign < 0 else ZERO

    @property
    def increases(self) -> bool:
        """True when some of the order adds exposure (beyond the reducible part)."""
        return self.q0 > self.reducible

    def only_reducing(self, name: str, reason: ReasonCode, why: str) -> CheckResult:
        """Cap the order at its reducible part (the gates that forbid new exposure use this)."""
        if not self.increases:
            return passed(name)
        return limit_to(
            name, self.reducible, self.q0, reason, f"{why}; only exposure-reducing orders may pass"
        )
