"""What one snapshot implies for one instrument and side, computed on first use and cached in the view.

Most caps are linear in the order's quantity ``q``: ``|a + b·q| <= bound`` with ``a``, ``b`` and ``bound``
fixed by the snapshot, the instrument and the side. A :class:`SideState` holds those caps *unclamped*
(:func:`~gekko_agent.risk.floor.raw_abs_linear`), the stress caps per leg, the forecast cap and the VaR
factors, so a check on the same snapshot only compares them with its own quantity
(:func:`~gekko_agent.risk.floor.clamp_cap`). The arithmetic is the same, in the same order, as computing
them per order: the cache changes no result.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from gekko_agent.domain import ZERO, AssetClass, Instrument, InstrumentId, OrderSide
from gekko_agent.risk.floor import div_floor, raw_abs_linear, sub_floor
from gekko_agent.risk.view import PortfolioView

__all__ = ["SideState", "side_state"]

_ONE = Decimal(1)
_NO_LIMIT: Decimal | None = None


class SideState(NamedTuple):
    """Snapshot-fixed inputs of orders on one instrument and side (see the module docstring).

    An immutable named tuple rather than a frozen dataclass: one is built per snapshot and side on the
    hot path of a backtest, where a frozen dataclass's ``__init__`` of 20 fields costs several times more.

    Attributes:
        pos: the position (base units, signed).
        eff: the worst-case position (position plus open orders on this side).
        reduces: True when an order on this side shrinks the worst-case position.
        abs_eff: ``|eff|`` (the most an order may reduce).
        mark: the last trade price (quote currency).
        rate: account-currency units per unit of the quote currency.
        vpu: value of one unit at the last price, account currency.
        position: unclamped position cap (notional); ``position_qty``: by the quantity limit, if one.
        gross_venue: unclamped caps of the exposure limits and leverage (None: no limit).
        net_venue: see ``gross_venue``.
        gross_account: see ``gross_venue``.
        net_account: see ``gross_venue``.
        leverage: see ``gross_venue``.
        stress: unclamped cap and name of each stress leg the order adds loss to, or None when a shock
            of this instrument cannot be computed.
        forecast: 0 forecast missing, 1 never limits, 2 limited by ``forecast_cap``.
        forecast_cap: unclamped forecast cap.
        var_legs: VaR factor indexes (instrument, and quote cash when it is not the account currency),
            or None when a factor has no history.
        vpu_float: ``float(vpu)``.
    """

    pos: Decimal
    eff: Decimal
    reduces: bool
    abs_eff: Decimal
    mark: Decimal
    rate: Decimal
    vpu: Decimal
    position: Decimal | None
    position_qty: Decimal | None
    has_qty_limit: bool
    gross_venue: Decimal | None
    net_venue: Decimal | None
    gross_account: Decimal | None
    net_account: Decimal | None
    leverage: Decimal | None
    stress: tuple[tuple[Decimal, str], ...] | None
    forecast: int
    forecast_cap: Decimal | None
    var_legs: list[int] | None
    vpu_float: float


def _stress_caps(
    view: PortfolioView, inst: Instrument, iid: InstrumentId, sign: int, vpu: Decimal
) -> tuple[tuple[Decimal, str], ...] | None:
    legs = view.stress_legs() if view.limits.stress_enabled else None
    if not legs:
        return ()
    room = max(view.limits.stress_max_loss, max(leg.loss for leg in legs))
    caps: list[tuple[Decimal, str]] = []
    quote, spot = inst.quote, inst.asset_class is AssetClass.CRYPTO_SPOT
    static = view.plan.static_shocks(iid, inst.asset_class)
    neg = -sign * vpu
    for leg, sp in zip(legs, static, strict=True):
        if sp is None:
            sp = view.price_shock(leg.scenario, leg.direction, iid)
            if sp is None:
                return None
        shock_ccy = leg.scenario.currency_shocks.get(quote, ZERO)
        # spot: coin bought, quote cash paid; FX: P&L in the quote currency, converted at the shocked rate
        unit_loss = neg * (sp - shock_ccy) if spot else neg * sp * (_ONE + shock_ccy)
        if unit_loss > 0:
            caps.append((div_floor(sub_floor(room, leg.loss), unit_loss), leg.name))
    return tuple(caps)


def _forecast(
    view: PortfolioView, iid: InstrumentId, sign: int, eff: Decimal, vpu: Decimal
) -> tuple[int, Decimal | None]:
    lim = view.limits
    if not lim.forecast_enabled:
        return 1, None
    fc = view.snap.forecasts.get(iid)
    ret = (
        None
        if fc is None
        else (fc.lower(lim.forecast_quantile) if sign > 0 else fc.upper(lim.forecast_quantile))
    )
    if ret is None:
        return 0, None
    unit_loss = -ret * vpu * sign
    if unit_loss <= 0:
        return 1, None
    return 2, raw_abs_linear(eff * unit_loss, unit_loss * sign, lim.forecast_max_loss)


def _var_legs(view: PortfolioView, inst: Instrument, iid: InstrumentId) -> list[int] | None:
    base = view.var_base() if view.limits.var_enabled else None
    if base is None:
        return None
    idx = base.window.index
    legs = [idx.get(iid, -1)]
    if inst.asset_class is AssetClass.CRYPTO_SPOT and inst.quote != view.snap.account_currency:
        legs.append(idx.get(inst.quote, -1))
    return None if -1 in legs else legs


def side_state(view: PortfolioView, inst: Instrument, iid: InstrumentId, sign: int) -> SideState:
    """The :class:`SideState` of ``iid`` on side ``sign`` (+1 buy, -1 sell), cached in ``view``.

    Call it only after the fatal gates passed (a last price and a conversion rate exist).
    """
    key = (iid, sign)
    st = view.sides.get(key)
    if st is None:
        st = view.sides[key] = _build(view, inst, iid, sign)
    return st


def _build(view: PortfolioView, inst: Instrument, iid: InstrumentId, sign: int) -> SideState:
    lim = view.limits
    mark, rate = view.mark(iid), view.rate(inst.quote)
    assert mark is not None
    assert rate is not None
    vpu = mark * rate
    held = view.snap.positions.get(iid)
    pos = held.quantity if held is not None else ZERO
    side = OrderSide.BUY if sign > 0 else OrderSide.SELL
    eff = pos + view.open_qty.get((iid, side), ZERO) * sign
    c, b = eff * vpu, vpu * sign
    position = qty = _NO_LIMIT
    qty_limit = lim.position_max_quantity.get(iid)
    if lim.position_enabled:
        position = raw_abs_linear(c, b, lim.position_max_notional)
        if qty_limit is not None:
            qty = raw_abs_linear(eff, Decimal(sign), qty_limit)
    own = view.notional.get(iid, ZERO)

    def gross(total: Decimal, limit: Decimal) -> Decimal | None:
        rest = total - abs(own)
        bound = max(limit, rest + abs(c)) - rest
        return raw_abs_linear(c, b, bound)

    def net(total: Decimal, limit: Decimal) -> Decimal | None:
        return raw_abs_linear(total - own + c, b, limit)

    caps: list[Decimal | None] = [_NO_LIMIT] * 4
    if lim.exposure_enabled:
        caps = [
            gross(view.gross_venue.get(inst.venue, ZERO), lim.max_gross_venue),
            net(view.net_venue.get(inst.venue, ZERO), lim.max_net_venue),
            gross(view.gross, lim.max_gross_account),
            net(view.net, lim.max_net_account),
        ]
    equity = view.equity
    leverage = None
    if lim.leverage_enabled and equity is not None:
        leverage = gross(view.gross, lim.max_leverage * equity)
    fc_kind, fc_cap = _forecast(view, iid, sign, eff, vpu)
    return SideState(
        pos=pos,
        eff=eff,
        reduces=eff * sign < 0,
        abs_eff=abs(eff),
        mark=mark,
        rate=rate,
        vpu=vpu,
        position=position,
        position_qty=qty,
        has_qty_limit=qty_limit is not None,
        gross_venue=caps[0],
        net_venue=caps[1],
        gross_account=caps[2],
        net_account=caps[3],
        leverage=leverage,
        stress=_stress_caps(view, inst, iid, sign, vpu),
        forecast=fc_kind,
        forecast_cap=fc_cap,
        var_legs=_var_legs(view, inst, iid),
        vpu_float=float(vpu),
    )
