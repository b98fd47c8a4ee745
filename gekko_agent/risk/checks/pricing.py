"""Fat-finger bands (limit/stop price against the last trade and the quote), spread, and submit rate."""

from __future__ import annotations

from decimal import Decimal

from gekko_agent.domain import OrderType
from gekko_agent.risk.context import PASS, SKIP, OrderContext, deny
from gekko_agent.risk.outcomes import CheckResult, ReasonCode

__all__ = ["check_price_band", "check_submit_rate"]

_TWO = Decimal(2)


def check_price_band(ctx: OrderContext) -> CheckResult:
    """Fat finger: limit/stop prices near the last trade and not far through the quote; sane spreads.

    Limit/stop prices lie within ``max_deviation_from_last`` of the last trade and, when a quote is known,
    no further than ``max_deviation_from_quote`` through it; market orders need a spread below ``max_spread``.
    """
    name, lim, md = "price_band", ctx.lim, ctx.md
    if not lim.band_enabled:
        return SKIP[name]
    assert md is not None
    last = ctx.mark
    for label, p in (("limit", ctx.intent.limit_price), ("stop", ctx.intent.stop_price)):
        if p is None:
            continue
        if abs(p - last) > last * lim.band_last:
            return deny(
                name,
                ReasonCode.PRICE_BAND_LAST,
                f"{label} price {p} is more than {lim.band_last:.1%} from last {last}",
            )
        if ctx.sign > 0 and md.ask is not None and p > md.ask * (1 + lim.band_quote):
            return deny(
                name,
                ReasonCode.PRICE_BAND_QUOTE,
                f"buy {label} {p} is more than {lim.band_quote:.1%} above ask {md.ask}",
            )
        if ctx.sign < 0 and md.bid is not None and p < md.bid * (1 - lim.band_quote):
            return deny(
                name,
                ReasonCode.PRICE_BAND_QUOTE,
                f"sell {label} {p} is more than {lim.band_quote:.1%} below bid {md.bid}",
            )
    if ctx.intent.order_type is OrderType.MARKET and md.bid is not None and md.ask is not None:
        mid = (md.bid + md.ask) / _TWO
        if md.ask - md.bid > mid * lim.band_spread:
            return deny(
                name,
                ReasonCode.SPREAD_TOO_WIDE,
                f"spread {md.bid}/{md.ask} is wider than {lim.band_spread:.2%}",
            )
    return PASS[name]


def check_submit_rate(ctx: OrderContext) -> CheckResult:
    """At most ``max_submits`` submits in the sliding submit window."""
    name, lim = "submit_rate", ctx.lim
    if not lim.rate_enabled:
        return SKIP[name]
    if ctx.view.submits >= lim.max_submits:
        return deny(
            name,
            ReasonCode.SUBMIT_RATE,
            f"{ctx.view.submits} submits in {lim.submit_window_s:.0f} s reach the limit of {lim.max_submits}",
        )
    return PASS[name]
