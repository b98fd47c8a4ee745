"""What the ledger says a venue should hold, and an execution engine that resumes from it.

After a restart, the journal is the only memory Gekko has. This module folds it back into the
things the running system needs:

* :func:`ledger_fills` — every journaled fill with its seq (the order in which it was learnt);
* :func:`balance_baselines` — the last balances each venue reported (``BalancesObserved``), which
  live mode uses as the starting point instead of configured paper cash;
* :func:`expected_balances` — a baseline plus the effect of every fill journaled after it, i.e.
  what the venue should report now if nothing was missed;
* :func:`restore_portfolio` — the portfolio: positions from every fill, cash from each venue's
  baseline plus later fills (or from the configured starting cash for venues without one);
* :class:`RestorableExecutionEngine` — the :class:`ExecutionEngine` with a public
  :meth:`~RestorableExecutionEngine.restore` that adopts orders and a portfolio rebuilt from the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from gekko_agent.domain import (
    AssetClass,
    BalancesObserved,
    Currency,
    Fill,
    InstrumentId,
    Money,
    Order,
    OrderFilled,
    Portfolio,
)
from gekko_agent.domain.money import ZERO
from gekko_agent.execution.engine import ExecutionEngine
from gekko_agent.ledger import InstrumentTerms, Queryable, events

__all__ = [
    "BalanceBaseline",
    "RestorableExecutionEngine",
    "balance_baselines",
    "expected_balances",
    "fill_balance_effect",
    "ledger_fills",
    "restore_portfolio",
    "venue_of",
]


def venue_of(iid: InstrumentId) -> str:
    """The venue part of ``SYMBOL@venue``."""
    return iid.rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class BalanceBaseline:
    """The latest balances a venue reported, as journaled.

    Attributes:
        seq: the ledger seq of the ``BalancesObserved`` event.
        balances: amount per currency.
    """

    seq: int
    balances: Mapping[Currency, Decimal]


def ledger_fills(source: Queryable, venue: str | None = None) -> list[tuple[int, Fill]]:
    """Journaled fills as ``(seq, fill)``, oldest first, optionally of one venue."""
    out: list[tuple[int, Fill]] = []
    for stored in events(source, kinds=OrderFilled.kind):
        event = stored.event
        assert isinstance(event, OrderFilled)
        if venue is None or venue_of(event.fill.instrument_id) == venue:
            out.append((stored.seq, event.fill))
    return out


def balance_baselines(source: Queryable) -> dict[str, BalanceBaseline]:
    """The last journaled ``BalancesObserved`` of each venue."""
    out: dict[str, BalanceBaseline] = {}
    for stored in events(source, kinds=BalancesObserved.kind):
        event = stored.event
        assert isinstance(event, BalancesObserved)
        out[event.venue] = BalanceBaseline(stored.seq, {m.currency: m.amount for m in event.balances})
    return out


def _terms(fill: Fill, instruments: InstrumentTerms) -> tuple[Currency, Currency, AssetClass]:
    symbol = fill.instrument_id.partition("@")[0]
    base, _, quote = symbol.partition("/")
    if fill.instrument_id in instruments:
        quote, asset_class = instruments[fill.instrument_id]
        return base, quote, asset_class
    return base, quote, AssetClass.CRYPTO_SPOT


def fill_balance_effect(fill: Fill, instruments: InstrumentTerms) -> dict[Currency, Decimal]:
    """How ``fill`` changes a spot account's balances (base, quote and fee currency).

    FX fills on margin move no balance at entry, so they return only the fee.
    """
    base, quote, asset_class = _terms(fill, instruments)
    out: dict[Currency, Decimal] = {}
    if asset_class is AssetClass.CRYPTO_SPOT:
        signed = fill.quantity * fill.side.sign
        out[base] = signed
        out[quote] = out.get(quote, ZERO) - signed * fill.price
    if fill.fee.amount:
        out[fill.fee.currency] = out.get(fill.fee.currency, ZERO) - fill.fee.amount
    return out


def expected_balances(
    baseline: BalanceBaseline, fills: Iterable[tuple[int, Fill]], instruments: InstrumentTerms
) -> dict[Currency, Decimal]:
    """``baseline`` plus the effect of every fill journaled after it."""
    out = dict(baseline.balances)
    for seq, fill in fills:
        if seq <= baseline.seq:
            continue
        for ccy, delta in fill_balance_effect(fill, instruments).items():
            out[ccy] = out.get(ccy, ZERO) + delta
    return out


def restore_portfolio(
    source: Queryable,
    instruments: InstrumentTerms,
    *,
    account_currency: Currency = "USD",
    starting_cash: Mapping[Currency, Decimal] | None = None,
) -> Portfolio:
    """The portfolio the ledger adds up to.

    Positions (with average prices and realized PnL) replay every journaled fill. Cash per venue is
    that venue's last journaled balances plus the fills after them, counting only currencies that are
    not the base of a traded spot instrument (those are positions). When no venue has reported
    balances yet (paper mode), cash is ``starting_cash`` moved by every fill.

    Args:
        source: the ledger or a reader.
        instruments: quote currency and asset class per traded instrument.
        account_currency: the currency equity is reported in.
        starting_cash: cash before the first fill, used only while no venue has journaled balances.
    """
    book = Portfolio(account_currency=account_currency)
    baselines = balance_baselines(source)
    for ccy, amount in ({} if baselines else (starting_cash or {})).items():
        book.deposit(Money(amount, ccy))
    bases = {iid.partition("/")[0] for iid, (_, ac) in instruments.items() if ac is AssetClass.CRYPTO_SPOT}
    for seen in baselines.values():
        for ccy, amount in seen.balances.items():
            if ccy not in bases:
                book.deposit(Money(amount, ccy))
    for seq, fill in ledger_fills(source):
        known = baselines.get(venue_of(fill.instrument_id))
        _, quote, asset_class = _terms(fill, instruments)
        before = dict(book.cash)
        book.apply_fill(fill, quote, asset_class)
        if known is not None and seq <= known.seq:
            book.cash = before  # already inside the venue's reported balances
    return book


class RestorableExecutionEngine(ExecutionEngine):
    """An :class:`ExecutionEngine` that can adopt state rebuilt from the ledger.

    Used on start (resume after a restart) and after each reconciliation, when the ledger (now
    agreeing with the venue) is folded back into the engine's orders and portfolio.
    """

    def restore(self, orders: Iterable[Order], portfolio: Portfolio | None = None) -> None:
        """Adopt ``orders`` (replacing ours with the same client id) and, when given, ``portfolio``.

        Args:
            orders: orders as folded from the ledger.
            portfolio: the portfolio the ledger adds up to; its object replaces ours so every
                reader (the Trader, the risk snapshot) sees it through ``engine.portfolio``.
        """
        for order in orders:
            self._store(order)
        if portfolio is not None:
            self.portfolio = portfolio
            self.fill_count = len(portfolio.applied_fills)
