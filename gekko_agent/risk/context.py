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

from decimal import Decimal

from gekko_agent.domain import ZERO, Instrument, OrderIntent, OrderSide, OrderType
from gekko_agent.risk.floor import add_floor, cap_abs_linear, clamp_cap, div_floor, sub_floor
from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.outcomes import CheckResult, ReasonCode, Verdict
from gekko_agent.risk.sides import SideState, side_state
from gekko_agent.risk.snapshot import MarketData, RiskSnapshot
from gekko_agent.risk.view import PortfolioView

__all__ = [
    "PASS",
    "SKIP",
    "OrderContext",
    "add_floor",
    "cap_abs_linear",
    "clamp_cap",
    "deny",
    "div_floor",
    "limit_to",
    "passed",
    "skipped",
    "sub_floor",
]

_ONE = Decimal(1)


class _Shared(dict[str, CheckResult]):
    """The shared result of each check for one verdict, made on first use (``PASS["position"]``)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__()
        self.verdict = verdict

    def __missing__(self, name: str) -> CheckResult:
        r = self[name] = CheckResult(name, self.verdict)
        return r


PASS = _Shared(Verdict.PASS)
"""``PASS[name]``: the (shared) pass result of check ``name``."""
SKIP = _Shared(Verdict.SKIP)
"""``SKIP[name]``: the (shared) skip result of check ``name`` (disabled or not reached)."""


def passed(name: str) -> CheckResult:
    """The (shared) pass result of check ``name``."""
    return PASS[name]


def skipped(name: str) -> CheckResult:
    """The (shared) skip result of check ``name`` (disabled or not reached)."""
    return SKIP[name]


def deny(name: str, reason: ReasonCode, detail: str) -> CheckResult:
    """A denial by check ``name``."""
    return CheckResult(name, Verdict.DENY, reason, detail, ZERO)


def limit_to(name: str, cap: Decimal, q0: Decimal, reason: ReasonCode, detail: str) -> CheckResult:
    """Pass when ``cap >= q0``, else resize to ``cap`` (or deny when ``cap`` is 0)."""
    if cap >= q0:
        return PASS[name]
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
        "st",
        "view",
        "vpu",
    )
    st: SideState

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

    def prepare(self) -> None:
        """Fill in prices, values per unit and the worst-case position (after the fatal gates passed)."""
        intent, md, sign = self.intent, self.md, self.sign
        assert self.inst is not None
        st = self.st = side_state(self.view, self.inst, self.iid, sign)
        mark = self.mark = st.mark
        rate = self.rate = st.rate
        order_type = intent.order_type
        if order_type is OrderType.MARKET:
            touch = (md.ask if sign > 0 else md.bid) if md is not None else None
            ref = touch if touch is not None else mark
            self.exec_price = ref * (_ONE + self.lim.market_slippage * sign)
        elif order_type is OrderType.STOP:
            assert intent.stop_price is not None
            self.exec_price = intent.stop_price * (_ONE + self.lim.market_slippage * sign)
        else:
            assert intent.limit_price is not None
            self.exec_price = intent.limit_price
        self.vpu = st.vpu
        self.cpu = max(self.exec_price, mark) * rate
        self.pos = st.pos
        self.eff = st.eff
        self.reducible = min(self.q0, st.abs_eff) if st.reduces else ZERO

    @property
    def increases(self) -> bool:
        """True when some of the order adds exposure (beyond the reducible part)."""
        return self.q0 > self.reducible

    def only_reducing(self, name: str, reason: ReasonCode, why: str) -> CheckResult:
        """Cap the order at its reducible part (the gates that forbid new exposure use this)."""
        if self.q0 <= self.reducible:
            return PASS[name]
        return limit_to(
            name, self.reducible, self.q0, reason, f"{why}; only exposure-reducing orders may pass"
        )
